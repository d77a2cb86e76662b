/* source.c: opening a source named on the command line, and closing any.
 *
 * The type is told from the path and the first bytes: "-" is standard input,
 * a directory with cur/ and new/ a maildir, content starting "From " an mbox,
 * anything else one message. Standard input that starts "From " is read as
 * an mbox too. A driver's close() frees everything it holds, the object and
 * its name included. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "source-eml.h"
#include "source-maildir.h"
#include "source-mbox.h"
#include "source.h"
#include "strutil.h"

#define SOURCE_DEFAULT_MAX (25u << 20)

/* Sets *reterr_reason (errno = -r for %m) and returns r. */
_printf_(3, 4) static int reason(char **reterr_reason, int r, const char *fmt, ...)
{
	va_list ap;

	if (!reterr_reason)
		return r;
	errno = -r;
	va_start(ap, fmt);
	if (vasprintf(reterr_reason, fmt, ap) < 0)
		*reterr_reason = NULL;
	va_end(ap);
	return r;
}

/* Reads up to n bytes (fewer only at the end of the input). */
static ssize_t read_head(int fd, char *p, size_t n)
{
	size_t got = 0;
	ssize_t k;

	while (got < n) {
		k = read(fd, p + got, n - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0)
			break;
		got += (size_t)k;
	}
	return (ssize_t)got;
}

static bool is_maildir(const char *path)
{
	struct stat st;
	char sub[4096];

	if (snprintf(sub, sizeof(sub), "%s/cur", path) >= (int)sizeof(sub) || stat(sub, &st) < 0 ||
	    !S_ISDIR(st.st_mode))
		return false;
	if (snprintf(sub, sizeof(sub), "%s/new", path) >= (int)sizeof(sub) || stat(sub, &st) < 0 ||
	    !S_ISDIR(st.st_mode))
		return false;
	return true;
}

/* A maildir gives its new messages and the unseen ones of cur/. */
static int open_directory(const char *path, size_t max_message_size, struct source **ret,
			  char **reterr_reason)
{
	int r;

	if (!is_maildir(path))
		return reason(reterr_reason, -EISDIR,
			      "'%s' is a directory but not a maildir (no cur/ and new/)", path);
	r = source_maildir_open(path, max_message_size, ret, reterr_reason);
	if (r >= 0)
		source_maildir_set_options(*ret, /* watch_cur= */ true, 0);
	return r;
}

int source_open_path(const char *path, size_t max_message_size, struct source **ret,
		     char **reterr_reason)
{
	bool is_stdin = streq(path, "-");
	char head[5];
	struct stat st;
	ssize_t n;
	int fd, r;

	if (reterr_reason)
		*reterr_reason = NULL;
	if (max_message_size == 0)
		max_message_size = SOURCE_DEFAULT_MAX;
	if (is_stdin)
		fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
	else
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		r = -errno;
		return reason(reterr_reason, r, "cannot open '%s': %m", path);
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		return reason(reterr_reason, r, "cannot read '%s': %m", path);
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		return open_directory(path, max_message_size, ret, reterr_reason);
	}
	n = read_head(fd, head, sizeof(head));
	if (n < 0) {
		close(fd);
		return reason(reterr_reason, (int)n, "cannot read '%s': %m", path);
	}
	if ((size_t)n == sizeof(head) && memcmp(head, "From ", 5) == 0)
		r = source_mbox_open(fd, path, is_stdin ? "stdin" : "mbox", head, (size_t)n,
				     max_message_size, ret);
	else
		r = source_eml_open(fd, path, is_stdin ? "stdin" : "eml", head, (size_t)n,
				    max_message_size, ret);
	if (r < 0)
		return reason(reterr_reason, r, "cannot open '%s': out of memory", path);
	return 0;
}

struct source *source_close(struct source *s)
{
	if (s)
		s->driver->close(s);
	return NULL;
}

/* log.c: stderr lines or journal entries, see log.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/uio.h>

#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include "buf.h"
#include "log.h"

#define LOG_MAX_FIELDS 16

static enum log_target log_target = LOG_TARGET_AUTO;
static int log_max_level = LOG_INFO;

static const char *const level_names[] = {
    [LOG_ERR] = "error", [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
    [LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

void log_set_target(enum log_target t)
{
	log_target = t;
}

void log_set_max_level(int level)
{
	log_max_level = level;
}

int log_get_max_level(void)
{
	return log_max_level;
}

int log_level_from_string(const char *s)
{
	for (size_t i = 0; i < ELEMENTSOF(level_names); i++)
		if (level_names[i] && strcasecmp(s, level_names[i]) == 0)
			return (int)i;
	return -EINVAL;
}

int log_target_from_string(const char *s)
{
	if (strcmp(s, "auto") == 0)
		return LOG_TARGET_AUTO;
	if (strcmp(s, "stderr") == 0)
		return LOG_TARGET_STDERR;
	if (strcmp(s, "journal") == 0)
		return LOG_TARGET_JOURNAL;
	return -EINVAL;
}

/* JOURNAL_STREAM is "dev:ino" of the stream systemd connected to our stderr;
 * it only counts when stderr is still that stream. */
static int stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
		return 0;
	if (fstat(STDERR_FILENO, &st) < 0)
		return 0;
	return st.st_dev == (dev_t)dev && st.st_ino == (ino_t)ino;
}

enum log_target log_effective_target(void)
{
	if (log_target != LOG_TARGET_AUTO)
		return log_target;
	return stderr_is_journal() ? LOG_TARGET_JOURNAL : LOG_TARGET_STDERR;
}

static void log_to_journal(int level, const char *msg, const struct log_field *fields)
{
	struct iovec iov[LOG_MAX_FIELDS + 2];
	char *lines[LOG_MAX_FIELDS + 2];
	size_t n = 0;

	if (asprintf(&lines[n], "PRIORITY=%d", level) >= 0)
		n++;
	if (asprintf(&lines[n], "MESSAGE=%s", msg) >= 0)
		n++;
	for (size_t i = 0; fields && fields[i].key && n < ELEMENTSOF(lines); i++)
		if (fields[i].value &&
		    asprintf(&lines[n], "%s=%s", fields[i].key, fields[i].value) >= 0)
			n++;
	for (size_t i = 0; i < n; i++)
		iov[i] = (struct iovec){.iov_base = lines[i], .iov_len = strlen(lines[i])};
	sd_journal_sendv(iov, (int)n);
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
}

static void log_to_stderr(int level, const char *msg, const struct log_field *fields)
{
	_cleanup_buf_ struct buf line = BUF_INIT(BUF_MAX_SMALL);
	int r = 0;

	if (level <= LOG_WARNING)
		r = buf_printf(&line, "%s: ", level_names[level]);
	r = r ?: buf_puts(&line, msg);
	for (size_t i = 0; r == 0 && fields && fields[i].key; i++)
		if (fields[i].value)
			r = buf_printf(&line, " %s=%s", fields[i].key, fields[i].value);
	r = r ?: buf_putc(&line, '\n');
	fputs(r == 0 ? buf_str(&line) : msg, stderr);
	if (r != 0)
		fputc('\n', stderr);
}

int log_full(int level, int error, const struct log_field *fields, const char *fmt, ...)
{
	int ret = error < 0 ? error : -error;
	_cleanup_free_ char *msg = NULL;
	va_list ap;

	if (level < LOG_ERR)
		level = LOG_ERR;
	if (level > log_max_level)
		return ret;
	errno = ret ? -ret : errno;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (!msg)
		return ret;
	if (log_effective_target() == LOG_TARGET_JOURNAL)
		log_to_journal(level, msg, fields);
	else
		log_to_stderr(level, msg, fields);
	return ret;
}

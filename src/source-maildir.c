/* source-maildir.c: a maildir read and acked by hand (see source-maildir.h).
 *
 * libetpan's maildir module is not used: it rescans only when the whole
 * second of a folder's mtime changes, drops flags it does not know, and
 * reports success when a message it flags has vanished. Here a scan is a
 * readdir(), a fetch an open() of one file and an ack one rename(). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "source-maildir.h"
#include "source.h"
#include "strutil.h"

#define MAILDIR_MAX_PENDING 100000u /* names kept from one scan */
#define MAILDIR_RESCAN_S    60u

struct maildir_source {
	struct source base;
	char *path;
	int dir_fd;
	bool watch_cur;
	unsigned rescan_interval_s;
	bool dirty; /* scan before the next fetch */
	/* names ("new/X" or "cur/X") from the last scan, and the next to hand out */
	char **pending;
	size_t n_pending, next;
	/* handed out and not acked: not handed out again */
	char **taken;
	size_t n_taken;
	/* the message in hand */
	struct buf data;
	char *ref;
	/* watch */
	int inotify_fd;
	sd_event_source *io, *timer;
	source_wake_fn wake;
	void *userdata;
};

static struct maildir_source *md_of(struct source *s)
{
	return (struct maildir_source *)s;
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static bool is_taken(const struct maildir_source *md, const char *name)
{
	for (size_t i = 0; i < md->n_taken; i++)
		if (streq(md->taken[i], name))
			return true;
	return false;
}

static void untake(struct maildir_source *md, const char *name)
{
	for (size_t i = 0; i < md->n_taken; i++)
		if (streq(md->taken[i], name)) {
			free(md->taken[i]);
			md->taken[i] = md->taken[--md->n_taken];
			return;
		}
}

/* The flags of a name "X:2,FLAGS", or "" when it has no info part. */
static const char *info_flags(const char *name)
{
	const char *p = strstr(name, ":2,");

	return p ? p + 3 : "";
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends the candidates of one folder ("new" or "cur") to *names. */
static int scan_folder(struct maildir_source *md, const char *folder, char ***names, size_t *n)
{
	_cleanup_close_ int fd = openat(md->dir_fd, folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d;
	struct dirent *de;
	int r = 0;

	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d)
		return -errno;
	fd = -1; /* owned by d */
	while ((errno = 0, de = readdir(d))) {
		char *name, **grown;

		if (de->d_name[0] == '.')
			continue;
		if (de->d_type != DT_REG && de->d_type != DT_UNKNOWN && de->d_type != DT_LNK)
			continue;
		if (streq(folder, "cur") && strchr(info_flags(de->d_name), 'S'))
			continue;
		if (*n >= MAILDIR_MAX_PENDING)
			break; /* the rest comes with the next scan */
		if (asprintf(&name, "%s/%s", folder, de->d_name) < 0) {
			r = -ENOMEM;
			break;
		}
		if (is_taken(md, name)) {
			free(name);
			continue;
		}
		grown = reallocarray(*names, *n + 1, sizeof(**names));
		if (!grown) {
			free(name);
			r = -ENOMEM;
			break;
		}
		*names = grown;
		(*names)[(*n)++] = name;
	}
	if (r == 0 && errno != 0)
		r = -errno;
	closedir(d);
	return r;
}

static int scan(struct maildir_source *md)
{
	char **names = NULL;
	size_t n = 0;
	int r;

	r = scan_folder(md, "new", &names, &n);
	if (r >= 0 && md->watch_cur)
		r = scan_folder(md, "cur", &names, &n);
	if (r < 0) {
		free_names(names, n);
		return r;
	}
	if (n) /* an empty folder has no array: qsort(NULL, ...) is undefined */
		qsort(names, n, sizeof(*names), cmp_names);
	free_names(md->pending, md->n_pending); /* handed-out entries are NULL */
	md->pending = names;
	md->n_pending = n;
	md->next = 0;
	md->dirty = false;
	return 0;
}

/* Reads NAME into md->data, at most max_message_size bytes; *ret_full_size
 * is the file's size when it is larger, else 0. */
static int read_message(struct maildir_source *md, const char *name, size_t *ret_full_size)
{
	_cleanup_close_ int fd = openat(md->dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	size_t max = md->base.max_message_size;
	struct stat st;
	char chunk[65536];
	ssize_t n;
	int r;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EBADMSG;
	buf_reset(&md->data);
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		size_t take;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		take = md->data.len + (size_t)n > max ? max - md->data.len : (size_t)n;
		r = buf_append(&md->data, chunk, take);
		if (r < 0)
			return r;
		if (take < (size_t)n) {
			*ret_full_size = (size_t)st.st_size > max ? (size_t)st.st_size : max + 1;
			return 0;
		}
	}
	*ret_full_size = 0;
	return 0;
}

static int maildir_fetch(struct source *s, struct source_msg *ret)
{
	struct maildir_source *md = md_of(s);
	size_t full_size;
	int r;

	if (md->next >= md->n_pending) {
		if (!md->dirty)
			return 0;
		r = scan(md);
		if (r < 0)
			return log_error_errno(r, "maildir '%s': cannot scan: %m", md->path);
	}
	while (md->next < md->n_pending) {
		char *name = md->pending[md->next], **grown;

		r = read_message(md, name, &full_size);
		if (r == -ENOENT) { /* taken by someone else, or acked by a flag change */
			md->next++;
			continue;
		}
		grown = reallocarray(md->taken, md->n_taken + 1, sizeof(*md->taken));
		if (!grown)
			return -ENOMEM;
		md->taken = grown;
		md->taken[md->n_taken++] = name;
		md->pending[md->next++] = NULL;
		if (r < 0) {
			log_warning_errno(r, "maildir '%s': cannot read '%s', leaving it: %m",
					  md->path, name);
			return -EBADMSG;
		}
		free(md->ref);
		md->ref = strdup(strchr(name, '/') + 1);
		if (!md->ref)
			return -ENOMEM;
		*ret = (struct source_msg){
		    .data = buf_str(&md->data),
		    .len = md->data.len,
		    .kind = "maildir",
		    .ref = md->ref,
		    .full_size = full_size,
		};
		return 1;
	}
	return 0;
}

/* The cur/ name that marks NAME ("new/X" or "cur/X[:2,FLAGS]") seen: the
 * info part gets S, flags kept in ASCII order as the maildir spec asks. */
static int seen_name(const char *name, char **ret)
{
	const char *base = strchr(name, '/') + 1, *info = strstr(base, ":2,");
	size_t stem = info ? (size_t)(info - base) : strlen(base);
	char flags[64];
	size_t n = 0;

	if (info) {
		for (const char *f = info + 3; *f && n + 2 < sizeof(flags); f++)
			if (*f != 'S')
				flags[n++] = *f;
	}
	flags[n++] = 'S';
	flags[n] = '\0';
	/* insertion sort: a handful of letters */
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && flags[j - 1] > flags[j]; j--) {
			char t = flags[j];
			flags[j] = flags[j - 1];
			flags[j - 1] = t;
		}
	return asprintf(ret, "cur/%.*s:2,%s", (int)stem, base, flags) < 0 ? -ENOMEM : 0;
}

static int maildir_ack(struct source *s, const struct source_msg *m)
{
	struct maildir_source *md = md_of(s);
	_cleanup_free_ char *from = NULL, *to = NULL;
	const char *folder;
	int r;

	if (!m->ref || strchr(m->ref, '/'))
		return -EINVAL;
	/* where this source found it: new/ unless it was handed out from cur/ */
	folder = "new";
	if (asprintf(&from, "cur/%s", m->ref) < 0)
		return -ENOMEM;
	if (is_taken(md, from))
		folder = "cur";
	free(from);
	if (asprintf(&from, "%s/%s", folder, m->ref) < 0)
		return -ENOMEM;
	r = seen_name(from, &to);
	if (r < 0)
		return r;
	untake(md, from);
	if (renameat(md->dir_fd, from, md->dir_fd, to) < 0) {
		if (errno == ENOENT) {
			log_debug("maildir '%s': '%s' was taken by someone else", md->path, from);
			return 0;
		}
		return log_error_errno(-errno, "maildir '%s': cannot move '%s' to '%s': %m",
				       md->path, from, to);
	}
	return 0;
}

static void wake(struct maildir_source *md)
{
	md->dirty = true;
	if (md->wake)
		md->wake(&md->base, md->userdata);
}

static int on_inotify(sd_event_source *es, int fd, uint32_t revents, void *userdata)
{
	struct maildir_source *md = userdata;
	char events[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool any = false;
	ssize_t n;

	/* the names do not matter: any arrival means a rescan */
	while ((n = read(fd, events, sizeof(events))) > 0)
		any = true;
	if (n < 0 && errno != EAGAIN && errno != EINTR)
		log_warning_errno(-errno, "maildir '%s': inotify read failed, ignoring: %m",
				  md->path);
	if (any)
		wake(md);
	return 0;
}

static int on_rescan_timer(sd_event_source *es, uint64_t usec, void *userdata)
{
	struct maildir_source *md = userdata;
	int r;

	r = sd_event_source_set_time_relative(es, (uint64_t)md->rescan_interval_s * 1000000u);
	if (r >= 0)
		r = sd_event_source_set_enabled(es, SD_EVENT_ON);
	if (r < 0)
		log_warning_errno(r, "maildir '%s': cannot re-arm the rescan timer: %m", md->path);
	wake(md);
	return 0;
}

static int add_inotify_watch(struct maildir_source *md, const char *folder)
{
	_cleanup_free_ char *p = NULL;

	if (asprintf(&p, "%s/%s", md->path, folder) < 0)
		return -ENOMEM;
	if (inotify_add_watch(md->inotify_fd, p, IN_MOVED_TO | IN_CLOSE_WRITE | IN_ONLYDIR) < 0)
		return log_error_errno(-errno, "maildir '%s': cannot watch '%s': %m", md->path,
				       folder);
	return 0;
}

static int maildir_watch(struct source *s, sd_event *e, source_wake_fn wake_fn, void *userdata)
{
	struct maildir_source *md = md_of(s);
	int r;

	if (md->inotify_fd >= 0)
		return -EBUSY;
	md->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (md->inotify_fd < 0)
		return log_error_errno(-errno, "maildir '%s': inotify: %m", md->path);
	r = add_inotify_watch(md, "new");
	if (r >= 0 && md->watch_cur)
		r = add_inotify_watch(md, "cur");
	if (r < 0)
		return r;
	r = sd_event_add_io(e, &md->io, md->inotify_fd, EPOLLIN, on_inotify, md);
	if (r < 0)
		return log_error_errno(r, "maildir '%s': cannot add the inotify source: %m",
				       md->path);
	r = sd_event_add_time_relative(e, &md->timer, CLOCK_MONOTONIC,
				       (uint64_t)md->rescan_interval_s * 1000000u, 1000000u,
				       on_rescan_timer, md);
	if (r < 0)
		return log_error_errno(r, "maildir '%s': cannot add the rescan timer: %m",
				       md->path);
	(void)sd_event_source_set_description(md->io, "maildir-inotify");
	(void)sd_event_source_set_description(md->timer, "maildir-rescan");
	md->wake = wake_fn;
	md->userdata = userdata;
	return 0;
}

static void maildir_close(struct source *s)
{
	struct maildir_source *md = md_of(s);

	if (!md)
		return;
	sd_event_source_disable_unref(md->io);
	sd_event_source_disable_unref(md->timer);
	if (md->inotify_fd >= 0)
		close(md->inotify_fd);
	if (md->dir_fd >= 0)
		close(md->dir_fd);
	free_names(md->pending, md->n_pending);
	free_names(md->taken, md->n_taken);
	buf_done(&md->data);
	free(md->ref);
	free(md->path);
	free(md->base.name);
	free(md);
}

static const struct source_driver maildir_driver = {
    .name = "maildir",
    .fetch = maildir_fetch,
    .ack = maildir_ack,
    .watch = maildir_watch,
    .close = maildir_close,
};

void source_maildir_set_options(struct source *s, bool watch_cur, unsigned rescan_interval_s)
{
	struct maildir_source *md = md_of(s);

	if (s->driver != &maildir_driver)
		return;
	md->watch_cur = watch_cur;
	md->rescan_interval_s = rescan_interval_s > 0 ? rescan_interval_s : MAILDIR_RESCAN_S;
	md->dirty = true;
}

int source_maildir_open(const char *path, size_t max_message_size, struct source **ret,
			char **reterr_reason)
{
	struct maildir_source *md;
	static const char *const folders[] = {"cur", "new", "tmp"};
	struct stat st;

	md = calloc(1, sizeof(*md));
	if (!md)
		return -ENOMEM;
	*md = (struct maildir_source){
	    .base = {.driver = &maildir_driver, .max_message_size = max_message_size},
	    .dir_fd = -1,
	    .inotify_fd = -1,
	    .rescan_interval_s = MAILDIR_RESCAN_S,
	    .dirty = true,
	    .data = BUF_INIT(BUF_MAX_MESSAGE),
	};
	if (md->base.max_message_size == 0 || md->base.max_message_size > BUF_MAX_MESSAGE)
		md->base.max_message_size = BUF_MAX_MESSAGE;
	md->path = strdup(path);
	md->base.name = strdup(path);
	if (!md->path || !md->base.name) {
		maildir_close(&md->base);
		return -ENOMEM;
	}
	md->dir_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (md->dir_fd < 0) {
		int r = -errno;
		if (asprintf(reterr_reason, "maildir '%s': %m", path) < 0)
			*reterr_reason = NULL;
		maildir_close(&md->base);
		return r;
	}
	for (size_t i = 0; i < ELEMENTSOF(folders); i++)
		if (fstatat(md->dir_fd, folders[i], &st, 0) < 0 || !S_ISDIR(st.st_mode)) {
			if (asprintf(reterr_reason, "'%s' is not a maildir: it has no %s/ folder",
				     path, folders[i]) < 0)
				*reterr_reason = NULL;
			maildir_close(&md->base);
			return -ENOTDIR;
		}
	*ret = &md->base;
	return 0;
}

/* source-eml.c: one message from a file or standard input (source-eml.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "source-eml.h"
#include "source.h"

#define EML_CHUNK (64u << 10)

struct eml_source {
	struct source base;
	int fd;
	const char *kind;
	bool done;
	struct buf msg;
	size_t full_size;
};

/* Reads fd to its end, keeping what fits. */
static int eml_read_all(struct eml_source *e)
{
	_cleanup_free_ char *chunk = malloc(EML_CHUNK);
	ssize_t n;
	int r;

	if (!chunk)
		return -ENOMEM;
	for (;;) {
		n = read(e->fd, chunk, EML_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		size_t room = e->msg.max - e->msg.len;
		size_t keep = (size_t)n < room ? (size_t)n : room;
		e->full_size += (size_t)n;
		r = buf_append(&e->msg, chunk, keep);
		if (r < 0)
			return r;
	}
}

static int eml_fetch(struct source *s, struct source_msg *ret)
{
	struct eml_source *e = (struct eml_source *)s;
	int r;

	if (e->done)
		return 0;
	e->done = true;
	r = eml_read_all(e);
	if (r < 0)
		return r;
	*ret = (struct source_msg){
	    .data = buf_str(&e->msg),
	    .len = e->msg.len,
	    .kind = e->kind,
	    .ref = s->name,
	    .full_size = e->full_size > e->msg.len ? e->full_size : 0,
	};
	return 1;
}

static void eml_close(struct source *s)
{
	struct eml_source *e = (struct eml_source *)s;

	if (e->fd >= 0)
		close(e->fd);
	buf_done(&e->msg);
	free(s->name);
	free(e);
}

static const struct source_driver eml_driver = {
    .name = "eml",
    .fetch = eml_fetch,
    .close = eml_close,
};

int source_eml_open(int fd, const char *name, const char *kind, const char *head, size_t n_head,
		    size_t max_message_size, struct source **ret)
{
	struct eml_source *e = calloc(1, sizeof(*e));
	size_t keep = n_head < max_message_size ? n_head : max_message_size;

	if (!e) {
		close(fd);
		return -ENOMEM;
	}
	e->fd = fd;
	e->base.driver = &eml_driver;
	e->base.max_message_size = max_message_size;
	e->kind = kind;
	buf_init(&e->msg, max_message_size);
	e->base.name = strdup(name);
	e->full_size = n_head;
	if (!e->base.name || buf_append(&e->msg, head, keep) < 0) {
		eml_close(&e->base);
		return -ENOMEM;
	}
	*ret = &e->base;
	return 0;
}

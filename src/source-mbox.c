/* source-mbox.c: the streaming mbox reader of source-mbox.h.
 *
 * The file is read in chunks into rbuf and consumed line by line. At the
 * start of a line at least MBOX_LOOKAHEAD bytes (or the whole line) are in
 * rbuf, enough to tell a separator, a blank line or an escaped ">From ";
 * the rest of a long line is copied as it comes. A blank line is held back
 * until the next line shows whether it is the separator. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "source-mbox.h"
#include "source.h"

#define MBOX_CHUNK     (256u << 10)
#define MBOX_LOOKAHEAD 4096u

struct mbox_source {
	struct source base;
	int fd;
	const char *kind;
	char *rbuf;
	size_t rpos, rlen;
	uint64_t rbuf_offset; /* file offset of rbuf[0] */
	bool eof, started, done;
	uint64_t next_from; /* offset of the separator already consumed */
	struct buf msg;
	size_t full_size;
	char *ref;
};

static uint64_t mbox_offset(const struct mbox_source *m)
{
	return m->rbuf_offset + m->rpos;
}

/* Moves the unread bytes to the front and reads more; sets eof. */
static int mbox_fill(struct mbox_source *m)
{
	ssize_t n;

	if (m->eof)
		return 0;
	if (m->rpos > 0) {
		memmove(m->rbuf, m->rbuf + m->rpos, m->rlen - m->rpos);
		m->rbuf_offset += m->rpos;
		m->rlen -= m->rpos;
		m->rpos = 0;
	}
	do
		n = read(m->fd, m->rbuf + m->rlen, MBOX_CHUNK - m->rlen);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		m->eof = true;
	m->rlen += (size_t)n;
	return 0;
}

/* At a line start: makes the whole line, or MBOX_LOOKAHEAD bytes of it,
 * available. Returns the bytes available (0: end of file). */
static int mbox_lookahead(struct mbox_source *m, size_t *ret_avail)
{
	int r;

	for (;;) {
		size_t avail = m->rlen - m->rpos;
		size_t scan = avail < MBOX_LOOKAHEAD ? avail : MBOX_LOOKAHEAD;
		if (avail >= MBOX_LOOKAHEAD || memchr(m->rbuf + m->rpos, '\n', scan) || m->eof) {
			*ret_avail = avail;
			return 0;
		}
		r = mbox_fill(m);
		if (r < 0)
			return r;
	}
}

/* Keeps the first max_message_size bytes, counts them all. */
static int mbox_keep(struct mbox_source *m, const char *p, size_t n)
{
	size_t room = m->msg.max - m->msg.len;

	m->full_size += n;
	return buf_append(&m->msg, p, n < room ? n : room);
}

/* Copies the rest of the current line (through its newline) into the message. */
static int mbox_copy_line(struct mbox_source *m)
{
	int r;

	for (;;) {
		const char *p = m->rbuf + m->rpos;
		size_t avail = m->rlen - m->rpos;
		const char *nl = memchr(p, '\n', avail);
		size_t n = nl ? (size_t)(nl - p) + 1 : avail;

		r = mbox_keep(m, p, n);
		if (r < 0)
			return r;
		m->rpos += n;
		if (nl)
			return 0;
		r = mbox_fill(m);
		if (r < 0)
			return r;
		if (m->rpos == m->rlen)
			return 0; /* the last line has no newline */
	}
}

/* Skips the current line (a separator), long or not. */
static int mbox_skip_line(struct mbox_source *m)
{
	int r;

	for (;;) {
		const char *p = m->rbuf + m->rpos;
		const char *nl = memchr(p, '\n', m->rlen - m->rpos);
		if (nl) {
			m->rpos += (size_t)(nl - p) + 1;
			return 0;
		}
		m->rpos = m->rlen;
		r = mbox_fill(m);
		if (r < 0)
			return r;
		if (m->rpos == m->rlen)
			return 0;
	}
}

static size_t blank_line_len(const char *p, size_t avail)
{
	if (avail >= 1 && p[0] == '\n')
		return 1;
	if (avail >= 2 && p[0] == '\r' && p[1] == '\n')
		return 2;
	return 0;
}

static bool is_from_line(const char *p, size_t avail)
{
	return avail >= 5 && memcmp(p, "From ", 5) == 0;
}

/* ">From ", ">>From ", ...: the number of leading '>' when the line is one. */
static size_t escaped_from_depth(const char *p, size_t avail)
{
	size_t k = 0;

	while (k < avail && p[k] == '>')
		k++;
	return k > 0 && is_from_line(p + k, avail - k) ? k : 0;
}

/* Reads lines up to the next separator or the end of the file. */
static int mbox_read_message(struct mbox_source *m)
{
	size_t pending = 0; /* a blank line held back: 1 or 2 bytes */
	bool prev_blank = false;
	size_t avail;
	int r;

	for (;;) {
		r = mbox_lookahead(m, &avail);
		if (r < 0)
			return r;
		if (avail == 0) {
			m->done = true;
			return 0;
		}
		const char *p = m->rbuf + m->rpos;
		if (prev_blank && is_from_line(p, avail)) {
			m->next_from = mbox_offset(m);
			return mbox_skip_line(m);
		}
		if (pending) {
			r = mbox_keep(m, pending == 1 ? "\n" : "\r\n", pending);
			if (r < 0)
				return r;
		}
		pending = blank_line_len(p, avail);
		prev_blank = pending > 0;
		if (pending) {
			m->rpos += pending;
			continue;
		}
		if (escaped_from_depth(p, avail) > 0)
			m->rpos++; /* one level of '>' */
		r = mbox_copy_line(m);
		if (r < 0)
			return r;
	}
}

static int mbox_fetch(struct source *s, struct source_msg *ret)
{
	struct mbox_source *m = (struct mbox_source *)s;
	uint64_t from;
	size_t avail;
	int r;

	if (m->done)
		return 0;
	if (!m->started) {
		m->started = true;
		r = mbox_lookahead(m, &avail);
		if (r < 0)
			return r;
		if (avail == 0) {
			m->done = true;
			return 0;
		}
		m->next_from = mbox_offset(m);
		/* a file that does not start with a separator: its head is a message */
		if (is_from_line(m->rbuf + m->rpos, avail)) {
			r = mbox_skip_line(m);
			if (r < 0)
				return r;
		}
	}
	from = m->next_from;
	buf_reset(&m->msg);
	m->full_size = 0;
	r = mbox_read_message(m);
	if (r < 0)
		return r;
	free(m->ref);
	if (asprintf(&m->ref, "%s:%" PRIu64, s->name, from) < 0) {
		m->ref = NULL;
		return -ENOMEM;
	}
	*ret = (struct source_msg){
	    .data = buf_str(&m->msg),
	    .len = m->msg.len,
	    .kind = m->kind,
	    .ref = m->ref,
	    .full_size = m->full_size > m->msg.len ? m->full_size : 0,
	};
	return 1;
}

static void mbox_close(struct source *s)
{
	struct mbox_source *m = (struct mbox_source *)s;

	if (m->fd >= 0)
		close(m->fd);
	buf_done(&m->msg);
	free(m->rbuf);
	free(m->ref);
	free(s->name);
	free(m);
}

static const struct source_driver mbox_driver = {
    .name = "mbox",
    .fetch = mbox_fetch,
    .close = mbox_close,
};

int source_mbox_open(int fd, const char *name, const char *kind, const char *head, size_t n_head,
		     size_t max_message_size, struct source **ret)
{
	struct mbox_source *m = calloc(1, sizeof(*m));

	if (!m || n_head > MBOX_CHUNK) {
		close(fd);
		free(m);
		return -ENOMEM;
	}
	m->fd = fd;
	m->base.driver = &mbox_driver;
	m->base.max_message_size = max_message_size;
	m->kind = kind;
	buf_init(&m->msg, max_message_size);
	m->base.name = strdup(name);
	m->rbuf = malloc(MBOX_CHUNK);
	if (!m->base.name || !m->rbuf) {
		mbox_close(&m->base);
		return -ENOMEM;
	}
	if (n_head > 0)
		memcpy(m->rbuf, head, n_head);
	m->rlen = n_head;
	*ret = &m->base;
	return 0;
}

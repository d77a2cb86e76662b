/* buf.h: one growable byte buffer, after curl's dynbuf and git's strbuf.
 *
 * Invariants: data is NUL-terminated whenever len > 0 or after any append,
 * yet binary-safe (len counts the bytes); every buffer has a maximum set at
 * init and an append past it fails with -E2BIG, leaving the buffer as it was.
 * Appends return 0, -ENOMEM or -E2BIG. buf_take() hands the bytes out and
 * resets the buffer; buf_done() frees them. */
#ifndef DIVEMAP_BUF_H
#define DIVEMAP_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "cleanup.h"

/* Named maxima, one per use. */
#define BUF_MAX_LINE    (1u << 20)   /* one text line */
#define BUF_MAX_MESSAGE (256u << 20) /* one raw message, before the configured bound */
#define BUF_MAX_TEXT    (64u << 20)  /* decoded text of one message */
#define BUF_MAX_SQL     (1u << 20)   /* one SQL statement */
#define BUF_MAX_SMALL   (64u << 10)  /* error messages, names, keys */

struct buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max;
};

#define BUF_INIT(m) ((struct buf){.data = NULL, .len = 0, .cap = 0, .max = (m)})

void buf_init(struct buf *b, size_t max);
void buf_done(struct buf *b);
void buf_reset(struct buf *b);
_warn_unused_result_ int buf_append(struct buf *b, const void *p, size_t n);
_warn_unused_result_ int buf_puts(struct buf *b, const char *s);
_warn_unused_result_ int buf_putc(struct buf *b, char c);
_warn_unused_result_ _printf_(2, 3) int buf_printf(struct buf *b, const char *fmt, ...);
_warn_unused_result_ int buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* Drops the bytes after the first len (len <= b->len). */
void buf_truncate(struct buf *b, size_t len);
/* The bytes, NUL-terminated (an empty string for an empty buffer). */
const char *buf_str(const struct buf *b);
/* Hands the bytes to the caller (NULL-safe: an empty buffer gives ""). */
char *buf_take(struct buf *b, size_t *ret_len);

static inline void buf_donep(struct buf *b)
{
	buf_done(b);
}
#define _cleanup_buf_ _cleanup_(buf_donep)

#endif

/* frame.h: length-prefixed frames on a stream socket, after OpenSMTPD's imsg.
 *
 * A frame is a header {u32 type, u32 len, u32 id} (native byte order: both
 * ends are the same program) and len bytes of payload. A reader checks len
 * against the maximum it was given before allocating anything (-ERANGE).
 * Payloads are built with frame_add_*() and read back in the same order with
 * frame_get_*(); frame_get_str() demands a NUL inside the frame and
 * frame_get_end() fails if bytes are left over. Bulk data (a raw message)
 * never rides in a frame: it goes as a sealed memfd passed with the frame
 * (SCM_RIGHTS). All return 0 or a negative errno: -EBADMSG for a malformed
 * frame, -ERANGE for an oversized one, -ECONNRESET for end of stream at a
 * frame boundary, -ETIMEDOUT when the deadline passed. */
#ifndef DIVEMAP_FRAME_H
#define DIVEMAP_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define FRAME_HEADER_SIZE 12u
#define FRAME_MAX_CONTROL (64u << 10) /* settings, acknowledgements, errors */
#define FRAME_MAX_RESULT  (64u << 20) /* one result (JSON) */

struct frame {
	uint32_t type;
	uint32_t len; /* of the payload */
	uint32_t id;
	struct buf buf; /* header and payload */
	size_t pos;     /* read position in buf */
	int fd;         /* passed with the frame; -1: none */
};

#define FRAME_INIT ((struct frame){.buf = BUF_INIT(0), .fd = -1})

/* Starts an outgoing frame. */
void frame_begin(struct frame *f, uint32_t type, uint32_t id);
_warn_unused_result_ int frame_add_u32(struct frame *f, uint32_t v);
_warn_unused_result_ int frame_add_u64(struct frame *f, uint64_t v);
_warn_unused_result_ int frame_add_str(struct frame *f, const char *s); /* NULL: "" */
_warn_unused_result_ int frame_add_bytes(struct frame *f, const void *p, size_t n);
/* Writes the frame, and fd (unless < 0) with its first byte. */
int frame_send(int sock, struct frame *f, int fd);

/* The header in p[0..n): -EAGAIN if n is short of a header, -ERANGE if its
 * len exceeds max. */
int frame_parse_header(const void *p, size_t n, size_t max, uint32_t *ret_type, uint32_t *ret_len,
		       uint32_t *ret_id);
/* One whole frame from p[0..n) (exactly: -EBADMSG on short or extra bytes). */
int frame_parse(const void *p, size_t n, size_t max, struct frame *ret);
/* Reads one frame; deadline_us on CLOCK_MONOTONIC, 0: wait forever. */
int frame_recv(int sock, size_t max, uint64_t deadline_us, struct frame *ret);

int frame_get_u32(struct frame *f, uint32_t *ret);
int frame_get_u64(struct frame *f, uint64_t *ret);
int frame_get_str(struct frame *f, const char **ret); /* points into the frame */
int frame_get_bytes(struct frame *f, const void **ret, size_t *ret_len);
int frame_get_end(const struct frame *f);
/* The passed fd, now the caller's; -EBADMSG when the frame had none. */
int frame_take_fd(struct frame *f);
void frame_done(struct frame *f);

/* A sealed (no write, grow or shrink) memfd holding p[0..n). */
int frame_memfd_new(const char *name, const void *p, size_t n, int *ret_fd);
/* Maps a received memfd read-only after checking it is sealed and at most
 * max bytes: *ret_p (NULL when empty), *ret_n; undo with munmap. */
int frame_memfd_map(int fd, size_t max, const void **ret_p, size_t *ret_n);

uint64_t frame_now_us(void);

#endif

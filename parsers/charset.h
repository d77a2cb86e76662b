/* charset.h: bytes in a named charset to UTF-8, RFC 2047 header words.
 *
 * Conversions append to a buf and OR enum message_warning bits into
 * *warnings: MESSAGE_WARN_UNKNOWN_CHARSET when the name is unknown even after
 * the alias table (then: UTF-8 if the bytes are valid UTF-8, else
 * windows-1252), MESSAGE_WARN_BAD_UTF8 when bytes were invalid in their
 * charset or a NUL was met (each replaced by U+FFFD). Text labelled ISO-8859-7
 * that holds bytes 0x80-0x9F is read as windows-1253; text labelled us-ascii,
 * ISO-8859-1 or windows-1252 that is valid UTF-8 is read as UTF-8.
 * Functions return 0, -ENOMEM or -E2BIG (the buf's maximum was reached; what
 * fitted is kept, cut on a character boundary). */
#ifndef DIVEMAP_CHARSET_H
#define DIVEMAP_CHARSET_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

bool charset_utf8_valid(const char *s, size_t len);

/* Overwrites each byte of s that is not part of valid UTF-8 (and each NUL)
 * with '?', keeping every offset; returns how many. */
size_t charset_utf8_mask(char *s, size_t len);
/* Copies UTF-8, replacing invalid sequences and NUL bytes by U+FFFD. */
int charset_utf8_repair(const char *s, size_t len, struct buf *out, unsigned *warnings);

/* charset NULL or "" means us-ascii. */
int charset_to_utf8(const char *charset, const char *s, size_t len, struct buf *out,
		    unsigned *warnings);

/* Decodes a raw header value: unfolds it, decodes RFC 2047 encoded words (B
 * and Q; adjacent words joined, the white space between them dropped), reads
 * raw 8-bit text as UTF-8 when valid, else in fallback_charset (NULL:
 * windows-1252), turns control characters into spaces, collapses runs of
 * white space and trims. *ret is malloc'd. */
int charset_decode_header(const char *raw, size_t len, const char *fallback_charset, char **ret,
			  unsigned *warnings);

#endif

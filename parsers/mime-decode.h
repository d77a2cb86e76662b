/* mime-decode.h: raw RFC 5322 bytes to a struct message (message.h).
 *
 * Walks the MIME tree (libetpan): multipart, message/rfc822 (a forwarded
 * newsletter is decoded as the newsletter, see message.h), attachments
 * skipped; undoes base64 and quoted-printable, converts charsets to UTF-8
 * (charset.h), decodes RFC 2047 headers and unwraps format=flowed.
 * Body choice: the inline text/plain parts, unless empty or a stub ("view this
 * email in your browser" and the like), else the text/html parts converted by
 * html-text.h. Line ends in text are '\n'.
 *
 * Returns 0 and *ret, or a negative errno and *reterr_reason (malloc'd):
 * -EFBIG (over max_message_size), -EBADMSG (hostile or unparseable
 * structure: a boundary libetpan cannot take, nesting over max_depth),
 * -ENOMEM. Over max_parts, parts are ignored; text over max_text is cut;
 * both set MESSAGE_WARN_TRUNCATED. */
#ifndef DIVEMAP_MIME_DECODE_H
#define DIVEMAP_MIME_DECODE_H

#include <stddef.h>

#include "message.h"

struct decode_limits {
	size_t max_message_size; /* raw bytes; 0 = 25 MiB */
	unsigned max_depth;      /* MIME nesting (multipart, message/rfc822); 0 = 32 */
	unsigned max_parts;      /* MIME parts walked; 0 = 512 */
	size_t max_line;         /* bytes per text line, longer lines are broken; 0 = 64 KiB */
	size_t max_text;         /* bytes of decoded text kept; 0 = 4 MiB */
};

int mime_decode(const char *raw, size_t len, const struct decode_limits *lim, struct message **ret,
		char **reterr_reason);

/* A stable name for one warning bit ("unknown_charset", "bad_utf8", "no_date",
 * "truncated", "html_only"), NULL for anything else. */
const char *mime_decode_warning_name(enum message_warning w);

/* Frees m and its strings; takes NULL; returns NULL. */
struct message *message_free(struct message *m);

#endif

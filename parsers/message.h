/* message.h: a decoded newsletter, the output of mime_decode().
 *
 * Every string is UTF-8 (invalid bytes repaired to U+FFFD), NUL-terminated and
 * owned by the message; free the whole thing with message_free().
 *
 * A forwarded newsletter (a message/rfc822 part, innermost first) is decoded
 * as the newsletter: subject, from_*, date and text come from it, each falling
 * back to the outer message when the inner one lacks it. message_id and
 * sent_date always describe the outer message, the one delivered to us. */
#ifndef DIVEMAP_MESSAGE_H
#define DIVEMAP_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>

struct message_date {
	int year, month, day, hour, minute, second;
	int tz_offset_min; /* +0300 -> 180 */
};

enum message_warning {
	MESSAGE_WARN_UNKNOWN_CHARSET = 1 << 0,
	MESSAGE_WARN_BAD_UTF8 = 1 << 1,
	MESSAGE_WARN_NO_DATE = 1 << 2,
	MESSAGE_WARN_TRUNCATED = 1 << 3,
	MESSAGE_WARN_HTML_ONLY = 1 << 4,
};

struct message {
	char *message_id; /* without <>, NULL if absent */
	char *subject;    /* RFC 2047 decoded, UTF-8, unfolded; NULL if absent */
	char *from_name;  /* decoded display name, NULL if none */
	char *from_addr;  /* addr-spec as written, NULL if none */
	bool has_date;
	struct message_date date; /* the Date: header as written, with its zone */
	char *text;               /* the chosen body as UTF-8 text, NUL-terminated, never NULL */
	size_t text_len;
	const char *text_type; /* "text/plain" or "text/html" (converted), static string */
	long diving_center_id; /* from <!-- DIVEMAP_METADATA: diving_center_id=N -->, 0 if none */
	unsigned warnings;     /* enum message_warning bits */
	/* Additions. */
	bool forwarded;     /* subject/from/date/text come from a message/rfc822 part */
	bool has_sent_date; /* the outer message's Date: (when it was sent to us) */
	struct message_date sent_date;
	char *sender_addr; /* the outer From: addr-spec (== from_addr unless forwarded) */
};

#endif

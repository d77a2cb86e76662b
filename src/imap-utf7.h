/* imap-utf7.h: mailbox names in IMAP's modified UTF-7 (RFC 3501 5.1.3).
 *
 * A configuration names a mailbox in UTF-8 ("Ενημερωτικά"); the server
 * wants "&A5UDvQO3A7wDtQPBA8kDxAO5A7oDrA-". libetpan has no converter. */
#ifndef DIVEMAP_IMAP_UTF7_H
#define DIVEMAP_IMAP_UTF7_H

/* *ret (malloc'd) is UTF8 in modified UTF-7: printable ASCII stays, '&'
 * becomes "&-", anything else goes as base64 of UTF-16 between '&' and '-'.
 * 0, -EINVAL for invalid UTF-8, -ENOMEM, or -E2BIG past 64 KiB. */
int imap_utf7_encode(const char *utf8, char **ret);

#endif

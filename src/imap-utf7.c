/* imap-utf7.c: UTF-8 to IMAP's modified UTF-7, see imap-utf7.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "imap-utf7.h"

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static bool printable(unsigned char c)
{
	return c >= 0x20 && c <= 0x7e;
}

/* One code point from *p, advancing it; -1 when the bytes are not UTF-8. */
static int32_t next_code_point(const unsigned char **p)
{
	const unsigned char *s = *p;
	int32_t cp;
	int n;

	if (s[0] < 0x80)
		n = 0, cp = s[0];
	else if ((s[0] & 0xe0) == 0xc0)
		n = 1, cp = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 2, cp = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		n = 3, cp = s[0] & 0x07;
	else
		return -1;
	for (int i = 1; i <= n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates, beyond Unicode */
	if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return -1;
	*p = s + n + 1;
	return cp;
}

/* A run of characters that are not printable ASCII, as &base64-. */
static int encode_run(struct buf *b, const unsigned char **p)
{
	uint32_t bits = 0;
	unsigned nbits = 0;
	int r = buf_putc(b, '&');

	while (r >= 0 && **p && !printable(**p)) {
		int32_t cp = next_code_point(p);
		uint16_t units[2];
		int n = 0;

		if (cp < 0)
			return -EINVAL;
		if (cp >= 0x10000) {
			units[n++] = (uint16_t)(0xd800 + ((cp - 0x10000) >> 10));
			units[n++] = (uint16_t)(0xdc00 + ((cp - 0x10000) & 0x3ff));
		} else
			units[n++] = (uint16_t)cp;
		for (int i = 0; i < n && r >= 0; i++) {
			bits = (bits << 16) | units[i];
			nbits += 16;
			while (nbits >= 6 && r >= 0) {
				nbits -= 6;
				r = buf_putc(b, b64[(bits >> nbits) & 63]);
			}
			bits &= (1u << nbits) - 1;
		}
	}
	if (r >= 0 && nbits > 0)
		r = buf_putc(b, b64[(bits << (6 - nbits)) & 63]);
	return r < 0 ? r : buf_putc(b, '-');
}

int imap_utf7_encode(const char *utf8, char **ret)
{
	struct buf b = BUF_INIT(BUF_MAX_SMALL);
	const unsigned char *p = (const unsigned char *)utf8;
	int r = 0;

	while (*p && r >= 0) {
		if (*p == '&') {
			r = buf_puts(&b, "&-");
			p++;
		} else if (printable(*p))
			r = buf_putc(&b, (char)*p++);
		else
			r = encode_run(&b, &p);
	}
	if (r < 0) {
		buf_done(&b);
		return r;
	}
	*ret = buf_take(&b, NULL);
	return *ret ? 0 : -ENOMEM;
}

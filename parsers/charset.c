/* charset.c: see charset.h. Conversion is glibc iconv, one descriptor per
 * call; names iconv rejects go through a small alias table. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "charset.h"
#include "cleanup.h"
#include "message.h"
#include "strutil.h"

#define CHARSET_NAME_MAX 64
#define HEADER_MAX       (256u << 10)

static const char replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */

/* Length of the valid UTF-8 sequence at s (1-4), or 0 if invalid or NUL. */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0];

	if (c == 0)
		return 0;
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		return n >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
	if (c >= 0xE0 && c <= 0xEF) {
		if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
			return 0;
		if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] >= 0xA0))
			return 0; /* overlong, surrogate */
		return 3;
	}
	if (c >= 0xF0 && c <= 0xF4) {
		if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 ||
		    (s[3] & 0xC0) != 0x80)
			return 0;
		if ((c == 0xF0 && s[1] < 0x90) || (c == 0xF4 && s[1] >= 0x90))
			return 0;
		return 4;
	}
	return 0;
}

bool charset_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0; i < len;) {
		size_t k = utf8_seq_len(p + i, len - i);

		if (k == 0)
			return false;
		i += k;
	}
	return true;
}

size_t charset_utf8_mask(char *s, size_t len)
{
	unsigned char *p = (unsigned char *)s;
	size_t n = 0;

	for (size_t i = 0; i < len;) {
		size_t k = utf8_seq_len(p + i, len - i);
		if (k > 0) {
			i += k;
			continue;
		}
		p[i++] = '?';
		n++;
	}
	return n;
}

int charset_utf8_repair(const char *s, size_t len, struct buf *out, unsigned *warnings)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t run = 0; /* start of the pending valid run */
	int r;

	for (size_t i = 0; i < len;) {
		size_t k = utf8_seq_len(p + i, len - i);

		if (k > 0) {
			i += k;
			continue;
		}
		r = buf_append(out, s + run, i - run);
		if (r < 0)
			return r;
		r = buf_append(out, replacement, 3);
		if (r < 0)
			return r;
		*warnings |= MESSAGE_WARN_BAD_UTF8;
		run = ++i;
	}
	return buf_append(out, s + run, len - run);
}

static bool all_ascii(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			return false;
	return true;
}

/* Lower-cases a charset name into out: leading quotes and "x-" dropped, cut at
 * the first character no charset name has. */
static void normalize_name(const char *name, char out[CHARSET_NAME_MAX])
{
	size_t j = 0;

	while (*name == ' ' || *name == '"' || *name == '\'')
		name++;
	if (strncasecmp(name, "x-", 2) == 0)
		name += 2;
	for (; *name && j + 1 < CHARSET_NAME_MAX; name++) {
		char c = *name;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.' || c == ':'))
			break; /* quotes, RFC 2231 language, "//" suffixes end the name */
		out[j++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	out[j] = '\0';
}

/* Maps names iconv rejects to ones it knows; returns NULL if no alias. */
static const char *alias(const char *n, char buf[CHARSET_NAME_MAX])
{
	static const struct {
		const char *from, *to;
	} table[] = {
	    {"unicode-1-1-utf-8", "UTF-8"},
	    {"unicode20utf8", "UTF-8"},
	    {"utf8", "UTF-8"},
	    {"latin-1", "ISO-8859-1"},
	    {"iso-8859-8-i", "ISO-8859-8"},
	    {"ks_c_5601-1987", "CP949"},
	    {"ms-ansi", "CP1252"},
	    {"mac-greek", "MACGREEK"},
	    {"sjis", "SHIFT_JIS"},
	};
	static const char *const cp_prefixes[] = {"windows-", "windows", "win-", "win",
						  "cp-",      "cp_",     "ms-",  "ms"};
	size_t k;

	for (k = 0; k < ELEMENTSOF(table); k++)
		if (strcmp(n, table[k].from) == 0)
			return table[k].to;
	for (k = 0; k < ELEMENTSOF(cp_prefixes); k++) {
		size_t pl = strlen(cp_prefixes[k]);
		const char *d = n + pl;

		if (strncmp(n, cp_prefixes[k], pl) != 0 || strlen(d) < 3 || strlen(d) > 5 ||
		    strspn(d, "0123456789") != strlen(d))
			continue;
		snprintf(buf, CHARSET_NAME_MAX, "CP%s", d);
		return buf;
	}
	if (strncmp(n, "iso_8859_", 9) == 0 || strncmp(n, "iso8859_", 8) == 0) {
		snprintf(buf, CHARSET_NAME_MAX, "ISO-8859-%s", strrchr(n, '_') + 1);
		return buf;
	}
	return NULL;
}

static bool is_greek_iso(const char *n)
{
	return strstr(n, "8859-7") || strstr(n, "8859_7") || strcmp(n, "greek") == 0 ||
	       strcmp(n, "greek8") == 0 || strcmp(n, "elot_928") == 0 ||
	       strcmp(n, "iso-ir-126") == 0 || strcmp(n, "ecma-118") == 0;
}

static bool has_c1_bytes(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80 && (unsigned char)s[i] <= 0x9F)
			return true;
	return false;
}

static int iconv_run(iconv_t cd, const char *s, size_t len, struct buf *out, unsigned *warnings)
{
	char *in = (char *)s, chunk[4096];
	size_t inleft = len;
	int r;

	while (inleft > 0) {
		char *o = chunk;
		size_t oleft = sizeof(chunk);
		size_t n = iconv(cd, &in, &inleft, &o, &oleft);
		int e = n == (size_t)-1 ? errno : 0;

		r = buf_append(out, chunk, sizeof(chunk) - oleft);
		if (r < 0)
			return r;
		if (e == EILSEQ || e == EINVAL) {
			r = buf_append(out, replacement, 3);
			if (r < 0)
				return r;
			*warnings |= MESSAGE_WARN_BAD_UTF8;
			if (e == EINVAL)
				break; /* truncated at the end */
			in++, inleft--;
		} else if (e != 0 && e != E2BIG) {
			return -e;
		}
	}
	return 0;
}

static int convert_with(const char *name, const char *s, size_t len, struct buf *out,
			unsigned *warnings)
{
	iconv_t cd = iconv_open("UTF-8", name);
	int r;

	if (cd == (iconv_t)-1)
		return -ENOENT;
	r = iconv_run(cd, s, len, out, warnings);
	iconv_close(cd);
	return r;
}

static bool is_latin_or_ascii(const char *n)
{
	return streq(n, "us-ascii") || streq(n, "ascii") || streq(n, "iso-8859-1") ||
	       streq(n, "windows-1252") || streq(n, "latin1") || streq(n, "cp1252");
}

int charset_to_utf8(const char *charset, const char *s, size_t len, struct buf *out,
		    unsigned *warnings)
{
	char n[CHARSET_NAME_MAX], abuf[CHARSET_NAME_MAX];
	const char *a, *name = n;
	int r;

	normalize_name(charset ? charset : "", n);
	if (n[0] == '\0')
		name = "us-ascii";
	a = alias(name, abuf);
	if (streq(name, "utf-8") || (a && streq(a, "UTF-8")) || all_ascii(s, len))
		return charset_utf8_repair(s, len, out, warnings);
	if (is_latin_or_ascii(name)) {
		if (charset_utf8_valid(s, len))
			return charset_utf8_repair(s, len, out, warnings);
		if (streq(name, "us-ascii") || streq(name, "ascii"))
			name = "windows-1252"; /* 8-bit bytes under us-ascii */
	}
	if (is_greek_iso(name) && has_c1_bytes(s, len))
		return convert_with("WINDOWS-1253", s, len, out, warnings);
	r = convert_with(name, s, len, out, warnings);
	if (r == -ENOENT && a)
		r = convert_with(a, s, len, out, warnings);
	if (r != -ENOENT)
		return r;
	*warnings |= MESSAGE_WARN_UNKNOWN_CHARSET;
	if (charset_utf8_valid(s, len))
		return charset_utf8_repair(s, len, out, warnings);
	return convert_with("WINDOWS-1252", s, len, out, warnings);
}

/* ---- RFC 2047 ---- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Decodes the text of one encoded word (B or Q) and appends the bytes. */
static int word_decode(char enc, const char *t, size_t n, struct buf *out)
{
	unsigned acc = 0, bits = 0;
	int r = 0;

	for (size_t i = 0; i < n && r >= 0; i++) {
		if (enc == 'b') {
			int v = b64val(t[i]);

			if (v < 0)
				continue; /* padding, junk */
			acc = (acc << 6) | (unsigned)v;
			bits += 6;
			if (bits >= 8) {
				bits -= 8;
				r = buf_putc(out, (char)((acc >> bits) & 0xFF));
			}
		} else if (t[i] == '_') {
			r = buf_putc(out, ' ');
		} else if (t[i] == '=' && i + 2 < n && hexval(t[i + 1]) >= 0 &&
			   hexval(t[i + 2]) >= 0) {
			r = buf_putc(out, (char)(hexval(t[i + 1]) * 16 + hexval(t[i + 2])));
			i += 2;
		} else {
			r = buf_putc(out, t[i]);
		}
	}
	return r;
}

/* Parses "=?cs?e?text?=" at s; fills the parts and returns its length, or 0. */
static size_t word_parse(const char *s, size_t n, char cs[CHARSET_NAME_MAX], char *enc,
			 const char **text, size_t *text_len)
{
	size_t i = 2, c0, t0;

	if (n < 8 || s[0] != '=' || s[1] != '?')
		return 0;
	for (c0 = i; i < n && s[i] != '?' && s[i] > ' '; i++)
		;
	if (i >= n || s[i] != '?' || i == c0 || i - c0 >= CHARSET_NAME_MAX)
		return 0;
	memcpy(cs, s + c0, i - c0);
	cs[i - c0] = '\0';
	if (i + 2 >= n || s[i + 2] != '?' || !strchr("bBqQ", s[i + 1]))
		return 0;
	*enc = (char)(s[i + 1] | 0x20);
	for (i += 3, t0 = i; i + 1 < n && !(s[i] == '?' && s[i + 1] == '='); i++)
		if (s[i] == ' ' || s[i] == '\t')
			return 0;
	if (i + 1 >= n)
		return 0;
	*text = s + t0;
	*text_len = i - t0;
	return i + 2;
}

struct hdr {
	struct buf out;   /* UTF-8 result */
	struct buf bytes; /* decoded bytes of adjacent words in one charset */
	char cs[CHARSET_NAME_MAX];
	const char *fallback;
	unsigned *warnings;
};

static int hdr_flush_words(struct hdr *h)
{
	int r = 0;

	if (h->bytes.len > 0)
		r = charset_to_utf8(h->cs, h->bytes.data, h->bytes.len, &h->out, h->warnings);
	buf_reset(&h->bytes);
	return r;
}

static int hdr_raw(struct hdr *h, const char *s, size_t n)
{
	int r = hdr_flush_words(h);

	if (r < 0 || n == 0)
		return r;
	if (charset_utf8_valid(s, n))
		return buf_append(&h->out, s, n);
	return charset_to_utf8(h->fallback ? h->fallback : "windows-1252", s, n, &h->out,
			       h->warnings);
}

static bool all_space(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return false;
	return true;
}

/* Collapses white space and control characters into single spaces, trims. */
static char *squeeze(const char *s, size_t n)
{
	char *o = malloc(n + 1);
	size_t j = 0;

	if (!o)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < ' ' || c == 0x7F) {
			if (j > 0 && o[j - 1] != ' ')
				o[j++] = ' ';
		} else if (c == ' ') {
			if (j > 0 && o[j - 1] != ' ')
				o[j++] = ' ';
		} else {
			o[j++] = (char)c;
		}
	}
	while (j > 0 && o[j - 1] == ' ')
		j--;
	o[j] = '\0';
	return o;
}

int charset_decode_header(const char *raw, size_t len, const char *fallback_charset, char **ret,
			  unsigned *warnings)
{
	struct hdr h = {.out = BUF_INIT(HEADER_MAX * 4),
			.bytes = BUF_INIT(HEADER_MAX),
			.fallback = fallback_charset,
			.warnings = warnings};
	size_t i = 0, raw_start = 0;
	bool after_word = false;
	char *res = NULL;
	int r = 0;

	if (len > HEADER_MAX) {
		len = HEADER_MAX;
		*warnings |= MESSAGE_WARN_TRUNCATED;
	}
	while (i < len && r >= 0) {
		char cs[CHARSET_NAME_MAX], enc;
		const char *text;
		size_t tl, gap, wl = word_parse(raw + i, len - i, cs, &enc, &text, &tl);

		if (wl == 0) {
			i++;
			continue;
		}
		/* the text before the word; only white space between two words is dropped */
		gap = i - raw_start;
		if (gap > 0 && !(after_word && all_space(raw + raw_start, gap)))
			r = hdr_raw(&h, raw + raw_start, gap);
		if (r >= 0 && (strcasecmp(cs, h.cs) != 0 || h.bytes.len == 0)) {
			r = hdr_flush_words(&h);
			snprintf(h.cs, sizeof(h.cs), "%s", cs);
		}
		if (r >= 0)
			r = word_decode(enc, text, tl, &h.bytes);
		i += wl;
		raw_start = i;
		after_word = true;
	}
	if (r >= 0)
		r = hdr_raw(&h, raw + raw_start, len - raw_start);
	if (r >= 0) {
		struct buf fixed = BUF_INIT(HEADER_MAX * 4);

		r = charset_utf8_repair(buf_str(&h.out), h.out.len, &fixed, warnings);
		if (r >= 0 && !(res = squeeze(buf_str(&fixed), fixed.len)))
			r = -ENOMEM;
		buf_done(&fixed);
	}
	buf_done(&h.out);
	buf_done(&h.bytes);
	if (r < 0)
		return r;
	*ret = res;
	return 0;
}

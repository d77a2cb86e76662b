/* mime-decode.c: see mime-decode.h.
 *
 * libetpan 1.9.4 is not safe on hostile input: a boundary parameter that
 * unquotes to '"' overflows the heap in mailmime_extract_boundary, and deep
 * nesting costs it stack and quadratic time. prescan() looks at every
 * Content-Type header itself first and refuses such messages. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libetpan/libetpan.h>

#include "buf.h"
#include "charset.h"
#include "cleanup.h"
#include "fold.h"
#include "html-text.h"
#include "mime-decode.h"
#include "strutil.h"

#define DEFAULT_MAX_MESSAGE (25u << 20)
#define DEFAULT_MAX_DEPTH   32u
#define DEFAULT_MAX_PARTS   512u
#define DEFAULT_MAX_LINE    (64u << 10)
#define DEFAULT_MAX_TEXT    (4u << 20)
#define BOUNDARY_MAX        200

DEFINE_CLEANUP_FUNC(struct mailmime, mailmime_free);

struct decoder {
	struct decode_limits lim;
	unsigned parts;
	unsigned warnings;
	struct buf plain; /* inline text/plain parts, UTF-8, joined */
	struct buf html;  /* inline text/html parts, UTF-8, joined */
	char charset[64]; /* charset of the first text part, for raw 8-bit headers */
	long metadata_id;
};

/* ---- prescan: refuse what libetpan cannot take ---- */

/* The value of the boundary parameter in one unfolded Content-Type value
 * (quoted-pairs undone as libetpan does), or false if there is none. */
static bool find_boundary(const char *v, size_t n, char *out, size_t outsz, size_t *ret_len)
{
	for (size_t i = 0; i + 8 < n; i++) {
		size_t j, k = 0;

		if (v[i] != ';' && v[i] != ' ' && v[i] != '\t')
			continue;
		j = i + 1;
		while (j < n && (v[j] == ' ' || v[j] == '\t'))
			j++;
		if (n - j < 9 || strncasecmp(v + j, "boundary", 8) != 0)
			continue;
		j += 8;
		while (j < n && (v[j] == ' ' || v[j] == '\t'))
			j++;
		if (j >= n || v[j] != '=')
			continue;
		for (j++; j < n && (v[j] == ' ' || v[j] == '\t'); j++)
			;
		if (j < n && v[j] == '"') {
			for (j++; j < n && v[j] != '"'; j++) {
				if (v[j] == '\\' && j + 1 < n)
					j++;
				if (k + 1 < outsz)
					out[k] = v[j];
				k++;
			}
		} else {
			for (; j < n && v[j] != ';' && v[j] != ' ' && v[j] != '\t'; j++, k++)
				if (k + 1 < outsz)
					out[k] = v[j];
		}
		out[k < outsz ? k : outsz - 1] = '\0';
		*ret_len = k;
		return true;
	}
	return false;
}

/* Checks one Content-Type header value (folded, raw). */
static int check_content_type(const char *v, size_t n, unsigned *containers, char **reterr_reason)
{
	char unfolded[1024], b[BOUNDARY_MAX + 2];
	size_t m = 0, blen;

	for (size_t i = 0; i < n && m + 1 < sizeof(unfolded); i++)
		if (v[i] != '\r' && v[i] != '\n')
			unfolded[m++] = v[i];
	unfolded[m] = '\0';
	if (strcasestr(unfolded, "multipart") || strcasestr(unfolded, "message"))
		(*containers)++;
	if (!find_boundary(unfolded, m, b, sizeof(b), &blen))
		return 0;
	if (blen == 0 || blen > BOUNDARY_MAX || strpbrk(b, "\"\\") || memchr(b, '\0', blen))
		return set_reason(
		    reterr_reason, -EBADMSG,
		    "refusing a MIME boundary parameter that is empty, too long or holds "
		    "quotes or backslashes");
	return 0;
}

static int prescan(const char *raw, size_t len, unsigned max_containers, char **reterr_reason)
{
	unsigned containers = 0;
	int r;

	for (size_t i = 0; i < len; i++) {
		size_t j, end;

		if ((i > 0 && raw[i - 1] != '\n') || (raw[i] != 'C' && raw[i] != 'c'))
			continue;
		if (len - i < 13 || strncasecmp(raw + i, "content-type", 12) != 0)
			continue;
		for (j = i + 12; j < len && (raw[j] == ' ' || raw[j] == '\t'); j++)
			;
		if (j >= len || raw[j] != ':')
			continue;
		/* the value runs to the first line end not followed by white space */
		for (end = j + 1; end < len; end++)
			if (raw[end] == '\n' &&
			    (end + 1 >= len || (raw[end + 1] != ' ' && raw[end + 1] != '\t')))
				break;
		r = check_content_type(raw + j + 1, end - j - 1, &containers, reterr_reason);
		if (r < 0)
			return r;
		if (containers > max_containers)
			return set_reason(reterr_reason, -EBADMSG,
					  "too many nested MIME containers (more than %u)",
					  max_containers);
		i = end > i ? end - 1 : i;
	}
	return 0;
}

/* ---- one text part ---- */

static bool is_attachment(const struct mailmime *part)
{
	clistiter *it;

	if (!part->mm_mime_fields)
		return false;
	for (it = clist_begin(part->mm_mime_fields->fld_list); it; it = clist_next(it)) {
		struct mailmime_field *f = clist_content(it);

		if (f->fld_type == MAILMIME_FIELD_DISPOSITION && f->fld_data.fld_disposition &&
		    f->fld_data.fld_disposition->dsp_type->dsp_type ==
			MAILMIME_DISPOSITION_TYPE_ATTACHMENT)
			return true;
	}
	return false;
}

/* "plain", "html" or NULL for a part that is not inline text we read. */
static const char *text_subtype(const struct mailmime *part)
{
	struct mailmime_content *ct = part->mm_content_type;

	if (!ct || !ct->ct_type || ct->ct_type->tp_type != MAILMIME_TYPE_DISCRETE_TYPE ||
	    ct->ct_type->tp_data.tp_discrete_type->dt_type != MAILMIME_DISCRETE_TYPE_TEXT ||
	    !ct->ct_subtype || is_attachment(part))
		return NULL;
	if (strcasecmp(ct->ct_subtype, "plain") == 0)
		return "plain";
	if (strcasecmp(ct->ct_subtype, "html") == 0)
		return "html";
	return NULL;
}

/* A charset named in an HTML part's <meta>, for parts without a charset parameter. */
static void sniff_meta_charset(const char *s, size_t n, char *out, size_t outsz)
{
	const char *p = memmem(s, n < 4096 ? n : 4096, "charset=", 8), *end = s + n;
	size_t k = 0;

	if (!p)
		return;
	/* the part's bytes are not NUL-terminated: stay before end */
	for (p += 8; p < end && (*p == '"' || *p == '\''); p++)
		;
	while (p < end && k + 1 < outsz &&
	       ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		*p == '-' || *p == '_' || *p == ':'))
		out[k++] = *p++;
	out[k] = '\0';
}

/* '\r\n' and lone '\r' become '\n', in place. */
static size_t normalize_newlines(char *s, size_t n)
{
	size_t j = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\r') {
			s[j++] = '\n';
			if (i + 1 < n && s[i + 1] == '\n')
				i++;
		} else {
			s[j++] = s[i];
		}
	}
	s[j] = '\0';
	return j;
}

/* RFC 3676: a line ending in a space continues on the next one. */
static size_t unflow(char *s, size_t n, bool delsp)
{
	size_t j = 0, line = 0;

	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != '\n')
			continue;
		size_t l = i - line;
		const char *src = s + line;
		bool soft = l > 0 && src[l - 1] == ' ' && !(l == 3 && memcmp(src, "-- ", 3) == 0);

		if (l > 0 && src[0] == ' ') /* space-stuffing */
			src++, l--;
		if (soft && delsp)
			l--;
		memmove(s + j, src, l);
		j += l;
		if (!soft && i < n)
			s[j++] = '\n';
		line = i + 1;
	}
	s[j] = '\0';
	return j;
}

static int decode_single(struct decoder *d, struct mailmime *part, const char *sub)
{
	struct mailmime_data *data = part->mm_data.mm_single;
	struct mailmime_content *ct = part->mm_content_type;
	const char *cs = mailmime_content_param_get(ct, "charset");
	const char *fmt = mailmime_content_param_get(ct, "format");
	const char *delsp = mailmime_content_param_get(ct, "delsp");
	struct buf *dst = streq(sub, "plain") ? &d->plain : &d->html;
	struct buf u = BUF_INIT(BUF_MAX_TEXT);
	char sniffed[64] = "";
	char *dec = NULL;
	size_t declen = 0, idx = 0, start;
	int r;

	if (!data || data->dt_type != MAILMIME_DATA_TEXT)
		return 0;
	if (data->dt_encoding == MAILMIME_MECHANISM_BASE64 ||
	    data->dt_encoding == MAILMIME_MECHANISM_QUOTED_PRINTABLE) {
		/* libetpan's quoted-printable decoder reads the two bytes after
		 * a '=' without checking the length: a part ending in "=" or
		 * "=X" would be read past its end (past the message, when the
		 * part is last). It gets a copy with zero bytes after it. */
		size_t n = data->dt_data.dt_text.dt_length;
		char *padded = malloc(n + 3);

		if (!padded)
			return -ENOMEM;
		memcpy(padded, data->dt_data.dt_text.dt_data, n);
		memset(padded + n, 0, 3);
		r = mailmime_part_parse(padded, n, &idx, data->dt_encoding, &dec, &declen);
		free(padded);
		if (r != MAILIMF_NO_ERROR)
			return 0; /* an undecodable part is skipped */
	}
	if (!cs && streq(sub, "html"))
		sniff_meta_charset(dec ? dec : data->dt_data.dt_text.dt_data,
				   dec ? declen : data->dt_data.dt_text.dt_length, sniffed,
				   sizeof(sniffed));
	if (!cs && sniffed[0])
		cs = sniffed;
	r = charset_to_utf8(cs, dec ? dec : data->dt_data.dt_text.dt_data,
			    dec ? declen : data->dt_data.dt_text.dt_length, &u, &d->warnings);
	if (dec)
		mailmime_decoded_part_free(dec);
	if (r == -E2BIG) {
		d->warnings |= MESSAGE_WARN_TRUNCATED;
		r = 0;
	}
	if (r >= 0 && u.len > 0) {
		u.len = normalize_newlines(u.data, u.len);
		if (fmt && strcasecmp(fmt, "flowed") == 0 && streq(sub, "plain"))
			u.len = unflow(u.data, u.len, delsp && strcasecmp(delsp, "yes") == 0);
		if (!d->charset[0] && cs)
			snprintf(d->charset, sizeof(d->charset), "%s", cs);
		if (!d->metadata_id)
			d->metadata_id = html_text_find_metadata(u.data, u.len);
		start = dst->len;
		if (dst->len > 0)
			r = buf_puts(dst, "\n\n");
		if (r >= 0)
			r = buf_append(dst, u.data, u.len);
		if (r == -E2BIG) { /* keep what fitted of earlier parts */
			dst->len = start;
			dst->data[start] = '\0';
			d->warnings |= MESSAGE_WARN_TRUNCATED;
			r = 0;
		}
	}
	buf_done(&u);
	return r;
}

/* Collects the inline text parts under part; message/rfc822 parts are left
 * to the caller. */
static int collect(struct decoder *d, struct mailmime *part, unsigned depth)
{
	const char *sub;
	clistiter *it;
	int r = 0;

	if (++d->parts > d->lim.max_parts || depth > d->lim.max_depth) {
		d->warnings |= MESSAGE_WARN_TRUNCATED;
		return 0;
	}
	switch (part->mm_type) {
	case MAILMIME_SINGLE:
		sub = text_subtype(part);
		return sub ? decode_single(d, part, sub) : 0;
	case MAILMIME_MULTIPLE:
		for (it = clist_begin(part->mm_data.mm_multipart.mm_mp_list); it && r >= 0;
		     it = clist_next(it))
			r = collect(d, clist_content(it), depth + 1);
		return r;
	default:
		return 0;
	}
}

/* The first message/rfc822 part under part (depth first), or NULL. */
static struct mailmime *find_forwarded(struct mailmime *part, unsigned depth, unsigned max_depth)
{
	clistiter *it;

	if (depth > max_depth)
		return NULL;
	if (part->mm_type == MAILMIME_MESSAGE && depth > 0)
		return part->mm_data.mm_message.mm_fields ? part : NULL;
	if (part->mm_type == MAILMIME_MESSAGE)
		return part->mm_data.mm_message.mm_msg_mime
			   ? find_forwarded(part->mm_data.mm_message.mm_msg_mime, depth + 1,
					    max_depth)
			   : NULL;
	if (part->mm_type != MAILMIME_MULTIPLE)
		return NULL;
	for (it = clist_begin(part->mm_data.mm_multipart.mm_mp_list); it; it = clist_next(it)) {
		struct mailmime *m = find_forwarded(clist_content(it), depth + 1, max_depth);

		if (m)
			return m;
	}
	return NULL;
}

/* ---- body choice ---- */

/* Folded (case, accents) phrases of "view this in your browser" stubs. */
static const char *const stub_phrases[] = {"view this email in your browser",
					   "view this email in a browser",
					   "view it in your browser",
					   "view in browser",
					   "view in your browser",
					   "view online",
					   "view the web version",
					   "web version",
					   "open in browser",
					   "read online",
					   "having trouble viewing",
					   "trouble viewing this",
					   "can't see this email",
					   "cannot see this email",
					   "does not support html",
					   "doesn't support html",
					   "html-compatible",
					   "enable html",
					   "not displaying correctly",
					   "display this email",
					   "στον browser",
					   "στο browser",
					   "στον περιηγητη",
					   "στο προγραμμα περιηγησης",
					   "δειτε αυτο το email",
					   "δειτε το email",
					   "δειτε αυτο το μηνυμα",
					   "προβολη στον",
					   "προβολη σε",
					   "δεν εμφανιζεται σωστα",
					   "δεν βλεπετε σωστα",
					   "ηλεκτρονικη εκδοση",
					   "διαδικτυακη εκδοση",
					   "web εκδοση"};

static bool line_is_stub(const char *line, size_t n)
{
	char *folded;
	bool hit = false;

	if (n == 0 || n > 1024 || !(folded = fold_text(line, n)))
		return false;
	for (size_t k = 0; k < ELEMENTSOF(stub_phrases) && !hit; k++)
		hit = strstr(folded, stub_phrases[k]) != NULL;
	free(folded);
	return hit;
}

static bool line_is_url(const char *line, size_t n)
{
	while (n > 0 && (*line == ' ' || *line == '\t' || *line == '(' || *line == '<'))
		line++, n--;
	return n >= 4 && (strncasecmp(line, "http", 4) == 0 || strncasecmp(line, "www.", 4) == 0) &&
	       !memchr(line, ' ', n);
}

/* Counts the visible bytes of text outside stub and bare-URL lines. */
static size_t content_size(const char *s, size_t n, bool *ret_stub_line)
{
	size_t count = 0;

	*ret_stub_line = false;
	for (size_t i = 0; i < n;) {
		const char *nl = memchr(s + i, '\n', n - i);
		size_t l = nl ? (size_t)(nl - (s + i)) : n - i;

		if (line_is_stub(s + i, l))
			*ret_stub_line = true;
		else if (!line_is_url(s + i, l))
			for (size_t k = 0; k < l; k++)
				count += (unsigned char)s[i + k] > ' ';
		i += l + 1;
	}
	return count;
}

#define STUB_SCAN_MAX (64u << 10) /* longer plain text is never a stub */

static size_t visible_bytes(const char *s, size_t n)
{
	size_t count = 0;

	for (size_t i = 0; i < n; i++)
		count += (unsigned char)s[i] > ' ';
	return count;
}

/* Chooses between the plain and the (converted) HTML text; fills m->text. */
static int choose_body(struct decoder *d, struct message *m, char **reterr_reason)
{
	struct html_limits hl = {.max_input = BUF_MAX_TEXT, .max_output = d->lim.max_text * 2};
	_cleanup_free_ char *html_text = NULL;
	size_t html_len = 0, plain_size = STUB_SCAN_MAX;
	int truncated = 0, r;
	bool stub_line = false;

	if (d->plain.len <= STUB_SCAN_MAX)
		plain_size = content_size(buf_str(&d->plain), d->plain.len, &stub_line);
	if (d->html.len > 0 && (plain_size == 0 || stub_line)) {
		r = html_text_convert(buf_str(&d->html), d->html.len, &hl, &html_text, &html_len,
				      &truncated, reterr_reason);
		if (r < 0)
			return r;
		/* also when nothing was left of it: an HTML part cut to
		 * nothing is no empty newsletter */
		if (truncated)
			d->warnings |= MESSAGE_WARN_TRUNCATED;
	}
	if (html_len > 0 &&
	    (plain_size < 200 || plain_size * 4 < visible_bytes(html_text, html_len))) {
		m->text = TAKE_PTR(html_text);
		m->text_len = html_len;
		m->text_type = "text/html";
		d->warnings |= MESSAGE_WARN_HTML_ONLY | (truncated ? MESSAGE_WARN_TRUNCATED : 0);
		return 0;
	}
	m->text = buf_take(&d->plain, &m->text_len);
	m->text_type = "text/plain";
	return m->text ? 0 : -ENOMEM;
}

/* Breaks lines longer than max_line and cuts the text at max_text, both on
 * UTF-8 character boundaries. */
static int bound_text(struct decoder *d, struct message *m)
{
	struct buf out = BUF_INIT(m->text_len + m->text_len / 16 + 16);
	size_t col = 0, max = d->lim.max_text, longest = 0;
	int r = 0;

	if (m->text_len > max) {
		while (max > 0 && ((unsigned char)m->text[max] & 0xC0) == 0x80)
			max--;
		m->text_len = max;
		m->text[max] = '\0';
		d->warnings |= MESSAGE_WARN_TRUNCATED;
	}
	for (size_t i = 0; i < m->text_len; i++, col++) {
		if (m->text[i] == '\n')
			col = 0;
		if (col > longest)
			longest = col;
	}
	if (longest <= d->lim.max_line)
		return 0;
	col = 0;
	for (size_t i = 0; i < m->text_len && r >= 0; i++) {
		unsigned char c = (unsigned char)m->text[i];

		if (c == '\n')
			col = 0;
		else if (col >= d->lim.max_line && (c & 0xC0) != 0x80) {
			r = buf_putc(&out, '\n');
			col = 0;
		}
		col++;
		if (r >= 0)
			r = buf_putc(&out, (char)c);
	}
	if (r < 0) {
		buf_done(&out);
		return r;
	}
	free(m->text);
	m->text = buf_take(&out, &m->text_len);
	return m->text ? 0 : -ENOMEM;
}

/* ---- headers ---- */

static const char *optional_field(struct mailimf_fields *f, const char *name)
{
	for (clistiter *it = clist_begin(f->fld_list); it; it = clist_next(it)) {
		struct mailimf_field *fld = clist_content(it);

		if (fld->fld_type == MAILIMF_FIELD_OPTIONAL_FIELD &&
		    strcasecmp(fld->fld_data.fld_optional_field->fld_name, name) == 0)
			return fld->fld_data.fld_optional_field->fld_value;
	}
	return NULL;
}

static char *strip_angles(const char *v)
{
	const char *b, *e;

	while (*v == ' ' || *v == '\t' || *v == '<')
		v++;
	b = v;
	e = b + strcspn(b, "> \t\r\n");
	return e > b ? strndup(b, (size_t)(e - b)) : NULL;
}

static int set_decoded(char **dst, const char *raw, const char *fallback_cs, unsigned *warnings)
{
	char *v = NULL;
	int r;

	if (!raw)
		return 0;
	r = charset_decode_header(raw, strlen(raw), fallback_cs, &v, warnings);
	if (r < 0)
		return r;
	free(*dst);
	*dst = v;
	return 0;
}

static bool date_from_imf(const struct mailimf_date_time *dt, struct message_date *out)
{
	int zone = dt->dt_zone, az = zone < 0 ? -zone : zone;
	struct message_date v = {.year = dt->dt_year,
				 .month = dt->dt_month,
				 .day = dt->dt_day,
				 .hour = dt->dt_hour,
				 .minute = dt->dt_min,
				 .second = dt->dt_sec,
				 .tz_offset_min = (zone < 0 ? -1 : 1) * (az / 100 * 60 + az % 100)};

	if (v.year >= 0 && v.year < 50) /* RFC 5322 4.3: obsolete two-digit years */
		v.year += 2000;
	else if (v.year >= 50 && v.year < 1000)
		v.year += 1900;
	if (v.year > 9999 || v.month < 1 || v.month > 12 || v.day < 1 || v.day > 31 || v.hour < 0 ||
	    v.hour > 23 || v.minute < 0 || v.minute > 59 || v.second < 0 || v.second > 60 ||
	    az % 100 > 59 || az > 2359)
		return false;
	*out = v;
	return true;
}

static int zone_by_name(const char *z)
{
	static const struct {
		const char *name;
		int hhmm;
	} zones[] = {{"UT", 0},     {"UTC", 0},    {"GMT", 0},    {"Z", 0},      {"WET", 0},
		     {"WEST", 100}, {"BST", 100},  {"CET", 100},  {"CEST", 200}, {"EET", 200},
		     {"EEST", 300}, {"MSK", 300},  {"EST", -500}, {"EDT", -400}, {"CST", -600},
		     {"CDT", -500}, {"MST", -700}, {"MDT", -600}, {"PST", -800}, {"PDT", -700}};

	for (size_t k = 0; k < ELEMENTSOF(zones); k++)
		if (strcasecmp(z, zones[k].name) == 0)
			return zones[k].hhmm;
	return 0;
}

/* "+0300", "-04:00", "Z", "EEST" at s -> ±hhmm (0 when absent or unknown). */
static int parse_zone(const char *s)
{
	char name[8];
	int h, mi = 0, n = 0;

	while (*s == ' ')
		s++;
	if ((*s == '+' || *s == '-') && sscanf(s + 1, "%2d%n", &h, &n) == 1) {
		const char *p = s + 1 + n;

		if (*p == ':')
			p++;
		if (sscanf(p, "%2d", &mi) != 1)
			mi = 0;
		return (*s == '-' ? -1 : 1) * (h * 100 + mi);
	}
	if (sscanf(s, "%7[A-Za-z]", name) == 1)
		return zone_by_name(name);
	return 0;
}

static int month_by_name(const char *m)
{
	static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";

	for (int k = 0; k < 12; k++)
		if (strncasecmp(m, months + 3 * k, 3) == 0)
			return k + 1;
	return 0;
}

/* A Date: value libetpan refused: ISO 8601, or long month and day names. */
static bool date_fallback(const char *v, struct message_date *out)
{
	struct mailimf_date_time dt = {0};
	char mon[16];
	int n = 0;

	while (*v == ' ' || *v == '\t')
		v++;
	if (sscanf(v, "%4d-%2d-%2d%n", &dt.dt_year, &dt.dt_month, &dt.dt_day, &n) == 3) {
		v += n;
		if ((*v == 'T' || *v == ' ') &&
		    sscanf(v + 1, "%2d:%2d%n", &dt.dt_hour, &dt.dt_min, &n) == 2) {
			v += 1 + n;
			if (*v == ':' && sscanf(v + 1, "%2d%n", &dt.dt_sec, &n) == 1)
				v += 1 + n;
			while (*v == '.' || (*v >= '0' && *v <= '9'))
				v++;
		}
	} else {
		if (strchr(v, ',') && strchr(v, ',') - v < 16)
			v = strchr(v, ',') + 1;
		if (sscanf(v, "%2d %15[A-Za-z] %4d %2d:%2d%n", &dt.dt_day, mon, &dt.dt_year,
			   &dt.dt_hour, &dt.dt_min, &n) != 5 ||
		    !(dt.dt_month = month_by_name(mon)))
			return false;
		v += n;
		if (*v == ':' && sscanf(v + 1, "%2d%n", &dt.dt_sec, &n) == 1)
			v += 1 + n;
	}
	dt.dt_zone = parse_zone(v);
	return date_from_imf(&dt, out);
}

static bool header_date(struct mailimf_fields *fields, const struct mailimf_single_fields *sf,
			struct message_date *out)
{
	const char *raw;

	if (sf->fld_orig_date && sf->fld_orig_date->dt_date_time)
		return date_from_imf(sf->fld_orig_date->dt_date_time, out);
	raw = optional_field(fields, "Date");
	return raw && date_fallback(raw, out);
}

/* Fills what fields have and m lacks: subject, from, date. */
static int take_headers(struct decoder *d, struct message *m, struct mailimf_fields *fields)
{
	struct mailimf_single_fields sf;
	const char *cs = d->charset[0] ? d->charset : NULL;
	int r = 0;

	mailimf_single_fields_init(&sf, fields);
	if (!m->subject && sf.fld_subject)
		r = set_decoded(&m->subject, sf.fld_subject->sbj_value, cs, &d->warnings);
	if (r >= 0 && !m->from_addr && sf.fld_from && sf.fld_from->frm_mb_list &&
	    clist_begin(sf.fld_from->frm_mb_list->mb_list)) {
		struct mailimf_mailbox *mb =
		    clist_content(clist_begin(sf.fld_from->frm_mb_list->mb_list));

		if (!(m->from_addr = strdup(mb->mb_addr_spec)))
			return -ENOMEM;
		r = set_decoded(&m->from_name, mb->mb_display_name, cs, &d->warnings);
		if (r >= 0 && m->from_name && !m->from_name[0]) {
			free(m->from_name);
			m->from_name = NULL;
		}
	}
	if (!m->has_date)
		m->has_date = header_date(fields, &sf, &m->date);
	return r;
}

/* A copy of s, valid UTF-8 (repaired), or NULL for NULL. */
static int dup_utf8(const char *s, char **ret, unsigned *warnings)
{
	struct buf b = BUF_INIT(BUF_MAX_SMALL);
	int r;

	if (!s)
		return 0;
	r = charset_utf8_repair(s, strnlen(s, BUF_MAX_SMALL), &b, warnings);
	if (r < 0) {
		buf_done(&b);
		return r;
	}
	*ret = buf_take(&b, NULL);
	return *ret ? 0 : -ENOMEM;
}

static int decode_tree(struct decoder *d, struct mailmime *top, struct message *m,
		       char **reterr_reason)
{
	struct mailmime *chain[DEFAULT_MAX_DEPTH + 1], *body;
	struct mailimf_single_fields sf;
	unsigned n = 0, level;
	int r = 0;

	chain[n++] = top;
	while (n < ELEMENTSOF(chain)) {
		struct mailmime *inner = find_forwarded(chain[n - 1], 0, d->lim.max_depth);

		if (!inner)
			break;
		chain[n++] = inner;
	}
	/* text: the innermost message that has some; headers from it outwards */
	for (level = n; level-- > 0 && r >= 0;) {
		body = chain[level]->mm_data.mm_message.mm_msg_mime;
		d->parts = 0;
		if (body)
			r = collect(d, body, 0);
		if (d->plain.len > 0 || d->html.len > 0 || level == 0)
			break;
	}
	if (r < 0)
		return set_reason(reterr_reason, r, "out of memory decoding the body");
	m->forwarded = level > 0;
	for (unsigned k = level + 1; k-- > 0 && r >= 0;)
		if (chain[k]->mm_data.mm_message.mm_fields)
			r = take_headers(d, m, chain[k]->mm_data.mm_message.mm_fields);
	if (r < 0)
		return set_reason(reterr_reason, r, "out of memory decoding the headers");
	if (top->mm_data.mm_message.mm_fields) {
		struct mailimf_fields *f = top->mm_data.mm_message.mm_fields;

		mailimf_single_fields_init(&sf, f);
		if (sf.fld_message_id && sf.fld_message_id->mid_value)
			r = dup_utf8(sf.fld_message_id->mid_value, &m->message_id, &d->warnings);
		else if (optional_field(f, "Message-ID") &&
			 !(m->message_id = strip_angles(optional_field(f, "Message-ID"))))
			r = 0; /* an empty Message-ID is as good as none */
		if (r >= 0 && sf.fld_from && sf.fld_from->frm_mb_list &&
		    clist_begin(sf.fld_from->frm_mb_list->mb_list)) {
			struct mailimf_mailbox *mb =
			    clist_content(clist_begin(sf.fld_from->frm_mb_list->mb_list));

			r = dup_utf8(mb->mb_addr_spec, &m->sender_addr, &d->warnings);
		}
		m->has_sent_date = header_date(f, &sf, &m->sent_date);
	}
	if (r < 0)
		return set_reason(reterr_reason, r, "out of memory decoding the headers");
	return 0;
}

static struct decode_limits limits_or_defaults(const struct decode_limits *lim)
{
	struct decode_limits l = lim ? *lim : (struct decode_limits){0};

	if (!l.max_message_size)
		l.max_message_size = DEFAULT_MAX_MESSAGE;
	if (!l.max_depth || l.max_depth > DEFAULT_MAX_DEPTH)
		l.max_depth = DEFAULT_MAX_DEPTH;
	if (!l.max_parts)
		l.max_parts = DEFAULT_MAX_PARTS;
	if (!l.max_line)
		l.max_line = DEFAULT_MAX_LINE;
	if (!l.max_text)
		l.max_text = DEFAULT_MAX_TEXT;
	return l;
}

int mime_decode(const char *raw, size_t len, const struct decode_limits *lim, struct message **ret,
		char **reterr_reason)
{
	struct decoder d = {.lim = limits_or_defaults(lim)};
	_cleanup_(mailmime_freep) struct mailmime *mime = NULL;
	struct message *m;
	size_t idx = 0;
	char *addr;
	int r;

	d.plain = BUF_INIT(BUF_MAX_TEXT);
	d.html = BUF_INIT(BUF_MAX_TEXT);
	if (len > d.lim.max_message_size)
		return set_reason(reterr_reason, -EFBIG, "message too large (%zu bytes, limit %zu)",
				  len, d.lim.max_message_size);
	r = prescan(raw, len, d.lim.max_depth * 2, reterr_reason);
	if (r < 0)
		return r;
	r = mailmime_parse(raw, len, &idx, &mime);
	if (r != MAILIMF_NO_ERROR || !mime || mime->mm_type != MAILMIME_MESSAGE)
		return set_reason(reterr_reason, r == MAILIMF_ERROR_MEMORY ? -ENOMEM : -EBADMSG,
				  "the MIME structure could not be parsed (libetpan error %d)", r);
	if (!(m = calloc(1, sizeof(*m))))
		return set_reason(reterr_reason, -ENOMEM, "out of memory");
	r = decode_tree(&d, mime, m, reterr_reason);
	if (r >= 0)
		r = choose_body(&d, m, reterr_reason);
	if (r >= 0)
		r = bound_text(&d, m);
	if (r >= 0 && m->from_addr) {
		addr = NULL;
		r = dup_utf8(m->from_addr, &addr, &d.warnings);
		free(m->from_addr);
		m->from_addr = addr;
	}
	buf_done(&d.plain);
	buf_done(&d.html);
	if (r < 0) {
		message_free(m);
		if (reterr_reason && !*reterr_reason)
			return set_reason(reterr_reason, r, "out of memory");
		return r;
	}
	m->diving_center_id = d.metadata_id;
	if (!m->has_date)
		d.warnings |= MESSAGE_WARN_NO_DATE;
	m->warnings = d.warnings;
	*ret = m;
	return 0;
}

const char *mime_decode_warning_name(enum message_warning w)
{
	switch (w) {
	case MESSAGE_WARN_UNKNOWN_CHARSET:
		return "unknown_charset";
	case MESSAGE_WARN_BAD_UTF8:
		return "bad_utf8";
	case MESSAGE_WARN_NO_DATE:
		return "no_date";
	case MESSAGE_WARN_TRUNCATED:
		return "truncated";
	case MESSAGE_WARN_HTML_ONLY:
		return "html_only";
	}
	return NULL;
}

struct message *message_free(struct message *m)
{
	if (!m)
		return NULL;
	free(m->message_id);
	free(m->subject);
	free(m->from_name);
	free(m->from_addr);
	free(m->text);
	free(m->sender_addr);
	free(m);
	return NULL;
}

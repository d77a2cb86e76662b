/* report-html.c: the parse log as one HTML page; see report-html.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "report-html.h"
#include "strutil.h"

#define MAX_SPANS 4096 /* per newsletter; more are not highlighted */

static const char style[] =
    "body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:70em;color:#222}"
    "h1{font-size:1.6em}h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ccc}"
    "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 6px;"
    "text-align:left;vertical-align:top}th{background:#f3f3f3}"
    "tr.dive td{background:#fafafa}tr.dive td:first-child{padding-left:1.5em}"
    "tr:target{outline:2px solid #d60}"
    "pre.text{white-space:pre-wrap;border:1px solid #ddd;padding:.7em;background:#fcfcfc}"
    "a.hl{text-decoration:none;color:inherit;border-radius:2px;padding:0 1px}"
    "a.hl:target{outline:2px solid #d60}"
    ".f-date{background:#cde8ff}.f-time{background:#d8f5d0}.f-site{background:#ffe2b8}"
    ".f-price{background:#f3d0f7}.f-other{background:#fff3a8}"
    ".s-ok{color:#176b00}.s-partial{color:#a05a00}.s-no_trips{color:#555}"
    ".s-failed{color:#b00000;font-weight:bold}.null{color:#aaa}.meta{color:#555}";

struct span {
	size_t start, end;
	int trip, dive; /* 1-based; dive 0: a trip field */
	const char *field, *rule;
};

struct spans {
	struct span *v;
	size_t n;
	size_t text_len;
	const char *text;
};

/* ---- escaping ---- */

/* Length of the valid UTF-8 sequence at s (0 when invalid); *cp: the code point. */
static size_t utf8_seq(const unsigned char *s, size_t len, uint32_t *cp)
{
	size_t n;
	uint32_t c, min;

	if (s[0] < 0x80)
		return *cp = s[0], 1;
	if ((s[0] & 0xE0) == 0xC0)
		n = 2, c = s[0] & 0x1F, min = 0x80;
	else if ((s[0] & 0xF0) == 0xE0)
		n = 3, c = s[0] & 0x0F, min = 0x800;
	else if ((s[0] & 0xF8) == 0xF0)
		n = 4, c = s[0] & 0x07, min = 0x10000;
	else
		return 0;
	if (n > len)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return n;
}

void report_html_escape(FILE *f, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		uint32_t cp = 0;
		size_t n = utf8_seq(p + i, len - i, &cp);

		if (n == 0 || (cp < 0x20 && cp != '\n' && cp != '\t') ||
		    (cp >= 0x7F && cp < 0xA0) || cp == 0xFFFE || cp == 0xFFFF)
			fputs(cp == '\r' && n ? "" : "\xEF\xBF\xBD", f);
		else if (cp == '&')
			fputs("&amp;", f);
		else if (cp == '<')
			fputs("&lt;", f);
		else if (cp == '>')
			fputs("&gt;", f);
		else if (cp == '"')
			fputs("&quot;", f);
		else if (cp == '\'')
			fputs("&#39;", f);
		else
			fwrite(p + i, 1, n, f);
		i += n ? n : 1;
	}
}

static void esc(FILE *f, const char *s)
{
	if (s)
		report_html_escape(f, s, strlen(s));
	else
		fputs("<span class=\"null\">—</span>", f);
}

/* A JSON value as table text. */
static void esc_json(FILE *f, const json_t *v)
{
	char buf[64];

	if (json_is_string(v))
		esc(f, json_string_value(v));
	else if (json_is_integer(v))
		fprintf(f, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v)) {
		snprintf(buf, sizeof(buf), "%.2f", json_real_value(v));
		fputs(buf, f);
	} else if (json_is_boolean(v))
		fputs(json_is_true(v) ? "yes" : "no", f);
	else
		esc(f, NULL);
}

/* ---- spans ---- */

static const char *field_class(const char *field)
{
	if (strstr(field, "date"))
		return "f-date";
	if (strstr(field, "time") || strstr(field, "duration"))
		return "f-time";
	if (strstr(field, "site"))
		return "f-site";
	if (strstr(field, "price") || strstr(field, "currency"))
		return "f-price";
	return "f-other";
}

/* Moves an offset off the middle of a UTF-8 sequence, within the text. */
static size_t clamp(const struct spans *s, long long off)
{
	size_t o = off < 0 ? 0 : (size_t)off > s->text_len ? s->text_len : (size_t)off;

	while (o < s->text_len && ((unsigned char)s->text[o] & 0xC0) == 0x80)
		o++;
	return o;
}

/* A field and the "source" key (and sibling field) that may hold its span. */
static const struct {
	const char *field, *source, *sibling;
} span_keys[] = {
    {"trip_date", "date", NULL},
    {"trip_time", "time", NULL},
    {"trip_duration", "duration", NULL},
    {"trip_price", "price", NULL},
    {"trip_currency", "currency", "trip_price"},
    {"group_size_limit", "group_size", NULL},
    {"trip_difficulty", "difficulty", NULL},
    {"special_requirements", "requirements", NULL},
    {"trip_description", "description", NULL},
    {"dive_number", "number", NULL},
    {"dive_site_name", "site", NULL},
    {"dive_site_id", "site_id", "dive_site_name"},
    {"dive_time", "time", NULL},
    {"dive_duration", "duration", NULL},
    {"dive_description", "description", NULL},
};

static bool span_own(const json_t *obj, const char *field, const char *source, long long *a,
		     long long *b, const char **rule)
{
	const json_t *v = json_object_get(json_object_get(obj, "spans"), field);

	if (json_is_array(v) && json_is_integer(json_array_get(v, 0)) &&
	    json_is_integer(json_array_get(v, 1))) {
		*a = json_integer_value(json_array_get(v, 0));
		*b = json_integer_value(json_array_get(v, 1));
		*rule = json_string_value(json_array_get(v, 2));
		return true;
	}
	v = source ? json_object_get(json_object_get(obj, "source"), source) : NULL;
	/* a value read from the subject has no place in the text */
	if (json_is_string(json_object_get(v, "in")) &&
	    !streq(json_string_value(json_object_get(v, "in")), "text"))
		return false;
	if (json_is_object(v) && json_is_integer(json_object_get(v, "start")) &&
	    json_is_integer(json_object_get(v, "end"))) {
		*a = json_integer_value(json_object_get(v, "start"));
		*b = json_integer_value(json_object_get(v, "end"));
		*rule = json_string_value(json_object_get(v, "rule"));
		return true;
	}
	return false;
}

bool report_span(const json_t *obj, const char *field, long long *ret_start, long long *ret_end,
		 const char **ret_rule)
{
	const char *rule = NULL;

	for (size_t i = 0; i < ELEMENTSOF(span_keys); i++) {
		if (!streq(span_keys[i].field, field))
			continue;
		if (span_own(obj, field, span_keys[i].source, ret_start, ret_end, &rule) ||
		    (span_keys[i].sibling &&
		     report_span(obj, span_keys[i].sibling, ret_start, ret_end, &rule))) {
			if (ret_rule)
				*ret_rule = rule;
			return true;
		}
		return false;
	}
	if (!span_own(obj, field, NULL, ret_start, ret_end, &rule))
		return false;
	if (ret_rule)
		*ret_rule = rule;
	return true;
}

static void span_add(struct spans *s, const json_t *obj, const char *field, int trip, int dive)
{
	struct span *sp = &s->v[s->n];
	long long a, b;

	if (s->n >= MAX_SPANS || !report_span(obj, field, &a, &b, &sp->rule))
		return;
	sp->start = clamp(s, a);
	sp->end = clamp(s, b);
	if (sp->end <= sp->start)
		return;
	sp->trip = trip;
	sp->dive = dive;
	sp->field = field;
	s->n++;
}

/* Every field with a span of its own (siblings share theirs). */
static void spans_add(struct spans *s, const json_t *obj, int trip, int dive)
{
	const char *key;
	const json_t *v;

	for (size_t i = 0; i < ELEMENTSOF(span_keys); i++)
		if (!span_keys[i].sibling && startswith(span_keys[i].field, "dive_") == (dive > 0))
			span_add(s, obj, span_keys[i].field, trip, dive);
	json_object_foreach((json_t *)json_object_get(obj, "spans"), key, v)
	{
		bool known = false;

		for (size_t i = 0; i < ELEMENTSOF(span_keys); i++)
			known = known || streq(span_keys[i].field, key);
		if (!known)
			span_add(s, obj, key, trip, dive);
	}
}

static int spans_collect(struct spans *s, const json_t *details)
{
	const json_t *trip, *dive;
	size_t i, j;

	s->text = json_string_value(json_object_get(details, "text"));
	s->text_len = s->text ? json_string_length(json_object_get(details, "text")) : 0;
	s->v = calloc(MAX_SPANS, sizeof(*s->v));
	if (!s->v)
		return -ENOMEM;
	json_array_foreach(json_object_get(details, "trips"), i, trip)
	{
		spans_add(s, trip, (int)i + 1, 0);
		json_array_foreach(json_object_get(trip, "dives"), j, dive)
		{
			spans_add(s, dive, (int)i + 1, (int)j + 1);
		}
	}
	return 0;
}

/* The index of the span for field of trip/dive (or its sibling's), or -1. */
static long span_of(const struct spans *s, int trip, int dive, const char *field)
{
	for (size_t k = 0; k < s->n; k++)
		if (s->v[k].trip == trip && s->v[k].dive == dive && streq(s->v[k].field, field))
			return (long)k;
	for (size_t i = 0; i < ELEMENTSOF(span_keys); i++)
		if (streq(span_keys[i].field, field) && span_keys[i].sibling)
			return span_of(s, trip, dive, span_keys[i].sibling);
	return -1;
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

/* The shortest span covering [a, b), or -1. */
static long covering(const struct spans *s, size_t a, size_t b)
{
	long best = -1;

	for (size_t k = 0; k < s->n; k++)
		if (s->v[k].start <= a && s->v[k].end >= b &&
		    (best < 0 || s->v[k].end - s->v[k].start < s->v[best].end - s->v[best].start))
			best = (long)k;
	return best;
}

static void span_open(FILE *f, const struct spans *s, long k, long long nl)
{
	const struct span *sp = &s->v[k];

	fprintf(f, "<a class=\"hl %s\" href=\"#n%lld-t%d\"", field_class(sp->field), nl, sp->trip);
	fprintf(f, " title=\"trip %d", sp->trip);
	if (sp->dive)
		fprintf(f, ", dive %d", sp->dive);
	fputs(": ", f);
	esc(f, sp->field);
	if (sp->rule) {
		fputs(" (rule ", f);
		esc(f, sp->rule);
		fputs(")", f);
	}
	fputs("\">", f);
}

/* The text cut at every span boundary; each piece inside a span links to its trip. */
static int text_write(FILE *f, const struct spans *s, long long nl)
{
	_cleanup_free_ size_t *cut = calloc(2 * s->n + 2, sizeof(*cut));
	size_t n = 0;

	if (!cut)
		return -ENOMEM;
	cut[n++] = 0;
	cut[n++] = s->text_len;
	for (size_t k = 0; k < s->n; k++) {
		cut[n++] = s->v[k].start;
		cut[n++] = s->v[k].end;
	}
	qsort(cut, n, sizeof(*cut), cmp_size);
	fputs("<pre class=\"text\">", f);
	for (size_t i = 0; i + 1 < n; i++) {
		size_t a = cut[i], b = cut[i + 1];
		long k;

		if (a == b)
			continue;
		for (size_t j = 0; j < s->n; j++)
			if (s->v[j].start == a)
				fprintf(f, "<span id=\"n%lld-s%zu\"></span>", nl, j);
		k = covering(s, a, b);
		if (k >= 0)
			span_open(f, s, k, nl);
		report_html_escape(f, s->text + a, b - a);
		if (k >= 0)
			fputs("</a>", f);
	}
	fputs("</pre>\n", f);
	return 0;
}

/* ---- tables ---- */

/* One table cell: the value, linked to its span when it has one. */
static void cell(FILE *f, const struct spans *s, long long nl, int trip, int dive,
		 const json_t *obj, const char *field)
{
	long k = span_of(s, trip, dive, field);

	fputs("<td>", f);
	if (k >= 0)
		fprintf(f, "<a href=\"#n%lld-s%ld\">", nl, k);
	esc_json(f, json_object_get(obj, field));
	if (k >= 0)
		fputs("</a>", f);
	fputs("</td>", f);
}

static const char *const trip_fields[] = {
    "trip_date",        "trip_time",       "trip_duration",        "trip_price", "trip_currency",
    "group_size_limit", "trip_difficulty", "special_requirements", NULL,
};
static const char *const dive_fields[] = {
    "dive_site_name", "dive_site_id", "dive_time", "dive_duration", NULL,
};

static void dive_row(FILE *f, const struct spans *s, long long nl, int trip, int d,
		     const json_t *dive)
{
	const json_t *match = json_object_get(dive, "match");

	fprintf(f, "<tr class=\"dive\"><td>dive %d</td>", d);
	for (size_t i = 0; dive_fields[i]; i++)
		cell(f, s, nl, trip, d, dive, dive_fields[i]);
	fputs("<td colspan=\"4\">", f);
	if (json_is_object(match)) {
		fputs("matched by ", f);
		esc_json(f, json_object_get(match, "method"));
		fputs(", score ", f);
		esc_json(f, json_object_get(match, "score"));
	} else
		fputs("<span class=\"null\">not matched</span>", f);
	fputs("</td><td></td></tr>\n", f);
}

static void trips_table(FILE *f, const struct spans *s, long long nl, const json_t *details)
{
	const json_t *trips = json_object_get(details, "trips"), *trip, *dive;
	const json_t *ids = json_object_get(json_object_get(details, "writer"), "trip_ids");
	size_t i, j;

	if (json_array_size(trips) == 0) {
		fputs("<p class=\"meta\">No trips.</p>\n", f);
		return;
	}
	fputs("<table class=\"trips\"><tr><th>#</th>", f);
	for (i = 0; trip_fields[i]; i++) {
		fputs("<th>", f);
		esc(f, trip_fields[i]);
		fputs("</th>", f);
	}
	fputs("<th>parsed_dive_trips.id</th></tr>\n", f);
	json_array_foreach(trips, i, trip)
	{
		fprintf(f, "<tr id=\"n%lld-t%zu\"><td>trip %zu</td>", nl, i + 1, i + 1);
		for (j = 0; trip_fields[j]; j++)
			cell(f, s, nl, (int)i + 1, 0, trip, trip_fields[j]);
		fputs("<td>", f);
		esc_json(f, json_array_get(ids, i));
		fputs("</td></tr>\n", f);
		json_array_foreach(json_object_get(trip, "dives"), j, dive)
		{
			dive_row(f, s, nl, (int)i + 1, (int)j + 1, dive);
		}
	}
	fputs("</table>\n", f);
}

static void warnings_list(FILE *f, const json_t *details)
{
	const json_t *w;
	size_t i;

	if (json_array_size(json_object_get(details, "warnings")) == 0)
		return;
	fputs("<ul class=\"meta\">", f);
	json_array_foreach(json_object_get(details, "warnings"), i, w)
	{
		fputs("<li>", f);
		esc_json(f, w);
		fputs("</li>", f);
	}
	fputs("</ul>\n", f);
}

static void candidates_write(FILE *f, const json_t *cands)
{
	const json_t *c;
	size_t j;

	json_array_foreach(cands, j, c)
	{
		if (j >= 3)
			break;
		fputs(j ? "; " : "", f);
		esc_json(f, json_object_get(c, "name"));
		fputs(" (id ", f);
		esc_json(f, json_object_get(c, "id"));
		fputs(", ", f);
		esc_json(f, json_object_get(c, "score"));
		fputs(")", f);
	}
}

static void unresolved_list(FILE *f, const json_t *details)
{
	const json_t *u;
	size_t i;

	if (json_array_size(json_object_get(details, "unresolved")) == 0)
		return;
	fputs("<p>Unresolved names:</p>\n<ul class=\"meta\">", f);
	json_array_foreach(json_object_get(details, "unresolved"), i, u)
	{
		fputs("<li>", f);
		esc_json(f, json_object_get(u, "kind"));
		fputs(" <b>", f);
		esc_json(f, json_object_get(u, "name"));
		fputs("</b>", f);
		if (json_array_size(json_object_get(u, "candidates"))) {
			fputs(": ", f);
			candidates_write(f, json_object_get(u, "candidates"));
		}
		fputs("</li>", f);
	}
	fputs("</ul>\n", f);
}

static void status_span(FILE *f, const char *status)
{
	const char *cls = status && (streq(status, "ok") || streq(status, "partial") ||
				     streq(status, "no_trips") || streq(status, "failed"))
			      ? status
			      : "other";

	fprintf(f, "<span class=\"s-%s\">", cls);
	esc(f, status);
	fputs("</span>", f);
}

static int newsletter_write(FILE *f, const struct report_newsletter *n)
{
	struct spans s = {0};
	int r = 0;

	fprintf(f, "<section id=\"n%lld\">\n<h2>Newsletter %lld: ", n->newsletter_id,
		n->newsletter_id);
	esc(f, n->subject);
	fprintf(f, "</h2>\n<p class=\"meta\">Message %llu from ", n->message_id);
	esc(f, n->sender);
	fputs(", sent ", f);
	esc(f, n->sent_at);
	fputs("; parsed ", f);
	esc(f, n->parsed_at);
	fputs(": ", f);
	status_span(f, n->status);
	if (n->reason) {
		fputs(" — ", f);
		esc(f, n->reason);
	}
	fputs("</p>\n", f);
	if (n->details) {
		r = spans_collect(&s, n->details);
		if (r >= 0) {
			warnings_list(f, n->details);
			trips_table(f, &s, n->newsletter_id, n->details);
			unresolved_list(f, n->details);
			if (s.text)
				r = text_write(f, &s, n->newsletter_id);
		}
	}
	free(s.v);
	fputs("</section>\n", f);
	return r;
}

/* ---- the page ---- */

static void summary_write(FILE *f, const struct report *r)
{
	unsigned long long total = 0;

	fputs("<h2>Summary</h2>\n<table><tr><th>Status</th><th>Newsletters</th></tr>\n", f);
	for (size_t i = 0; i < r->n_counts; i++) {
		fputs("<tr><td>", f);
		status_span(f, r->counts[i].status);
		fprintf(f, "</td><td>%llu</td></tr>\n", r->counts[i].n);
		total += r->counts[i].n;
	}
	fprintf(f, "<tr><th>all</th><th>%llu</th></tr></table>\n", total);
	if (r->n_unresolved == 0)
		return;
	fputs("<h2>Most frequent unresolved names</h2>\n<table><tr><th>Name</th><th>Kind</th>"
	      "<th>Newsletters</th><th>Best candidates</th></tr>\n",
	      f);
	for (size_t i = 0; i < r->n_unresolved; i++) {
		const struct report_unresolved *u = &r->unresolved[i];

		fputs("<tr><td>", f);
		esc(f, u->name);
		fputs("</td><td>", f);
		esc(f, u->kind);
		fprintf(f, "</td><td>%llu</td><td>", u->seen);
		candidates_write(f, u->candidates);
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void index_write(FILE *f, const struct report *r)
{
	if (r->n_newsletters == 0) {
		fputs("<p class=\"meta\">No newsletter matches.</p>\n", f);
		return;
	}
	fputs("<h2>Newsletters</h2>\n<ul>\n", f);
	for (size_t i = 0; i < r->n_newsletters; i++) {
		const struct report_newsletter *n = &r->newsletters[i];

		fprintf(f, "<li><a href=\"#n%lld\">%lld</a> ", n->newsletter_id, n->newsletter_id);
		status_span(f, n->status);
		fputs(" ", f);
		esc(f, n->subject);
		fputs("</li>\n", f);
	}
	fputs("</ul>\n", f);
}

int report_html_write(FILE *f, const struct report *r)
{
	int k = 0;

	fprintf(f,
		"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>"
		"<meta name=\"viewport\" content=\"width=device-width\"/>"
		"<title>divemap-ingest parse report</title><style>%s</style></head><body>\n"
		"<h1>divemap-ingest parse report</h1>\n<p class=\"meta\">Generated ",
		style);
	esc(f, r->generated_at);
	fprintf(f, "; %zu newsletters.</p>\n", r->n_newsletters);
	summary_write(f, r);
	index_write(f, r);
	for (size_t i = 0; i < r->n_newsletters && k >= 0; i++)
		k = newsletter_write(f, &r->newsletters[i]);
	fputs("</body></html>\n", f);
	if (k < 0)
		return k;
	return fflush(f) != 0 || ferror(f) ? -EIO : 0;
}

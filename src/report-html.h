/* report-html.h: the parse log as one self-contained HTML page.
 *
 * No external assets and no script: a summary (newsletters by status, the
 * most frequent unresolved names), then per newsletter its metadata, a
 * table of the extracted trips and dives, and its decoded text with every
 * extracted span highlighted and linked to the trip row it fed (and each
 * table value linked back to its span). Everything taken from mail is
 * escaped; bytes that are not UTF-8, and control characters, show as U+FFFD.
 * The markup is well-formed XML as well as HTML5. Pure: no database. */
#ifndef DIVEMAP_REPORT_HTML_H
#define DIVEMAP_REPORT_HTML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

struct report_newsletter {
	long long newsletter_id;
	unsigned long long message_id;
	const char *subject, *sender, *sent_at; /* NULL: unknown */
	const char *parsed_at, *status, *reason;
	const json_t *details; /* the parse log's details (pipeline.h result), or NULL */
};

struct report_count {
	const char *status;
	unsigned long long n;
};

struct report_unresolved {
	const char *kind, *name;
	unsigned long long seen;
	const json_t *candidates; /* [{id, name, score}], or NULL */
};

struct report {
	const char *generated_at; /* shown as is */
	const struct report_count *counts;
	size_t n_counts;
	const struct report_unresolved *unresolved;
	size_t n_unresolved;
	const struct report_newsletter *newsletters;
	size_t n_newsletters;
};

/* 0, or -EIO when writing failed, -ENOMEM. */
int report_html_write(FILE *f, const struct report *r);

/* Where the value of field ("trip_date", "dive_site_id", ...) of a trip or
 * dive object came from: its "spans" {"trip_date": [start, end, "rule"]}
 * (pipeline.h) or its "source" {"date": {"start", "end", "rule"}}; a field
 * without a span of its own takes its sibling's (dive_site_id: the site
 * name's). false when there is none; *ret_rule may be NULL. */
bool report_span(const json_t *obj, const char *field, long long *ret_start, long long *ret_end,
		 const char **ret_rule);

/* Writes s (len bytes) HTML-escaped; see above for what is replaced. */
void report_html_escape(FILE *f, const char *s, size_t len);

#endif

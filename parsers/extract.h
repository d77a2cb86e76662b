/* extract.h: the rule-driven extractor: decoded text in, trips and dives out.
 *
 * extract_run() applies a loaded rule set to one message's UTF-8 text (plain
 * lines; a table row is one line with cells separated by " | " or tabs) and
 * resolves dates against the message's Date: day. Every value keeps the byte
 * span it came from and the id of the rule that produced it; a value the
 * text does not state is unset (-1, NULL, has_price false). Site names are
 * looked up with resolve_site (0 = resolved, -ENOENT = not a known site),
 * which the engine also uses to tell a site from another capitalised phrase. */
#ifndef DIVEMAP_EXTRACT_H
#define DIVEMAP_EXTRACT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "dates.h"
#include "rules.h"

typedef int (*extract_resolve_site_t)(void *userdata, const char *name, int *ret_id);

struct extract_span {
	size_t start, end;   /* bytes in the text; start == end: not from the text */
	const char *rule_id; /* the producing rule (owned by the rule set), or NULL */
};

struct extract_dive {
	int number;        /* 1, 2, ... */
	char *site_name;   /* as written */
	int site_id;       /* 0 = not a known site */
	int time;          /* minutes after midnight, -1 = not stated */
	int duration;      /* minutes, -1 = not stated */
	char *description; /* NULL or the line it came from */
	struct extract_span site_span, time_span, duration_span;
	bool site_in_subject; /* site_span indexes the subject, not the text */
};

struct extract_trip {
	struct date date;
	int time, duration, group_size; /* -1 = not stated; minutes for time/duration */
	bool has_price;
	double price;               /* lowest per-person price */
	char currency[4];           /* ISO code, "" = not stated */
	const char *difficulty;     /* difficulty_levels.code or NULL */
	char *special_requirements; /* NULL = none stated */
	char *description;
	struct extract_span date_span, time_span, duration_span, group_size_span, price_span,
	    difficulty_span, requirements_span;
	struct extract_dive *dives;
	size_t n_dives;
};

struct extract_result {
	struct extract_trip *trips;
	size_t n_trips;
	char **warnings; /* weekday contradicting a date, a match limit hit, ... */
	size_t n_warnings;
};

struct extract_input {
	const char *text;
	size_t len;
	const char *subject;                 /* may be NULL */
	struct date ref;                     /* the Date: header's day, in its own zone */
	int ref_tz_minutes;                  /* the Date: header's zone, for the record */
	extract_resolve_site_t resolve_site; /* may be NULL: no site is known */
	void *userdata;
};

int extract_run(const struct rules *rules, const struct extract_input *in,
		struct extract_result **ret, char **reterr_reason);
struct extract_result *extract_result_free(struct extract_result *r);
/* {"message_id", "diving_center_id" (null when <= 0), "trips": [...]} in the
 * corpus format, with dive_site_name; spans and rule ids under "source". */
int extract_result_to_json(const struct extract_result *r, const char *message_id,
			   int diving_center_id, json_t **ret);

#endif

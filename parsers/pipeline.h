/* pipeline.h: decode -> extract -> resolve for one raw message, pure (no
 * database, no clock). The worker process runs it; tests and benchmarks
 * call it directly.
 *
 * The result is one JSON object, a superset of the corpus format
 * (tests/corpus/README.md):
 *   {"message_id": "<id@host>", "subject": "...",
 *    "from": {"name": "...", "address": "..."}, "date": "2025-08-20T18:42:10+03:00",
 *    "diving_center_id": 1 | null, "diving_center_method": "email" | "name" | "metadata" | null,
 *    "status": "ok" | "no_trips" | "partial", "rules_version": "<sha256>",
 *    "warnings": ["..."], "text": "<the decoded text the spans index>",
 *    "trips": [{"trip_date": "2025-08-23", "trip_time": "09:00", "trip_duration": 300,
 *               "trip_price": 45.0, "trip_currency": "EUR", "group_size_limit": 3,
 *               "trip_difficulty": "OPEN_WATER", "special_requirements": "OWD",
 *               "trip_description": "...",
 *               "source": {"date": {"start": 252, "end": 288, "rule": "el.date.day_month"},
 *                          "time": ..., "duration": ..., "price": ..., "group_size": ...,
 *                          "difficulty": ..., "requirements": ...},
 *               "dives": [{"dive_number": 1, "dive_site_id": 1, "dive_site_name": "ν. Ποθητός",
 *                          "dive_time": "09:00", "dive_duration": null, "dive_description": "...",
 *                          "source": {"site": {...}, "time": {...}, "duration": null},
 *                          "match": {"id": 1, "name": "ν. Ποθητός", "method": "exact-alias",
 *                                    "score": 1.0}}]}],
 *    "unresolved": [{"kind": "site", "name": "...", "why": "no match" | "ambiguous",
 *                    "candidates": [{"id": 3, "name": "...", "method": "fuzzy", "score": 0.71}]}]}
 * A "source" entry is null for a value the text does not state; its rule is
 * null for a value taken over from elsewhere (a dive's time from its line).
 * Offsets are bytes into "text". */
#ifndef DIVEMAP_PIPELINE_H
#define DIVEMAP_PIPELINE_H

#include <stddef.h>

#include "cleanup.h"

struct pipeline;
struct rules;
struct alias_index;

struct pipeline_settings {
	const char *rules_dir;          /* required */
	const char *rules_override_dir; /* NULL: none */
	size_t max_message_size;        /* 0: 25 MiB */
	double match_threshold;         /* 0: the matcher's default */
	double match_margin;            /* 0: the matcher's default */
};

int pipeline_new(const struct pipeline_settings *s, struct pipeline **ret, char **reterr_reason);
struct pipeline *pipeline_free(struct pipeline *p);
DEFINE_CLEANUP_FUNC(struct pipeline, pipeline_free)

/* The sites, aliases and centers to resolve against (worker.h's format). */
int pipeline_set_names(struct pipeline *p, const char *names_json, size_t len,
		       char **reterr_reason);
/* The rule set's version (SHA-256 of its files). */
const char *pipeline_rules_version(const struct pipeline *p);

/* The loaded rules and the site and center indexes (NULL until names are
 * set), for `divemap-ingest match`; owned by the pipeline. */
const struct rules *pipeline_rules(const struct pipeline *p);
struct alias_index *pipeline_site_index(struct pipeline *p);
struct alias_index *pipeline_center_index(struct pipeline *p);

/* 0 with *ret_json; -EBADMSG with *reterr_reason when the message cannot
 * be decoded (over a bound, broken MIME). */
int pipeline_run(struct pipeline *p, const char *raw, size_t len, char **ret_json,
		 char **reterr_reason);

#endif

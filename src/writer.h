/* writer.h: one message's extraction into the database, in one transaction.
 *
 * writer_write() takes the pipeline's JSON result (pipeline.h) for one
 * stored message and, in ONE transaction: replaces the newsletter's earlier
 * parsed_dive_trips/parsed_dives (see "reparse safety" in writer.c), inserts
 * the new ones, adds an ingest_parse_log row (status, counts, warnings, the
 * result with its spans as details), upserts ingest_unresolved and sets
 * ingest_messages.status (releasing its claim). A lost connection, deadlock
 * or lock wait timeout retries the whole transaction (reconnecting through
 * cfg when the connection is gone) up to WRITER_MAX_ATTEMPTS times; a
 * newsletter that still fails is marked failed with the reason. Each
 * outcome is one journal entry with NEWSLETTER_ID, MESSAGE_ID, STATUS, TRIPS.
 *
 * *db may be replaced by a new connection (the old one is freed); cfg NULL
 * means no reconnecting. Both functions return 0 when the outcome (written
 * or failed) is recorded (ret->status says which), or -errno when nothing
 * could be recorded (the database is unusable: the caller backs off). */
#ifndef DIVEMAP_WRITER_H
#define DIVEMAP_WRITER_H

#include <jansson.h>

struct config;
struct db;

#define WRITER_MAX_ATTEMPTS 4

struct writer_input {
	unsigned long long message_id; /* ingest_messages.id */
	long long newsletter_id;       /* newsletters.id; 0: the message's own */
	const json_t *result;          /* the pipeline result, or NULL and: */
	const char *result_text;       /* the same as JSON text */
	size_t result_len;             /* 0: strlen(result_text) */
	const char *rules_version;     /* NULL: the result's "rules_version" */
	unsigned long long duration_us;
};

struct writer_stats {
	const char *status;    /* "ok", "no_trips", "partial" or "failed" (static) */
	char reason[256];      /* why, when failed */
	unsigned trips, dives; /* inserted (the parse log counts kept ones too) */
	unsigned unresolved;
	unsigned trips_deleted; /* earlier trips replaced */
	unsigned trips_kept;    /* earlier trips kept by the safety rule */
	unsigned attempts;
};

int writer_write(struct db **db, const struct config *cfg, const struct writer_input *in,
		 struct writer_stats *ret);

/* A message the worker could not decode or died on: status failed, a
 * parse-log row with the reason; its earlier trips stay as they are. */
int writer_mark_failed(struct db **db, const struct config *cfg, unsigned long long message_id,
		       const char *rules_version, unsigned long long duration_us,
		       const char *reason);

#endif

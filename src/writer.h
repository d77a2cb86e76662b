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
 * newsletter that still fails is marked failed with the reason. A write the
 * server refuses (read-only: errors 1290, 1792, 1836; a privilege missing on
 * a table: 1142, 1143) is never retried nor marked failed, even when only
 * one table refuses: -EROFS, nothing recorded, the message left as it was
 * for the caller to try again later. Each outcome is one journal entry with
 * NEWSLETTER_ID, MESSAGE_ID, STATUS, TRIPS.
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

/* Look-ups a caller that writes several messages in one transaction lets
 * the writer keep for that transaction (difficulty codes, whether the ids
 * of a multi-row INSERT are consecutive, which lets it insert a newsletter's
 * trips and dives a few statements in all); zeroed for each new
 * transaction. */
struct writer_cache_entry {
	char code[32];
	long long id; /* 0: not in difficulty_levels */
};
struct writer_cache {
	struct writer_cache_entry e[16];
	size_t n;
	int autoinc; /* 0: not asked yet; 1: a multi-row INSERT's ids are consecutive */
};

struct writer_input {
	unsigned long long message_id; /* ingest_messages.id */
	long long newsletter_id;       /* newsletters.id; 0: the message's own */
	const json_t *result;          /* the pipeline result, or NULL and: */
	const char *result_text;       /* the same as JSON text (with result too:
					* the text it was decoded from, which
					* the parse log's details are made of) */
	size_t result_len;             /* 0: strlen(result_text) */
	const char *rules_version;     /* NULL: the result's "rules_version" */
	unsigned long long duration_us;
	/* stored in the same transaction (the *_in_transaction functions
	 * only): newsletter_id is set, the row is locked already and the
	 * newsletter is new, so there are no earlier trips to look at */
	bool fresh;
	struct writer_cache *cache; /* NULL: none */
};

struct writer_stats {
	const char *status;    /* "ok", "no_trips", "partial" or "failed" (static) */
	char reason[256];      /* why, when failed */
	unsigned trips, dives; /* inserted (the parse log counts kept ones too) */
	unsigned unresolved;
	unsigned trips_deleted; /* earlier trips replaced */
	unsigned trips_kept;    /* earlier trips kept by the safety rule */
	unsigned attempts;
	long long newsletter_id;
};

int writer_write(struct db **db, const struct config *cfg, const struct writer_input *in,
		 struct writer_stats *ret);

/* A message the worker could not decode or died on: status failed, a
 * parse-log row with the reason; its earlier trips stay as they are. */
int writer_mark_failed(struct db **db, const struct config *cfg, unsigned long long message_id,
		       const char *rules_version, unsigned long long duration_us,
		       const char *reason);

/* The same statements in the caller's open transaction, for a caller that
 * commits several messages at once: no BEGIN, COMMIT, retry or journal
 * entry. < 0 (ret->reason says why) means the transaction must be rolled
 * back as a whole; the caller then records each message again on its own
 * (writer_write(), writer_mark_failed()). The result must be an object.
 * in->result, not result_text, is read. */
int writer_write_in_transaction(struct db *db, const struct writer_input *in,
				struct writer_stats *ret);
int writer_mark_failed_in_transaction(struct db *db, const struct writer_input *in,
				      const char *reason, struct writer_stats *ret);
/* The journal entry writer_write() makes, for an outcome recorded in the
 * caller's transaction: call it once that has been committed. */
void writer_log_outcome(const struct writer_input *in, const struct writer_stats *st);

#endif

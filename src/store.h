/* store.h: a raw message into the database, first and exactly once.
 *
 * store_message() runs one transaction: the raw bytes exactly into
 * ingest_raw_messages, the metadata (SHA-256, and Message-ID, Subject, From
 * from a tolerant scan of the raw headers) into ingest_messages with status
 * 'pending' (or claimed: store_message_claimed()), a newsletters row for
 * Divemap's admin pages, and the IMAP checkpoint of the message when it has
 * one. newsletters.content gets the raw
 * message when it is valid UTF-8 and fits the live column; else a UTF-8
 * rendering cut to fit, ending in a marker line naming the ingest_messages
 * row. Storing never fails because of size or charset.
 *
 * Exactly once: the same bytes (SHA-256) are a duplicate and nothing is
 * stored; the same Message-ID from the same sender with other bytes is a
 * likely duplicate, stored only with [parser] store_likely_duplicates. The
 * checkpoint advances in either case. A message over the size bound
 * (source_msg.full_size) keeps its first bytes, is hashed with its full size
 * and is stored 'failed'. All functions return 0 or -errno (db_error() says
 * more); none logs. */
#ifndef DIVEMAP_STORE_H
#define DIVEMAP_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "cleanup.h"
#include "digest.h"

struct config;
struct db;
struct source_msg;
struct store;

enum store_outcome {
	STORE_STORED,           /* new rows */
	STORE_DUPLICATE,        /* these bytes are stored already: message_id is that row */
	STORE_LIKELY_DUPLICATE, /* not stored: message_id is the row with the same Message-ID */
};

enum store_status {
	STORE_PENDING,
	STORE_PARSING,
	STORE_PARSED,
	STORE_NO_TRIPS,
	STORE_PARTIAL,
	STORE_FAILED,
};

struct store_result {
	enum store_outcome outcome;
	unsigned long long message_id;          /* ingest_messages.id */
	long long newsletter_id;                /* newsletters.id (STORE_STORED) */
	unsigned long long likely_duplicate_of; /* stored anyway: the row it resembles */
	bool over_bound;                        /* only the first bytes kept: stored 'failed' */
	bool content_rendered; /* newsletters.content is a rendering with a marker */
	bool claimed;          /* stored 'parsing', claimed (store_message_claimed()) */
	char sha256[SHA256_HEX_SIZE];
};

/* Reads the live limits (newsletters.content, max_allowed_packet) once. */
int store_new(struct db *db, const struct config *cfg, struct store **ret);
struct store *store_free(struct store *s);
DEFINE_CLEANUP_FUNC(struct store, store_free)

/* The largest message that can be stored whole: [parser] max_message_size,
 * lowered to what the server's max_allowed_packet lets through. Open the
 * sources with it. */
size_t store_max_message_size(const struct store *s);

int store_message(struct store *s, struct db *db, const struct source_msg *m,
		  struct store_result *ret);
/* The same, with a new message stored already claimed for parsing by
 * claimed_by (claim.h: claimed_by and claimed_at set, status 'parsing'; one
 * over the size bound is stored 'failed', unclaimed): no other process's
 * backlog takes it once committed, and a crash after the commit leaves a
 * claim of a process that is gone (claim_release_dead()). ret->claimed
 * says whether it was. claimed_by NULL: store_message(). */
int store_message_claimed(struct store *s, struct db *db, const struct source_msg *m,
			  const char *claimed_by, struct store_result *ret);
/* The same statements in the caller's open transaction: no BEGIN, COMMIT
 * or retry. On an error the caller rolls the whole transaction back. */
int store_message_in_transaction(struct store *s, struct db *db, const struct source_msg *m,
				 struct store_result *ret);

/* Sets ingest_messages.status (and status_reason, NULL to clear it; cut to
 * fit and made valid UTF-8) and releases a claim. */
int store_set_status(struct db *db, unsigned long long message_id, enum store_status st,
		     const char *reason);
/* The status a pipeline result's "status" ("ok", "no_trips", "partial") means. */
enum store_status store_status_from_result(const char *result_status);
/* Fills subject, sender, sender_name, sent_at and sent_tz_min from the
 * decoded values of a pipeline result (pipeline.h); absent values are kept. */
int store_update_from_result(struct db *db, unsigned long long message_id, const json_t *result);

/* The same values for a caller that writes them in its own statement (the
 * writer, with the status): each NULL (have_date false) when absent, which
 * keeps the column as it is. */
struct store_decoded {
	char *subject, *sender, *sender_name;
	char sent_at[20]; /* UTC "YYYY-MM-DD HH:MM:SS" */
	bool have_date;
	int sent_tz_min;
};
int store_decoded_from_result(const json_t *result, struct store_decoded *ret);
void store_decoded_done(struct store_decoded *d);

#endif

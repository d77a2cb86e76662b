/* ingest.h: one stored message through the worker into the database, the
 * path `parse`, `serve` and `reparse` share.
 *
 * ingest_extract() hands the raw bytes to the sandboxed worker and returns
 * its result as a JSON object (the pipeline.h format). ingest_write() then
 * records the outcome of a stored message: the decoded headers and the trips
 * through writer_write(), or, when extraction failed, the failure and its
 * reason through writer_mark_failed(). */
#ifndef DIVEMAP_INGEST_H
#define DIVEMAP_INGEST_H

#include <stddef.h>

#include <jansson.h>

#include "writer.h"

struct config;
struct db;
struct worker;

/* 0 with *ret (a JSON object, the caller's), or: -EFBIG when full_size says
 * the message is over the bound (only its first len bytes are at hand),
 * -EBADMSG / -ECHILD (the worker could not decode it or died on it) with
 * *ret_reason, -ENOMEM. */
int ingest_extract(struct worker *w, const char *raw, size_t len, size_t full_size, json_t **ret,
		   char **ret_reason);
/* The same, with the worker's JSON text too (*ret_text, the caller's). */
int ingest_extract_both(struct worker *w, const char *raw, size_t len, size_t full_size,
			json_t **ret, char **ret_text, char **ret_reason);
/* The worker's JSON text alone, as it is (an object as json_dumps()
 * prints it with JSON_INDENT(2)), for a caller that only prints it. */
int ingest_extract_text(struct worker *w, const char *raw, size_t len, size_t full_size, char **ret,
			char **ret_reason);

/* Records the outcome of stored message message_id: result (from
 * ingest_extract) or, when result is NULL, the failure reason. duration_us
 * is the time the parse took. Returns writer_write()'s or
 * writer_mark_failed()'s: < 0 only when nothing could be recorded. */
int ingest_write(struct db **db, const struct config *cfg, unsigned long long message_id,
		 long long newsletter_id, const json_t *result, const char *reason,
		 unsigned long long duration_us, struct writer_stats *ret);

/* The same for a message stored in the caller's open transaction
 * (store_message_in_transaction()), written in it too: no commit, no retry,
 * no journal entry (writer_log_outcome() once committed). < 0: roll the
 * transaction back and record its messages one by one with ingest_write().
 * result_text: the result as the worker printed it (ingest_extract_both()),
 * or NULL; the parse log's details are made from it. cache: the
 * transaction's (writer.h), or NULL. */
int ingest_write_in_transaction(struct db *db, unsigned long long message_id,
				long long newsletter_id, const json_t *result,
				const char *result_text, const char *reason,
				unsigned long long duration_us, struct writer_cache *cache,
				struct writer_stats *ret);

#endif

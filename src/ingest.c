/* ingest.c: extraction through the worker and the recording of its outcome;
 * see ingest.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "ingest.h"
#include "log.h"
#include "store.h"
#include "strutil.h"
#include "worker.h"

int ingest_extract_text(struct worker *w, const char *raw, size_t len, size_t full_size, char **ret,
			char **ret_reason)
{
	_cleanup_free_ char *text = NULL;
	size_t n;
	int r;

	*ret = NULL;
	*ret_reason = NULL;
	if (full_size)
		return asprintf(ret_reason,
				"over the size bound: %zu bytes, only the first %zu were read",
				full_size, len) < 0
			   ? -ENOMEM
			   : -EFBIG;
	r = worker_process(w, raw, len, &text, ret_reason);
	if (r < 0)
		return r;
	/* what the pipeline prints (json_dumps): an object, nothing around it */
	n = strlen(text);
	if (n < 2 || text[0] != '{' || text[n - 1] != '}')
		return asprintf(ret_reason, "the worker's result is not a JSON object") < 0
			   ? -ENOMEM
			   : -EBADMSG;
	*ret = TAKE_PTR(text);
	return 0;
}

int ingest_extract(struct worker *w, const char *raw, size_t len, size_t full_size, json_t **ret,
		   char **ret_reason)
{
	_cleanup_free_ char *text = NULL;

	return ingest_extract_both(w, raw, len, full_size, ret, &text, ret_reason);
}

int ingest_extract_both(struct worker *w, const char *raw, size_t len, size_t full_size,
			json_t **ret, char **ret_text, char **ret_reason)
{
	_cleanup_free_ char *text = NULL;
	json_error_t jerr;
	int r;

	*ret = NULL;
	*ret_text = NULL;
	r = ingest_extract_text(w, raw, len, full_size, &text, ret_reason);
	if (r < 0)
		return r;
	*ret = json_loads(text, 0, &jerr);
	if (json_is_object(*ret)) {
		*ret_text = TAKE_PTR(text);
		return 0;
	}
	json_decref(*ret);
	*ret = NULL;
	return asprintf(ret_reason, "the worker's result is not a JSON object: %s", jerr.text) < 0
		   ? -ENOMEM
		   : -EBADMSG;
}

int ingest_write(struct db **db, const struct config *cfg, unsigned long long message_id,
		 long long newsletter_id, const json_t *result, const char *reason,
		 unsigned long long duration_us, struct writer_stats *ret)
{
	struct writer_input in = {.message_id = message_id,
				  .newsletter_id = newsletter_id,
				  .result = result,
				  .duration_us = duration_us};
	int r;

	if (!result) {
		*ret = (struct writer_stats){.status = "failed"};
		snprintf(ret->reason, sizeof(ret->reason), "%s",
			 reason ? reason : "cannot be parsed");
		return writer_mark_failed(db, cfg, message_id, NULL, duration_us, ret->reason);
	}
	/* the decoded headers go with the status in the writer's transaction;
	 * when that could not be written, on their own */
	r = writer_write(db, cfg, &in, ret);
	if (r >= 0 && streq(ret->status, "failed") &&
	    store_update_from_result(*db, message_id, result) < 0)
		log_warning("message %llu: cannot record its decoded headers: %s, ignoring",
			    message_id, db_error(*db));
	return r;
}

int ingest_write_in_transaction(struct db *db, unsigned long long message_id,
				long long newsletter_id, const json_t *result,
				const char *result_text, const char *reason,
				unsigned long long duration_us, struct writer_cache *cache,
				struct writer_stats *ret)
{
	struct writer_input in = {.message_id = message_id,
				  .newsletter_id = newsletter_id,
				  .result = result,
				  .result_text = result ? result_text : NULL,
				  .duration_us = duration_us,
				  .fresh = true,
				  .cache = cache};

	if (result)
		return writer_write_in_transaction(db, &in, ret);
	return writer_mark_failed_in_transaction(db, &in, reason ? reason : "cannot be parsed",
						 ret);
}

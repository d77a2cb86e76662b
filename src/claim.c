/* claim.c: claiming stored messages for parsing; see claim.h. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "claim.h"
#include "db.h"
#include "ingest.h"
#include "strutil.h"
#include "writer.h"

void claim_me(char *out, size_t size)
{
	char host[256] = "localhost";

	(void)gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	snprintf(out, size, "%s:%d", host, (int)getpid());
}

/* The claim query: placeholders only, the values go as parameters. */
static int claim_sql(const struct claim_filter *f, struct buf *b)
{
	int r = buf_puts(
	    b, "SELECT m.id, m.newsletter_id, m.size, "
	       "(SELECT LENGTH(raw) FROM ingest_raw_messages r WHERE r.message_id = m.id) "
	       "FROM ingest_messages m WHERE "
	       "(m.claimed_by IS NULL OR m.claimed_by = ? OR "
	       "m.claimed_at < UTC_TIMESTAMP() - INTERVAL ? SECOND) "
	       "AND EXISTS (SELECT 1 FROM ingest_raw_messages r WHERE r.message_id = m.id)");

	if (r >= 0 && f->not_parsed_since)
		r = buf_puts(b, " AND NOT EXISTS (SELECT 1 FROM ingest_parse_log l WHERE "
				"l.message_id = m.id AND l.parsed_at >= ?)");
	if (r >= 0 && f->failed)
		r = buf_puts(b, " AND m.status = 'failed'");
	if (r >= 0 && f->unparsed)
		r = buf_puts(b, " AND m.status IN ('pending', 'parsing')");
	if (r >= 0 && f->since)
		r = buf_puts(b, " AND COALESCE(m.sent_at, m.created_at) >= ?");
	for (size_t i = 0; r >= 0 && i < f->n_newsletters; i++)
		r = buf_puts(b, i == 0 ? " AND m.newsletter_id IN (?" : ", ?");
	if (r >= 0 && f->n_newsletters)
		r = buf_puts(b, ")");
	if (r >= 0)
		r = buf_puts(b, " ORDER BY m.id LIMIT 1 FOR UPDATE SKIP LOCKED");
	return r;
}

static size_t claim_params(const char *me, const struct claim_filter *f, struct db_value *p)
{
	size_t n = 0;

	p[n++] = DB_TEXT(me);
	p[n++] = DB_INT(CLAIM_STALE_S);
	if (f->not_parsed_since)
		p[n++] = DB_TEXT(f->not_parsed_since);
	if (f->since)
		p[n++] = DB_TEXT(f->since);
	for (size_t i = 0; i < f->n_newsletters; i++)
		p[n++] = DB_INT(f->newsletters[i]);
	return n;
}

/* Whether the locked message was parsed since the run began. The claim
 * query's subquery reads a snapshot taken when it started, so a parse
 * committed by another process while the query ran is only seen here, by a
 * locking (current) read. */
static int parsed_meanwhile(struct db *db, const char *since, unsigned long long id)
{
	_cleanup_(db_rows_freep) struct db_rows *rows = NULL;
	int r;

	r = db_query(
	    db,
	    "SELECT COUNT(*) FROM ingest_parse_log WHERE message_id = ? AND parsed_at >= ? "
	    "LOCK IN SHARE MODE",
	    (struct db_value[]){DB_INT((long long)id), DB_TEXT(since)}, 2, &rows);
	if (r < 0)
		return r;
	return !streq(db_cell(rows, 0, 0), "0");
}

static void claimed_from_row(const struct db_rows *rows, struct claimed *ret)
{
	unsigned long long nl = 0;

	*ret = (struct claimed){0};
	(void)parse_uint(db_cell(rows, 0, 0), UINT64_MAX, &ret->id);
	if (db_cell(rows, 0, 1) && parse_uint(db_cell(rows, 0, 1), LLONG_MAX, &nl) >= 0)
		ret->newsletter_id = (long long)nl;
	(void)parse_uint(db_cell(rows, 0, 2), UINT64_MAX, &ret->size);
	(void)parse_uint(db_cell(rows, 0, 3) ? db_cell(rows, 0, 3) : "0", UINT64_MAX, &ret->stored);
}

/* 1 with *ret: a message is ours now; 0: none left; 2: the one found was
 * parsed meanwhile by another process, look again. */
static int claim_once(struct db *db, const char *me, const struct claim_filter *f,
		      struct claimed *ret)
{
	_cleanup_buf_ struct buf sql = BUF_INIT(BUF_MAX_SQL);
	_cleanup_free_ struct db_value *p = calloc(f->n_newsletters + 4, sizeof(*p));
	_cleanup_(db_rows_freep) struct db_rows *rows = NULL;
	int r, found = 0;
	size_t n;

	if (!p || claim_sql(f, &sql) < 0)
		return -ENOMEM;
	n = claim_params(me, f, p);
	r = db_begin(db);
	if (r >= 0)
		r = db_query(db, buf_str(&sql), p, n, &rows);
	if (r >= 0 && rows->n_rows == 1) {
		claimed_from_row(rows, ret);
		r = f->not_parsed_since ? parsed_meanwhile(db, f->not_parsed_since, ret->id) : 0;
		found = r > 0 ? 2 : 1;
	}
	if (r >= 0 && found == 1)
		r = db_exec(
		    db,
		    "UPDATE ingest_messages SET claimed_by = ?, claimed_at = UTC_TIMESTAMP(), "
		    "status = 'parsing' WHERE id = ?",
		    (struct db_value[]){DB_TEXT(me), DB_INT((long long)ret->id)}, 2, NULL, NULL);
	if (r >= 0)
		r = db_commit(db);
	if (r < 0) {
		(void)db_rollback(db);
		return r;
	}
	return found;
}

int claim_next(struct db *db, const char *me, const struct claim_filter *f, struct claimed *ret)
{
	int r;

	for (unsigned a = 1;; a++) {
		do
			r = claim_once(db, me, f, ret);
		while (r == 2);
		if (r != -EDEADLK || a >= WRITER_MAX_ATTEMPTS)
			return r;
		nanosleep(&(struct timespec){0, 50 * 1000000L * (long)a}, NULL);
	}
}

int claim_release(struct db *db, const char *me, unsigned long long id)
{
	unsigned long long n = 0;
	int r;

	r = db_exec(db,
		    "UPDATE ingest_messages SET status = 'pending', claimed_by = NULL, "
		    "claimed_at = NULL WHERE id = ? AND status = 'parsing' AND claimed_by = ?",
		    (struct db_value[]){DB_INT((long long)id), DB_TEXT(me)}, 2, &n, NULL);
	return r < 0 ? r : n == 1;
}

/* Whether claimed_by names a process of this host (prefix "host:") that is gone. */
static bool claimer_gone(const char *claimed_by, const char *prefix, const char *me)
{
	unsigned long long pid;

	if (!claimed_by || streq(claimed_by, me) || !startswith(claimed_by, prefix))
		return false;
	if (parse_uint(claimed_by + strlen(prefix), INT_MAX, &pid) < 0 || pid == 0)
		return false;
	return kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

int claim_release_dead(struct db *db, const char *me, unsigned long long *ret_n)
{
	_cleanup_(db_rows_freep) struct db_rows *rows = NULL;
	_cleanup_free_ char *prefix = strdup(me);
	unsigned long long total = 0, n;
	char *colon;
	int r;

	if (!prefix)
		return -ENOMEM;
	colon = strrchr(prefix, ':');
	if (colon)
		colon[1] = '\0';
	r = db_query(db,
		     "SELECT DISTINCT claimed_by FROM ingest_messages WHERE status = 'parsing' "
		     "AND LEFT(claimed_by, CHAR_LENGTH(?)) = ?",
		     (struct db_value[]){DB_TEXT(prefix), DB_TEXT(prefix)}, 2, &rows);
	for (size_t i = 0; r >= 0 && i < rows->n_rows; i++) {
		if (!claimer_gone(db_cell(rows, i, 0), prefix, me))
			continue;
		n = 0;
		r = db_exec(db,
			    "UPDATE ingest_messages SET status = 'pending', claimed_by = NULL, "
			    "claimed_at = NULL WHERE status = 'parsing' AND claimed_by = ?",
			    (struct db_value[]){DB_TEXT(db_cell(rows, i, 0))}, 1, &n, NULL);
		total += n;
	}
	if (ret_n)
		*ret_n = total;
	return r < 0 ? r : 0;
}

int claim_extract(struct db *db, struct worker *w, const struct claimed *c, json_t **ret,
		  char **ret_why)
{
	_cleanup_(db_rows_freep) struct db_rows *rows = NULL;
	int r;

	*ret = NULL;
	r = db_query(db, "SELECT raw FROM ingest_raw_messages WHERE message_id = ?",
		     (struct db_value[]){DB_INT((long long)c->id)}, 1, &rows);
	if (r < 0)
		return r;
	if (rows->n_rows != 1 || !db_cell(rows, 0, 0))
		return asprintf(ret_why, "the raw message is gone") < 0 ? -ENOMEM : -EBADMSG;
	r = ingest_extract(w, db_cell(rows, 0, 0), rows->lengths[0],
			   c->stored < c->size ? (size_t)c->size : 0, ret, ret_why);
	return r < 0 && r != -ENOMEM ? -EBADMSG : r;
}

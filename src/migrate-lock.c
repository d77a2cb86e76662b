/* migrate-lock.c: one migrating process per database.
 *
 * On a plain server: GET_LOCK on a name derived from the database, held by
 * the session (a dead process's lock goes with its connection). Galera
 * keeps GET_LOCK on one node, so there the lock is a lease on the row of
 * ingest_migrate_lock, taken by a compare-and-set UPDATE that certification
 * lets only one node win, renewed after every statement and expiring
 * MIGRATE_LEASE_S after a holder died. Either way the row names the holder,
 * so that a waiting process can say whom it waits for. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "buf.h"
#include "log.h"
#include "migrate-private.h"
#include "strutil.h"

#define ROW_TAKE                                                                                   \
	"UPDATE ingest_migrate_lock SET holder = ?, connection_id = CONNECTION_ID(), "             \
	"acquired_at = NOW(3), expires_at = NOW(3) + INTERVAL ? SECOND WHERE id = 1 AND "          \
	"(holder IS NULL OR expires_at IS NULL OR expires_at < NOW(3))"
#define ROW_MARK                                                                                   \
	"UPDATE ingest_migrate_lock SET holder = ?, connection_id = CONNECTION_ID(), "             \
	"acquired_at = NOW(3), expires_at = NOW(3) + INTERVAL ? SECOND WHERE id = 1"
#define ROW_RENEW                                                                                  \
	"UPDATE ingest_migrate_lock SET expires_at = NOW(3) + INTERVAL ? SECOND WHERE id = 1 AND " \
	"holder = ? AND connection_id = CONNECTION_ID()"
#define ROW_CLEAR                                                                                  \
	"UPDATE ingest_migrate_lock SET holder = NULL, connection_id = NULL, acquired_at = NULL, " \
	"expires_at = NULL WHERE id = 1 AND holder = ? AND connection_id = CONNECTION_ID()"

static int query_one(struct migrate *m, const char *sql, const struct db_value *v, size_t n,
		     char **ret)
{
	_cleanup_(db_rows_freep) struct db_rows *rows = NULL;
	int r = db_query(m->db, sql, v, n, &rows);

	if (r < 0)
		return r;
	*ret = rows->n_rows && db_cell(rows, 0, 0) ? strdup(db_cell(rows, 0, 0)) : NULL;
	return rows->n_rows && db_cell(rows, 0, 0) && !*ret ? -ENOMEM : 0;
}

static bool is_galera(struct migrate *m)
{
	_cleanup_(db_rows_freep) struct db_rows *rows = NULL;

	if (db_query(m->db, "SHOW VARIABLES LIKE 'wsrep_on'", NULL, 0, &rows) < 0)
		return false;
	return rows->n_rows == 1 && db_cell(rows, 0, 1) && streq(db_cell(rows, 0, 1), "ON");
}

/* "connection 12 (divemap@localhost, host:pid, for 3 s, applying 0002_x statement 2 of 5)" */
static char *describe_holder(struct migrate *m, const char *conn)
{
	_cleanup_(db_rows_freep) struct db_rows *p = NULL, *row = NULL, *mig = NULL;
	_cleanup_buf_ struct buf b = BUF_INIT(BUF_MAX_SMALL);
	int r = 0;

	(void)db_query(m->db,
		       "SELECT holder, connection_id, TIMESTAMPDIFF(SECOND, acquired_at, NOW(3)), "
		       "DATE_FORMAT(expires_at, '%Y-%m-%d %H:%i:%s') FROM ingest_migrate_lock "
		       "WHERE id = 1 AND holder IS NOT NULL",
		       NULL, 0, &row);
	if (!conn && row && row->n_rows)
		conn = db_cell(row, 0, 1);
	if (conn)
		r = buf_printf(&b, "connection %s", conn);
	if (r == 0 && conn &&
	    db_query(m->db, "SELECT USER, HOST FROM information_schema.PROCESSLIST WHERE ID = ?",
		     (struct db_value[]){DB_TEXT(conn)}, 1, &p) == 0 &&
	    p->n_rows)
		r = buf_printf(&b, " (%s@%s)", db_cell(p, 0, 0), db_cell(p, 0, 1));
	if (r == 0 && row && row->n_rows)
		r = buf_printf(&b, "%sprocess %s, for %s s%s%s", b.len ? ", " : "",
			       db_cell(row, 0, 0), db_cell(row, 0, 2) ? db_cell(row, 0, 2) : "?",
			       m->row_lock && db_cell(row, 0, 3) ? ", lease until " : "",
			       m->row_lock && db_cell(row, 0, 3) ? db_cell(row, 0, 3) : "");
	if (r == 0 &&
	    db_query(
		m->db,
		"SELECT LPAD(version, 4, '0'), name, statements_done + 1, statements_total FROM "
		"ingest_migrations WHERE state = 'applying' ORDER BY version LIMIT 1",
		NULL, 0, &mig) == 0 &&
	    mig->n_rows)
		r = buf_printf(&b, ", applying %s_%s statement %s of %s", db_cell(mig, 0, 0),
			       db_cell(mig, 0, 1), db_cell(mig, 0, 2), db_cell(mig, 0, 3));
	if (r == 0 && b.len == 0)
		r = buf_puts(&b, "another process");
	return r == 0 ? buf_take(&b, NULL) : NULL;
}

static int lock_server(struct migrate *m)
{
	_cleanup_free_ char *got = NULL, *holder = NULL, *conn = NULL;
	unsigned timeout = m->settings.lock_timeout_s;
	int r;

	r = query_one(m, "SELECT GET_LOCK(?, 0)", (struct db_value[]){DB_TEXT(m->lock_name)}, 1,
		      &got);
	if (r == 0 && got && streq(got, "1"))
		return 0;
	if (r == 0) {
		(void)query_one(m, "SELECT IS_USED_LOCK(?)",
				(struct db_value[]){DB_TEXT(m->lock_name)}, 1, &conn);
		holder = describe_holder(m, conn);
		log_info("waiting up to %u s for the migration lock, held by %s", timeout,
			 holder ? holder : "another process");
		got = (free(got), NULL);
		r = query_one(m, "SELECT GET_LOCK(?, ?)",
			      (struct db_value[]){DB_TEXT(m->lock_name), DB_INT(timeout)}, 2, &got);
	}
	if (r < 0)
		return log_error_errno(r, "cannot take the migration lock: %s", db_error(m->db));
	if (got && streq(got, "1"))
		return 0;
	return log_error_errno(ETIMEDOUT,
			       "the migration lock is still held after %u s by %s; try again "
			       "later, or raise [database] lock_timeout",
			       timeout, holder ? holder : "another process");
}

static void pause_a_little(void)
{
	unsigned v = 0;

	if (getrandom(&v, sizeof(v), 0) != sizeof(v))
		v = (unsigned)time(NULL);
	nanosleep(&(struct timespec){0, (long)(100 + v % 200) * 1000000L}, NULL);
}

static int lock_row(struct migrate *m)
{
	_cleanup_free_ char *holder = NULL;
	time_t deadline = time(NULL) + m->settings.lock_timeout_s;
	unsigned long long got = 0;
	int r;

	for (;;) {
		r = db_exec(m->db, ROW_TAKE,
			    (struct db_value[]){DB_TEXT(m->who), DB_INT(MIGRATE_LEASE_S)}, 2, &got,
			    NULL);
		if (r == 0 && got == 1)
			return 0;
		if (r < 0 && r != -EDEADLK) /* EDEADLK: another node won certification */
			return log_error_errno(r, "cannot take the migration lock row: %s",
					       db_error(m->db));
		if (!holder) {
			holder = describe_holder(m, NULL);
			log_info(
			    "waiting up to %u s for the migration lock (lease row), held by %s",
			    m->settings.lock_timeout_s, holder ? holder : "another process");
		}
		if (time(NULL) >= deadline)
			return log_error_errno(
			    ETIMEDOUT,
			    "the migration lock is still held after %u s by %s; "
			    "if that process is gone, its lease runs out by itself",
			    m->settings.lock_timeout_s, holder ? holder : "another process");
		pause_a_little();
	}
}

int migrate_lock(struct migrate *m)
{
	int r;

	if (m->locked)
		return 0;
	m->row_lock = m->settings.lock == MIGRATE_LOCK_ROW ||
		      (m->settings.lock == MIGRATE_LOCK_AUTO && is_galera(m));
	if (m->row_lock && m->settings.lock == MIGRATE_LOCK_AUTO)
		log_info("Galera cluster (wsrep_on): GET_LOCK is local to one node, using the "
			 "lease row in ingest_migrate_lock");
	if (!m->lock_name) {
		r = query_one(
		    m, "SELECT CONCAT('divemap-ingest-migrate:', LEFT(SHA2(DATABASE(), 256), 32))",
		    NULL, 0, &m->lock_name);
		if (r < 0 || !m->lock_name)
			return log_error_errno(r < 0 ? r : -EINVAL, "no database selected: %s",
					       db_error(m->db));
	}
	r = m->row_lock ? lock_row(m) : lock_server(m);
	if (r < 0)
		return r;
	m->locked = true;
	if (!m->row_lock) /* name the holder for those who wait */
		(void)db_exec(m->db, ROW_MARK,
			      (struct db_value[]){DB_TEXT(m->who), DB_INT(MIGRATE_LEASE_S)}, 2,
			      NULL, NULL);
	return 0;
}

int migrate_lock_renew(struct migrate *m)
{
	unsigned long long got = 0;
	int r;

	if (!m->locked || !m->row_lock)
		return 0;
	r = db_exec(m->db, ROW_RENEW, (struct db_value[]){DB_INT(MIGRATE_LEASE_S), DB_TEXT(m->who)},
		    2, &got, NULL);
	if (r < 0 || got != 1)
		return log_error_errno(r < 0 ? r : -ENOLCK,
				       "lost the migration lock row (lease ran out?): %s",
				       r < 0 ? db_error(m->db) : "another process holds it now");
	return 0;
}

void migrate_unlock(struct migrate *m)
{
	_cleanup_free_ char *ignored = NULL;

	if (!m->locked)
		return;
	(void)db_exec(m->db, ROW_CLEAR, (struct db_value[]){DB_TEXT(m->who)}, 1, NULL, NULL);
	if (!m->row_lock)
		(void)query_one(m, "SELECT RELEASE_LOCK(?)",
				(struct db_value[]){DB_TEXT(m->lock_name)}, 1, &ignored);
	m->locked = false;
}

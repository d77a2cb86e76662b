/* db.h: the MariaDB/MySQL connection and prepared statements.
 *
 * db_open() connects as the Divemap backend's health check does: up to
 * connect_attempts tries, a random pause between connect_retry_min and _max,
 * connect_timeout per try, one log line per failed try. The session is
 * utf8mb4, strict SQL mode, time zone +00:00. Statements take parameters
 * only as struct db_value arrays (prepared statements; no SQL is ever built
 * from data). A connection keeps its last 48 distinct statements prepared
 * and executes them again (one round trip each); one that fails is prepared
 * anew. Errors return -errno; db_error() has the server's text and never
 * the password. */
#ifndef DIVEMAP_DB_H
#define DIVEMAP_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "cleanup.h"

struct config;
struct db;

enum db_type { DB_T_NULL, DB_T_INT, DB_T_DOUBLE, DB_T_TEXT, DB_T_BLOB };

struct db_value {
	enum db_type type;
	long long i;
	double d;
	const void *p;
	size_t len;
};

#define DB_NULL      ((struct db_value){.type = DB_T_NULL})
#define DB_INT(v)    ((struct db_value){.type = DB_T_INT, .i = (v)})
#define DB_DOUBLE(v) ((struct db_value){.type = DB_T_DOUBLE, .d = (v)})
/* A NULL string is SQL NULL. */
#define DB_TEXT(s)                                                                                 \
	((struct db_value){                                                                        \
	    .type = (s) ? DB_T_TEXT : DB_T_NULL, .p = (s), .len = (s) ? strlen(s) : 0})
#define DB_BLOB(b, n) ((struct db_value){.type = DB_T_BLOB, .p = (b), .len = (n)})

/* A fully fetched result: every cell as bytes (NUL-terminated), NULL for SQL NULL. */
struct db_rows {
	size_t n_rows, n_cols;
	char **cells; /* n_rows * n_cols */
	size_t *lengths;
	char **names; /* column names */
};

int db_open(const struct config *cfg, struct db **ret);
/* One try, no retries and no logging: the caller decides (the daemon). */
int db_open_once(const struct config *cfg, struct db **ret, char **reterr_reason);
struct db *db_free(struct db *db);
DEFINE_CLEANUP_FUNC(struct db, db_free)

const char *db_error(const struct db *db);
unsigned db_errno(const struct db *db);
/* A lost connection, deadlock or lock wait timeout: retry the transaction. */
bool db_error_is_transient(unsigned err);
/* The server refuses the write itself: read-only (1290, 1792, 1836) or a
 * privilege missing on a table or column (1142, 1143). Not the message's
 * fault: it is to be written again later, never marked failed for it. */
bool db_error_is_refusal(unsigned err);
/* The server's description ("10.11.19-MariaDB ... via TCP 127.0.0.1"). */
const char *db_describe(const struct db *db, char *buf, size_t n);

int db_exec(struct db *db, const char *sql, const struct db_value *params, size_t n_params,
	    unsigned long long *ret_affected, unsigned long long *ret_insert_id);
/* A statement without parameters or results, sent as text (DDL from the
 * migration files, session settings). Never for data. */
int db_exec_raw(struct db *db, const char *sql);
int db_query(struct db *db, const char *sql, const struct db_value *params, size_t n_params,
	     struct db_rows **ret);
struct db_rows *db_rows_free(struct db_rows *r);
DEFINE_CLEANUP_FUNC(struct db_rows, db_rows_free)
static inline const char *db_cell(const struct db_rows *r, size_t row, size_t col)
{
	return r->cells[row * r->n_cols + col];
}

int db_begin(struct db *db);
int db_commit(struct db *db);
int db_rollback(struct db *db);

#endif

/* db.c: connection, health check and prepared statements; see db.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <mysql.h>
#include <mysqld_error.h>
#include <errmsg.h>

#include "buf.h"
#include "config.h"
#include "db.h"
#include "dburl.h"
#include "log.h"
#include "strutil.h"

#define DB_SESSION_INIT                                                                            \
	"SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,"                  \
	"ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION', time_zone = '+00:00'"
#define DB_MAX_PASSWORD 4096
#define DB_FETCH_CHUNK  256
#define DB_STMT_CACHE   48 /* prepared statements kept per connection */

/* A statement prepared once and executed again: the same SQL text costs one
 * round trip instead of three (prepare, execute, close). */
struct db_stmt {
	char *sql;
	MYSQL_STMT *st;
	unsigned long long used; /* the least recently used goes first */
};

struct db {
	MYSQL *mysql;
	struct db_params params;
	char error[512];
	unsigned last_errno;
	struct db_stmt cache[DB_STMT_CACHE];
	unsigned long long uses;
};

static int db_set_error(struct db *db, unsigned err, const char *msg)
{
	db->last_errno = err;
	snprintf(db->error, sizeof(db->error), "%s", msg);
	if (err == CR_SERVER_GONE_ERROR || err == CR_SERVER_LOST || err == CR_CONNECTION_ERROR ||
	    err == CR_CONN_HOST_ERROR)
		return -ECONNRESET;
	if (err == ER_LOCK_DEADLOCK || err == ER_LOCK_WAIT_TIMEOUT)
		return -EDEADLK;
	if (err == ER_DUP_ENTRY)
		return -EEXIST;
	if (err == ER_OPTION_PREVENTS_STATEMENT)
		return -EROFS;
	return -EIO;
}

static int db_mysql_error(struct db *db)
{
	return db_set_error(db, mysql_errno(db->mysql), mysql_error(db->mysql));
}

static int db_stmt_error(struct db *db, MYSQL_STMT *st)
{
	return db_set_error(db, mysql_stmt_errno(st), mysql_stmt_error(st));
}

bool db_error_is_transient(unsigned err)
{
	return err == CR_SERVER_GONE_ERROR || err == CR_SERVER_LOST || err == CR_CONNECTION_ERROR ||
	       err == CR_CONN_HOST_ERROR || err == ER_LOCK_DEADLOCK || err == ER_LOCK_WAIT_TIMEOUT;
}

bool db_error_is_refusal(unsigned err)
{
	return err == ER_OPTION_PREVENTS_STATEMENT ||
	       err == ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION || err == ER_READ_ONLY_MODE ||
	       err == ER_TABLEACCESS_DENIED_ERROR || err == ER_COLUMNACCESS_DENIED_ERROR;
}

const char *db_error(const struct db *db)
{
	return db->error;
}

unsigned db_errno(const struct db *db)
{
	return db->last_errno;
}

const char *db_describe(const struct db *db, char *out, size_t n)
{
	snprintf(out, n, "%s via %s", mysql_get_server_info(db->mysql),
		 mysql_get_host_info(db->mysql));
	return out;
}

/* The first line of a password file, without its line end. */
static int read_password_file(const char *path, char **ret, char **reterr_reason)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (!f)
		return asprintf(reterr_reason, "cannot open password file '%s': %m", path) < 0
			   ? -ENOMEM
			   : -errno;
	n = getline(&line, &cap, f);
	if (n < 0 || n > DB_MAX_PASSWORD) {
		free(line);
		return asprintf(reterr_reason, "password file '%s' is empty or too long", path) < 0
			   ? -ENOMEM
			   : -EINVAL;
	}
	line[strcspn(line, "\r\n")] = '\0';
	*ret = line;
	return 0;
}

/* URL password, else [database] password_file, else the systemd credential. */
static int db_resolve_password(const struct config *cfg, struct db_params *p, char **reterr_reason)
{
	const char *creds = getenv("CREDENTIALS_DIRECTORY");
	_cleanup_free_ char *cred_path = NULL;

	if (p->password)
		return 0;
	if (cfg->database.password_file)
		return read_password_file(cfg->database.password_file, &p->password, reterr_reason);
	if (!creds)
		return 0;
	if (asprintf(&cred_path, "%s/db-password", creds) < 0)
		return -ENOMEM;
	if (access(cred_path, F_OK) < 0)
		return 0;
	return read_password_file(cred_path, &p->password, reterr_reason);
}

static void stmt_cache_clear(struct db *db)
{
	for (size_t i = 0; i < DB_STMT_CACHE; i++) {
		if (db->cache[i].st)
			mysql_stmt_close(db->cache[i].st);
		free(db->cache[i].sql);
		db->cache[i] = (struct db_stmt){0};
	}
}

static int db_connect(struct db *db, const struct config *cfg)
{
	const struct db_params *p = &db->params;
	unsigned timeout = cfg->database.connect_timeout_s;
	unsigned protocol = p->socket ? MYSQL_PROTOCOL_SOCKET : MYSQL_PROTOCOL_TCP;

	stmt_cache_clear(db);
	if (db->mysql)
		mysql_close(db->mysql);
	db->mysql = mysql_init(NULL);
	if (!db->mysql)
		return -ENOMEM;
	mysql_options(db->mysql, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	mysql_options(db->mysql, MYSQL_OPT_PROTOCOL, &protocol);
	mysql_options(db->mysql, MYSQL_SET_CHARSET_NAME, p->charset ? p->charset : "utf8mb4");
	mysql_options(db->mysql, MYSQL_INIT_COMMAND, DB_SESSION_INIT);
	if (!mysql_real_connect(db->mysql,
				p->socket ? NULL
				: p->host ? p->host
					  : "localhost",
				p->user, p->password, p->database, p->port ? p->port : 3306,
				p->socket, CLIENT_FOUND_ROWS))
		return db_mysql_error(db);
	return 0;
}

static bool db_error_is_permanent(unsigned err)
{
	return err == ER_ACCESS_DENIED_ERROR || err == ER_DBACCESS_DENIED_ERROR ||
	       err == ER_BAD_DB_ERROR || err == 1698 /* ER_ACCESS_DENIED_NO_PASSWORD_ERROR */ ||
	       err == CR_AUTH_PLUGIN_CANNOT_LOAD;
}

static int db_new(const struct config *cfg, struct db **ret, char **reterr_reason)
{
	_cleanup_(db_freep) struct db *db = calloc(1, sizeof(*db));
	int r;

	if (!db)
		return -ENOMEM;
	r = dburl_parse(cfg->database.url, &db->params, reterr_reason);
	if (r == -EINVAL) {
		_cleanup_free_ char *why = TAKE_PTR(*reterr_reason);
		return asprintf(reterr_reason, "bad database URL: %s", why ? why : "") < 0 ? -ENOMEM
											   : r;
	}
	if (r < 0)
		return r;
	r = db_resolve_password(cfg, &db->params, reterr_reason);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(db);
	return 0;
}

int db_open_once(const struct config *cfg, struct db **ret, char **reterr_reason)
{
	_cleanup_(db_freep) struct db *db = NULL;
	int r;

	*reterr_reason = NULL;
	r = db_new(cfg, &db, reterr_reason);
	if (r < 0)
		return r;
	r = db_connect(db, cfg);
	if (r < 0)
		return asprintf(reterr_reason, "%s", db->error) < 0 ? -ENOMEM
		       : db_error_is_permanent(db->last_errno)      ? -EACCES
								    : r;
	*ret = TAKE_PTR(db);
	return 0;
}

static unsigned random_between(unsigned lo, unsigned hi)
{
	unsigned v = 0;

	if (hi <= lo)
		return lo;
	if (getrandom(&v, sizeof(v), 0) != sizeof(v))
		v = (unsigned)time(NULL);
	return lo + v % (hi - lo + 1);
}

int db_open(const struct config *cfg, struct db **ret)
{
	_cleanup_(db_freep) struct db *db = NULL;
	_cleanup_free_ char *why = NULL, *where = NULL;
	unsigned attempts = cfg->database.connect_attempts;
	int r;

	r = db_new(cfg, &db, &why);
	if (r < 0)
		return log_error_errno(r, "%s",
				       why ? why : "cannot set up the database connection");
	where = dburl_redacted(&db->params);
	for (unsigned i = 1;; i++) {
		r = db_connect(db, cfg);
		if (r == 0)
			break;
		if (db_error_is_permanent(db->last_errno))
			return log_error_errno(-EACCES, "database %s refused us: %s",
					       where ? where : "", db->error);
		if (i >= attempts)
			return log_error_errno(-ETIMEDOUT,
					       "database %s not reachable after %u attempts: %s",
					       where ? where : "", attempts, db->error);
		unsigned ms = random_between(cfg->database.connect_retry_min_ms,
					     cfg->database.connect_retry_max_ms);
		log_warning("database not ready (attempt %u/%u): %s; retrying in %.1f s", i,
			    attempts, db->error, ms / 1000.0);
		nanosleep(&(struct timespec){ms / 1000, (long)(ms % 1000) * 1000000L}, NULL);
	}
	*ret = TAKE_PTR(db);
	return 0;
}

struct db *db_free(struct db *db)
{
	if (!db)
		return NULL;
	stmt_cache_clear(db); /* before the connection they belong to */
	if (db->mysql)
		mysql_close(db->mysql);
	db_params_done(&db->params);
	free(db);
	return NULL;
}

static void bind_params(MYSQL_BIND *b, const struct db_value *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		b[i] = (MYSQL_BIND){0};
		switch (v[i].type) {
		case DB_T_NULL:
			b[i].buffer_type = MYSQL_TYPE_NULL;
			break;
		case DB_T_INT:
			b[i].buffer_type = MYSQL_TYPE_LONGLONG;
			b[i].buffer = (void *)&v[i].i;
			break;
		case DB_T_DOUBLE:
			b[i].buffer_type = MYSQL_TYPE_DOUBLE;
			b[i].buffer = (void *)&v[i].d;
			break;
		case DB_T_TEXT:
		case DB_T_BLOB:
			b[i].buffer_type =
			    v[i].type == DB_T_TEXT ? MYSQL_TYPE_STRING : MYSQL_TYPE_BLOB;
			b[i].buffer = (void *)v[i].p;
			b[i].buffer_length = v[i].len;
			break;
		}
	}
}

/* The cached statement for sql, or a new one put in the cache (in place of
 * the least recently used); *ret_slot its slot. */
static int stmt_get(struct db *db, const char *sql, MYSQL_STMT **ret, struct db_stmt **ret_slot)
{
	struct db_stmt *slot = &db->cache[0];
	MYSQL_STMT *st;
	char *copy;

	for (size_t i = 0; i < DB_STMT_CACHE; i++) {
		struct db_stmt *c = &db->cache[i];

		if (c->st && streq(c->sql, sql)) {
			c->used = ++db->uses;
			*ret = c->st;
			*ret_slot = c;
			return 0;
		}
		if (c->used < slot->used)
			slot = c;
	}
	st = mysql_stmt_init(db->mysql);
	if (!st)
		return -ENOMEM;
	if (mysql_stmt_prepare(st, sql, strlen(sql)) != 0) {
		int r = db_stmt_error(db, st);
		mysql_stmt_close(st);
		return r;
	}
	copy = strdup(sql);
	if (!copy) {
		mysql_stmt_close(st);
		return -ENOMEM;
	}
	if (slot->st)
		mysql_stmt_close(slot->st);
	free(slot->sql);
	*slot = (struct db_stmt){.sql = copy, .st = st, .used = ++db->uses};
	*ret = st;
	*ret_slot = slot;
	return 0;
}

/* A statement that failed is prepared anew next time (the error may have
 * left it unusable: a lost connection, a changed table). */
static void stmt_drop(struct db_stmt *slot)
{
	mysql_stmt_close(slot->st);
	free(slot->sql);
	*slot = (struct db_stmt){0};
}

/* The cached statement st is dropped: after an error while its rows were
 * read it may be out of step with the server. */
static void stmt_forget(struct db *db, MYSQL_STMT **st)
{
	for (size_t i = 0; i < DB_STMT_CACHE; i++)
		if (db->cache[i].st == *st) {
			stmt_drop(&db->cache[i]);
			*st = NULL;
			return;
		}
}

/* Done with an executed statement: its result set, if any, let go. */
static void stmt_release(MYSQL_STMT *st)
{
	if (mysql_stmt_field_count(st) > 0)
		mysql_stmt_free_result(st);
}

static void stmt_releasep(MYSQL_STMT **st)
{
	if (*st)
		stmt_release(*st);
}

static int db_prepare(struct db *db, const char *sql, const struct db_value *params, size_t n,
		      MYSQL_STMT **ret)
{
	_cleanup_free_ MYSQL_BIND *b = NULL;
	struct db_stmt *slot = NULL;
	MYSQL_STMT *st = NULL;
	int r;

	r = stmt_get(db, sql, &st, &slot);
	if (r < 0)
		return r;
	if (mysql_stmt_param_count(st) != n) {
		r = db_set_error(db, 0, "internal: parameter count does not match the statement");
		stmt_drop(slot);
		return r == -EIO ? -EINVAL : r;
	}
	if (n) {
		b = calloc(n, sizeof(*b));
		if (!b)
			return -ENOMEM;
		bind_params(b, params, n);
		if (mysql_stmt_bind_param(st, b) != 0)
			goto fail;
	}
	if (mysql_stmt_execute(st) != 0)
		goto fail;
	*ret = st;
	return 0;
fail:
	r = db_stmt_error(db, st);
	stmt_drop(slot);
	return r;
}

int db_exec(struct db *db, const char *sql, const struct db_value *params, size_t n_params,
	    unsigned long long *ret_affected, unsigned long long *ret_insert_id)
{
	_cleanup_(stmt_releasep) MYSQL_STMT *st = NULL;
	int r;

	r = db_prepare(db, sql, params, n_params, &st);
	if (r < 0)
		return r;
	if (ret_affected)
		*ret_affected = mysql_stmt_affected_rows(st);
	if (ret_insert_id)
		*ret_insert_id = mysql_stmt_insert_id(st);
	return 0;
}

struct db_rows *db_rows_free(struct db_rows *r)
{
	if (!r)
		return NULL;
	for (size_t i = 0; i < r->n_rows * r->n_cols; i++)
		free(r->cells[i]);
	for (size_t i = 0; i < r->n_cols; i++)
		free(r->names[i]);
	free(r->cells);
	free(r->lengths);
	free(r->names);
	free(r);
	return NULL;
}

/* Appends one fetched row to rows; long cells are fetched in full. */
static int rows_add(struct db *db, MYSQL_STMT *st, struct db_rows *rows, MYSQL_BIND *b,
		    unsigned long *lens, my_bool *nulls)
{
	size_t base = rows->n_rows * rows->n_cols, n = rows->n_cols;
	char **cells = reallocarray(rows->cells, base + n, sizeof(char *));
	size_t *lengths;

	if (!cells)
		return -ENOMEM;
	rows->cells = cells;
	lengths = reallocarray(rows->lengths, base + n, sizeof(size_t));
	if (!lengths)
		return -ENOMEM;
	rows->lengths = lengths;
	for (size_t c = 0; c < n; c++)
		cells[base + c] = NULL;
	rows->n_rows++;
	for (size_t c = 0; c < n; c++) {
		lengths[base + c] = nulls[c] ? 0 : lens[c];
		if (nulls[c])
			continue;
		char *cell = malloc((size_t)lens[c] + 1);
		if (!cell)
			return -ENOMEM;
		if (lens[c] <= DB_FETCH_CHUNK)
			memcpy(cell, b[c].buffer, lens[c]);
		else {
			MYSQL_BIND one = {.buffer_type = MYSQL_TYPE_STRING,
					  .buffer = cell,
					  .buffer_length = lens[c]};
			if (mysql_stmt_fetch_column(st, &one, (unsigned)c, 0) != 0) {
				free(cell);
				return db_stmt_error(db, st);
			}
		}
		cell[lens[c]] = '\0';
		cells[base + c] = cell;
	}
	return 0;
}

static int rows_fetch(struct db *db, MYSQL_STMT *st, struct db_rows *rows)
{
	size_t n = rows->n_cols;
	_cleanup_free_ MYSQL_BIND *b = calloc(n, sizeof(*b));
	_cleanup_free_ char *space = calloc(n, DB_FETCH_CHUNK);
	_cleanup_free_ unsigned long *lens = calloc(n, sizeof(*lens));
	_cleanup_free_ my_bool *nulls = calloc(n, sizeof(*nulls));
	int r;

	if (!b || !space || !lens || !nulls)
		return -ENOMEM;
	for (size_t c = 0; c < n; c++)
		b[c] = (MYSQL_BIND){.buffer_type = MYSQL_TYPE_STRING,
				    .buffer = space + c * DB_FETCH_CHUNK,
				    .buffer_length = DB_FETCH_CHUNK,
				    .length = &lens[c],
				    .is_null = &nulls[c]};
	if (mysql_stmt_bind_result(st, b) != 0 || mysql_stmt_store_result(st) != 0)
		return db_stmt_error(db, st);
	for (;;) {
		int f = mysql_stmt_fetch(st);
		if (f == MYSQL_NO_DATA)
			return 0;
		if (f == 1)
			return db_stmt_error(db, st);
		r = rows_add(db, st, rows, b, lens, nulls);
		if (r < 0)
			return r;
	}
}

int db_query(struct db *db, const char *sql, const struct db_value *params, size_t n_params,
	     struct db_rows **ret)
{
	_cleanup_(stmt_releasep) MYSQL_STMT *st = NULL;
	_cleanup_(db_rows_freep) struct db_rows *rows = calloc(1, sizeof(*rows));
	MYSQL_RES *meta;
	int r;

	if (!rows)
		return -ENOMEM;
	r = db_prepare(db, sql, params, n_params, &st);
	if (r < 0)
		return r;
	meta = mysql_stmt_result_metadata(st);
	if (!meta) {
		db_set_error(db, 0, "internal: the statement returns no rows");
		return -EINVAL;
	}
	rows->n_cols = mysql_num_fields(meta);
	rows->names = calloc(rows->n_cols ? rows->n_cols : 1, sizeof(char *));
	for (size_t c = 0; rows->names && c < rows->n_cols; c++)
		rows->names[c] = strdup(mysql_fetch_field_direct(meta, (unsigned)c)->name);
	mysql_free_result(meta);
	r = rows->names ? rows_fetch(db, st, rows) : -ENOMEM;
	if (r < 0) {
		stmt_forget(db, &st);
		return r;
	}
	*ret = TAKE_PTR(rows);
	return 0;
}

int db_exec_raw(struct db *db, const char *sql)
{
	if (mysql_real_query(db->mysql, sql, strlen(sql)) != 0)
		return db_mysql_error(db);
	return 0;
}

int db_begin(struct db *db)
{
	return db_exec_raw(db, "START TRANSACTION");
}

int db_commit(struct db *db)
{
	return db_exec_raw(db, "COMMIT");
}

int db_rollback(struct db *db)
{
	return db_exec_raw(db, "ROLLBACK");
}

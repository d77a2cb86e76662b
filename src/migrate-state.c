/* migrate-state.c: ingest_migrations, Alembic detection, schema checks. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "log.h"
#include "migrate-private.h"
#include "strutil.h"

static const char *const bootstrap_sql[] = {
    "CREATE TABLE IF NOT EXISTS ingest_migrations (\n"
    "\tversion INT NOT NULL,\n"
    "\tname VARCHAR(255) NOT NULL,\n"
    "\tchecksum CHAR(64) NOT NULL,\n"
    "\tstate ENUM('applying', 'applied', 'failed') NOT NULL,\n"
    "\tstatements_done INT NOT NULL,\n"
    "\tstatements_total INT NOT NULL,\n"
    "\terror TEXT NULL,\n"
    "\tapplied_by VARCHAR(255) NULL,\n"
    "\tapplied_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),\n"
    "\tduration_ms INT NULL,\n"
    "\tPRIMARY KEY (version)\n"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
    /* the lock row: the holder on any server, the lock itself on Galera */
    "CREATE TABLE IF NOT EXISTS ingest_migrate_lock (\n"
    "\tid TINYINT UNSIGNED NOT NULL,\n"
    "\tholder VARCHAR(255) NULL,\n"
    "\tconnection_id BIGINT UNSIGNED NULL,\n"
    "\tacquired_at DATETIME(3) NULL,\n"
    "\texpires_at DATETIME(3) NULL,\n"
    "\tPRIMARY KEY (id)\n"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
    "INSERT IGNORE INTO ingest_migrate_lock (id) VALUES (1)",
};

static void record_clear(struct migration *mg)
{
	free(mg->error);
	free(mg->applied_by);
	free(mg->applied_at);
	mg->error = mg->applied_by = mg->applied_at = NULL;
	mg->recorded = false;
	mg->state = MIGRATE_PENDING;
	mg->db_checksum[0] = '\0';
	mg->statements_done = mg->statements_total = 0;
	mg->duration_ms = -1;
}

/* Forgets what the database said; entries that only it knew go away. */
static void records_reset(struct migrate *m)
{
	size_t k = 0;

	for (size_t i = 0; i < m->n; i++) {
		record_clear(&m->list[i]);
		if (m->list[i].up_path)
			m->list[k++] = m->list[i];
		else
			free(m->list[i].name);
	}
	m->n = k;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static int record_from_row(struct migrate *m, const struct db_rows *rows, size_t i)
{
	static const char *const states[] = {"pending", "applying", "applied", "failed"};
	unsigned long long v = 0, done = 0, total = 0, ms = 0;
	struct migration *mg;

	if (parse_uint(db_cell(rows, i, 0), 999999999, &v) < 0)
		return log_error_errno(EBADMSG, "ingest_migrations: bad version '%s'",
				       db_cell(rows, i, 0));
	mg = migrate_find(m, (unsigned)v);
	if (!mg) {
		mg = migrate_add(m, (unsigned)v);
		if (!mg || !(mg->name = strdup(db_cell(rows, i, 1))))
			return -ENOMEM;
	}
	mg->recorded = true;
	snprintf(mg->db_checksum, sizeof(mg->db_checksum), "%s", db_cell(rows, i, 2));
	for (size_t s = 0; s < ELEMENTSOF(states); s++)
		if (streq(db_cell(rows, i, 3), states[s]))
			mg->state = (enum migrate_state)s;
	(void)parse_uint(db_cell(rows, i, 4), 1u << 30, &done);
	(void)parse_uint(db_cell(rows, i, 5), 1u << 30, &total);
	mg->statements_done = (unsigned)done;
	mg->statements_total = (unsigned)total;
	mg->error = dup_or_null(db_cell(rows, i, 6));
	mg->applied_by = dup_or_null(db_cell(rows, i, 7));
	mg->applied_at = dup_or_null(db_cell(rows, i, 8));
	if (mg->applied_at && strlen(mg->applied_at) > 23)
		mg->applied_at[23] = '\0'; /* milliseconds */
	if (db_cell(rows, i, 9) && parse_uint(db_cell(rows, i, 9), 1u << 31, &ms) == 0)
		mg->duration_ms = (long long)ms;
	return 0;
}

static int load_alembic(struct migrate *m)
{
	_cleanup_(db_rows_freep) struct db_rows *rows = NULL;
	_cleanup_buf_ struct buf b = BUF_INIT(BUF_MAX_SMALL);
	int r;

	r = db_query(m->db, "SELECT version_num FROM alembic_version ORDER BY version_num", NULL, 0,
		     &rows);
	if (r < 0)
		return log_error_errno(r, "cannot read alembic_version: %s", db_error(m->db));
	for (size_t i = 0; r == 0 && i < rows->n_rows; i++)
		r = buf_printf(&b, "%s%s", i ? "," : "", db_cell(rows, i, 0));
	if (r == 0 && rows->n_rows == 0)
		r = buf_puts(&b, "none");
	if (r < 0)
		return r;
	free(m->alembic);
	m->alembic = buf_take(&b, NULL);
	return m->alembic ? 0 : -ENOMEM;
}

int migrate_state_load(struct migrate *m)
{
	_cleanup_(db_rows_freep) struct db_rows *tables = NULL, *rows = NULL;
	int r;

	records_reset(m);
	m->have_table = false;
	m->alembic = (free(m->alembic), NULL);
	r = db_query(m->db,
		     "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = "
		     "DATABASE() AND TABLE_NAME IN ('ingest_migrations', 'alembic_version')",
		     NULL, 0, &tables);
	if (r < 0)
		return log_error_errno(r, "cannot list the tables: %s", db_error(m->db));
	for (size_t i = 0; i < tables->n_rows; i++) {
		if (streq(db_cell(tables, i, 0), "ingest_migrations"))
			m->have_table = true;
		else if ((r = load_alembic(m)) < 0)
			return r;
	}
	if (!m->have_table)
		return 0;
	r = db_query(m->db,
		     "SELECT version, name, checksum, state, statements_done, statements_total, "
		     "error, applied_by, DATE_FORMAT(applied_at, '%Y-%m-%d %H:%i:%s.%f'), "
		     "duration_ms FROM ingest_migrations ORDER BY version",
		     NULL, 0, &rows);
	if (r < 0)
		return log_error_errno(r, "cannot read ingest_migrations: %s", db_error(m->db));
	for (size_t i = 0; i < rows->n_rows; i++) {
		r = record_from_row(m, rows, i);
		if (r < 0)
			return r;
	}
	return 0;
}

static int sql_literal(struct buf *b, const struct db_value *v)
{
	const char *p = v->p;
	int r;

	switch (v->type) {
	case DB_T_NULL:
		return buf_puts(b, "NULL");
	case DB_T_INT:
		return buf_printf(b, "%lld", v->i);
	case DB_T_DOUBLE:
		return buf_printf(b, "%.17g", v->d);
	default:
		break;
	}
	r = buf_putc(b, '\'');
	for (size_t i = 0; r == 0 && i < v->len; i++) {
		switch (p[i]) {
		case '\'':
		case '\\':
			r = buf_putc(b, '\\') ?: buf_putc(b, p[i]);
			break;
		case '\0':
			r = buf_puts(b, "\\0");
			break;
		case '\n':
			r = buf_puts(b, "\\n");
			break;
		default:
			r = buf_putc(b, p[i]);
		}
	}
	return r ?: buf_putc(b, '\'');
}

int migrate_record(struct migrate *m, const char *tmpl, const struct db_value *vals, size_t n)
{
	_cleanup_buf_ struct buf b = BUF_INIT(BUF_MAX_SQL);
	size_t k = 0;
	int r = 0;

	if (!m->settings.sql_out) {
		r = db_exec(m->db, tmpl, vals, n, NULL, NULL);
		return r < 0 ? log_error_errno(r, "cannot record the migration state: %s",
					       db_error(m->db))
			     : 0;
	}
	for (const char *p = tmpl; r == 0 && *p; p++)
		r = *p == '?' && k < n ? sql_literal(&b, &vals[k++]) : buf_putc(&b, *p);
	if (r < 0)
		return r;
	fprintf(m->settings.sql_out, "%s;\n", buf_str(&b));
	return 0;
}

int migrate_bootstrap(struct migrate *m)
{
	int r;

	if (m->settings.sql_out) {
		if (!m->have_table)
			fprintf(m->settings.sql_out, "%s;\n\n", bootstrap_sql[0]);
		return 0;
	}
	for (size_t i = 0; i < ELEMENTSOF(bootstrap_sql); i++) {
		r = db_exec_raw(m->db, bootstrap_sql[i]);
		if (r < 0)
			return log_error_errno(r, "cannot create the migrator's tables: %s",
					       db_error(m->db));
	}
	m->have_table = true;
	return 0;
}

static bool is_identifier(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return false;
	return n > 0 && n <= 64;
}

static int table_columns(struct migrate *m, const char *table, struct db_rows **ret)
{
	int r = db_query(m->db,
			 "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = "
			 "DATABASE() AND TABLE_NAME = ?",
			 (struct db_value[]){DB_TEXT(table)}, 1, ret);
	return r < 0
		   ? log_error_errno(r, "cannot read the columns of %s: %s", table, db_error(m->db))
		   : 0;
}

static bool has_column(const struct db_rows *cols, const char *name, size_t len)
{
	for (size_t i = 0; i < cols->n_rows; i++)
		if (strlen(db_cell(cols, i, 0)) == len &&
		    strncasecmp(db_cell(cols, i, 0), name, len) == 0)
			return true;
	return false;
}

/* One "table(col, col)" line: appends what lacks to *missing. */
static int check_one(struct migrate *m, const char *req, struct buf *missing)
{
	_cleanup_(db_rows_freep) struct db_rows *cols = NULL;
	_cleanup_free_ char *table = strndup(req, strcspn(req, "( "));
	const char *p = strchr(req, '(') + 1;
	bool first = true;
	int r;

	if (!table)
		return -ENOMEM;
	r = table_columns(m, table, &cols);
	if (r < 0)
		return r;
	if (cols->n_rows == 0)
		return buf_printf(missing, "%stable %s", missing->len ? "; " : "", table);
	while (r == 0 && *p && *p != ')') {
		p += strspn(p, " \t,");
		size_t l = strcspn(p, " \t,)");
		if (l > 0 && !has_column(cols, p, l)) {
			r = first ? buf_printf(missing, "%s%s lacks %.*s", missing->len ? "; " : "",
					       table, (int)l, p)
				  : buf_printf(missing, ", %.*s", (int)l, p);
			first = false;
		}
		p += l;
	}
	return r;
}

int migrate_check_require(struct migrate *m, const struct migrate_script *s, char **reterr_missing)
{
	_cleanup_buf_ struct buf missing = BUF_INIT(BUF_MAX_SMALL);
	int r = 0;

	*reterr_missing = NULL;
	for (size_t i = 0; r == 0 && i < s->n_require; i++)
		r = check_one(m, s->require[i], &missing);
	if (r < 0)
		return r;
	if (missing.len == 0)
		return 0;
	*reterr_missing = buf_take(&missing, NULL);
	return *reterr_missing ? -ENOENT : -ENOMEM;
}

int migrate_check_empty(struct migrate *m, const struct migrate_script *s, char **ret_table)
{
	*ret_table = NULL;
	for (size_t i = 0; i < s->n_require_empty; i++) {
		_cleanup_(db_rows_freep) struct db_rows *cols = NULL, *rows = NULL;
		_cleanup_free_ char *q = NULL;
		const char *t = s->require_empty[i];
		int r;

		if (!is_identifier(t, strlen(t)))
			return log_error_errno(
			    EINVAL, "%s: require-empty: '%s' is not a table name", s->path, t);
		r = table_columns(m, t, &cols);
		if (r < 0)
			return r;
		if (cols->n_rows == 0)
			continue;
		if (asprintf(&q, "SELECT 1 FROM `%s` LIMIT 1", t) < 0)
			return -ENOMEM;
		r = db_query(m->db, q, NULL, 0, &rows);
		if (r < 0)
			return log_error_errno(r, "cannot read %s: %s", t, db_error(m->db));
		if (rows->n_rows > 0) {
			*ret_table = strdup(t);
			return *ret_table ? 0 : -ENOMEM;
		}
	}
	return 0;
}

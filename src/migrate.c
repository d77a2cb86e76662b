/* migrate.c: plans and runs upgrades, downgrades, stamps and repairs. */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "config.h"
#include "log.h"
#include "migrate-private.h"
#include "strutil.h"

static void script_donep(struct migrate_script *s)
{
	migrate_script_done(s);
}
#define _cleanup_script_ _cleanup_(script_donep)

const char *migrate_default_dir(const struct config *cfg)
{
	return cfg && cfg->database.migrations_dir ? cfg->database.migrations_dir
						   : PKGDATADIR "/migrations";
}

void migrate_settings_from_config(struct migrate_settings *s, const struct config *cfg)
{
	*s = (struct migrate_settings){.dir = migrate_default_dir(cfg),
				       .lock_timeout_s = cfg->database.lock_timeout_s,
				       .lock = MIGRATE_LOCK_AUTO};
}

int migrate_open(struct db *db, const struct migrate_settings *s, struct migrate **ret)
{
	_cleanup_(migrate_freep) struct migrate *m = calloc(1, sizeof(*m));
	char host[256] = "";
	int r;

	if (!m)
		return -ENOMEM;
	m->db = db;
	m->settings = *s;
	m->dir = strdup(s->dir ? s->dir : migrate_default_dir(NULL));
	if (!m->dir)
		return -ENOMEM;
	m->settings.dir = m->dir;
	if (gethostname(host, sizeof(host) - 1) < 0)
		snprintf(host, sizeof(host), "localhost");
	snprintf(m->who, sizeof(m->who), "%s:%d", host, (int)getpid());
	r = migrate_files_load(m);
	if (r < 0)
		return r;
	if (db) {
		r = migrate_state_load(m);
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(m);
	return 0;
}

struct migrate *migrate_free(struct migrate *m)
{
	if (!m)
		return NULL;
	migrate_unlock(m);
	for (size_t i = 0; i < m->n; i++) {
		struct migration *mg = &m->list[i];
		free(mg->name);
		free(mg->up_path);
		free(mg->down_path);
		free(mg->error);
		free(mg->applied_by);
		free(mg->applied_at);
	}
	free(m->list);
	free(m->dir);
	free(m->alembic);
	free(m->lock_name);
	free(m);
	return NULL;
}

const struct migration *migrate_list(const struct migrate *m, size_t *ret_n)
{
	*ret_n = m->n;
	return m->list;
}

unsigned migrate_head(const struct migrate *m)
{
	for (size_t i = m->n; i > 0; i--)
		if (m->list[i - 1].up_path)
			return m->list[i - 1].version;
	return 0;
}

unsigned migrate_current(const struct migrate *m)
{
	for (size_t i = m->n; i > 0; i--)
		if (m->list[i - 1].state == MIGRATE_APPLIED)
			return m->list[i - 1].version;
	return 0;
}

const char *migrate_alembic_revision(const struct migrate *m)
{
	return m->alembic;
}

static long long now_ms(void)
{
	return (long long)(clock_now_us() / 1000u);
}

bool migrate_is_downgrade_failure(const struct migration *mg)
{
	return mg->error && startswith(mg->error, DOWNGRADE_PREFIX);
}

static unsigned previous_version(const struct migrate *m, unsigned v)
{
	unsigned prev = 0;

	for (size_t i = 0; i < m->n && m->list[i].version < v; i++)
		prev = m->list[i].version;
	return prev;
}

/* The refusal every run repeats until the admin acts. */
int migrate_refuse_failed(struct migrate *m, const struct migration *mg)
{
	unsigned prev = previous_version(m, mg->version);
	_cleanup_free_ char *done = NULL;

	if (migrate_is_downgrade_failure(mg))
		return log_error_errno(
		    EBADMSG,
		    "the %s of %04u_%s stopped half-way: %s. Finish or undo it by "
		    "hand, then run `divemap-ingest migrate stamp %04u` (it is "
		    "gone) or `divemap-ingest migrate stamp %04u` (it is back)",
		    DOWNGRADE_PREFIX, mg->version, mg->name,
		    strlen(mg->error) > strlen(DOWNGRADE_PREFIX ": ")
			? mg->error + strlen(DOWNGRADE_PREFIX ": ")
			: mg->error,
		    prev, mg->version);
	if (asprintf(&done,
		     mg->statements_done == 0   ? "None of its statements is"
		     : mg->statements_done == 1 ? "Statement 1 is"
						: "Statements 1-%u are",
		     mg->statements_done) < 0)
		return -ENOMEM;
	return log_error_errno(
	    EBADMSG,
	    "migration %04u_%s failed: %s. %s in the database. Fix the cause (the file or the "
	    "database), then run `divemap-ingest migrate repair` to resume at statement %u; or, "
	    "if you completed it by hand, `divemap-ingest migrate stamp %04u`; or, if you undid "
	    "what it did by hand, `divemap-ingest migrate stamp %04u`",
	    mg->version, mg->name, mg->error, done, mg->statements_done + 1, mg->version, prev);
}

/* A row still 'applying' while we hold the lock: its process died. */
static int mark_interrupted(struct migrate *m, struct migration *mg)
{
	bool down = mg->error && startswith(mg->error, DOWNGRADE_PREFIX);
	_cleanup_free_ char *why = NULL;

	if (asprintf(&why,
		     "%sinterrupted after statement %u of %u (process %s stopped or lost "
		     "its connection)",
		     down ? DOWNGRADE_PREFIX ": " : "", mg->statements_done, mg->statements_total,
		     mg->applied_by ? mg->applied_by : "?") < 0)
		return -ENOMEM;
	if (!m->settings.sql_out) {
		int r = migrate_record(m,
				       "UPDATE ingest_migrations SET state = 'failed', error = ? "
				       "WHERE version = ?",
				       (struct db_value[]){DB_TEXT(why), DB_INT(mg->version)}, 2);
		if (r < 0)
			return r;
	}
	free(mg->error);
	mg->error = TAKE_PTR(why);
	mg->state = MIGRATE_FAILED;
	return 0;
}

/* Refuses a database in a state no run may build on. locked: we hold the
 * lock, so an 'applying' row is a dead process's. */
int migrate_check_state(struct migrate *m, bool locked, bool checksums)
{
	unsigned current = migrate_current(m);
	int r;

	for (size_t i = 0; i < m->n; i++) {
		struct migration *mg = &m->list[i];
		if (mg->state == MIGRATE_APPLYING && !locked)
			return log_error_errno(
			    EBUSY,
			    "%04u_%s is being applied by %s right now (or "
			    "that process died; `divemap-ingest migrate upgrade` "
			    "takes the lock and tells)",
			    mg->version, mg->name, mg->applied_by ? mg->applied_by : "?");
		if (mg->state == MIGRATE_APPLYING && (r = mark_interrupted(m, mg)) < 0)
			return r;
		if (mg->state == MIGRATE_FAILED && mg->error)
			return migrate_refuse_failed(m, mg);
		if (mg->recorded && !mg->up_path)
			return log_error_errno(
			    EPROTO,
			    "the database has %04u_%s, which %s does not have: "
			    "this divemap-ingest is older than the database (its "
			    "head is %04u); install the newer one, or restore "
			    "the file",
			    mg->version, mg->name, m->dir, migrate_head(m));
		if (checksums && mg->state == MIGRATE_APPLIED &&
		    !streq(mg->checksum, mg->db_checksum))
			return log_error_errno(
			    EBADMSG,
			    "%s was edited after it was applied (recorded SHA-256 %.12s..., the "
			    "file now has %.12s...). Restore the file as it was applied, or, after "
			    "reviewing that the database matches the edited file, run "
			    "`divemap-ingest migrate repair` to record the new checksum",
			    mg->up_path, mg->db_checksum, mg->checksum);
		if (!mg->recorded && mg->version < current)
			return log_error_errno(
			    EPROTO,
			    "%04u_%s is not applied but the later %04u is: run it "
			    "by hand and `divemap-ingest migrate stamp %04u`, or "
			    "downgrade to %04u and upgrade again",
			    mg->version, mg->name, current, current,
			    previous_version(m, mg->version));
	}
	return 0;
}

/* "0002", "2", "0002_ingest_tables", "head", "base" */
int migrate_parse_version(struct migrate *m, const char *s, unsigned *ret)
{
	size_t digits = strspn(s, "0123456789");
	_cleanup_free_ char *num = strndup(s, digits);
	unsigned long long v;
	struct migration *mg;

	if (!num)
		return -ENOMEM;
	if (streq(s, "head") || streq(s, "base")) {
		*ret = streq(s, "head") ? migrate_head(m) : 0;
		return 0;
	}
	if (digits == 0 || parse_uint(num, 999999999, &v) < 0 || (s[digits] && s[digits] != '_'))
		return log_error_errno(EINVAL,
				       "'%s' is not a version (0002, 0002_name, head, base)", s);
	mg = migrate_find(m, (unsigned)v);
	if (v != 0 && (!mg || (s[digits] == '_' && !streq(s + digits + 1, mg->name))))
		return log_error_errno(ENOENT, "there is no migration '%s' in %s", s, m->dir);
	*ret = (unsigned)v;
	return 0;
}

/* Bootstrap and lock before a change; --sql changes nothing. */
int migrate_prepare_change(struct migrate *m)
{
	int r;

	if (!m->db)
		return log_error_errno(EINVAL, "internal: no database");
	r = migrate_bootstrap(m);
	if (r < 0 || m->settings.sql_out)
		return r;
	r = migrate_lock(m);
	if (r < 0)
		return r;
	return migrate_state_load(m); /* what the previous holder did */
}

static char *excerpt(const char *sql)
{
	_cleanup_buf_ struct buf b = BUF_INIT(BUF_MAX_SMALL);
	bool blank = false;
	int r = 0;

	for (const char *p = sql; r == 0 && *p && b.len < 80; p++) {
		bool sp = *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r';
		if (!sp || !blank)
			r = buf_putc(&b, sp ? ' ' : *p);
		blank = sp;
	}
	if (r == 0 && strlen(sql) > b.len)
		r = buf_puts(&b, "...");
	return r == 0 ? buf_take(&b, NULL) : NULL;
}

static int run_statement(struct migrate *m, struct migration *mg, const struct migrate_script *s,
			 size_t k, bool down)
{
	const struct sql_stmt *st = &s->stmts[k];
	_cleanup_free_ char *why = NULL, *what = NULL, *path = strdup(s->path);
	int r;

	if (!path)
		return -ENOMEM;
	if (m->settings.sql_out)
		fprintf(m->settings.sql_out, "%s;\n", st->sql);
	else {
		r = migrate_lock_renew(m);
		if (r < 0)
			return r;
		r = db_exec_raw(m->db, st->sql);
		if (r < 0) {
			what = excerpt(st->sql);
			if (asprintf(&why, "%sstatement %zu of %zu (%s line %u: %s) failed: %s",
				     down ? DOWNGRADE_PREFIX ": " : "", k + 1, s->n, basename(path),
				     st->line, what ? what : "", db_error(m->db)) < 0)
				return -ENOMEM;
			(void)migrate_record(
			    m,
			    "UPDATE ingest_migrations SET state = 'failed', "
			    "statements_done = ?, error = ? WHERE version = ?",
			    (struct db_value[]){DB_INT(k), DB_TEXT(why), DB_INT(mg->version)}, 3);
			free(mg->error);
			mg->error = TAKE_PTR(why);
			mg->state = MIGRATE_FAILED;
			mg->statements_done = (unsigned)k;
			mg->statements_total = (unsigned)s->n;
			migrate_refuse_failed(m, mg);
			return r;
		}
	}
	return migrate_record(m,
			      "UPDATE ingest_migrations SET statements_done = ? WHERE version = ?",
			      (struct db_value[]){DB_INT(k + 1), DB_INT(mg->version)}, 2);
}

/* Divemap's Alembic owns these tables: check them, run nothing. */
static int skip_divemap_owned(struct migrate *m, struct migration *mg,
			      const struct migrate_script *s)
{
	_cleanup_free_ char *missing = NULL, *note = NULL;
	int r;

	r = migrate_check_require(m, s, &missing);
	if (r == -ENOENT)
		return log_error_errno(
		    EPROTO,
		    "this database is managed by Divemap's Alembic (revision %s), "
		    "which lacks what divemap-ingest needs: %s. Upgrade Divemap "
		    "first (alembic upgrade head), then run `divemap-ingest "
		    "migrate upgrade head` again; Divemap's tables were not touched",
		    m->alembic, missing);
	if (r < 0)
		return r;
	if (asprintf(&note,
		     "skipped: Divemap's Alembic manages these tables (revision %s); "
		     "checked %zu of them",
		     m->alembic, s->n_require) < 0)
		return -ENOMEM;
	if (m->settings.sql_out)
		fprintf(m->settings.sql_out, "-- not run: %s\n", note);
	else
		log_info("%04u_%s: %s", mg->version, mg->name, note);
	return migrate_record(
	    m,
	    "REPLACE INTO ingest_migrations (version, name, checksum, state, statements_done, "
	    "statements_total, error, applied_by, duration_ms) VALUES (?, ?, ?, 'applied', 0, ?, "
	    "?, ?, 0)",
	    (struct db_value[]){DB_INT(mg->version), DB_TEXT(mg->name), DB_TEXT(s->checksum),
				DB_INT(s->n), DB_TEXT(note), DB_TEXT(m->who)},
	    6);
}

static int begin_up(struct migrate *m, struct migration *mg, const struct migrate_script *s,
		    size_t *ret_start)
{
	*ret_start = 0;
	if (mg->recorded && mg->state == MIGRATE_FAILED) {
		if (mg->statements_done > s->n)
			return log_error_errno(EINVAL,
					       "%s now has %zu statements, but %u were applied: "
					       "resume is impossible; use `divemap-ingest migrate "
					       "stamp`",
					       s->path, s->n, mg->statements_done);
		*ret_start = mg->statements_done;
		log_info("%04u_%s: resuming at statement %zu of %zu", mg->version, mg->name,
			 *ret_start + 1, s->n);
		return migrate_record(
		    m,
		    "UPDATE ingest_migrations SET state = 'applying', checksum = ?, "
		    "statements_total = ?, error = NULL, applied_by = ? WHERE "
		    "version = ?",
		    (struct db_value[]){DB_TEXT(s->checksum), DB_INT(s->n), DB_TEXT(m->who),
					DB_INT(mg->version)},
		    4);
	}
	return migrate_record(m,
			      "REPLACE INTO ingest_migrations (version, name, checksum, state, "
			      "statements_done, statements_total, applied_by) VALUES (?, ?, ?, "
			      "'applying', 0, ?, ?)",
			      (struct db_value[]){DB_INT(mg->version), DB_TEXT(mg->name),
						  DB_TEXT(s->checksum), DB_INT(s->n),
						  DB_TEXT(m->who)},
			      5);
}

/* After the last statement: a table that existed before may still lack columns. */
static int check_after(struct migrate *m, struct migration *mg, const struct migrate_script *s)
{
	_cleanup_free_ char *missing = NULL, *why = NULL;
	int r;

	if (m->settings.sql_out || s->n_require == 0)
		return 0;
	r = migrate_check_require(m, s, &missing);
	if (r != -ENOENT)
		return r;
	if (asprintf(&why,
		     "after its last statement the database still falls short: %s (tables that "
		     "existed before are left as they were)",
		     missing) < 0)
		return -ENOMEM;
	(void)migrate_record(
	    m, "UPDATE ingest_migrations SET state = 'failed', error = ? WHERE version = ?",
	    (struct db_value[]){DB_TEXT(why), DB_INT(mg->version)}, 2);
	free(mg->error);
	mg->error = TAKE_PTR(why);
	mg->statements_done = mg->statements_total = (unsigned)s->n;
	return migrate_refuse_failed(m, mg);
}

static int apply_one(struct migrate *m, struct migration *mg)
{
	_cleanup_script_ struct migrate_script s = {0};
	long long t0 = now_ms();
	size_t start;
	int r;

	r = migrate_script_load(mg->up_path, &s);
	if (r < 0)
		return r;
	if (m->settings.sql_out)
		fprintf(m->settings.sql_out, "\n-- %04u_%s.up.sql: %zu statements\n", mg->version,
			mg->name, s.n);
	if (s.divemap_owned && m->alembic)
		return skip_divemap_owned(m, mg, &s);
	r = begin_up(m, mg, &s, &start);
	for (size_t k = start; r == 0 && k < s.n; k++)
		r = run_statement(m, mg, &s, k, false);
	r = r ?: check_after(m, mg, &s);
	if (r < 0)
		return r;
	r = migrate_record(
	    m,
	    "UPDATE ingest_migrations SET state = 'applied', error = NULL, "
	    "applied_at = NOW(3), duration_ms = ? WHERE version = ?",
	    (struct db_value[]){m->settings.sql_out ? DB_NULL : DB_INT(now_ms() - t0),
				DB_INT(mg->version)},
	    2);
	if (r == 0 && !m->settings.sql_out)
		log_info("applied %04u_%s (%zu statements, %lld ms)", mg->version, mg->name, s.n,
			 now_ms() - t0);
	return r;
}

static int upgrade_target(struct migrate *m, const char *target, unsigned *ret)
{
	unsigned long long n;
	unsigned current = migrate_current(m);

	if (target[0] == '+') {
		if (parse_uint(target + 1, 1u << 20, &n) < 0 || n == 0)
			return log_error_errno(EINVAL, "'%s': expected +N with N >= 1", target);
		for (size_t i = 0; i < m->n; i++)
			if (m->list[i].state != MIGRATE_APPLIED && --n == 0) {
				*ret = m->list[i].version;
				return 0;
			}
		return log_error_errno(EINVAL, "'%s': fewer migrations than that are pending",
				       target);
	}
	if (migrate_parse_version(m, target, ret) < 0)
		return -EINVAL;
	if (*ret < current)
		return log_error_errno(EINVAL, "the database is at %04u, past %s: use downgrade",
				       current, target);
	return 0;
}

static void sql_header(struct migrate *m, const char *verb, unsigned to)
{
	char from_s[16] = "base", to_s[16] = "base";

	if (!m->settings.sql_out)
		return;
	if (migrate_current(m))
		snprintf(from_s, sizeof(from_s), "%04u", migrate_current(m));
	if (to)
		snprintf(to_s, sizeof(to_s), "%04u", to);
	fprintf(m->settings.sql_out,
		"-- divemap-ingest migrate %s --sql: %s -> %s (%s)\n"
		"-- The statements the %s runs, in order, with its bookkeeping.\n",
		verb, from_s, to_s, m->dir, verb);
}

int migrate_upgrade(struct migrate *m, const char *target)
{
	unsigned to, count = 0;
	int r;

	if (m->settings.sql_out)
		sql_header(m, "upgrade", migrate_head(m));
	r = migrate_prepare_change(m);
	r = r ?: migrate_check_state(m, !m->settings.sql_out, true);
	r = r ?: upgrade_target(m, target, &to);
	for (size_t i = 0; r == 0 && i < m->n && m->list[i].version <= to; i++)
		if (m->list[i].state != MIGRATE_APPLIED) {
			r = apply_one(m, &m->list[i]);
			count++;
		}
	if (r == 0 && count == 0 && !m->settings.sql_out)
		log_info("already at %04u: nothing to upgrade", migrate_current(m));
	migrate_unlock(m);
	return r;
}

static int revert_one(struct migrate *m, struct migration *mg)
{
	_cleanup_script_ struct migrate_script s = {0};
	_cleanup_free_ char *full = NULL;
	int r;

	r = migrate_script_load(mg->down_path, &s);
	if (r < 0)
		return r;
	if (m->settings.sql_out)
		fprintf(m->settings.sql_out, "\n-- %04u_%s.down.sql: %zu statements\n", mg->version,
			mg->name, s.n);
	if (s.divemap_owned && m->alembic) {
		if (m->settings.sql_out)
			fprintf(m->settings.sql_out, "-- not run: Divemap's Alembic manages these "
						     "tables\n");
		else
			log_info("%04u_%s: not run, Divemap's Alembic manages these tables",
				 mg->version, mg->name);
	} else {
		r = migrate_check_empty(m, &s, &full);
		if (r == 0 && full)
			return log_error_errno(ENOTEMPTY,
					       "%s would drop %s, which holds rows: a downgrade "
					       "never drops Divemap's data. Empty or drop those "
					       "tables by hand first, or stop at %04u",
					       s.path, full, mg->version);
		r = r
			?: migrate_record(m,
					  "UPDATE ingest_migrations SET state = 'applying', "
					  "statements_done = 0, statements_total = ?, error = "
					  "'" DOWNGRADE_PREFIX
					  "', applied_by = ? WHERE version = ?",
					  (struct db_value[]){DB_INT(s.n), DB_TEXT(m->who),
							      DB_INT(mg->version)},
					  3);
		for (size_t k = 0; r == 0 && k < s.n; k++)
			r = run_statement(m, mg, &s, k, true);
		if (r < 0)
			return r;
	}
	r = migrate_record(m, "DELETE FROM ingest_migrations WHERE version = ?",
			   (struct db_value[]){DB_INT(mg->version)}, 1);
	if (r == 0 && !m->settings.sql_out)
		log_info("reverted %04u_%s", mg->version, mg->name);
	return r;
}

static int downgrade_target(struct migrate *m, const char *target, unsigned *ret)
{
	unsigned long long n;

	if (target[0] == '-') {
		if (parse_uint(target + 1, 1u << 20, &n) < 0 || n == 0)
			return log_error_errno(EINVAL, "'%s': expected -N with N >= 1", target);
		for (size_t i = m->n; i > 0; i--)
			if (m->list[i - 1].recorded && n-- == 0) {
				*ret = m->list[i - 1].version;
				return 0;
			}
		if (n == 0) {
			*ret = 0;
			return 0;
		}
		return log_error_errno(EINVAL, "'%s': fewer migrations than that are applied",
				       target);
	}
	if (migrate_parse_version(m, target, ret) < 0)
		return -EINVAL;
	if (*ret > migrate_current(m))
		return log_error_errno(EINVAL, "the database is at %04u, before %s: use upgrade",
				       migrate_current(m), target);
	return 0;
}

int migrate_downgrade(struct migrate *m, const char *target)
{
	unsigned to = 0, count = 0;
	int r;

	r = migrate_prepare_change(m);
	r = r ?: migrate_check_state(m, !m->settings.sql_out, false);
	r = r ?: downgrade_target(m, target, &to);
	if (r == 0)
		sql_header(m, "downgrade", to);
	for (size_t i = m->n; r == 0 && i > 0; i--) {
		struct migration *mg = &m->list[i - 1];
		if (mg->version <= to || !mg->recorded)
			continue;
		if (mg->state != MIGRATE_APPLIED)
			r = log_error_errno(EBADMSG,
					    "%04u_%s is half applied: finish it with `migrate "
					    "upgrade` first",
					    mg->version, mg->name);
		else if (!mg->down_path)
			r = log_error_errno(ENOENT, "%04u_%s has no down file in %s", mg->version,
					    mg->name, m->dir);
		else
			r = revert_one(m, mg);
		count++;
	}
	if (r == 0 && count == 0 && !m->settings.sql_out)
		log_info("already at %04u: nothing to downgrade", migrate_current(m));
	migrate_unlock(m);
	return r;
}

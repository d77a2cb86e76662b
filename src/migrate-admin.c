/* migrate-admin.c: stamp, repair, and the start-up check. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "log.h"
#include "migrate-private.h"
#include "strutil.h"

static int stamp_applied(struct migrate *m, struct migration *mg)
{
	struct migrate_script s = {0};
	_cleanup_free_ char *note = NULL;
	int r;

	r = migrate_script_load(mg->up_path, &s);
	if (r < 0)
		return r;
	if (asprintf(&note, "stamped by %s: recorded as applied without running it%s%s", m->who,
		     mg->error ? "; it had failed: " : "", mg->error ? mg->error : "") < 0)
		r = -ENOMEM;
	r = r
		?: migrate_record(
		       m,
		       "REPLACE INTO ingest_migrations (version, name, checksum, state, "
		       "statements_done, statements_total, error, applied_by) VALUES (?, ?, "
		       "?, 'applied', ?, ?, ?, ?)",
		       (struct db_value[]){DB_INT(mg->version), DB_TEXT(mg->name),
					   DB_TEXT(s.checksum), DB_INT(s.n), DB_INT(s.n),
					   DB_TEXT(note), DB_TEXT(m->who)},
		       7);
	migrate_script_done(&s);
	return r;
}

int migrate_stamp(struct migrate *m, const char *target)
{
	unsigned to = 0;
	int r;

	if (m->settings.sql_out)
		return log_error_errno(EINVAL, "--sql is for upgrade and downgrade");
	r = migrate_prepare_change(m);
	r = r ?: migrate_parse_version(m, target, &to);
	for (size_t i = 0; r == 0 && i < m->n; i++) {
		struct migration *mg = &m->list[i];
		if (mg->version <= to && mg->up_path && mg->state != MIGRATE_APPLIED)
			r = stamp_applied(m, mg);
		else if (mg->version > to && mg->recorded)
			r = migrate_record(m, "DELETE FROM ingest_migrations WHERE version = ?",
					   (struct db_value[]){DB_INT(mg->version)}, 1);
	}
	if (r == 0)
		log_info("stamped: the database is recorded at %04u; nothing was run", to);
	migrate_unlock(m);
	return r;
}

static int repair_one(struct migrate *m, struct migration *mg, unsigned *count)
{
	int r;

	if (mg->state == MIGRATE_APPLYING || mg->state == MIGRATE_FAILED) {
		if (migrate_is_downgrade_failure(mg))
			return migrate_refuse_failed(m, mg);
		if (!mg->up_path)
			return log_error_errno(ENOENT, "%04u_%s failed and has no file in %s",
					       mg->version, mg->name, m->dir);
		r = migrate_record(
		    m,
		    "UPDATE ingest_migrations SET state = 'failed', error = NULL WHERE "
		    "version = ?",
		    (struct db_value[]){DB_INT(mg->version)}, 1);
		if (r == 0)
			log_info(
			    "%04u_%s: the next upgrade resumes at statement %u (statements 1-%u "
			    "stay as they are)",
			    mg->version, mg->name, mg->statements_done + 1, mg->statements_done);
		(*count)++;
		return r;
	}
	if (mg->state == MIGRATE_APPLIED && mg->up_path && !streq(mg->checksum, mg->db_checksum)) {
		r = migrate_record(m, "UPDATE ingest_migrations SET checksum = ? WHERE version = ?",
				   (struct db_value[]){DB_TEXT(mg->checksum), DB_INT(mg->version)},
				   2);
		if (r == 0)
			log_info("%s: recorded the checksum of the edited file (was %.12s..., now "
				 "%.12s...)",
				 mg->up_path, mg->db_checksum, mg->checksum);
		(*count)++;
		return r;
	}
	return 0;
}

int migrate_repair(struct migrate *m)
{
	unsigned count = 0;
	int r;

	if (m->settings.sql_out)
		return log_error_errno(EINVAL, "--sql is for upgrade and downgrade");
	r = migrate_prepare_change(m);
	for (size_t i = 0; r == 0 && i < m->n; i++)
		r = repair_one(m, &m->list[i], &count);
	if (r == 0 && count == 0)
		log_info("nothing to repair: every applied migration matches its file");
	migrate_unlock(m);
	return r;
}

/* Divemap could have been changed since: the require lines still hold. */
static int check_requirements(struct migrate *m)
{
	for (size_t i = 0; i < m->n; i++) {
		struct migration *mg = &m->list[i];
		_cleanup_free_ char *missing = NULL;
		struct migrate_script s = {0};
		int r;

		if (mg->state != MIGRATE_APPLIED || !mg->up_path)
			continue;
		r = migrate_script_load(mg->up_path, &s);
		if (r == 0)
			r = migrate_check_require(m, &s, &missing);
		migrate_script_done(&s);
		if (r == -ENOENT)
			return log_error_errno(EPROTO,
					       "the database lacks what divemap-ingest needs: "
					       "%s (required by %04u_%s)",
					       missing, mg->version, mg->name);
		if (r < 0)
			return r;
	}
	return 0;
}

static int pending_names(const struct migrate *m, char **ret)
{
	_cleanup_buf_ struct buf b = BUF_INIT(BUF_MAX_SMALL);
	int r = 0;

	for (size_t i = 0; r == 0 && i < m->n; i++)
		if (m->list[i].state != MIGRATE_APPLIED)
			r = buf_printf(&b, "%s%04u_%s", b.len ? ", " : "", m->list[i].version,
				       m->list[i].name);
	*ret = r == 0 && b.len ? buf_take(&b, NULL) : NULL;
	return r;
}

int migrate_ensure(struct db *db, const struct config *cfg)
{
	_cleanup_(migrate_freep) struct migrate *m = NULL;
	_cleanup_free_ char *pending = NULL;
	struct migrate_settings s;
	int r;

	migrate_settings_from_config(&s, cfg);
	r = migrate_open(db, &s, &m);
	if (r < 0)
		return r;
	r = pending_names(m, &pending);
	if (r < 0)
		return r;
	if (pending && !cfg->database.auto_migrate) {
		r = migrate_check_state(m, false, true); /* a failure says more than "pending" */
		if (r < 0)
			return r;
		return log_error_errno(EPROTO,
				       "the database schema is not up to date: pending %s. Run "
				       "`divemap-ingest migrate upgrade head` (or set [database] "
				       "auto_migrate = yes)",
				       pending);
	}
	if (pending) {
		log_info("applying pending migrations: %s", pending);
		r = migrate_upgrade(m, "head");
	} else
		r = migrate_check_state(m, false, true);
	return r < 0 ? r : check_requirements(m);
}

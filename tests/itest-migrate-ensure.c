/* migrate_ensure() and the migrate.h API against the private MariaDB that
 * tests/run-test starts: what `serve` does at start-up. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config.h"
#include "db.h"
#include "migrate.h"

struct fixture {
	char *url, *dir;
	struct config cfg;
	struct db *db;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *url = getenv("DATABASE_URL"), *top = getenv("top_srcdir");

	if (!url) {
		fprintf(stderr, "DATABASE_URL is not set: run this test through tests/run-test\n");
		return -1;
	}
	f->url = strdup(url);
	if (asprintf(&f->dir, "%s/migrations", top ? top : ".") < 0)
		return -1;
	f->cfg = (struct config){.database = {.url = f->url,
					      .connect_attempts = 3,
					      .connect_retry_min_ms = 10,
					      .connect_retry_max_ms = 20,
					      .connect_timeout_s = 5,
					      .migrations_dir = f->dir,
					      .lock_timeout_s = 10}};
	if (db_open(&f->cfg, &f->db) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	db_free(f->db);
	free(f->url);
	free(f->dir);
	free(f);
	return 0;
}

static bool has_table(struct db *db, const char *name)
{
	struct db_rows *rows = NULL;
	bool found;

	assert_int_equal(db_query(db,
				  "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = "
				  "DATABASE() AND TABLE_NAME = ?",
				  (struct db_value[]){DB_TEXT(name)}, 1, &rows),
			 0);
	found = rows->n_rows == 1;
	db_rows_free(rows);
	return found;
}

static void test_ensure_refuses_pending_without_auto_migrate(void **state)
{
	struct fixture *f = *state;

	f->cfg.database.auto_migrate = false;
	assert_int_equal(migrate_ensure(f->db, &f->cfg), -EPROTO);
	assert_false(has_table(f->db, "ingest_messages"));
	assert_false(has_table(f->db, "newsletters"));
}

static void test_ensure_applies_then_is_quiet(void **state)
{
	struct fixture *f = *state;
	struct migrate_settings s;
	struct migrate *m = NULL;
	const struct migration *l;
	size_t n;

	f->cfg.database.auto_migrate = true;
	assert_int_equal(migrate_ensure(f->db, &f->cfg), 0);
	assert_true(has_table(f->db, "ingest_messages"));
	assert_true(has_table(f->db, "parsed_dives"));
	f->cfg.database.auto_migrate = false; /* nothing pending: no refusal */
	assert_int_equal(migrate_ensure(f->db, &f->cfg), 0);

	migrate_settings_from_config(&s, &f->cfg);
	assert_string_equal(s.dir, f->dir);
	assert_int_equal(migrate_open(f->db, &s, &m), 0);
	assert_int_equal(migrate_head(m), 2);
	assert_int_equal(migrate_current(m), 2);
	assert_null(migrate_alembic_revision(m));
	l = migrate_list(m, &n);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(l[i].state, MIGRATE_APPLIED);
		assert_string_equal(l[i].checksum, l[i].db_checksum);
		assert_int_equal(l[i].statements_done, l[i].statements_total);
	}
	assert_string_equal(l[1].name, "ingest_tables");
	migrate_free(m);
}

static void test_ensure_refuses_an_edited_migration_until_repair(void **state)
{
	struct fixture *f = *state;
	struct migrate_settings s;
	struct migrate *m = NULL;

	assert_int_equal(db_exec(f->db,
				 "UPDATE ingest_migrations SET checksum = REPEAT('0', 64) WHERE "
				 "version = 2",
				 NULL, 0, NULL, NULL),
			 0);
	f->cfg.database.auto_migrate = true;
	assert_int_equal(migrate_ensure(f->db, &f->cfg), -EBADMSG);
	migrate_settings_from_config(&s, &f->cfg);
	assert_int_equal(migrate_open(f->db, &s, &m), 0);
	assert_int_equal(migrate_repair(m), 0);
	migrate_free(m);
	assert_int_equal(migrate_ensure(f->db, &f->cfg), 0);
}

static void test_ensure_checks_divemap_columns_at_every_start(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(db_exec_raw(f->db, "ALTER TABLE newsletters DROP COLUMN received_at"), 0);
	assert_int_equal(migrate_ensure(f->db, &f->cfg), -EPROTO);
	assert_int_equal(db_exec_raw(f->db, "ALTER TABLE newsletters ADD COLUMN received_at "
					    "TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP"),
			 0);
	assert_int_equal(migrate_ensure(f->db, &f->cfg), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ensure_refuses_pending_without_auto_migrate),
	    cmocka_unit_test(test_ensure_applies_then_is_quiet),
	    cmocka_unit_test(test_ensure_refuses_an_edited_migration_until_repair),
	    cmocka_unit_test(test_ensure_checks_divemap_columns_at_every_start),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

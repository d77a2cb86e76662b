/* Integration tests of the writer (src/writer.c) against the private
 * MariaDB of tests/run-test: exact rows, idempotent rewrites, the reparse
 * safety rule, a transaction retried after its connection was killed, and
 * failures recorded. Each group runs on our baseline schema (the
 * migrations) and again on Divemap's own schema (tests/fixtures/). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>

#include "buf.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "strutil.h"
#include "writer.h"

struct fixture {
	char url[512], root_url[512];
	struct config cfg, root_cfg;
	struct db *db, *root;
	long long newsletter_id;
	unsigned long long message_id;
};

static const char *env(const char *name)
{
	const char *v = getenv(name);

	if (!v)
		fail_msg("%s is not set: run this test through tests/run-test", name);
	return v;
}

static const char *srcdir(void)
{
	return getenv("top_srcdir") ? getenv("top_srcdir") : ".";
}

static int sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

/* A non-negative integer from a result cell; 0 when NULL or not a number. */
static long long cell_int(const char *s)
{
	unsigned long long v = 0;

	if (!s || parse_uint(s, LLONG_MAX, &v) < 0)
		return 0;
	return (long long)v;
}

static int sql_file(const char *path)
{
	return sh("mariadb --no-defaults -S '%s' -u root '%s' < '%s'", env("MARIADB_SOCKET"),
		  env("MARIADB_DATABASE"), path);
}

static int sql_root(const char *sql)
{
	return sh("mariadb --no-defaults -S '%s' -u root -e \"%s\"", env("MARIADB_SOCKET"), sql);
}

static bool have_file(const char *path)
{
	return access(path, R_OK) == 0;
}

/* A fresh database: Divemap's tables from our migrations, or from Divemap's
 * own dump; then the ingest_ tables and the corpus sites. */
static int schema_load(bool divemap)
{
	char p[1024], q[1024];
	const char *d = env("MARIADB_DATABASE");
	char sql[512];

	snprintf(sql, sizeof(sql),
		 "DROP DATABASE IF EXISTS \\`%s\\`; CREATE DATABASE \\`%s\\` CHARACTER SET utf8mb4 "
		 "COLLATE utf8mb4_unicode_ci",
		 d, d);
	if (sql_root(sql) != 0)
		return -1;
	if (divemap) {
		snprintf(p, sizeof(p), "%s/tests/fixtures/divemap-0092.sql", srcdir());
		snprintf(q, sizeof(q), "%s/tests/fixtures/sites-divemap.sql", srcdir());
		if (!have_file(p) || !have_file(q))
			return 1;
		if (sql_file(p) != 0 || sql_file(q) != 0)
			return -1;
	} else {
		snprintf(p, sizeof(p), "%s/migrations/0001_divemap_baseline.up.sql", srcdir());
		if (sql_file(p) != 0)
			return -1;
		snprintf(q, sizeof(q), "%s/tests/corpus/sites.sql", srcdir());
		if (sql_file(q) != 0)
			return -1;
	}
	snprintf(p, sizeof(p), "%s/migrations/0002_ingest_tables.up.sql", srcdir());
	return sql_file(p) == 0 ? 0 : -1;
}

static void fixture_config(struct config *cfg, char *url)
{
	*cfg = (struct config){.database = {.url = url,
					    .connect_attempts = 3,
					    .connect_retry_min_ms = 10,
					    .connect_retry_max_ms = 20,
					    .connect_timeout_s = 5}};
}

static int group_setup(void **state, bool divemap)
{
	struct fixture *f = calloc(1, sizeof(*f));
	int r;

	r = schema_load(divemap);
	if (r != 0) {
		free(f);
		if (r > 0)
			fprintf(stderr, "tests/fixtures/divemap-0092.sql missing: group skipped\n");
		return r > 0 ? 0 : -1;
	}
	snprintf(f->url, sizeof(f->url), "%s", env("DATABASE_URL"));
	snprintf(f->root_url, sizeof(f->root_url), "mysql://root@localhost/%s?unix_socket=%s",
		 env("MARIADB_DATABASE"), env("MARIADB_SOCKET"));
	fixture_config(&f->cfg, f->url);
	fixture_config(&f->root_cfg, f->root_url);
	if (db_open(&f->cfg, &f->db) < 0 || db_open(&f->root_cfg, &f->root) < 0)
		return -1;
	*state = f;
	return 0;
}

static int group_setup_baseline(void **state)
{
	return group_setup(state, false);
}

static int group_setup_divemap(void **state)
{
	return group_setup(state, true);
}

static int group_teardown(void **state)
{
	struct fixture *f = *state;

	if (f) {
		db_free(f->db);
		db_free(f->root);
		free(f);
	}
	return 0;
}

static void exec(struct db *db, const char *sql, const struct db_value *p, size_t n,
		 unsigned long long *ret_id)
{
	int r = db_exec(db, sql, p, n, NULL, ret_id);

	if (r < 0)
		fail_msg("%s: %s", sql, db_error(db));
}

/* A newsletter and its ingest_messages row, as the store makes them. */
static int test_setup(void **state)
{
	struct fixture *f = *state;
	unsigned long long nl;
	char sha[65];
	const char *shap = sha;
	static unsigned n;

	if (!f)
		skip();
	snprintf(sha, sizeof(sha), "%064u", ++n + (unsigned)getpid() * 1000u);
	exec(f->db, "INSERT INTO newsletters (content) VALUES ('Weekend dives')", NULL, 0, &nl);
	exec(f->db,
	     "INSERT INTO ingest_messages (newsletter_id, sha256, message_id, source, source_ref, "
	     "subject, sender, size, status) VALUES (?, ?, '<t@example>', 'eml', 'test', "
	     "'Weekend', 'info@aqualavrio.example', 100, 'parsing')",
	     (struct db_value[]){DB_INT((long long)nl), DB_TEXT(shap)}, 2, &f->message_id);
	f->newsletter_id = (long long)nl;
	return 0;
}

#define RESULT_JSON                                                                                \
	"{\"message_id\": \"<t@example>\", \"diving_center_id\": 1, \"status\": \"partial\","      \
	" \"rules_version\": \"abc123\", \"warnings\": [\"from the pipeline\"],"                   \
	" \"text\": \"Sat 23/8 09:00 Pothitos, 12:00 Katafygi. Sun 24/8 Bournelli\","              \
	" \"trips\": ["                                                                            \
	"  {\"trip_date\": \"2025-08-23\", \"trip_time\": \"09:00\", \"trip_duration\": 300,"      \
	"   \"trip_price\": 45.0, \"trip_currency\": \"EUR\", \"group_size_limit\": 3,"            \
	"   \"trip_difficulty\": \"OPEN_WATER\", \"special_requirements\": \"OWD\","               \
	"   \"trip_description\": \"Double dive\", \"spans\": {\"trip_date\": [0, 8, \"en-dm\"]}," \
	"   \"dives\": [{\"dive_number\": 1, \"dive_site_id\": 1, \"dive_site_name\": "            \
	"\"Pothitos\","                                                                            \
	"               \"dive_time\": \"09:00\", \"dive_duration\": null,"                        \
	"               \"spans\": {\"dive_site_name\": [15, 23, \"en-site\"]}},"                  \
	"              {\"dive_number\": 2, \"dive_site_id\": 2, \"dive_site_name\": "             \
	"\"Katafygi\","                                                                            \
	"               \"dive_time\": \"12:00\", \"dive_duration\": 45}]},"                       \
	"  {\"trip_date\": \"2025-08-24\", \"trip_time\": null, \"trip_price\": null,"             \
	"   \"trip_currency\": null, \"trip_difficulty\": null,"                                   \
	"   \"dives\": [{\"dive_number\": 1, \"dive_site_id\": null,"                              \
	"               \"dive_site_name\": \"Bournelli\", \"dive_time\": null}]}],"               \
	" \"unresolved\": [{\"kind\": \"site\", \"name\": \"Bournelli\","                          \
	"                   \"candidates\": [{\"id\": 3, \"name\": \"K\", \"score\": 0.41}]}]}"

static int write_text(struct fixture *f, const char *json, struct writer_stats *st)
{
	struct writer_input in = {.message_id = f->message_id,
				  .result_text = json,
				  .result_len = strlen(json),
				  .duration_us = 1234};

	return writer_write(&f->db, &f->cfg, &in, st);
}

/* All cells of a query, "|" between cells and "\n" after rows; NULL as "∅". */
static char *query_text(struct db *db, const char *sql, long long param)
{
	struct db_rows *rows = NULL;
	struct buf b = BUF_INIT(BUF_MAX_TEXT);
	struct db_value v = DB_INT(param);

	if (db_query(db, sql, &v, 1, &rows) < 0)
		fail_msg("%s: %s", sql, db_error(db));
	for (size_t i = 0; i < rows->n_rows; i++)
		for (size_t j = 0; j < rows->n_cols; j++) {
			const char *c = db_cell(rows, i, j);
			assert_int_equal(
			    buf_printf(&b, "%s%s", c ? c : "∅", j + 1 < rows->n_cols ? "|" : "\n"),
			    0);
		}
	db_rows_free(rows);
	return buf_take(&b, NULL);
}

static void assert_query(struct db *db, const char *sql, long long param, const char *expected)
{
	char *got = query_text(db, sql, param);

	if (strcmp(got, expected) != 0) {
		fprintf(stderr, "query: %s\nexpected:\n%sgot:\n%s", sql, expected, got);
		free(got);
		fail();
	}
	free(got);
}

#define TRIPS_SQL                                                                                  \
	"SELECT diving_center_id, trip_date, trip_time, trip_duration, trip_difficulty_id, "       \
	"trip_price, trip_currency, group_size_limit, current_bookings, trip_description, "        \
	"special_requirements, trip_status, source_newsletter_id = ?, view_count, "                \
	"created_at IS NOT NULL AND updated_at IS NOT NULL AND extracted_at IS NOT NULL "          \
	"FROM parsed_dive_trips WHERE source_newsletter_id = ? ORDER BY trip_date, id"
#define DIVES_SQL                                                                                  \
	"SELECT t.trip_date, d.dive_site_id, d.dive_number, d.dive_time, d.dive_duration, "        \
	"d.dive_description, d.created_at IS NOT NULL AND d.updated_at IS NOT NULL "               \
	"FROM parsed_dives d JOIN parsed_dive_trips t ON t.id = d.trip_id "                        \
	"WHERE t.source_newsletter_id = ? ORDER BY t.trip_date, d.dive_number"

static char *trips_text(struct fixture *f)
{
	struct db_rows *rows = NULL;
	struct buf b = BUF_INIT(BUF_MAX_TEXT);
	char *dives;

	assert_int_equal(
	    db_query(f->db, TRIPS_SQL,
		     (struct db_value[]){DB_INT(f->newsletter_id), DB_INT(f->newsletter_id)}, 2,
		     &rows),
	    0);
	for (size_t i = 0; i < rows->n_rows; i++)
		for (size_t j = 0; j < rows->n_cols; j++) {
			const char *c = db_cell(rows, i, j);
			assert_int_equal(
			    buf_printf(&b, "%s%s", c ? c : "∅", j + 1 < rows->n_cols ? "|" : "\n"),
			    0);
		}
	db_rows_free(rows);
	dives = query_text(f->db, DIVES_SQL, f->newsletter_id);
	assert_int_equal(buf_puts(&b, dives), 0);
	free(dives);
	return buf_take(&b, NULL);
}

static const char expected_rows[] =
    "1|2025-08-23|09:00:00|300|1|45.00|EUR|3|0|Double dive|OWD|scheduled|1|0|1\n"
    "1|2025-08-24|∅|∅|∅|∅|EUR|∅|0|∅|∅|scheduled|1|0|1\n"
    "2025-08-23|1|1|09:00:00|∅|∅|1\n"
    "2025-08-23|2|2|12:00:00|45|∅|1\n"
    "2025-08-24|∅|1|∅|∅|Bournelli|1\n";

static void assert_rows(struct fixture *f, const char *expected)
{
	char *got = trips_text(f);

	if (strcmp(got, expected) != 0) {
		fprintf(stderr, "expected:\n%sgot:\n%s", expected, got);
		free(got);
		fail();
	}
	free(got);
}

static void test_writer_rows_exact(void **state)
{
	struct fixture *f = *state;
	struct writer_stats st;
	char exp[512];

	assert_int_equal(write_text(f, RESULT_JSON, &st), 0);
	assert_string_equal(st.status, "partial");
	assert_int_equal(st.trips, 2);
	assert_int_equal(st.dives, 3);
	assert_int_equal(st.unresolved, 1);
	assert_int_equal(st.attempts, 1);
	assert_rows(f, expected_rows);
	snprintf(exp, sizeof(exp),
		 "%lld|1234|abc123|partial|∅|2|3|1|[\"from the pipeline\"]|en-dm|2\n",
		 f->newsletter_id);
	assert_query(
	    f->db,
	    "SELECT newsletter_id, duration_us, rules_version, status, reason, trips, dives, "
	    "unresolved, warnings, JSON_VALUE(details, '$.trips[0].spans.trip_date[2]'), "
	    "JSON_LENGTH(details, '$.writer.trip_ids') "
	    "FROM ingest_parse_log WHERE message_id = ?",
	    (long long)f->message_id, exp);
	snprintf(exp, sizeof(exp),
		 "site|Bournelli|1|1|[%lld]|[{\"id\":3,\"name\":\"K\",\"score\":0.41}]\n",
		 f->newsletter_id);
	assert_query(f->db,
		     "SELECT kind, name, name_key <> '', seen_count, newsletter_ids, candidates "
		     "FROM ingest_unresolved WHERE JSON_CONTAINS(newsletter_ids, ?)",
		     f->newsletter_id, exp);
	assert_query(f->db,
		     "SELECT status, status_reason, claimed_by FROM ingest_messages WHERE id = ?",
		     (long long)f->message_id, "partial|∅|∅\n");
}

static char *unresolved_text(struct fixture *f)
{
	return query_text(
	    f->db,
	    "SELECT kind, name, name_key, seen_count, first_seen, last_seen, "
	    "newsletter_ids, candidates FROM ingest_unresolved WHERE id > ? ORDER BY id",
	    0);
}

static void test_writer_rewrite_is_idempotent(void **state)
{
	struct fixture *f = *state;
	struct writer_stats st;
	char *unresolved;

	assert_int_equal(write_text(f, RESULT_JSON, &st), 0);
	unresolved = unresolved_text(f);
	for (int i = 0; i < 3; i++) {
		char *again;

		assert_int_equal(write_text(f, RESULT_JSON, &st), 0);
		assert_int_equal(st.trips_deleted, 2);
		assert_int_equal(st.trips_kept, 0);
		assert_rows(f, expected_rows);
		again = unresolved_text(f);
		assert_string_equal(again, unresolved);
		free(again);
	}
	free(unresolved);
	assert_query(f->db, "SELECT COUNT(*) FROM ingest_parse_log WHERE message_id = ?",
		     (long long)f->message_id, "4\n");
}

static long long trip_id_on(struct fixture *f, const char *date)
{
	struct db_rows *rows = NULL;
	long long id;

	assert_int_equal(db_query(f->db,
				  "SELECT id FROM parsed_dive_trips WHERE source_newsletter_id = ? "
				  "AND trip_date = ?",
				  (struct db_value[]){DB_INT(f->newsletter_id), DB_TEXT(date)}, 2,
				  &rows),
			 0);
	assert_int_equal(rows->n_rows, 1);
	id = cell_int(db_cell(rows, 0, 0));
	db_rows_free(rows);
	return id;
}

/* A booked trip and an edited trip survive a rewrite with their ids and
 * are not inserted twice; untouched trips are replaced. */
static void test_writer_keeps_booked_and_edited_trips(void **state)
{
	struct fixture *f = *state;
	struct writer_stats st;
	long long booked, edited, other;
	char *warnings;

	assert_int_equal(write_text(f, RESULT_JSON, &st), 0);
	booked = trip_id_on(f, "2025-08-23");
	edited = trip_id_on(f, "2025-08-24");
	exec(f->db, "UPDATE parsed_dive_trips SET current_bookings = 2 WHERE id = ?",
	     (struct db_value[]){DB_INT(booked)}, 1, NULL);
	exec(f->db,
	     "UPDATE parsed_dive_trips SET trip_description = 'edited by an admin', "
	     "updated_at = created_at + INTERVAL 1 MINUTE WHERE id = ?",
	     (struct db_value[]){DB_INT(edited)}, 1, NULL);
	assert_int_equal(write_text(f, RESULT_JSON, &st), 0);
	assert_int_equal(st.trips_kept, 2);
	assert_int_equal(st.trips, 0);
	assert_int_equal(trip_id_on(f, "2025-08-23"), booked);
	assert_int_equal(trip_id_on(f, "2025-08-24"), edited);
	warnings = query_text(f->db,
			      "SELECT warnings FROM ingest_parse_log WHERE message_id = ? "
			      "ORDER BY id DESC LIMIT 1",
			      (long long)f->message_id);
	assert_non_null(strstr(warnings, "has 2 bookings; not inserted again"));
	assert_non_null(strstr(warnings, "edited in Divemap; not inserted again"));
	free(warnings);

	/* a cancelled trip is kept too; the booked one is no longer announced
	 * and stays; an untouched one is replaced */
	exec(f->db,
	     "UPDATE parsed_dive_trips SET trip_status = 'cancelled', current_bookings = 0, "
	     "updated_at = created_at WHERE id = ?",
	     (struct db_value[]){DB_INT(booked)}, 1, NULL);
	exec(f->db, "UPDATE parsed_dive_trips SET updated_at = created_at WHERE id = ?",
	     (struct db_value[]){DB_INT(edited)}, 1, NULL);
	assert_int_equal(write_text(f,
				    "{\"diving_center_id\": 1, \"trips\": [{\"trip_date\": "
				    "\"2025-08-24\", \"dives\": []}], \"unresolved\": []}",
				    &st),
			 0);
	assert_string_equal(st.status, "ok");
	assert_int_equal(st.trips_kept, 1);
	assert_int_equal(st.trips_deleted, 1);
	assert_int_equal(st.trips, 1);
	assert_int_equal(trip_id_on(f, "2025-08-23"), booked);
	other = trip_id_on(f, "2025-08-24");
	assert_true(other != edited);
	assert_query(f->db, "SELECT COUNT(*) FROM parsed_dives WHERE trip_id = ?", booked, "2\n");
	/* the name is resolved now: the newsletter leaves the unresolved list */
	assert_query(
	    f->db, "SELECT COUNT(*) FROM ingest_unresolved WHERE JSON_CONTAINS(newsletter_ids, ?)",
	    f->newsletter_id, "0\n");
}

/* An admin moved a trip's time: the extraction, still saying 09:00, stands
 * for that trip (the only one of its date), so it is not inserted again. */
static void test_writer_admin_corrected_time(void **state)
{
	struct fixture *f = *state;
	struct writer_stats st;
	long long id;

	assert_int_equal(write_text(f, RESULT_JSON, &st), 0);
	id = trip_id_on(f, "2025-08-23");
	exec(f->db,
	     "UPDATE parsed_dive_trips SET trip_time = '08:30', "
	     "updated_at = created_at + INTERVAL 5 MINUTE WHERE id = ?",
	     (struct db_value[]){DB_INT(id)}, 1, NULL);
	assert_int_equal(write_text(f, RESULT_JSON, &st), 0);
	assert_int_equal(st.trips_kept, 1);
	assert_int_equal(st.trips, 1);
	assert_int_equal(trip_id_on(f, "2025-08-23"), id);
	/* the parse log counts what the newsletter has in the database */
	assert_query(f->db,
		     "SELECT trips, dives, status FROM ingest_parse_log WHERE message_id = ? "
		     "ORDER BY id DESC LIMIT 1",
		     (long long)f->message_id, "2|3|partial\n");
}

/* The outcome is one log entry with the journal fields. */
static void test_writer_logs_journal_fields(void **state)
{
	struct fixture *f = *state;
	struct writer_stats st;
	char path[] = "/tmp/itest-writer-log-XXXXXX", want[128], text[4096] = "";
	int fd = mkstemp(path), saved = dup(STDERR_FILENO);
	ssize_t n;

	assert_true(fd >= 0 && saved >= 0);
	log_set_target(LOG_TARGET_STDERR);
	log_set_max_level(LOG_INFO);
	fflush(stderr);
	dup2(fd, STDERR_FILENO);
	assert_int_equal(write_text(f, RESULT_JSON, &st), 0);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	log_set_max_level(LOG_WARNING);
	n = pread(fd, text, sizeof(text) - 1, 0);
	close(fd);
	unlink(path);
	assert_true(n > 0);
	snprintf(want, sizeof(want), "newsletter %lld (message %llu): partial, 2 trips, 3 dives",
		 f->newsletter_id, f->message_id);
	assert_non_null(strstr(text, want));
	snprintf(want, sizeof(want), "NEWSLETTER_ID=%lld", f->newsletter_id);
	assert_non_null(strstr(text, want));
	assert_non_null(strstr(text, "MESSAGE_ID=<t@example>"));
	assert_non_null(strstr(text, "STATUS=partial"));
	assert_non_null(strstr(text, "TRIPS=2"));
}

struct killer {
	struct fixture *f;
	struct writer_stats st;
	int r;
};

static void *write_in_thread(void *p)
{
	struct killer *k = p;

	k->r = write_text(k->f, RESULT_JSON, &k->st);
	return NULL;
}

/* The id of the writer's connection once it waits on our lock, else 0. */
static long long blocked_writer(struct fixture *f, long long not_this)
{
	struct db_rows *rows = NULL;
	long long id = 0;

	assert_int_equal(
	    db_query(f->root,
		     "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = ? "
		     "AND INFO LIKE '%ingest_unresolved%' AND ID <> ?",
		     (struct db_value[]){DB_TEXT(env("MARIADB_USER")), DB_INT(not_this)}, 2, &rows),
	    0);
	if (rows->n_rows == 1)
		id = cell_int(db_cell(rows, 0, 0));
	db_rows_free(rows);
	return id;
}

static long long wait_blocked_writer(struct fixture *f, long long not_this)
{
	for (int i = 0; i < 400; i++) {
		long long id = blocked_writer(f, not_this);
		if (id)
			return id;
		nanosleep(&(struct timespec){0, 25 * 1000000L}, NULL);
	}
	fail_msg("the writer never reached ingest_unresolved");
	return 0;
}

/* The writer's connection is killed in the middle of its transaction
 * (trips already inserted, waiting on a lock we hold): the retry on a new
 * connection writes the newsletter exactly once. */
static void test_writer_retries_after_killed_connection(void **state)
{
	struct fixture *f = *state;
	struct killer k = {.f = f};
	struct db *other = NULL;
	pthread_t t;
	long long first, second;
	char kill[64];

	exec(f->root,
	     "INSERT INTO ingest_unresolved (kind, name, name_key, newsletter_ids) "
	     "VALUES ('site', 'Bournelli', 'bournel', '[]') ON DUPLICATE KEY UPDATE kind = kind",
	     NULL, 0, NULL);
	assert_int_equal(db_begin(f->root), 0);
	exec(f->root, "SELECT * FROM ingest_unresolved FOR UPDATE", NULL, 0, NULL);
	assert_int_equal(pthread_create(&t, NULL, write_in_thread, &k), 0);
	first = wait_blocked_writer(f, 0);
	assert_int_equal(db_open(&f->cfg, &other), 0);
	snprintf(kill, sizeof(kill), "KILL CONNECTION %lld", first);
	assert_int_equal(db_exec_raw(other, kill), 0);
	second = wait_blocked_writer(f, first);
	assert_true(second != first);
	/* nothing of the killed attempt is visible */
	assert_query(other, "SELECT COUNT(*) FROM parsed_dive_trips WHERE source_newsletter_id = ?",
		     f->newsletter_id, "0\n");
	assert_int_equal(db_rollback(f->root), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	db_free(other);
	assert_int_equal(k.r, 0);
	assert_string_equal(k.st.status, "partial");
	assert_int_equal(k.st.attempts, 2);
	assert_rows(f, expected_rows);
	assert_query(f->db,
		     "SELECT COUNT(*), MIN(status) FROM ingest_parse_log WHERE message_id = ?",
		     (long long)f->message_id, "1|partial\n");
}

/* Lock wait timeouts on every attempt: the newsletter is marked failed
 * with the reason, and its earlier trips stay as they were. */
static void test_writer_gives_up_and_marks_failed(void **state)
{
	struct fixture *f = *state;
	struct writer_stats st;
	char *before;

	assert_int_equal(write_text(f, RESULT_JSON, &st), 0);
	before = trips_text(f);
	assert_int_equal(db_exec_raw(f->db, "SET SESSION innodb_lock_wait_timeout = 1"), 0);
	assert_int_equal(db_begin(f->root), 0);
	exec(f->root, "SELECT * FROM parsed_dive_trips WHERE source_newsletter_id = ? FOR UPDATE",
	     (struct db_value[]){DB_INT(f->newsletter_id)}, 1, NULL);
	assert_int_equal(write_text(f, RESULT_JSON, &st), 0);
	assert_int_equal(db_rollback(f->root), 0);
	assert_int_equal(db_exec_raw(f->db, "SET SESSION innodb_lock_wait_timeout = 50"), 0);
	assert_string_equal(st.status, "failed");
	assert_int_equal(st.attempts, 1);
	assert_non_null(strstr(st.reason, "Lock wait timeout"));
	assert_rows(f, before);
	free(before);
	assert_query(f->db,
		     "SELECT status, status_reason LIKE 'writing failed: Lock wait%' FROM "
		     "ingest_messages WHERE id = ?",
		     (long long)f->message_id, "failed|1\n");
	assert_query(f->db,
		     "SELECT status, trips FROM ingest_parse_log WHERE message_id = ? ORDER BY id",
		     (long long)f->message_id, "partial|2\nfailed|0\n");
}

static void test_writer_mark_failed(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(writer_mark_failed(&f->db, &f->cfg, f->message_id, "abc", 7,
					    "worker killed by signal 11"),
			 0);
	assert_query(
	    f->db,
	    "SELECT m.status, m.status_reason, l.status, l.reason, l.duration_us, l.details "
	    "FROM ingest_messages m JOIN ingest_parse_log l ON l.message_id = m.id "
	    "WHERE m.id = ?",
	    (long long)f->message_id,
	    "failed|worker killed by signal 11|failed|worker killed by signal 11|7|∅\n");
}

static void test_writer_bad_result_is_failed(void **state)
{
	struct fixture *f = *state;
	struct writer_stats st;

	assert_int_equal(write_text(f, "{\"trips\": [", &st), 0);
	assert_string_equal(st.status, "failed");
	assert_non_null(strstr(st.reason, "not a JSON object"));
	assert_int_equal(write_text(f,
				    "{\"diving_center_id\": 1, \"trips\": [{\"trip_date\": "
				    "\"2025-02-30\"}, {\"trip_date\": \"2025-03-01\", "
				    "\"trip_currency\": \"euro\", \"trip_difficulty\": \"NOPE\"}]}",
				    &st),
			 0);
	assert_string_equal(st.status, "ok");
	assert_int_equal(st.trips, 1);
	assert_query(f->db,
		     "SELECT warnings FROM ingest_parse_log WHERE message_id = ? AND status = 'ok'",
		     (long long)f->message_id,
		     "[\"trip 1: date '2025-02-30' is not a date: left out\",\"currency 'euro' is "
		     "not an ISO 4217 code: EUR written\",\"difficulty 'NOPE' is not in "
		     "difficulty_levels: left out\"]\n");
}

/* In the caller's transaction, for a message stored in it (fresh), with the
 * worker's text at hand: the same rows as writer_write(), the details the
 * same JSON; a rollback leaves nothing. */
static void test_writer_in_transaction(void **state)
{
	struct fixture *f = *state;
	json_t *result = json_loads(RESULT_JSON, 0, NULL);
	unsigned long long first_msg = f->message_id;
	struct writer_stats st;
	char *want, *got, sql[512];

	assert_non_null(result);
	assert_int_equal(write_text(f, RESULT_JSON, &st), 0);
	want = trips_text(f);
	/* a second message; written in a transaction that is rolled back, then one that
	 * commits; with a cache, its trips and their dives go in multi-row INSERTs */
	assert_int_equal(test_setup(state), 0);
	struct writer_cache wc = {0};
	struct writer_input in = {.message_id = f->message_id,
				  .newsletter_id = f->newsletter_id,
				  .result = result,
				  .result_text = RESULT_JSON,
				  .duration_us = 1234,
				  .fresh = true,
				  .cache = &wc};
	assert_int_equal(db_begin(f->db), 0);
	assert_int_equal(writer_write_in_transaction(f->db, &in, &st), 0);
	assert_int_equal(db_rollback(f->db), 0);
	assert_query(f->db, "SELECT COUNT(*) FROM ingest_parse_log WHERE message_id = ?",
		     (long long)f->message_id, "0\n");
	assert_query(f->db, "SELECT COUNT(*) FROM parsed_dive_trips WHERE source_newsletter_id = ?",
		     f->newsletter_id, "0\n");
	wc = (struct writer_cache){0};
	assert_int_equal(db_begin(f->db), 0);
	assert_int_equal(writer_write_in_transaction(f->db, &in, &st), 0);
	assert_int_equal(db_commit(f->db), 0);
	assert_int_equal(wc.autoinc, 1);
	assert_string_equal(st.status, "partial");
	assert_int_equal(st.trips, 2);
	assert_int_equal(st.dives, 3);
	assert_int_equal(st.newsletter_id, f->newsletter_id);
	got = trips_text(f);
	assert_string_equal(got, want);
	free(got);
	free(want);
	/* the details: the same JSON but for the trip ids */
	snprintf(sql, sizeof(sql),
		 "SELECT JSON_EQUALS(JSON_REMOVE(a.details, '$.writer.trip_ids'), "
		 "JSON_REMOVE(b.details, '$.writer.trip_ids')), "
		 "JSON_LENGTH(b.details, '$.writer.trip_ids'), a.status = b.status, "
		 "a.trips = b.trips AND a.dives = b.dives AND a.unresolved = b.unresolved, "
		 "a.warnings = b.warnings "
		 "FROM ingest_parse_log a JOIN ingest_parse_log b ON b.message_id = ? "
		 "WHERE a.message_id = %llu",
		 first_msg);
	assert_query(f->db, sql, (long long)f->message_id, "1|2|1|1|1\n");
	assert_query(f->db, "SELECT status, claimed_by FROM ingest_messages WHERE id = ?",
		     (long long)f->message_id, "partial|∅\n");
	/* a message whose extraction failed */
	assert_int_equal(db_begin(f->db), 0);
	assert_int_equal(writer_mark_failed_in_transaction(f->db, &in, "worker died", &st), 0);
	assert_int_equal(db_commit(f->db), 0);
	assert_query(f->db, "SELECT status, status_reason FROM ingest_messages WHERE id = ?",
		     (long long)f->message_id, "failed|worker died\n");
	json_decref(result);
}

#define WRITER_TESTS                                                                               \
	cmocka_unit_test_setup(test_writer_rows_exact, test_setup),                                \
	    cmocka_unit_test_setup(test_writer_rewrite_is_idempotent, test_setup),                 \
	    cmocka_unit_test_setup(test_writer_keeps_booked_and_edited_trips, test_setup),         \
	    cmocka_unit_test_setup(test_writer_admin_corrected_time, test_setup),                  \
	    cmocka_unit_test_setup(test_writer_logs_journal_fields, test_setup),                   \
	    cmocka_unit_test_setup(test_writer_retries_after_killed_connection, test_setup),       \
	    cmocka_unit_test_setup(test_writer_gives_up_and_marks_failed, test_setup),             \
	    cmocka_unit_test_setup(test_writer_mark_failed, test_setup),                           \
	    cmocka_unit_test_setup(test_writer_bad_result_is_failed, test_setup),                  \
	    cmocka_unit_test_setup(test_writer_in_transaction, test_setup)

int main(void)
{
	const struct CMUnitTest baseline[] = {WRITER_TESTS};
	const struct CMUnitTest divemap[] = {WRITER_TESTS};
	int r;

	log_set_max_level(LOG_WARNING);
	r = cmocka_run_group_tests_name("baseline schema", baseline, group_setup_baseline,
					group_teardown);
	r += cmocka_run_group_tests_name("Divemap schema", divemap, group_setup_divemap,
					 group_teardown);
	return r ? 1 : 0;
}

/* Integration tests of the database connection (src/db.c) against the
 * private MariaDB that tests/run-test starts (MARIADB_* in the environment). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "buf.h"
#include "config.h"
#include "db.h"
#include "log.h"

static const char *env(const char *name)
{
	const char *v = getenv(name);

	if (!v)
		fail_msg("%s is not set: run this test through tests/run-test", name);
	return v;
}

static struct config test_config(char *url)
{
	return (struct config){.database = {.url = url,
					    .connect_attempts = 3,
					    .connect_retry_min_ms = 10,
					    .connect_retry_max_ms = 20,
					    .connect_timeout_s = 2}};
}

/* Runs fn with stderr captured into *ret_text. */
static int with_captured_stderr(int (*fn)(struct config *), struct config *cfg, char **ret_text)
{
	char path[] = "/tmp/divemap-stderr-XXXXXX";
	int fd = mkstemp(path), saved = dup(STDERR_FILENO), r;
	struct buf b = BUF_INIT(BUF_MAX_SMALL);
	char chunk[512];
	ssize_t n;

	assert_true(fd >= 0 && saved >= 0);
	fflush(stderr);
	dup2(fd, STDERR_FILENO);
	r = fn(cfg);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	lseek(fd, 0, SEEK_SET);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		assert_int_equal(buf_append(&b, chunk, (size_t)n), 0);
	close(fd);
	unlink(path);
	*ret_text = buf_take(&b, NULL);
	return r;
}

static int open_and_close(struct config *cfg)
{
	struct db *db = NULL;
	int r = db_open(cfg, &db);

	db_free(db);
	return r;
}

static void check_session(struct db *db)
{
	struct db_rows *rows = NULL;

	assert_int_equal(db_query(db,
				  "SELECT @@session.sql_mode, @@session.time_zone, "
				  "@@character_set_connection",
				  NULL, 0, &rows),
			 0);
	assert_int_equal(rows->n_rows, 1);
	assert_non_null(strstr(db_cell(rows, 0, 0), "STRICT_ALL_TABLES"));
	assert_string_equal(db_cell(rows, 0, 1), "+00:00");
	assert_string_equal(db_cell(rows, 0, 2), "utf8mb4");
	db_rows_free(rows);
}

static void connect_tcp(const char *host)
{
	char url[512];
	struct config cfg;
	struct db *db = NULL;

	snprintf(url, sizeof(url), "mysql+pymysql://%s:%s@%s:%s/%s", env("MARIADB_USER"),
		 env("MARIADB_PASSWORD"), host, env("MARIADB_PORT"), env("MARIADB_DATABASE"));
	cfg = test_config(url);
	assert_int_equal(db_open(&cfg, &db), 0);
	check_session(db);
	db_free(db);
}

static void test_db_connect_tcp_ipv4(void **state)
{
	connect_tcp("127.0.0.1");
}

static void test_db_connect_tcp_ipv6(void **state)
{
	if (strcmp(env("MARIADB_IPV6"), "yes") != 0) {
		fprintf(stderr, "this machine has no IPv6 loopback: [::1] not tested\n");
		skip();
	}
	connect_tcp("[::1]");
}

static void test_db_connect_unix_socket(void **state)
{
	char url[512];
	struct config cfg;
	struct db *db = NULL;

	snprintf(url, sizeof(url), "mysql://%s:%s@localhost/%s?unix_socket=%s", env("MARIADB_USER"),
		 env("MARIADB_PASSWORD"), env("MARIADB_DATABASE"), env("MARIADB_SOCKET"));
	cfg = test_config(url);
	assert_int_equal(db_open(&cfg, &db), 0);
	check_session(db);
	db_free(db);
}

static void test_db_retries_then_gives_up(void **state)
{
	struct config cfg = test_config("mysql://u:neverprinted@127.0.0.1:1/d");
	char *text = NULL;

	assert_int_equal(with_captured_stderr(open_and_close, &cfg, &text), -ETIMEDOUT);
	assert_non_null(strstr(text, "database not ready (attempt 1/3): "));
	assert_non_null(strstr(text, "database not ready (attempt 2/3): "));
	assert_non_null(strstr(text, "s\n"));
	assert_non_null(strstr(text, "not reachable after 3 attempts"));
	assert_null(strstr(text, "neverprinted"));
	free(text);
}

static void test_db_bad_password_is_clear_and_not_retried(void **state)
{
	char url[512], *text = NULL;
	struct config cfg;

	snprintf(url, sizeof(url), "mysql://%s:WrongSecret@127.0.0.1:%s/%s", env("MARIADB_USER"),
		 env("MARIADB_PORT"), env("MARIADB_DATABASE"));
	cfg = test_config(url);
	assert_int_equal(with_captured_stderr(open_and_close, &cfg, &text), -EACCES);
	assert_non_null(strstr(text, "Access denied"));
	assert_null(strstr(text, "attempt"));
	assert_null(strstr(text, "WrongSecret"));
	free(text);
}

static void test_db_password_from_credential(void **state)
{
	char dir[] = "/tmp/divemap-cred-XXXXXX", path[256], url[512];
	struct config cfg;
	struct db *db = NULL;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/db-password", dir);
	f = fopen(path, "we");
	fprintf(f, "%s\n", env("MARIADB_PASSWORD"));
	fclose(f);
	snprintf(url, sizeof(url), "mysql://%s@127.0.0.1:%s/%s", env("MARIADB_USER"),
		 env("MARIADB_PORT"), env("MARIADB_DATABASE"));
	cfg = test_config(url);
	setenv("CREDENTIALS_DIRECTORY", dir, 1);
	assert_int_equal(db_open(&cfg, &db), 0);
	db_free(db);
	db = NULL;
	unsetenv("CREDENTIALS_DIRECTORY");
	cfg.database.password_file = path;
	assert_int_equal(db_open(&cfg, &db), 0);
	db_free(db);
	unlink(path);
	rmdir(dir);
}

static void test_db_prepared_round_trip(void **state)
{
	struct config cfg = test_config((char *)env("DATABASE_URL"));
	struct db *db = NULL;
	struct db_rows *rows = NULL;
	char big[5000];
	const char *bigp = big;
	unsigned long long id = 0;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(db_open(&cfg, &db), 0);
	assert_int_equal(db_exec_raw(db, "CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, "
					 "s TEXT, b BLOB, n INT, d DOUBLE)"),
			 0);
	assert_int_equal(db_exec(db, "INSERT INTO t (s, b, n, d) VALUES (?, ?, ?, ?)",
				 (struct db_value[]){DB_TEXT("Ποθητός ' \" ;"), DB_BLOB("a\0b", 3),
						     DB_NULL, DB_DOUBLE(45.5)},
				 4, NULL, &id),
			 0);
	assert_int_equal(id, 1);
	assert_int_equal(db_exec(db, "INSERT INTO t (s) VALUES (?)",
				 (struct db_value[]){DB_TEXT(bigp)}, 1, NULL, NULL),
			 0);
	assert_int_equal(db_query(db, "SELECT s, b, n, d FROM t ORDER BY id", NULL, 0, &rows), 0);
	assert_int_equal(rows->n_rows, 2);
	assert_string_equal(db_cell(rows, 0, 0), "Ποθητός ' \" ;");
	assert_int_equal(rows->lengths[1], 3);
	assert_memory_equal(db_cell(rows, 0, 1), "a\0b", 3);
	assert_null(db_cell(rows, 0, 2));
	assert_string_equal(db_cell(rows, 0, 3), "45.5");
	assert_string_equal(db_cell(rows, 1, 0), big);
	db_rows_free(rows);
	/* strict mode: a bad ENUM value fails instead of becoming '' */
	assert_int_equal(db_exec_raw(db, "CREATE TABLE e (id INT PRIMARY KEY, s ENUM('a','b'))"),
			 0);
	assert_int_equal(db_exec(db, "INSERT INTO e VALUES (1, ?)",
				 (struct db_value[]){DB_TEXT("c")}, 1, NULL, NULL),
			 -EIO);
	assert_non_null(strstr(db_error(db), "Data truncated"));
	db_free(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_db_connect_unix_socket),
	    cmocka_unit_test(test_db_connect_tcp_ipv4),
	    cmocka_unit_test(test_db_connect_tcp_ipv6),
	    cmocka_unit_test(test_db_retries_then_gives_up),
	    cmocka_unit_test(test_db_bad_password_is_clear_and_not_retried),
	    cmocka_unit_test(test_db_password_from_credential),
	    cmocka_unit_test(test_db_prepared_round_trip),
	};
	log_set_target(LOG_TARGET_STDERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

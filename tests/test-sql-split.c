/* test-sql-split.c: the migration files' statement splitter. */
#include <setjmp.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sql-split.h"

struct split_case {
	const char *name;
	const char *text;
	size_t n;
	const char *stmts[4];
	unsigned lines[4];
};

static const struct split_case cases[] = {
    {"two statements",
     "CREATE TABLE a (x INT);\nDROP TABLE b;\n",
     2,
     {"CREATE TABLE a (x INT)", "DROP TABLE b"},
     {1, 2}},
    {"semicolon in single quotes",
     "INSERT INTO t VALUES ('a;b');",
     1,
     {"INSERT INTO t VALUES ('a;b')"},
     {1}},
    {"doubled and escaped quotes",
     "SELECT 'it''s; \\'x;\\\\';SELECT 2",
     2,
     {"SELECT 'it''s; \\'x;\\\\'", "SELECT 2"},
     {1, 1}},
    {"double quotes and backticks", "SELECT \";\", `a;``b`;", 1, {"SELECT \";\", `a;``b`"}, {1}},
    {"line comments dropped before, kept inside",
     "-- header; not code\n# hash; comment\nSELECT 1 -- one; really\n, 2;\n",
     1,
     {"SELECT 1 -- one; really\n, 2"},
     {3}},
    {"dash without space is an operator", "SELECT 1--1;", 1, {"SELECT 1--1"}, {1}},
    {"block comments", "/* a; b\n c */ SELECT /* ; */ 1;", 1, {"SELECT /* ; */ 1"}, {2}},
    {"conditional comment is code",
     "/*!40101 SET NAMES utf8mb4 */;\n/*M!100100 SELECT 1 */;",
     2,
     {"/*!40101 SET NAMES utf8mb4 */", "/*M!100100 SELECT 1 */"},
     {1, 2}},
    {"no final semicolon", "SELECT 1;\n\n  SELECT 2  \n", 2, {"SELECT 1", "SELECT 2"}, {1, 3}},
    {"only comments and blanks", "-- nothing\n/* at all */\n;;\n", 0, {NULL}, {0}},
    {"comment at the end without newline", "SELECT 1; -- bye", 1, {"SELECT 1"}, {1}},
    {"lines counted through strings",
     "SELECT 'a\nb';\nSELECT 'c\\\nd';\nSELECT 3;",
     3,
     {"SELECT 'a\nb'", "SELECT 'c\\\nd'", "SELECT 3"},
     {1, 3, 5}},
    {"trailing comments dropped",
     "SELECT 1 -- trailing\n;\nSELECT 2 /* c */ ;# x\n",
     2,
     {"SELECT 1", "SELECT 2"},
     {1, 3}},
    {"slash star slash does not close", "/*/ ; */SELECT 1;", 1, {"SELECT 1"}, {1}},
};

static void test_split_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct split_case *c = &cases[i];
		struct sql_stmt *s = NULL;
		char *why = NULL;
		size_t n = 99;

		print_message("case: %s\n", c->name);
		assert_int_equal(sql_split(c->text, strlen(c->text), &s, &n, &why), 0);
		assert_null(why);
		assert_int_equal(n, c->n);
		for (size_t k = 0; k < n; k++) {
			assert_string_equal(s[k].sql, c->stmts[k]);
			assert_int_equal(s[k].line, c->lines[k]);
		}
		sql_stmts_free(s, n);
	}
}

static void expect_error(const char *text, const char *reason)
{
	struct sql_stmt *s = NULL;
	char *why = NULL;
	size_t n = 0;

	assert_int_equal(sql_split(text, strlen(text), &s, &n, &why), -EINVAL);
	assert_non_null(why);
	assert_string_equal(why, reason);
	assert_null(s);
	free(why);
}

static void test_split_unterminated(void **state)
{
	(void)state;
	expect_error("SELECT 1;\nSELECT 'abc;\n", "line 2: unterminated 'string'");
	expect_error("SELECT \"x", "line 1: unterminated \"string\"");
	expect_error("SELECT `x", "line 1: unterminated `name`");
	expect_error("SELECT 1;\n\n/* open", "line 3: unterminated /* comment */");
	expect_error("SELECT '\\'", "line 1: unterminated 'string'");
}

static void test_split_nul_byte(void **state)
{
	static const char text[] = "SELECT 1;\nSELECT\0 2;";
	struct sql_stmt *s = NULL;
	char *why = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(sql_split(text, sizeof(text) - 1, &s, &n, &why), -EINVAL);
	assert_string_equal(why, "line 2: NUL byte in SQL text");
	free(why);
}

static void test_split_empty(void **state)
{
	struct sql_stmt *s = NULL;
	char *why = NULL;
	size_t n = 7;

	(void)state;
	assert_int_equal(sql_split("", 0, &s, &n, &why), 0);
	assert_int_equal(n, 0);
	sql_stmts_free(s, n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_split_table),
	    cmocka_unit_test(test_split_unterminated),
	    cmocka_unit_test(test_split_nul_byte),
	    cmocka_unit_test(test_split_empty),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

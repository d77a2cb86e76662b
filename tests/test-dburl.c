/* Unit tests of the DATABASE_URL parser (src/dburl.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dburl.h"

struct good {
	const char *url;
	const char *user, *password, *host;
	unsigned port;
	const char *database, *socket, *charset;
};

static const struct good goods[] = {
    {"mysql+pymysql://divemap_user:divemap_password@localhost:3306/divemap", "divemap_user",
     "divemap_password", "localhost", 3306, "divemap", NULL, NULL},
    {"mysql://u@db.example/x", "u", NULL, "db.example", 0, "x", NULL, NULL},
    {"mysql://u:p%40ss%2Fw%3Ard@h/d", "u", "p@ss/w:rd", "h", 0, "d", NULL, NULL},
    {"mysql://u:p@[::1]:3307/d", "u", "p", "::1", 3307, "d", NULL, NULL},
    {"mysql://u:p@[2001:db8::5]/d", "u", "p", "2001:db8::5", 0, "d", NULL, NULL},
    {"mysql://u:p@/d?unix_socket=/run/mysqld/mysqld.sock", "u", "p", NULL, 0, "d",
     "/run/mysqld/mysqld.sock", NULL},
    {"mysql://u:p@localhost/d?charset=utf8mb4&unix_socket=%2Ftmp%2Fs.sock", "u", "p", "localhost",
     0, "d", "/tmp/s.sock", "utf8mb4"},
    {"mariadb+mariadbconnector://u:p@h:1/d%20b", "u", "p", "h", 1, "d b", NULL, NULL},
    {"mysql://u:with@at@h/d", "u", "with@at", "h", 0, "d", NULL, NULL},
};

static void assert_str(const char *want, const char *got)
{
	if (!want)
		assert_null(got);
	else
		assert_string_equal(want, got);
}

static void test_dburl_good(void **state)
{
	for (size_t i = 0; i < sizeof(goods) / sizeof(goods[0]); i++) {
		const struct good *g = &goods[i];
		struct db_params p;
		char *why = NULL;

		assert_int_equal(dburl_parse(g->url, &p, &why), 0);
		assert_null(why);
		assert_str(g->user, p.user);
		assert_str(g->password, p.password);
		assert_str(g->host, p.host);
		assert_int_equal(g->port, p.port);
		assert_str(g->database, p.database);
		assert_str(g->socket, p.socket);
		assert_str(g->charset, p.charset);
		db_params_done(&p);
	}
}

struct bad {
	const char *url;
	const char *reason_part;
};

static const struct bad bads[] = {
    {"postgresql://u:secretpw@h/d", "mysql://"},
    {"mysql:/u:secretpw@h/d", "mysql://"},
    {"mysql+://u:secretpw@h/d", "mysql://"},
    {"mysql://u:secretpw@h:99999/d", "bad port"},
    {"mysql://u:secretpw@h:abc/d", "bad port"},
    {"mysql://u:secretpw@h", "no database"},
    {"mysql://u:secretpw@h/", "no database"},
    {"mysql://u:secretpw@[::1/d", "']'"},
    {"mysql://u:secret%zzpw@h/d", "percent-encoding in the password"},
    {"mysql://u%4:secretpw@h/d", "percent-encoding in the user"},
    {"mysql://u:secretpw@h/d?sslmode=x", "unknown query parameter 'sslmode'"},
    {"mysql://u:secretpw@h/d?unix_socket", "has no value"},
    {"mysql://u:secretpw%00@h/d", "percent-encoding in the password"},
    {"mysql://u:secretpw@h/a/b", "contains '/'"},
};

static void test_dburl_bad_urls_give_reasons_without_password(void **state)
{
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		struct db_params p = {0};
		char *why = NULL;

		assert_int_equal(dburl_parse(bads[i].url, &p, &why), -EINVAL);
		assert_non_null(why);
		if (!strstr(why, bads[i].reason_part))
			fail_msg("%s: reason '%s' lacks '%s'", bads[i].url, why,
				 bads[i].reason_part);
		assert_null(strstr(why, "secret"));
		free(why);
	}
}

static void test_dburl_redacted_hides_password(void **state)
{
	struct db_params p;
	char *why = NULL, *shown;

	assert_int_equal(dburl_parse("mysql://u:topsecret@[::1]:3306/d", &p, &why), 0);
	shown = dburl_redacted(&p);
	assert_string_equal(shown, "mysql://u:***@[::1]:3306/d");
	free(shown);
	db_params_done(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dburl_good),
	    cmocka_unit_test(test_dburl_bad_urls_give_reasons_without_password),
	    cmocka_unit_test(test_dburl_redacted_hides_password),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

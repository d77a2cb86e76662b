/* Unit tests of the configuration file (src/config.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "log.h"

static char path[] = "/tmp/divemap-config-test-XXXXXX";

static void write_config(const char *text)
{
	FILE *f = fopen(path, "we");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	int fd = mkstemp(path);

	if (fd < 0)
		return -1;
	close(fd);
	unsetenv("DATABASE_URL");
	return 0;
}

static int teardown(void **state)
{
	unlink(path);
	return 0;
}

static void test_config_full_file(void **state)
{
	struct config *c = NULL;
	char *why = NULL;

	write_config("; comment\n"
		     "[database]\n"
		     "url = mysql://u:p@h/d\n"
		     "connect_attempts = 3\n"
		     "connect_retry_min = 200ms\n"
		     "connect_retry_max = 1s\n"
		     "auto_migrate = no\n"
		     "[parser]\n"
		     "max_message_size = 10M\n"
		     "match_threshold = 0.75\n"
		     "[log]\n"
		     "level = debug\n"
		     "target = stderr\n"
		     "[imap news]\n"
		     "host = imap.example\n"
		     "user = newsletters\n"
		     "tls = starttls\n"
		     "idle_interval = 5min\n"
		     "[maildir]\n"
		     "path = /var/mail/news\n");
	assert_int_equal(config_load(path, &c, &why), 0);
	assert_string_equal(c->database.url, "mysql://u:p@h/d");
	assert_int_equal(c->database.connect_attempts, 3);
	assert_int_equal(c->database.connect_retry_min_ms, 200);
	assert_int_equal(c->database.connect_retry_max_ms, 1000);
	assert_false(c->database.auto_migrate);
	assert_int_equal(c->parser.max_message_size, 10u << 20);
	assert_true(c->parser.match_threshold > 0.749 && c->parser.match_threshold < 0.751);
	assert_int_equal(c->log.level, LOG_DEBUG);
	assert_int_equal(c->n_sources, 2);
	assert_int_equal(c->sources[0].kind, SOURCE_IMAP);
	assert_string_equal(c->sources[0].name, "news");
	assert_int_equal(c->sources[0].tls, IMAP_TLS_STARTTLS);
	assert_int_equal(c->sources[0].port, 143);
	assert_int_equal(c->sources[0].idle_interval_s, 300);
	assert_string_equal(c->sources[0].mailbox, "INBOX");
	assert_int_equal(c->sources[1].kind, SOURCE_MAILDIR);
	assert_string_equal(c->sources[1].name, "maildir");
	config_free(c);
}

static void test_config_environment_overrides_url(void **state)
{
	struct config *c = NULL;
	char *why = NULL;

	write_config("[database]\nurl = mysql://file@h/d\n");
	setenv("DATABASE_URL", "mysql://env@h/d", 1);
	assert_int_equal(config_load(path, &c, &why), 0);
	assert_string_equal(c->database.url, "mysql://env@h/d");
	unsetenv("DATABASE_URL");
	config_free(c);
}

struct bad {
	const char *text;
	int line;
	const char *reason;
};

static const struct bad bads[] = {
    {"[database]\nurl = x\nbogus = 1\n", 3, "[database] bogus: unknown key"},
    {"[database]\nconnect_attempts = many\n", 2,
     "[database] connect_attempts: 'many' is not a valid number"},
    {"[database]\nconnect_attempts = 0\n", 2, "out of range (1-1000)"},
    {"[log]\nlevel = loud\n", 2, "[log] level: 'loud' is not one of"},
    {"\n[nonsense]\nx = 1\n", 3, "[nonsense]: unknown section"},
    {"[database]\nthis line is wrong\n", 2, "syntax error"},
    {"url = x\n", 1, "key outside of any section"},
    {"[imap a]\nhost = h\nafter = delete\n", 3, "[imap a] after: 'delete' is not one of"},
    {"[parser]\nmatch_threshold = 1.5\n", 2, "not a number from 0 to 1"},
    {"[parser]\nmax_message_size = 25X\n", 2, "not a valid size"},
    {"[database]\nlock_timeout = 1500ms\n", 2, "not a whole number of seconds"},
};

static void test_config_errors_name_file_line_and_key(void **state)
{
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		struct config *c = NULL;
		char *why = NULL, want[512];

		write_config(bads[i].text);
		assert_int_equal(config_load(path, &c, &why), -EINVAL);
		assert_null(c);
		assert_non_null(why);
		snprintf(want, sizeof(want), "%s:%d: ", path, bads[i].line);
		if (strncmp(why, want, strlen(want)) != 0 || !strstr(why, bads[i].reason))
			fail_msg("case %zu: got '%s', want '%s...%s'", i, why, want,
				 bads[i].reason);
		free(why);
	}
}

/* Only the first error is reported, once, whatever follows it. */
static void test_config_first_error_only(void **state)
{
	struct config *c = NULL;
	char *why = NULL, want[512];

	write_config("[database]\nconnect_attempts = ten\nconnect_timeout = x\n[log]\nlevel = y\n");
	assert_int_equal(config_load(path, &c, &why), -EINVAL);
	snprintf(want, sizeof(want),
		 "%s:2: [database] connect_attempts: 'ten' is not a valid number", path);
	assert_string_equal(why, want);
	free(why);
}

static void test_config_source_needs_its_keys(void **state)
{
	struct config *c = NULL;
	char *why = NULL;

	write_config("[imap work]\nhost = h\n");
	assert_int_equal(config_load(path, &c, &why), -EINVAL);
	assert_non_null(strstr(why, "[imap work] has no user"));
	free(why);
}

static void test_config_missing_file(void **state)
{
	struct config *c = NULL;
	char *why = NULL;

	assert_int_equal(config_load("/nonexistent/divemap.conf", &c, &why), -ENOENT);
	assert_non_null(strstr(why, "/nonexistent/divemap.conf: cannot open"));
	free(why);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_config_full_file),
	    cmocka_unit_test(test_config_environment_overrides_url),
	    cmocka_unit_test(test_config_errors_name_file_line_and_key),
	    cmocka_unit_test(test_config_first_error_only),
	    cmocka_unit_test(test_config_source_needs_its_keys),
	    cmocka_unit_test(test_config_missing_file),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

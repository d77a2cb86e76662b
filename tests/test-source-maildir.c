/* Tests of the maildir source (src/source-maildir.c) on a scratch maildir. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "source-maildir.h"
#include "source.h"

struct md_fixture {
	char dir[64];
};

static void put_file(const char *dir, const char *rel, const char *content)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(content, f);
	assert_int_equal(fclose(f), 0);
}

static bool exists(const char *dir, const char *rel)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	return access(p, F_OK) == 0;
}

static int setup(void **state)
{
	struct md_fixture *fx = calloc(1, sizeof(*fx));
	static const char *const sub[] = {"cur", "new", "tmp"};
	char p[128];

	snprintf(fx->dir, sizeof(fx->dir), "/tmp/test-maildir-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s/%s", fx->dir, sub[i]);
		assert_int_equal(mkdir(p, 0700), 0);
	}
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct md_fixture *fx = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	assert_int_equal(system(cmd), 0);
	free(fx);
	return 0;
}

static void test_maildir_drop_fetch_ack_moves_to_cur_with_s(void **state)
{
	struct md_fixture *fx = *state;
	struct source *s = NULL;
	struct source_msg m;
	char *why = NULL;

	put_file(fx->dir, "new/1000.M1.host", "Subject: one\r\n\r\nbody one\r\n");
	put_file(fx->dir, "new/1001.M2.host", "Subject: two\r\n\r\nbody two\r\n");
	assert_int_equal(source_maildir_open(fx->dir, 1 << 20, &s, &why), 0);

	assert_int_equal(source_fetch(s, &m), 1);
	assert_string_equal(m.kind, "maildir");
	assert_string_equal(m.ref, "1000.M1.host");
	assert_int_equal(m.len, strlen("Subject: one\r\n\r\nbody one\r\n"));
	assert_memory_equal(m.data, "Subject: one", 12);
	assert_int_equal(m.full_size, 0);
	assert_int_equal(source_ack(s, &m), 0);
	assert_false(exists(fx->dir, "new/1000.M1.host"));
	assert_true(exists(fx->dir, "cur/1000.M1.host:2,S"));

	/* the second is fetched and never acked: it stays in new/ */
	assert_int_equal(source_fetch(s, &m), 1);
	assert_string_equal(m.ref, "1001.M2.host");
	assert_int_equal(source_fetch(s, &m), 0);
	assert_true(exists(fx->dir, "new/1001.M2.host"));
	source_close(s);

	/* ...and the next run gets it again */
	assert_int_equal(source_maildir_open(fx->dir, 1 << 20, &s, &why), 0);
	assert_int_equal(source_fetch(s, &m), 1);
	assert_string_equal(m.ref, "1001.M2.host");
	assert_int_equal(source_fetch(s, &m), 0);
	source_close(s);
}

static void test_maildir_tmp_ignored_until_renamed_into_new(void **state)
{
	struct md_fixture *fx = *state;
	struct source *s = NULL;
	struct source_msg m;
	char *why = NULL, a[128], b[128];

	put_file(fx->dir, "tmp/2000.M1.host", "Subject: in delivery\r\n\r\nx\r\n");
	assert_int_equal(source_maildir_open(fx->dir, 1 << 20, &s, &why), 0);
	assert_int_equal(source_fetch(s, &m), 0);

	/* a watched source rescans when woken; here: reopen the scan by hand */
	snprintf(a, sizeof(a), "%s/tmp/2000.M1.host", fx->dir);
	snprintf(b, sizeof(b), "%s/new/2000.M1.host", fx->dir);
	assert_int_equal(rename(a, b), 0);
	source_maildir_set_options(s, false, 0); /* marks the source for a rescan */
	assert_int_equal(source_fetch(s, &m), 1);
	assert_string_equal(m.ref, "2000.M1.host");
	assert_int_equal(source_ack(s, &m), 0);
	assert_true(exists(fx->dir, "cur/2000.M1.host:2,S"));
	source_close(s);
}

static void test_maildir_ack_of_vanished_message_is_no_error(void **state)
{
	struct md_fixture *fx = *state;
	struct source *s = NULL;
	struct source_msg m;
	char *why = NULL, p[128];

	put_file(fx->dir, "new/3000.M1.host", "Subject: x\r\n\r\nx\r\n");
	assert_int_equal(source_maildir_open(fx->dir, 1 << 20, &s, &why), 0);
	assert_int_equal(source_fetch(s, &m), 1);
	snprintf(p, sizeof(p), "%s/new/3000.M1.host", fx->dir);
	assert_int_equal(unlink(p), 0); /* another consumer took it */
	assert_int_equal(source_ack(s, &m), 0);
	source_close(s);
}

static void test_maildir_watch_cur_takes_unseen_and_keeps_flags(void **state)
{
	struct md_fixture *fx = *state;
	struct source *s = NULL;
	struct source_msg m;
	char *why = NULL;

	put_file(fx->dir, "cur/4000.M1.host:2,S", "Subject: seen\r\n\r\nx\r\n");
	put_file(fx->dir, "cur/4001.M2.host:2,FR", "Subject: flagged\r\n\r\nx\r\n");
	assert_int_equal(source_maildir_open(fx->dir, 1 << 20, &s, &why), 0);
	assert_int_equal(source_fetch(s, &m), 0); /* cur/ is not read by default */
	source_maildir_set_options(s, true, 0);
	assert_int_equal(source_fetch(s, &m), 1);
	assert_string_equal(m.ref, "4001.M2.host:2,FR");
	assert_int_equal(source_fetch(s, &m), 0);
	assert_int_equal(source_ack(s, &m), 0);
	assert_true(exists(fx->dir, "cur/4001.M2.host:2,FRS"));
	source_close(s);
}

static void test_maildir_oversize_message_is_cut(void **state)
{
	struct md_fixture *fx = *state;
	struct source *s = NULL;
	struct source_msg m;
	char *why = NULL, big[5000];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	put_file(fx->dir, "new/5000.M1.host", big);
	assert_int_equal(source_maildir_open(fx->dir, 1000, &s, &why), 0);
	assert_int_equal(source_fetch(s, &m), 1);
	assert_int_equal(m.len, 1000);
	assert_int_equal(m.full_size, 4999);
	source_close(s);
}

static void on_wake(struct source *s, void *userdata)
{
	(*(int *)userdata)++;
}

static void test_maildir_watch_wakes_on_rename_into_new(void **state)
{
	struct md_fixture *fx = *state;
	struct source *s = NULL;
	struct source_msg m;
	sd_event *e = NULL;
	char *why = NULL, a[128], b[128];
	int woken = 0;

	assert_int_equal(sd_event_new(&e), 0);
	assert_int_equal(source_maildir_open(fx->dir, 1 << 20, &s, &why), 0);
	assert_int_equal(s->driver->watch(s, e, on_wake, &woken), 0);
	assert_int_equal(source_fetch(s, &m), 0);
	put_file(fx->dir, "tmp/6000.M1.host", "Subject: late\r\n\r\nx\r\n");
	assert_int_equal(sd_event_run(e, 200000), 0); /* tmp/ is not watched */
	assert_int_equal(woken, 0);
	snprintf(a, sizeof(a), "%s/tmp/6000.M1.host", fx->dir);
	snprintf(b, sizeof(b), "%s/new/6000.M1.host", fx->dir);
	assert_int_equal(rename(a, b), 0);
	assert_true(sd_event_run(e, 2000000) > 0);
	assert_int_equal(woken, 1);
	assert_int_equal(source_fetch(s, &m), 1);
	assert_string_equal(m.ref, "6000.M1.host");
	assert_int_equal(source_ack(s, &m), 0);
	source_close(s);
	sd_event_unref(e);
}

static void test_maildir_not_a_maildir(void **state)
{
	struct md_fixture *fx = *state;
	struct source *s = NULL;
	char *why = NULL, p[128];

	snprintf(p, sizeof(p), "%s/tmp", fx->dir);
	assert_int_equal(source_maildir_open(p, 0, &s, &why), -ENOTDIR);
	assert_non_null(why);
	assert_non_null(strstr(why, "not a maildir"));
	free(why);
	why = NULL;
	assert_int_equal(source_maildir_open("/nonexistent/md", 0, &s, &why), -ENOENT);
	assert_non_null(why);
	free(why);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_maildir_drop_fetch_ack_moves_to_cur_with_s, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_maildir_tmp_ignored_until_renamed_into_new, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_maildir_ack_of_vanished_message_is_no_error, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_maildir_watch_cur_takes_unseen_and_keeps_flags,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_maildir_oversize_message_is_cut, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_maildir_watch_wakes_on_rename_into_new, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_maildir_not_a_maildir, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

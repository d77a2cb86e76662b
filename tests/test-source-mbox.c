/* Unit tests of the file sources (src/source.c, source-mbox.c, source-eml.c):
 * each case writes a mailbox to a temporary file and reads it back. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "source.h"

struct got {
	char *data[8];
	size_t len[8];
	char *ref[8];
	size_t full_size[8];
	size_t n;
};

static void got_done(struct got *g)
{
	for (size_t i = 0; i < g->n; i++) {
		free(g->data[i]);
		free(g->ref[i]);
	}
}

static char *write_temp(const char *content, size_t len)
{
	char *path = strdup("/tmp/test-source-mbox-XXXXXX");
	int fd;

	assert_non_null(path);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, len), (ssize_t)len);
	close(fd);
	return path;
}

/* Reads every message of content through source_open_path; *ret_path is the file. */
static void read_all(const char *content, size_t max, struct got *g, char **ret_path)
{
	char *path = write_temp(content, strlen(content));
	struct source *s = NULL;
	struct source_msg m;
	char *why = NULL;
	int r;

	memset(g, 0, sizeof(*g));
	assert_int_equal(source_open_path(path, max, &s, &why), 0);
	assert_null(why);
	while ((r = source_fetch(s, &m)) > 0) {
		assert_true(g->n < 8);
		g->data[g->n] = strndup(m.data, m.len);
		g->len[g->n] = m.len;
		g->ref[g->n] = strdup(m.ref);
		g->full_size[g->n] = m.full_size;
		g->n++;
	}
	assert_int_equal(r, 0);
	source_close(s);
	*ret_path = path;
}

static void assert_ref(const struct got *g, size_t i, const char *path, uint64_t offset)
{
	char want[256];

	snprintf(want, sizeof(want), "%s:%" PRIu64, path, offset);
	assert_string_equal(g->ref[i], want);
}

static void test_mbox_from_splitting(void **state)
{
	static const char box[] = "From a@example.org Mon Jan  1 00:00:00 2024\n"
				  "Subject: one\n"
				  "\n"
				  "body one\n"
				  "From the start of a line, not after a blank one\n"
				  "\n"
				  "From b@example.org Mon Jan  1 00:00:01 2024\n"
				  "Subject: two\n"
				  "\n"
				  "body two\n"
				  "\n";
	struct got g;
	char *path;

	read_all(box, 1 << 20, &g, &path);
	assert_int_equal(g.n, 2);
	assert_string_equal(g.data[0], "Subject: one\n\nbody one\n"
				       "From the start of a line, not after a blank one\n");
	assert_string_equal(g.data[1], "Subject: two\n\nbody two\n");
	assert_ref(&g, 0, path, 0);
	assert_ref(&g, 1, path, strstr(box, "From b@") - box);
	assert_int_equal(g.full_size[0], 0);
	unlink(path);
	free(path);
	got_done(&g);
}

static void test_mbox_from_unescaping(void **state)
{
	static const char box[] = "From a@example.org Mon Jan  1 00:00:00 2024\n"
				  "Subject: quoting\n"
				  "\n"
				  ">From here\n"
				  ">>From there\n"
				  ">Fromage is not escaped\n"
				  "> From neither\n"
				  "\n";
	struct got g;
	char *path;

	read_all(box, 1 << 20, &g, &path);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.data[0], "Subject: quoting\n\nFrom here\n>From there\n"
				       ">Fromage is not escaped\n> From neither\n");
	unlink(path);
	free(path);
	got_done(&g);
}

static void test_mbox_blank_lines_kept(void **state)
{
	static const char box[] = "From a Mon Jan  1 00:00:00 2024\n"
				  "A: 1\n\nx\n\n\n\n"
				  "From b Mon Jan  1 00:00:00 2024\n"
				  "B: 2\n\ny\n";
	struct got g;
	char *path;

	read_all(box, 1 << 20, &g, &path);
	assert_int_equal(g.n, 2);
	assert_string_equal(g.data[0], "A: 1\n\nx\n\n\n");
	assert_string_equal(g.data[1], "B: 2\n\ny\n");
	unlink(path);
	free(path);
	got_done(&g);
}

static void test_mbox_crlf(void **state)
{
	static const char box[] = "From a Mon Jan  1 00:00:00 2024\r\n"
				  "Subject: one\r\n"
				  "\r\n"
				  ">From crlf\r\n"
				  "\r\n"
				  "From b Mon Jan  1 00:00:00 2024\r\n"
				  "Subject: two\r\n"
				  "\r\n"
				  "two\r\n"
				  "\r\n";
	struct got g;
	char *path;

	read_all(box, 1 << 20, &g, &path);
	assert_int_equal(g.n, 2);
	assert_string_equal(g.data[0], "Subject: one\r\n\r\nFrom crlf\r\n");
	assert_string_equal(g.data[1], "Subject: two\r\n\r\ntwo\r\n");
	assert_ref(&g, 1, path, strstr(box, "From b") - box);
	unlink(path);
	free(path);
	got_done(&g);
}

static void test_mbox_message_over_bound(void **state)
{
	size_t big = 300000, max = 1024;
	char *box = malloc(big + 256);
	struct got g;
	char *path;
	size_t n = 0;

	assert_non_null(box);
	n += (size_t)snprintf(box, 256, "From a Mon Jan  1 00:00:00 2024\nSubject: big\n\n");
	for (size_t i = 0; i < big; i++)
		box[n++] = (i % 100 == 99) ? '\n' : 'x';
	n += (size_t)snprintf(box + n, 256, "\nFrom b Mon Jan  1 00:00:00 2024\nS: small\n\nok\n");
	box[n] = '\0';
	read_all(box, max, &g, &path);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.len[0], max);
	assert_int_equal(g.full_size[0], strlen("Subject: big\n\n") + big);
	assert_memory_equal(g.data[0], "Subject: big\n\nxxx", 17);
	assert_string_equal(g.data[1], "S: small\n\nok\n");
	assert_int_equal(g.full_size[1], 0);
	assert_ref(&g, 1, path, strstr(box, "From b") - box);
	unlink(path);
	free(path);
	free(box);
	got_done(&g);
}

static void test_mbox_long_line(void **state)
{
	size_t big = 600000; /* longer than the read chunk, no newline inside */
	char *box = malloc(big + 256);
	struct got g;
	char *path;
	size_t n = 0;

	assert_non_null(box);
	n += (size_t)snprintf(box, 256, "From a Mon Jan  1 00:00:00 2024\nS: long\n\n");
	memset(box + n, 'y', big);
	n += big;
	n += (size_t)snprintf(box + n, 256, "\n\nFrom b Mon Jan  1 00:00:00 2024\nS: 2\n");
	box[n] = '\0';
	read_all(box, 1 << 20, &g, &path);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.len[0], strlen("S: long\n\n") + big + 1);
	assert_int_equal(g.data[0][g.len[0] - 1], '\n');
	assert_string_equal(g.data[1], "S: 2\n");
	unlink(path);
	free(path);
	free(box);
	got_done(&g);
}

static void test_mbox_no_trailing_newline(void **state)
{
	static const char box[] = "From a Mon Jan  1 00:00:00 2024\n"
				  "Subject: one\n\nlast line without newline";
	struct got g;
	char *path;

	read_all(box, 1 << 20, &g, &path);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.data[0], "Subject: one\n\nlast line without newline");
	unlink(path);
	free(path);
	got_done(&g);
}

static void test_empty_file(void **state)
{
	struct got g;
	char *path;

	/* an empty file is one empty message (not an mbox) */
	read_all("", 1 << 20, &g, &path);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.len[0], 0);
	assert_string_equal(g.ref[0], path);
	unlink(path);
	free(path);
	got_done(&g);
}

static void test_mbox_separator_only(void **state)
{
	struct got g;
	char *path;

	read_all("From a Mon Jan  1 00:00:00 2024\n", 1 << 20, &g, &path);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.len[0], 0);
	unlink(path);
	free(path);
	got_done(&g);
}

static void test_eml_whole_file(void **state)
{
	static const char eml[] = "Subject: x\r\n\r\nFrom here on, no mbox\r\n";
	struct got g;
	char *path;

	read_all(eml, 1 << 20, &g, &path);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.data[0], eml);
	assert_string_equal(g.ref[0], path);
	unlink(path);
	free(path);
	got_done(&g);
}

static void test_eml_over_bound(void **state)
{
	char eml[5000];
	struct got g;
	char *path;

	memset(eml, 'z', sizeof(eml) - 1);
	eml[sizeof(eml) - 1] = '\0';
	read_all(eml, 1024, &g, &path);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.len[0], 1024);
	assert_int_equal(g.full_size[0], sizeof(eml) - 1);
	unlink(path);
	free(path);
	got_done(&g);
}

static void test_corpus_mbox(void **state)
{
	const char *top = getenv("top_srcdir");
	char path[4096];
	struct source *s = NULL;
	struct source_msg m;
	char *why = NULL;
	size_t n = 0;
	int r;

	snprintf(path, sizeof(path), "%s/tests/corpus/all.mbox", top ? top : ".");
	assert_int_equal(source_open_path(path, 25 << 20, &s, &why), 0);
	while ((r = source_fetch(s, &m)) > 0) {
		assert_true(m.len > 0);
		assert_memory_equal(m.kind, "mbox", 5);
		assert_true(strstr(m.data, "\nMessage-ID:") || strstr(m.data, "\nMessage-Id:"));
		n++;
	}
	assert_int_equal(r, 0);
	assert_true(n >= 30);
	source_close(s);
}

static void test_maildir(void **state)
{
	char dir[] = "/tmp/test-source-maildir-XXXXXX", path[512];
	struct source *s = NULL;
	struct source_msg m;
	char *why = NULL;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	for (const char *const *sub = (const char *const[]){"cur", "new", "tmp", NULL}; *sub;
	     sub++) {
		snprintf(path, sizeof(path), "%s/%s", dir, *sub);
		assert_int_equal(mkdir(path, 0700), 0);
	}
	snprintf(path, sizeof(path), "%s/new/1700000000.M1P1.host", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("From here: not an mbox\nSubject: m\n\nbody\n", f);
	fclose(f);
	assert_int_equal(source_open_path(dir, 1 << 20, &s, &why), 0);
	assert_int_equal(source_fetch(s, &m), 1);
	assert_string_equal(m.kind, "maildir");
	assert_memory_equal(m.data, "From here", 9);
	assert_int_equal(source_fetch(s, &m), 0);
	source_close(s);
	unlink(path);
	for (const char *const *sub = (const char *const[]){"cur", "new", "tmp", NULL}; *sub;
	     sub++) {
		snprintf(path, sizeof(path), "%s/%s", dir, *sub);
		rmdir(path);
	}
	rmdir(dir);
}

static void test_directory_is_refused(void **state)
{
	struct source *s = NULL;
	char *why = NULL;

	assert_int_equal(source_open_path("/", 1024, &s, &why), -EISDIR);
	assert_non_null(why);
	assert_non_null(strstr(why, "not a maildir"));
	free(why);
	assert_int_equal(source_open_path("/nonexistent/x.eml", 1024, &s, &why), -ENOENT);
	assert_non_null(why);
	free(why);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mbox_from_splitting),
	    cmocka_unit_test(test_mbox_from_unescaping),
	    cmocka_unit_test(test_mbox_blank_lines_kept),
	    cmocka_unit_test(test_mbox_crlf),
	    cmocka_unit_test(test_mbox_message_over_bound),
	    cmocka_unit_test(test_mbox_long_line),
	    cmocka_unit_test(test_mbox_no_trailing_newline),
	    cmocka_unit_test(test_empty_file),
	    cmocka_unit_test(test_mbox_separator_only),
	    cmocka_unit_test(test_eml_whole_file),
	    cmocka_unit_test(test_eml_over_bound),
	    cmocka_unit_test(test_corpus_mbox),
	    cmocka_unit_test(test_maildir),
	    cmocka_unit_test(test_directory_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

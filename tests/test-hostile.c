/* test-hostile: hostile mail through the pure pipeline (pipeline_run) and,
 * for a bad rule, the extractor. Each case runs in a child process with a
 * deadline, so a crash or a hang fails that case and the next still runs;
 * the child prints its outcome, CPU time and peak memory (getrusage), the
 * parent the wall time. DIVEMAP_TEST_SCALE=N divides the big sizes by N
 * (valgrind runs use it). */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "buf.h"
#include "extract.h"
#include "pipeline.h"
#include "rules.h"
#include "strutil.h"

#define CASE_DEADLINE_S 120

static struct pipeline *pipe_;
static char rules_dir[4096];
static size_t scale = 1;

/* What a case tells: 0 or the negative errno of the run, and a line. */
struct outcome {
	int r;
	char what[240];
};

typedef void (*case_fn)(struct outcome *o);

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void say(struct outcome *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(o->what, sizeof(o->what), fmt, ap);
	va_end(ap);
}

/* Runs fn in a child; returns its outcome, fails on a crash or a hang. */
static struct outcome run_case(const char *name, case_fn fn)
{
	struct outcome o = {0};
	int fds[2], status;
	double t0 = now_s();
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	fflush(stdout);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rusage ru;
		struct outcome mine = {0};

		close(fds[0]);
		alarm(CASE_DEADLINE_S);
		fn(&mine);
		getrusage(RUSAGE_SELF, &ru);
		printf("  %-26s cpu %6.2f s, peak rss %7.1f MiB: %s\n", name,
		       (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
			   (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6,
		       (double)ru.ru_maxrss / 1024.0, mine.what);
		fflush(stdout);
		if (write(fds[1], &mine, sizeof(mine)) != (ssize_t)sizeof(mine))
			_exit(3);
		_exit(0);
	}
	close(fds[1]);
	ssize_t n = read(fds[0], &o, sizeof(o));
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	printf("  %-26s wall %6.2f s\n", name, now_s() - t0);
	if (WIFSIGNALED(status))
		fail_msg("%s: killed by signal %d%s", name, WTERMSIG(status),
			 WTERMSIG(status) == SIGALRM ? " (over the deadline: a hang)" : "");
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(n, (ssize_t)sizeof(o));
	return o;
}

/* pipeline_run on raw; the outcome names the result: status, warnings, the
 * size of the text kept, or the reason of a refusal. */
static void run_pipeline(const char *raw, size_t len, struct outcome *o, json_t **ret_root)
{
	char *json = NULL, *why = NULL;

	o->r = pipeline_run(pipe_, raw, len, &json, &why);
	if (o->r < 0) {
		errno = -o->r;
		say(o, "refused (%m): %s", why ? why : "(no reason)");
		if (!why)
			o->r = -999; /* a refusal must say why */
	} else {
		json_error_t err;
		json_t *root = json_loads(json, 0, &err);
		json_t *w = json_object_get(root, "warnings");
		char *ws = w ? json_dumps(w, JSON_COMPACT) : NULL;
		json_t *text = json_object_get(root, "text");

		say(o, "status %s, %zu bytes of text, warnings %s",
		    json_string_value(json_object_get(root, "status")) ?: "?",
		    text ? json_string_length(text) : 0, ws ? ws : "?");
		free(ws);
		if (ret_root)
			*ret_root = root;
		else
			json_decref(root);
	}
	free(json);
	free(why);
}

static char *message(const char *headers, const char *body, size_t body_len, size_t *ret_len)
{
	size_t hl = strlen(headers);
	char *m = malloc(hl + body_len + 1);

	assert_non_null(m);
	memcpy(m, headers, hl);
	memcpy(m + hl, body, body_len);
	m[hl + body_len] = '\0';
	*ret_len = hl + body_len;
	return m;
}

#define HDR                                                                                        \
	"From: Dive Center <info@dive.example>\r\n"                                                \
	"To: list@example.com\r\n"                                                                 \
	"Date: Mon, 7 Jul 2025 10:00:00 +0300\r\n"                                                 \
	"Message-ID: <hostile@dive.example>\r\n"                                                   \
	"MIME-Version: 1.0\r\n"

static void case_long_line(struct outcome *o)
{
	size_t n = (50u << 20) / scale, len;
	char *body = malloc(n);
	char *m;

	assert_non_null(body);
	for (size_t i = 0; i < n; i++)
		body[i] = "Saturday 12/7 Blue Hole 9:00 40 EUR "[i % 36];
	m = message(HDR "Subject: one line\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n",
		    body, n, &len);
	free(body);
	run_pipeline(m, len, o, NULL);
	free(m);
}

static void case_nested_multipart(struct outcome *o)
{
	unsigned depth = 10000;
	struct buf b = BUF_INIT(64u << 20);
	size_t len;
	char *m;

	for (unsigned i = 0; i < depth; i++)
		assert_int_equal(
		    buf_printf(&b,
			       "Content-Type: multipart/mixed; boundary=\"b%u\"\r\n\r\n"
			       "--b%u\r\n",
			       i, i),
		    0);
	assert_int_equal(buf_puts(&b, "Content-Type: text/plain\r\n\r\nSunday 13/7 wreck dive\r\n"),
			 0);
	for (unsigned i = depth; i-- > 0;)
		assert_int_equal(buf_printf(&b, "--b%u--\r\n", i), 0);
	m = message(HDR "Subject: deep\r\n", b.data, b.len, &len);
	buf_done(&b);
	run_pipeline(m, len, o, NULL);
	free(m);
}

static void case_nested_html(struct outcome *o)
{
	unsigned depth = 100000;
	struct buf b = BUF_INIT(64u << 20);
	size_t len;
	char *m;

	assert_int_equal(buf_puts(&b, "<html><body>"), 0);
	for (unsigned i = 0; i < depth; i++)
		assert_int_equal(buf_puts(&b, i % 2 ? "<div>" : "<span>"), 0);
	assert_int_equal(buf_puts(&b, "Saturday 12/7 Blue Hole"), 0);
	for (unsigned i = depth; i-- > 0;)
		assert_int_equal(buf_puts(&b, i % 2 ? "</div>" : "</span>"), 0);
	assert_int_equal(buf_puts(&b, "<p>Sunday 13/7 wreck dive 9:00</p></body></html>"), 0);
	m = message(HDR "Subject: deep html\r\nContent-Type: text/html; charset=utf-8\r\n\r\n",
		    b.data, b.len, &len);
	buf_done(&b);
	run_pipeline(m, len, o, NULL);
	free(m);
}

static void case_bad_bytes(struct outcome *o)
{
	static const char raw[] =
	    "From: Dive \xff\xfe Center <info@dive.example>\r\n"
	    "Date: Mon, 7 Jul 2025 10:00:00 +0300\r\n"
	    "Subject: Sa\0turday \xc3\x28 \xed\xa0\x80 \xf8\x88\x80\x80\x80\r\n"
	    "Message-ID: <nul\0@dive.example>\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n\r\n"
	    "Saturday 12/7\0 Blue \xc0\xaf Hole 9:00 \xff 40 EUR\r\n\0\0\0\r\n";
	json_t *root = NULL;

	run_pipeline(raw, sizeof(raw) - 1, o, &root);
	if (root) {
		const char *t = json_string_value(json_object_get(root, "text"));

		/* the text handed on is valid UTF-8 without NUL (jansson
		 * accepted it; a NUL would end t before its length) */
		if (t && strlen(t) != json_string_length(json_object_get(root, "text")))
			o->r = -998;
		json_decref(root);
	}
}

static void case_unknown_charset(struct outcome *o)
{
	size_t len;
	static const char body[] = "Saturday 12/7 Blue Hole 9:00 40 EUR \xe1\xe2\xe3\r\n";
	char *m = message(HDR "Subject: =?x-klingon?Q?qapla=E1?=\r\n"
			      "Content-Type: text/plain; charset=x-klingon\r\n\r\n",
			  body, sizeof(body) - 1, &len);

	run_pipeline(m, len, o, NULL);
	free(m);
	if (o->r == 0 && !strstr(o->what, "unknown_charset"))
		o->r = -997;
}

static void case_huge_base64(struct outcome *o)
{
	size_t n = (20u << 20) / scale; /* 20 MiB of base64: 15 MiB decoded */
	struct buf b = BUF_INIT(64u << 20);
	size_t len;
	char *m;

	assert_int_equal(buf_puts(&b, "Content-Type: multipart/mixed; boundary=\"B\"\r\n\r\n--B\r\n"
				      "Content-Type: text/plain; charset=utf-8\r\n\r\n"
				      "Saturday 12/7 Blue Hole 9:00 40 EUR\r\n--B\r\n"
				      "Content-Type: text/plain; charset=utf-8\r\n"
				      "Content-Transfer-Encoding: base64\r\n\r\n"),
			 0);
	for (size_t i = 0; i < n; i += 78)
		assert_int_equal(buf_puts(&b,
					  "U3VuZGF5IDEzLzcgd3JlY2sgZGl2ZSA5OjAwIDQ1IEVVUiBTdW5kYXkg"
					  "MTMvNyB3cmVjayBkaXZl\r\n"),
				 0);
	assert_int_equal(buf_puts(&b, "--B--\r\n"), 0);
	m = message(HDR "Subject: big base64\r\n", b.data, b.len, &len);
	buf_done(&b);
	run_pipeline(m, len, o, NULL);
	free(m);
}

static void case_long_message_id(struct outcome *o)
{
	size_t n = 200000, len;
	struct buf b = BUF_INIT(1u << 20);
	char *m;

	assert_int_equal(buf_puts(&b, "From: info@dive.example\r\nSubject: long id\r\n"
				      "Date: Mon, 7 Jul 2025 10:00:00 +0300\r\nMessage-ID: <"),
			 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(buf_putc(&b, 'a' + (char)(i % 26)), 0);
	assert_int_equal(buf_puts(&b, "@dive.example>\r\nContent-Type: text/plain\r\n\r\n"
				      "Saturday 12/7 Blue Hole 9:00\r\n"),
			 0);
	m = message("", b.data, b.len, &len);
	buf_done(&b);
	run_pipeline(m, len, o, NULL);
	free(m);
}

static void case_sql_and_script(struct outcome *o)
{
	static const char body[] =
	    "<html><head><script>alert('x')</script><style>p{}</style></head><body>"
	    "<p>Saturday 12/7 Robert'); DROP TABLE newsletters;-- 9:00</p>"
	    "<p onclick=\"evil()\">Blue Hole' OR '1'='1 \\\" %s %n 40 EUR</p>"
	    "<script>document.write('<p>Sunday 13/7 fake trip</p>')</script>"
	    "<iframe src=\"javascript:alert(1)\"></iframe><img src=x onerror=alert(1)>"
	    "</body></html>\r\n";
	size_t len;
	json_t *root = NULL;
	char *m = message(HDR "Subject: '; DELETE FROM dive_trips; --\r\n"
			      "Content-Type: text/html; charset=utf-8\r\n\r\n",
			  body, sizeof(body) - 1, &len);

	run_pipeline(m, len, o, &root);
	free(m);
	if (root) {
		const char *t = json_string_value(json_object_get(root, "text"));

		/* script content is dropped; the SQL-looking text is kept as
		 * text (it is data, stored through placeholders) */
		if (!t || strstr(t, "alert") || strstr(t, "fake trip") || !strstr(t, "DROP TABLE"))
			o->r = -996;
		json_decref(root);
	}
}

/* A rule with nested quantifiers (an override file) against a line made to
 * backtrack: PCRE2's match limit stops it, the extractor warns. */
static void case_nested_quantifiers(struct outcome *o)
{
	char tmpl[] = "/tmp/hostile-rules-XXXXXX", path[4200], *why = NULL;
	struct rules *rules = NULL;
	struct extract_result *res = NULL;
	struct extract_input in = {.ref = {2025, 7, 7}};
	char line[5000];
	FILE *f;

	assert_non_null(mkdtemp(tmpl));
	snprintf(path, sizeof(path), "%s/zz-local.rules", tmpl);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("[rules]\nlocal.hostile.nested   ignore   (?:(?:a|aa)+)+$\n", f);
	fclose(f);
	assert_int_equal(rules_load(rules_dir, tmpl, &rules, &why), 0);
	unlink(path);
	rmdir(tmpl);
	memset(line, 'a', sizeof(line) - 3);
	line[sizeof(line) - 3] = '!';
	line[sizeof(line) - 2] = '\n';
	line[sizeof(line) - 1] = '\0';
	in.text = line;
	in.len = strlen(line);
	o->r = extract_run(rules, &in, &res, &why);
	if (o->r < 0) {
		errno = -o->r;
		say(o, "extract failed (%m): %s", why ? why : "?");
	} else {
		say(o, "%zu trips, %zu warnings: %s", res->n_trips, res->n_warnings,
		    res->n_warnings ? res->warnings[0] : "(none)");
		if (res->n_warnings == 0)
			o->r = -995; /* the limit must be told, not swallowed */
	}
	extract_result_free(res);
	rules_free(rules);
	free(why);
}

/* A refusal with a reason or a result: both are clear outcomes. */
static void assert_clear(const struct outcome *o)
{
	if (o->r != 0 && o->r != -EBADMSG && o->r != -EFBIG)
		fail_msg("unclear outcome %d: %s", o->r, o->what);
}

static void test_hostile_long_line(void **state)
{
	struct outcome o = run_case("50 MB single line", case_long_line);

	assert_clear(&o);
}

static void test_hostile_nested_multipart(void **state)
{
	struct outcome o = run_case("10,000 nested multiparts", case_nested_multipart);

	assert_clear(&o);
}

static void test_hostile_nested_html(void **state)
{
	struct outcome o = run_case("100,000 nested HTML", case_nested_html);

	/* what libxml2 could not read is not dropped silently */
	assert_int_equal(o.r, 0);
	assert_non_null(strstr(o.what, "\"truncated\""));
}

static void test_hostile_bad_bytes(void **state)
{
	struct outcome o = run_case("bad UTF-8 and NULs", case_bad_bytes);

	assert_clear(&o);
}

static void test_hostile_unknown_charset(void **state)
{
	struct outcome o = run_case("unknown charset", case_unknown_charset);

	assert_int_equal(o.r, 0);
}

static void test_hostile_huge_base64(void **state)
{
	struct outcome o = run_case("huge base64 part", case_huge_base64);

	assert_clear(&o);
}

static void test_hostile_long_message_id(void **state)
{
	struct outcome o = run_case("200 KB Message-ID", case_long_message_id);

	assert_clear(&o);
}

static void test_hostile_sql_and_script(void **state)
{
	struct outcome o = run_case("SQL-looking, script", case_sql_and_script);

	assert_int_equal(o.r, 0);
}

static void test_hostile_nested_quantifiers(void **state)
{
	struct outcome o = run_case("nested quantifiers", case_nested_quantifiers);

	assert_int_equal(o.r, 0);
}

static int setup(void **state)
{
	const char *top = getenv("top_srcdir");
	const char *sc = getenv("DIVEMAP_TEST_SCALE");
	uint32_t div = 0;
	struct pipeline_settings s = {.max_message_size = 64u << 20};
	char *why = NULL;
	struct rusage ru;

	if (sc && parse_uint32(sc, &div) >= 0 && div > 1)
		scale = div;
	snprintf(rules_dir, sizeof(rules_dir), "%s/rules", top ? top : ".");
	s.rules_dir = rules_dir;
	if (pipeline_new(&s, &pipe_, &why) < 0) {
		fprintf(stderr, "pipeline_new: %s\n", why ? why : "?");
		free(why);
		return -1;
	}
	getrusage(RUSAGE_SELF, &ru);
	printf("  (rules loaded: peak rss %.1f MiB before any case; sizes divided by %zu)\n",
	       (double)ru.ru_maxrss / 1024.0, scale);
	return 0;
}

static int teardown(void **state)
{
	pipeline_free(pipe_);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hostile_long_line),
	    cmocka_unit_test(test_hostile_nested_multipart),
	    cmocka_unit_test(test_hostile_nested_html),
	    cmocka_unit_test(test_hostile_bad_bytes),
	    cmocka_unit_test(test_hostile_unknown_charset),
	    cmocka_unit_test(test_hostile_huge_base64),
	    cmocka_unit_test(test_hostile_long_message_id),
	    cmocka_unit_test(test_hostile_sql_and_script),
	    cmocka_unit_test(test_hostile_nested_quantifiers),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

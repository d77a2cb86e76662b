/* Unit tests of rule loading, validation and matching (parsers/rules*.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <getopt.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "charset.h"
#include "cleanup.h"
#include "commands.h"
#include "extract.h"
#include "message.h"
#include "mime-decode.h"
#include "rules.h"

static char *rules_dir(void)
{
	const char *top = getenv("top_srcdir");
	char *p = NULL;

	assert_true(asprintf(&p, "%s/rules", top ? top : ".") > 0);
	return p;
}

/* A fresh directory holding the given files (name, content, name, ..., NULL). */
static char *make_dir(const char *name, ...)
{
	char *dir = strdup("/tmp/test-rules-XXXXXX");
	va_list ap;

	assert_non_null(mkdtemp(dir));
	va_start(ap, name);
	for (const char *n = name; n; n = va_arg(ap, const char *)) {
		const char *content = va_arg(ap, const char *);
		_cleanup_free_ char *path = NULL;
		FILE *f;
		assert_true(asprintf(&path, "%s/%s", dir, n) > 0);
		f = fopen(path, "we");
		assert_non_null(f);
		fputs(content, f);
		fclose(f);
	}
	va_end(ap);
	return dir;
}

static void remove_dir(char *dir)
{
	_cleanup_free_ char *cmd = NULL;

	assert_true(asprintf(&cmd, "rm -rf '%s'", dir) > 0);
	assert_int_equal(system(cmd), 0);
	free(dir);
}

static void test_rules_packaged_set_loads(void **state)
{
	_cleanup_free_ char *dir = rules_dir();
	struct rules *r = NULL;
	char *err = NULL;
	const char *const *terms;
	const char *key;

	assert_int_equal(rules_load(dir, NULL, &r, &err), 0);
	assert_null(err);
	assert_true(rules_count(r) > 40);
	assert_int_equal(strlen(rules_version(r)), 64);
	for (size_t i = 0; i < rules_count(r); i++) {
		assert_non_null(rule_id(rules_get(r, i)));
		assert_non_null(rule_kind_name(rule_kind(rules_get(r, i))));
	}
	terms = rules_vocab(r, "site_term");
	assert_non_null(terms);
	bool wreck = false, navagio = false;
	for (size_t i = 0; terms[i]; i++) {
		wreck |= strcmp(terms[i], "wreck") == 0;
		navagio |= strcmp(terms[i], "ναυάγιο") == 0;
	}
	assert_true(wreck && navagio);
	assert_null(rules_vocab(r, "no_such_vocabulary"));
	/* any case, with or without accents, colloquial forms */
	static const struct {
		const char *vocab, *word, *key;
	} t[] = {
	    {"month", "ΙΑΝΟΥΑΡΙΟΥ", "1"}, {"month", "Γενάρη", "1"},
	    {"month", "Ιαν", "1"},        {"month", "αυγουστου", "8"},
	    {"month", "Sept", "9"},       {"weekday", "ΣΑΒ", "6"},
	    {"weekday", "Σαββατο", "6"},  {"weekday", "sunday", "7"},
	    {"relday", "ΑΥΡΙΟ", "1"},     {"level", "aowd", "ADVANCED_OPEN_WATER"},
	};
	for (size_t i = 0; i < ELEMENTSOF(t); i++) {
		assert_int_equal(
		    rules_vocab_lookup(r, t[i].vocab, t[i].word, strlen(t[i].word), &key), 0);
		assert_string_equal(key, t[i].key);
	}
	assert_int_equal(rules_vocab_lookup(r, "month", "Σαββατο", 14, &key), -ENOENT);
	rules_free(r);
}

static void expect_error(const char *file, const char *content, const char *want)
{
	char *dir = make_dir(file, content, NULL);
	struct rules *r = NULL;
	char *err = NULL;

	assert_true(rules_load(dir, NULL, &r, &err) < 0);
	assert_null(r);
	assert_non_null(err);
	if (!strstr(err, want))
		fail_msg("'%s' does not contain '%s'", err, want);
	free(err);
	remove_dir(dir);
}

static void test_rules_errors_name_file_and_line(void **state)
{
	expect_error("a.rules", "[rules]\n# ok\nx.one date \\d+\nx.two nosuchkind \\d+\n",
		     "a.rules:4: unknown kind 'nosuchkind'");
	expect_error("b.rules", "[rules]\nx.one time \\d+\nx.one time \\d\n",
		     "b.rules:3: duplicate rule id 'x.one'");
	expect_error("c.rules", "\n[rules]\nx.bad price (unclosed\n",
		     "c.rules:3: bad pattern in rule x.bad");
	expect_error("d.rules", "[rules]\nx.m date {nosuchvocab}\n",
		     "d.rules:2: unknown vocabulary or define '{nosuchvocab}'");
	expect_error("e.rules", "word, word\n", "e.rules:1: text outside a section");
	expect_error("f.rules", "[vocab Bad Name]\n", "f.rules:1: bad vocabulary name");
	expect_error("g.rules", "[rules]\nonly.id\n", "g.rules:2: expected ID KIND PATTERN");
	expect_error("h.rules", "[what]\n", "h.rules:1: unknown section 'what'");
}

static void test_rules_every_error_is_reported(void **state)
{
	char *dir =
	    make_dir("a.rules", "[rules]\nx.a nokind \\d\nx.b time (\n[oops]\nx.c time \\d\n",
		     "b.rules", "[rules]\nx.d date {nope}\nx.e time \\d\n", NULL);
	struct rules *r = NULL;
	char *err = NULL;

	assert_int_equal(rules_load(dir, NULL, &r, &err), -EINVAL);
	assert_non_null(strstr(err, "a.rules:2: unknown kind 'nokind'"));
	assert_non_null(strstr(err, "a.rules:3: bad pattern in rule x.b"));
	assert_non_null(strstr(err, "a.rules:4: unknown section 'oops'"));
	assert_non_null(strstr(err, "b.rules:2: unknown vocabulary or define '{nope}'"));
	assert_null(strstr(err, "x.c")); /* in the bad section: skipped, not reported */
	free(err);
	remove_dir(dir);
}

static void test_rules_empty_dir_is_an_error(void **state)
{
	char *dir = make_dir("README", "not rules", NULL);
	struct rules *r = NULL;
	char *err = NULL;

	assert_int_equal(rules_load(dir, NULL, &r, &err), -ENOENT);
	assert_non_null(strstr(err, "no *.rules files"));
	free(err);
	remove_dir(dir);
}

static void test_rules_macros_and_accents(void **state)
{
	char *dir = make_dir("x.rules",
			     "[vocab month]\n1 = Ιανουάριος, Ιανουαρίου, Γενάρη\n"
			     "[define]\nday = (?<day>\\d{1,2})\n"
			     "[rules]\nt.date date {day}\\h+{month}\nt.word notrip βουτιά\n",
			     NULL);
	struct rules *r = NULL;
	struct rule_match m;
	char *err = NULL;
	const char *s = "Σάββατο 3 ΓΕΝΑΡΗ, ΒΟΥΤΙΑ";

	assert_int_equal(rules_load(dir, NULL, &r, &err), 0);
	assert_int_equal(rules_match(r, rules_get(r, 0), s, strlen(s), 0, &m), 1);
	assert_int_equal(m.gs[RG_DAY], strlen("Σάββατο "));
	assert_int_equal(m.ge[RG_MONTH] - m.gs[RG_MONTH], strlen("ΓΕΝΑΡΗ"));
	assert_int_equal(rules_match(r, rules_get(r, 1), s, strlen(s), 0, &m), 1);
	assert_int_equal(m.start, strlen("Σάββατο 3 ΓΕΝΑΡΗ, "));
	assert_int_equal(rules_match(r, rules_get(r, 1), "no dive here", 12, 0, &m), 0);
	rules_free(r);
	remove_dir(dir);
}

static void test_rules_override_replaces_and_adds(void **state)
{
	char *dir = make_dir("a.rules",
			     "[vocab dive_word]\nβουτιά\n[rules]\nx.a time \\d\\d:\\d\\d\n", NULL);
	char *local = make_dir("local.rules",
			       "[vocab dive_word]\nplongée\n[rules]\nx.a time \\d\\d\\.\\d\\d\n"
			       "x.b price \\d+€\n",
			       NULL);
	struct rules *r = NULL, *plain = NULL;
	struct rule_match m;
	char *err = NULL;
	const char *key;

	assert_int_equal(rules_load(dir, local, &r, &err), 0);
	assert_int_equal(rules_count(r), 2);
	assert_string_equal(rule_id(rules_get(r, 0)), "x.a");
	assert_int_equal(rules_match(r, rules_get(r, 0), "at 09.30", 8, 0, &m), 1);
	assert_int_equal(rules_match(r, rules_get(r, 0), "at 09:30", 8, 0, &m), 0);
	assert_int_equal(rules_vocab_lookup(r, "dive_word", "PLONGÉE", strlen("PLONGÉE"), &key), 0);
	assert_int_equal(rules_vocab_lookup(r, "dive_word", "Βουτιά", strlen("Βουτιά"), &key), 0);
	/* the version covers the override files too */
	assert_int_equal(rules_load(dir, NULL, &plain, &err), 0);
	assert_string_not_equal(rules_version(r), rules_version(plain));
	/* a missing override directory is no error */
	rules_free(plain);
	assert_int_equal(rules_load(dir, "/nonexistent/rules.d", &plain, &err), 0);
	rules_free(plain);
	rules_free(r);
	remove_dir(dir);
	remove_dir(local);
}

static void test_rules_version_is_stable_and_content_bound(void **state)
{
	char *a = make_dir("a.rules", "[rules]\nx.a time \\d\n", NULL);
	char *b = make_dir("a.rules", "[rules]\nx.a time \\d\n", NULL);
	char *c = make_dir("a.rules", "[rules]\nx.a time \\d\\d\n", NULL);
	struct rules *ra, *rb, *rc;
	char *err = NULL;

	assert_int_equal(rules_load(a, NULL, &ra, &err), 0);
	assert_int_equal(rules_load(b, NULL, &rb, &err), 0);
	assert_int_equal(rules_load(c, NULL, &rc, &err), 0);
	assert_string_equal(rules_version(ra), rules_version(rb));
	assert_string_not_equal(rules_version(ra), rules_version(rc));
	/* SHA-256 of "[rules]\nx.a time \d\n" */
	assert_string_equal(rules_version(ra),
			    "39d1370f8d8811d34d144a1fa70f0abc4ea4b0b4f9eaf4c77c1834c92411cc42");
	rules_free(ra);
	rules_free(rb);
	rules_free(rc);
	remove_dir(a);
	remove_dir(b);
	remove_dir(c);
}

static void test_rules_match_limit_is_reported(void **state)
{
	char *dir = make_dir("evil.rules", "[rules]\nx.evil notrip (a+)+b\n", NULL);
	struct rules *r = NULL;
	struct rule_match m;
	char *err = NULL, line[64];

	/* a 'b' after the run, so that PCRE2's required-character check lets it try */
	memset(line, 'a', 40);
	memcpy(line + 40, "cb\n", 4);
	assert_int_equal(rules_load(dir, NULL, &r, &err), 0);
	rules_set_limits(r, 5000, 100);
	assert_int_equal(rules_match(r, rules_get(r, 0), line, strlen(line), 0, &m), -E2BIG);

	/* the engine reports it as a warning and goes on */
	struct extract_input in = {.text = line, .len = strlen(line), .ref = {2025, 8, 20}};
	struct extract_result *res = NULL;
	assert_int_equal(extract_run(r, &in, &res, &err), 0);
	assert_int_equal(res->n_warnings, 1);
	assert_non_null(strstr(res->warnings[0], "x.evil"));
	assert_non_null(strstr(res->warnings[0], "match limit"));
	extract_result_free(res);
	rules_free(r);
	remove_dir(dir);
}

/* `divemap-ingest rules check DIR` (src/cmd-rules.c); with a DIR it needs no
 * configuration, so this stub is never asked. */
extern const struct command command_rules;
int cli_config(struct cli *cli, const struct config **ret)
{
	return EX_CONFIG;
}

static void test_rules_check_command(void **state)
{
	_cleanup_free_ char *good = rules_dir();
	char *bad = make_dir("a.rules", "[rules]\nx.a nokind \\d\n", NULL);
	char *argv_good[] = {"rules", "check", good, NULL};
	char *argv_bad[] = {"rules", "check", bad, NULL};
	char *argv_usage[] = {"rules", "frobnicate", NULL};

	optind = 0;
	assert_int_equal(command_rules.run(3, argv_good, NULL), EX_OK);
	optind = 0;
	assert_int_equal(command_rules.run(3, argv_bad, NULL), EX_DATAERR);
	optind = 0;
	assert_int_equal(command_rules.run(2, argv_usage, NULL), EX_USAGE);
	remove_dir(bad);
}

/* The lines rules_scan_next_line() passes over hold no match: every packaged
 * rule on every line of the decoded test messages, and of their raw bytes,
 * against matching each line on its own without the filter. */
static void assert_filter_sound(const struct rules *r, const char *name, char *text, size_t len,
				size_t *lines, size_t *skipped)
{
	_cleanup_(rules_scan_freep) struct rules_scan *scan = NULL;
	size_t start = 0, line = 0;

	charset_utf8_mask(text, len);
	assert_int_equal(rules_scan_new(r, text, len, &scan), 0);
	for (size_t p = 0; p <= len; p++) {
		if (p < len && text[p] != '\n')
			continue;
		for (size_t i = 0; i < rules_count(r); i++) {
			const struct rule *rule = rules_get(r, i);
			struct rule_match m;
			bool may = rules_scan_next_line(scan, rule, line) == line;
			if (rule_crosses_lines(rule)) {
				/* once per text: a match anywhere means it is tried */
				if (line == 0 && !may &&
				    rules_match(r, rule, text, len, 0, &m) == 1)
					fail_msg(
					    "%s: rule %s matches '%.*s' but the text was ruled out",
					    name, rule_id(rule), (int)(m.end - m.start),
					    text + m.start);
				continue;
			}
			(*lines)++;
			*skipped += !may;
			if (!may && rules_match(r, rule, text, p, start, &m) == 1)
				fail_msg("%s: line %zu: rule %s matches '%.*s' but was ruled out",
					 name, line + 1, rule_id(rule), (int)(m.end - m.start),
					 text + m.start);
		}
		start = p + 1;
		line++;
	}
	assert_int_equal(line, rules_scan_lines(scan));
}

static void test_rules_scan_filter_never_hides_a_match(void **state)
{
	_cleanup_free_ char *dir = rules_dir();
	const char *top = getenv("top_srcdir");
	const char *sets[] = {"tests/corpus/messages", "tests/holdout/messages",
			      "tests/holdout2/messages"};
	const struct decode_limits lim = {0};
	struct rules *r = NULL;
	char *err = NULL;
	size_t lines = 0, skipped = 0;

	assert_int_equal(rules_load(dir, NULL, &r, &err), 0);
	for (size_t d = 0; d < ELEMENTSOF(sets); d++) {
		_cleanup_free_ char *cmd = NULL;
		char path[4096];
		FILE *ls;

		assert_true(asprintf(&cmd, "ls %s/%s/*.eml", top ? top : ".", sets[d]) > 0);
		ls = popen(cmd, "r");
		assert_non_null(ls);
		while (fgets(path, sizeof(path), ls)) {
			_cleanup_free_ char *raw = NULL;
			struct message *m = NULL;
			char *why = NULL;
			size_t len = 0;
			FILE *f;

			path[strcspn(path, "\n")] = '\0';
			f = fopen(path, "re");
			assert_non_null(f);
			assert_true(getdelim(&raw, &len, '\0', f) > 0);
			fclose(f);
			len = strlen(raw);
			assert_int_equal(mime_decode(raw, len, &lim, &m, &why), 0);
			assert_filter_sound(r, path, m->text, m->text_len, &lines, &skipped);
			message_free(m);
			assert_filter_sound(r, path, raw, len, &lines, &skipped);
		}
		pclose(ls);
	}
	/* and it does rule out most */
	assert_true(skipped > lines / 2);
	rules_free(r);
}

/* A pattern that cannot match a line break is matched line by line; one
 * that can is matched on the whole text. */
static void test_rules_scan_line_by_line(void **state)
{
	char *dir = make_dir("x.rules",
			     "[vocab month]\n1 = Ιανουάριος, Ιανουαρίου, Γενάρη\n"
			     "[rules]\nt.line date \\d+\\h*{month}\n"
			     "t.wrap date \\d+\\s*{month}\n",
			     NULL);
	const char *text = "στις 3\nΓΕΝΑΡΗ\n4 ιανουαριου";
	_cleanup_(rules_scan_freep) struct rules_scan *scan = NULL;
	const struct rule *line, *wrap;
	struct rules *r = NULL;
	struct rule_match m;
	char *err = NULL;

	assert_int_equal(rules_load(dir, NULL, &r, &err), 0);
	line = rules_get(r, 0);
	wrap = rules_get(r, 1);
	assert_false(rule_crosses_lines(line));
	assert_true(rule_crosses_lines(wrap));
	assert_int_equal(rules_scan_new(r, text, strlen(text), &scan), 0);
	assert_int_equal(rules_scan_lines(scan), 3);
	/* "3" and the month are on two lines: neither holds both a digit and a
	 * month word, the third does */
	assert_int_equal(rules_scan_next_line(scan, line, 0), 2);
	assert_int_equal(rules_scan_match(scan, line, 0, 0, &m), 0);
	assert_int_equal(rules_scan_match(scan, line, 2, 0, &m), 1);
	assert_int_equal(m.start, strlen("στις 3\nΓΕΝΑΡΗ\n"));
	assert_true(rules_scan_next_line(scan, wrap, 0) < rules_scan_lines(scan));
	assert_int_equal(rules_scan_match(scan, wrap, RULES_WHOLE_TEXT, 0, &m), 1);
	assert_int_equal(m.start, strlen("στις "));
	assert_int_equal(m.end, strlen("στις 3\nΓΕΝΑΡΗ"));
	rules_free(r);
	remove_dir(dir);
}

/* What a rule needs: optional parts and either branch of an alternation
 * need nothing of their own; text that is not UTF-8 is refused. */
static void test_rules_scan_requirements(void **state)
{
	char *dir = make_dir("x.rules",
			     "[vocab weekday]\n6 = Σάββατο, Saturday\n"
			     "[define]\nclock = (?<hour>\\d{1,2}):(?<min>\\d\\d)\n"
			     "[rules]\nt.opt date (?:{weekday}\\h+)?\\d+/\\d+\n"
			     "t.alt price (?:τιμή|price)\\h*\\d+\n"
			     "t.def time meet\\h+{clock}\n"
			     "t.two time (?:\\d+:\\d\\d|\\d+\\h*pm|noon)\n",
			     NULL);
	const char *text = "4/5\nτιμη 40\nPrice: none\nmeet 9:30\nmeet me\n";
	const char *clocks = "at 9.\nat noon\n12 pm\nde: 3\n";
	_cleanup_(rules_scan_freep) struct rules_scan *scan = NULL;
	struct rules *r = NULL;
	char *err = NULL;

	assert_int_equal(rules_load(dir, NULL, &r, &err), 0);
	assert_int_equal(rules_scan_new(r, text, strlen(text), &scan), 0);
	assert_int_equal(rules_scan_lines(scan), 6);
	assert_int_equal(rules_scan_next_line(scan, rules_get(r, 0), 0), 0);
	assert_int_equal(rules_scan_next_line(scan, rules_get(r, 0), 1), 6);
	assert_int_equal(rules_scan_next_line(scan, rules_get(r, 1), 0), 1);
	assert_int_equal(rules_scan_next_line(scan, rules_get(r, 1), 2), 6); /* no digit, no word */
	assert_int_equal(rules_scan_next_line(scan, rules_get(r, 2), 0), 3);
	assert_int_equal(rules_scan_next_line(scan, rules_get(r, 2), 4), 6); /* no ':' */
	/* each branch needs a digit or its word and its punctuation: a line
	 * needs one of each kind, "de: 3" passes, "at 9." does not */
	rules_scan_free(TAKE_PTR(scan));
	assert_int_equal(rules_scan_new(r, clocks, strlen(clocks), &scan), 0);
	assert_int_equal(rules_scan_next_line(scan, rules_get(r, 3), 0), 1);
	assert_int_equal(rules_scan_next_line(scan, rules_get(r, 3), 2), 2);
	assert_int_equal(rules_scan_next_line(scan, rules_get(r, 3), 3), 3);
	assert_int_equal(rules_scan_new(r, "\xff", 1, &scan), -EILSEQ);
	rules_free(r);
	remove_dir(dir);
}

/* A vocabulary becomes a trie-shaped alternation: it matches what the plain
 * alternation, longest word first, matches (cases, accents, prefixes of
 * other words, a symbol, a space inside a word). */
static void test_rules_vocab_trie_matches_as_the_alternation(void **state)
{
	char *dir =
	    make_dir("x.rules",
		     "[vocab w]\nΣάββατο, Σαββάτου, Σαβ, ΣΑΒ, Sunday, Sun, Sun day, €, euro\n"
		     "[vocab latin]\ncafé, cafe\n"
		     "[rules]\nt.trie weekday (?<![\\p{L}]){w}\n"
		     "t.plain weekday "
		     "(?<![\\p{L}])(?<w>Σαββάτου|Sun\\h+day|Σάββατο|Sunday|euro|Σαβ|ΣΑΒ|Sun|€)\n"
		     "t.latin weekday {latin}\n",
		     NULL);
	const char *texts[] = {"ΣΑΒΒΑΤΟΥ 3", "σαββατο",  "Σάβ. 4",  "sunday",
			       "SUN 5",      "Sun  day", "Sunda",   "40€",
			       "EURO",       "ο Σαββ",   "Σαββάτο", "καφέ café CAFE"};
	struct rules *r = NULL;
	char *err = NULL;

	assert_int_equal(rules_load(dir, NULL, &r, &err), 0);
	for (size_t i = 0; i < ELEMENTSOF(texts); i++) {
		struct rule_match a, b;
		int ka = rules_match(r, rules_get(r, 0), texts[i], strlen(texts[i]), 0, &a);
		int kb = rules_match(r, rules_get(r, 1), texts[i], strlen(texts[i]), 0, &b);
		assert_int_equal(ka, kb);
		if (ka == 1) {
			assert_int_equal(a.start, b.start);
			assert_int_equal(a.end, b.end);
		}
	}
	struct rule_match m;
	const char *t = "καφέ CAFÉ";
	assert_int_equal(rules_match(r, rules_get(r, 2), t, strlen(t), 0, &m), 1);
	assert_int_equal(m.start, strlen("καφέ "));
	rules_free(r);
	remove_dir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rules_packaged_set_loads),
	    cmocka_unit_test(test_rules_errors_name_file_and_line),
	    cmocka_unit_test(test_rules_every_error_is_reported),
	    cmocka_unit_test(test_rules_empty_dir_is_an_error),
	    cmocka_unit_test(test_rules_macros_and_accents),
	    cmocka_unit_test(test_rules_scan_filter_never_hides_a_match),
	    cmocka_unit_test(test_rules_scan_line_by_line),
	    cmocka_unit_test(test_rules_scan_requirements),
	    cmocka_unit_test(test_rules_vocab_trie_matches_as_the_alternation),
	    cmocka_unit_test(test_rules_override_replaces_and_adds),
	    cmocka_unit_test(test_rules_version_is_stable_and_content_bound),
	    cmocka_unit_test(test_rules_match_limit_is_reported),
	    cmocka_unit_test(test_rules_check_command),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

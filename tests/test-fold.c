/* test-fold.c: fold_text() agrees with utf8proc_map() on the whole string. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <utf8proc.h>

#include "fold.h"

static char *reference(const char *s, size_t n)
{
	utf8proc_uint8_t *out = NULL;

	if (utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &out,
			 UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD |
			     UTF8PROC_STRIPMARK) < 0)
		return strndup(s, n);
	return (char *)out;
}

static void assert_same(const char *s, size_t n)
{
	char *want = reference(s, n), *got = fold_text(s, n);

	assert_non_null(got);
	if (strcmp(want, got) != 0)
		fail_msg("fold_text(\"%.*s\") = \"%s\", utf8proc gives \"%s\"", (int)n, s, got,
			 want);
	free(want);
	free(got);
}

static void test_fold_every_code_point_below_u0400(void **state)
{
	for (int32_t cp = 1; cp < 0x400; cp++) {
		utf8proc_uint8_t b[8];
		utf8proc_ssize_t n = utf8proc_encode_char(cp, b);
		assert_same((const char *)b, (size_t)n);
	}
}

/* Where the fast path applies, it is also what normalize_fold() (NFKC,
 * default-ignorables dropped) gives: it uses it. */
static void test_fold_fast_equals_the_matchers_folding(void **state)
{
	for (int32_t cp = 1; cp < 0x400; cp++) {
		utf8proc_uint8_t b[8], *want = NULL;
		utf8proc_ssize_t n = utf8proc_encode_char(cp, b);
		char got[8];

		if (!fold_text_fast((const char *)b, (size_t)n, got))
			continue;
		assert_true(utf8proc_map(b, n, &want,
					 UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_COMPOSE |
					     UTF8PROC_CASEFOLD | UTF8PROC_STRIPMARK |
					     UTF8PROC_IGNORE) >= 0);
		assert_string_equal(got, (const char *)want);
		free(want);
	}
}

static void test_fold_examples(void **state)
{
	char *f =
	    fold_text("ΣΆΒΒΑΤΟ Σαββατο σάββατο ΐ Ϊ ς", strlen("ΣΆΒΒΑΤΟ Σαββατο σάββατο ΐ Ϊ ς"));

	assert_string_equal(f, "σαββατο σαββατο σαββατο ι ι σ");
	free(f);
}

/* Words mixing the fast letters with marks that compose with them, symbols
 * and letters utf8proc must fold (ß, ﬁ, İ, Hangul jamo), in a fixed random
 * order. */
static void test_fold_random_mixtures(void **state)
{
	static const char *const pieces[] = {
	    "a",
	    "Z",
	    "e",
	    " ",
	    "\n",
	    "\t",
	    "7",
	    "-",
	    "Α",
	    "ά",
	    "Ώ",
	    "ς",
	    "ΐ",
	    "ϊ",
	    "\xCC\x81",
	    "\xCC\x88",
	    "\xCD\x85",
	    "€",
	    "–",
	    "ß",
	    "ﬁ",
	    "İ",
	    "\xE1\x84\x80",
	    "\xE1\x85\xA1",
	    "é",
	    "Ω",
	    "µ",
	    "\xCE\x87",
	    "ϑ",
	    "K",
	    "ſ",
	};
	uint32_t seed = 12345;

	for (int t = 0; t < 20000; t++) {
		char s[256];
		size_t n = 0;
		int len = 1 + (int)(seed % 12);
		for (int i = 0; i < len; i++) {
			const char *p;
			seed = seed * 1103515245u + 12345u;
			p = pieces[(seed >> 16) % (sizeof(pieces) / sizeof(pieces[0]))];
			memcpy(s + n, p, strlen(p));
			n += strlen(p);
		}
		assert_same(s, n);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fold_every_code_point_below_u0400),
	    cmocka_unit_test(test_fold_fast_equals_the_matchers_folding),
	    cmocka_unit_test(test_fold_examples),
	    cmocka_unit_test(test_fold_random_mixtures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests of place-name normalisation (parsers/normalize.c, translit.c). */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <utf8proc.h>

#include "normalize.h"
#include "translit.h"
#include "fixtures/site-terms.h"

struct pair {
	const char *in, *out;
};

static void test_fold_case_marks_and_final_sigma(void **state)
{
	static const struct pair t[] = {
	    {"ΠΟΘΗΤΟΣ", "ποθητοσ"},
	    {"Ποθητός", "ποθητοσ"}, /* final sigma folds to σ */
	    {"Άκρα Καταφυγή", "ακρα καταφυγη"},
	    {"ΐ ϊ ΰ", "ι ι υ"},
	    {"Café Zürich", "cafe zurich"},
	    {"ﬁsh Ⅲ", "fish iii"},                /* compatibility forms */
	    {"soft\xc2\xadhyphen", "softhyphen"}, /* default ignorable */
	};

	for (size_t i = 0; i < ELEMENTSOF(t); i++) {
		_cleanup_free_ char *s = NULL;

		assert_int_equal(normalize_fold(t[i].in, &s), 0);
		assert_string_equal(s, t[i].out);
	}
}

static void test_fold_and_key_reject_bad_input(void **state)
{
	char big[NORMALIZE_INPUT_MAX + 2];
	char *s = NULL;

	assert_int_equal(normalize_fold("ok \xff\xfe", &s), -EILSEQ);
	assert_null(s);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(normalize_key(big, NULL, &s), -E2BIG);
	assert_null(s);
	assert_int_equal(normalize_fold(big, &s), 0); /* folding has no limit */
	assert_int_equal(strlen(s), sizeof(big) - 1);
	free(s);
}

static void test_strip_punct_quotes_emoji(void **state)
{
	static const struct pair t[] = {
	    {"«ναυάγιο» oria!!", "ναυάγιο oria"},
	    {"  \"zenobia\"  🤿🐠 ", "zenobia"},
	    {"st. paul's", "st pauls"},
	    {"um-el-faroud", "um el faroud"},
	    {"agia marina (τοίχος)", "agia marina τοίχος"},
	    {"heinkel he 111", "heinkel he 111"},
	    {"…—–", ""},
	};

	for (size_t i = 0; i < ELEMENTSOF(t); i++) {
		char s[128];

		snprintf(s, sizeof(s), "%s", t[i].in);
		normalize_strip_punct(s);
		assert_string_equal(s, t[i].out);
	}
}

/* Every code point below U+0400 between two letters: kept when utf8proc
 * calls it a letter or a number, a separator otherwise (apostrophes are
 * dropped). The ASCII and Greek short cut must answer as utf8proc does. */
static void test_strip_punct_agrees_with_utf8proc(void **state)
{
	for (int32_t cp = 1; cp < 0x400; cp++) {
		utf8proc_category_t c = utf8proc_category(cp);
		bool word = c == UTF8PROC_CATEGORY_LU || c == UTF8PROC_CATEGORY_LL ||
			    c == UTF8PROC_CATEGORY_LT || c == UTF8PROC_CATEGORY_LM ||
			    c == UTF8PROC_CATEGORY_LO || c == UTF8PROC_CATEGORY_ND ||
			    c == UTF8PROC_CATEGORY_NL || c == UTF8PROC_CATEGORY_NO;
		bool apostrophe = cp == '\'' || cp == '`' || cp == 0x2BC;
		char s[16], want[16];
		utf8proc_uint8_t enc[4];
		int n = (int)utf8proc_encode_char(cp, enc);

		snprintf(s, sizeof(s), "x%.*sy", n, (const char *)enc);
		if (word)
			snprintf(want, sizeof(want), "%s", s);
		else
			snprintf(want, sizeof(want), apostrophe ? "xy" : "x y");
		normalize_strip_punct(s);
		if (strcmp(s, want) != 0)
			fail_msg("U+%04X: '%s', want '%s'", (unsigned)cp, s, want);
	}
}

static void test_translit_greek_and_latin_variants(void **state)
{
	static const struct pair t[] = {
	    {"κυρα λενη", "kira leni"},
	    {"kyra leni", "kira leni"},
	    {"kira leni", "kira leni"},
	    {"μακρονησοσ", "makronisos"},
	    {"makronissos", "makronisos"},
	    {"ποντικονησι", "podikonisi"}, /* ντ = nt = d */
	    {"pontikonisi", "podikonisi"},
	    {"κουδουνια", "kudunia"}, /* ου = ou = u */
	    {"koudounia", "kudunia"},
	    {"βρετανικοσ", "vretanikos"}, /* β = v, b */
	    {"britannic", "vritanik"},
	    {"μπαλοσ", "valos"},
	    {"φαροσ", "faros"},
	    {"pharos", "faros"},
	    {"χαλκιδα", "halkida"},
	    {"chalkida", "halkida"},
	    {"θαλασσα", "thalasa"},
	    {"ψαθι", "psathi"},
	    {"ξερονησι", "kseronisi"},
	    {"xeronisi", "kseronisi"},
	    {"αγγελοσ", "agelos"},
	    {"angelos", "agelos"},
	    {"αιγινα", "egina"},
	    {"aigina", "egina"},
	    {"ναυαγιο", "navagio"},
	    {"ζηνοβια", "zinovia"},
	    {"heinkel he 111", "hinkel he 111"},
	};

	for (size_t i = 0; i < ELEMENTSOF(t); i++) {
		_cleanup_free_ char *s = NULL;

		assert_int_equal(translit_key(t[i].in, &s), 0);
		assert_string_equal(s, t[i].out);
	}
}

static void test_stem_greek_endings(void **state)
{
	static const struct pair t[] = {
	    {"pothitos", "pothit"},
	    {"pothito", "pothit"},
	    {"pothitu", "pothit"},
	    {"makronisos", "makronis"},
	    {"makronisu", "makronis"},
	    {"patroklos", "patrokl"},
	    {"patroklu", "patrokl"},
	    {"patris", "patr"},
	    {"patrida", "patr"},
	    {"marina", "marin"},
	    {"marinas", "marin"},
	    {"katafigi", "katafig"},
	    {"katafigis", "katafig"},
	    {"podikonisi", "podikonis"},
	    {"podikonisiu", "podikonis"},
	    {"kudunia", "kudun"},
	    {"kudunion", "kudun"},
	    {"agios", "ag"},
	    {"agia", "ag"},
	    {"ag", "ag"},
	    {"tis", "tis"}, /* no 1-letter stem */
	    {"111", "111"},
	    {"retriver", "retriver"},
	};

	for (size_t i = 0; i < ELEMENTSOF(t); i++) {
		char s[64];

		snprintf(s, sizeof(s), "%s", t[i].in);
		normalize_stem_word(s);
		assert_string_equal(s, t[i].out);
	}
}

static void test_strip_terms(void **state)
{
	static const char *const terms_in[] = {"wreck", "cable ship", "the", NULL};
	static const struct pair t[] = {
	    {"zenovia wrek", "zenovia"},
	    {"th wrek of th zenovia", "of zenovia"},
	    {"kavl ship retriver", "retriver"},
	    {"kavl retriver", "kavl retriver"}, /* half a term is no term */
	    {"wrek", "wrek"},                   /* nothing would be left */
	    {"th wrek", "th wrek"},
	};
	_cleanup_(normalize_terms_freep) struct normalize_terms *terms = NULL;

	assert_int_equal(normalize_terms_new(terms_in, &terms), 0);
	for (size_t i = 0; i < ELEMENTSOF(t); i++) {
		char s[64];

		snprintf(s, sizeof(s), "%s", t[i].in);
		normalize_strip_terms(s, terms);
		assert_string_equal(s, t[i].out);
	}
}

/* Each row's names give one key; different rows give different keys. */
static const char *const same[][8] = {
    {"Ποθητός", "Ποθητό", "Ποθητού", "ποθητο", "ν. Ποθητός", "Νησίδα Ποθητός", "Pothitos",
     "στον Ποθητό"},
    {"Μακρόνησος", "Μακρόνησο", "Μακρονήσου", "Makronisos", "Makronissos", "ΤΟΙΧΟΣ ΜΑΚΡΟΝΗΣΟΥ"},
    {"Πάτροκλος", "Πάτροκλο", "Πατρόκλου", "Patroklos", "νήσος Πατρόκλου", "Ν. Πατρόκλου"},
    {"Πατρίς", "Πατρίδα", "Patris", "ναυάγιο Πατρίς", "Patris wreck"},
    {"Ναυάγιο Κυρά Λένη", "ΝΑΥΑΓΙΟ ΚΥΡΑ ΛΕΝΗ", "Κυρά Λένη", "Kyra Leni", "Kira Leni",
     "ναυαγίου Κυράς Λένης"},
    {"Αγία Μαρίνα Τοίχος", "Τοίχος Αγ. Μαρίνας", "Agia Marina wall", "Agia Marina (τοίχος)"},
    {"Άγιος Γεώργιος", "Άγιο Γεώργιο", "Αγίου Γεωργίου", "Αγ. Γεώργιος", "Agios Georgios"},
    {"Ποντικονήσι", "ΠΟΝΤΙΚΟΝΗΣΙ", "Ποντικονησιού", "Pontikonisi"},
    {"Κουδούνια", "Κουδουνια", "ΚΟΥΔΟΥΝΙΑ", "Koudounia", "Koudounia reef"},
    {"Zenobia", "Zenobia wreck", "MS Zenobia", "the wreck of the Zenobia", "“Zenobia”"},
    {"Σπηλιά Βουλιαγμένης", "Σπήλαιο Βουλιαγμένης", "Vouliagmeni cave"},
    {"Heinkel He 111", "Heinkell He 111"},
    {"Blue Hole"},
    {"Inland Sea"},
    {"Retriever", "HMS Retriever"},
    {"HMS Maori"},
};

static void test_key_equivalences(void **state)
{
	_cleanup_(normalize_terms_freep) struct normalize_terms *terms = NULL;
	char *first[ELEMENTSOF(same)];

	assert_int_equal(normalize_terms_new(site_terms, &terms), 0);
	for (size_t i = 0; i < ELEMENTSOF(same); i++) {
		assert_int_equal(normalize_key(same[i][0], terms, &first[i]), 0);
		assert_true(first[i][0] != '\0');
		for (size_t j = 1; j < ELEMENTSOF(same[i]) && same[i][j]; j++) {
			_cleanup_free_ char *k = NULL;

			assert_int_equal(normalize_key(same[i][j], terms, &k), 0);
			if (strcmp(k, first[i]) != 0)
				fail_msg("'%s' gives '%s', '%s' gives '%s'", same[i][j], k,
					 same[i][0], first[i]);
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(first[i], first[j]) == 0)
				fail_msg("'%s' and '%s' share the key '%s'", same[i][0], same[j][0],
					 first[i]);
	}
	for (size_t i = 0; i < ELEMENTSOF(same); i++)
		free(first[i]);
}

static void test_key_without_terms_keeps_every_word(void **state)
{
	_cleanup_free_ char *a = NULL, *b = NULL;

	assert_int_equal(normalize_key("Ναυάγιο Πατρίς", NULL, &a), 0);
	assert_string_equal(a, "navag patr");
	assert_int_equal(normalize_key(" !! ", NULL, &b), 0);
	assert_string_equal(b, "");
}

static void test_key_too_many_words(void **state)
{
	char s[NORMALIZE_TOKENS_MAX * 2 + 4];
	char *k = NULL;

	for (size_t i = 0; i < NORMALIZE_TOKENS_MAX + 1; i++) {
		s[2 * i] = 'a';
		s[2 * i + 1] = ' ';
	}
	s[2 * (NORMALIZE_TOKENS_MAX + 1)] = '\0';
	assert_int_equal(normalize_key(s, NULL, &k), -E2BIG);
	assert_null(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fold_case_marks_and_final_sigma),
	    cmocka_unit_test(test_fold_and_key_reject_bad_input),
	    cmocka_unit_test(test_strip_punct_quotes_emoji),
	    cmocka_unit_test(test_strip_punct_agrees_with_utf8proc),
	    cmocka_unit_test(test_translit_greek_and_latin_variants),
	    cmocka_unit_test(test_stem_greek_endings),
	    cmocka_unit_test(test_strip_terms),
	    cmocka_unit_test(test_key_equivalences),
	    cmocka_unit_test(test_key_without_terms_keeps_every_word),
	    cmocka_unit_test(test_key_too_many_words),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

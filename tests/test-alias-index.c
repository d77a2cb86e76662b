/* Unit tests of the alias index (parsers/alias-index.c), on the corpus's
 * sites.sql and on the names its expected answers contain. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "alias-index.h"
#include "fixtures/site-terms.h"

static const char *srcdir(void)
{
	const char *d = getenv("top_srcdir");

	return d ? d : ".";
}

/* Reads "(id, 'text'" tuples of one INSERT of sites.sql ('' is a quote). */
static void load_tuples(struct alias_index *idx, const char *table, bool is_alias)
{
	char path[4096], line[1024], name[256];
	_cleanup_fclose_ FILE *f = NULL;
	bool in = false;
	size_t added = 0;

	snprintf(path, sizeof(path), "%s/tests/corpus/sites.sql", srcdir());
	f = fopen(path, "re");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "INSERT INTO ", 12) == 0)
			in = strncmp(line + 12, table, strlen(table)) == 0 &&
			     line[12 + strlen(table)] == ' ';
		if (!in)
			continue;
		for (char *p = strchr(line, '('); p; p = strchr(p + 1, '(')) {
			char *q;
			size_t n = 0;
			unsigned long id = 0;

			for (q = p + 1; *q >= '0' && *q <= '9' && id < UINT32_MAX; q++)
				id = id * 10 + (unsigned long)(*q - '0');
			if (q == p + 1 || *q != ',')
				continue;
			q += strspn(q + 1, " ") + 1;
			if (*q++ != '\'')
				continue;
			for (; *q && n + 1 < sizeof(name); q++) {
				if (*q == '\'' && q[1] != '\'')
					break;
				q += *q == '\'';
				name[n++] = *q;
			}
			name[n] = '\0';
			assert_int_equal(alias_index_add(idx, (uint32_t)id, name, is_alias), 0);
			added++;
		}
	}
	assert_true(added > 0);
}

static struct alias_index *sites_index(const struct alias_index_settings *s)
{
	struct alias_index_settings d = {.terms = site_terms};
	struct alias_index *idx = NULL;

	assert_int_equal(alias_index_new(s ? s : &d, &idx), 0);
	load_tuples(idx, "dive_sites", false);
	load_tuples(idx, "dive_site_aliases", true);
	return idx;
}

static int setup(void **state)
{
	*state = sites_index(NULL);
	return 0;
}

static int teardown(void **state)
{
	alias_index_free(*state);
	return 0;
}

static void expect_resolved(struct alias_index *idx, const char *query, uint32_t id,
			    enum alias_method method)
{
	struct alias_match m;
	int r = alias_index_resolve(idx, query, &m);

	if (r != 0 || m.best.id != id)
		fail_msg("'%s': r=%d id=%u (%s %.3f), runner-up %u (%.3f), want %u", query, r,
			 m.best.id, m.best.text ? m.best.text : "-", m.best.score, m.runner_up.id,
			 m.runner_up.score, id);
	if (m.best.method != method)
		fail_msg("'%s': method %s, want %s", query, alias_method_to_string(m.best.method),
			 alias_method_to_string(method));
	assert_true(m.best.score >= ALIAS_INDEX_THRESHOLD);
}

static void expect_unresolved(struct alias_index *idx, const char *query, int want)
{
	struct alias_match m;
	int r = alias_index_resolve(idx, query, &m);

	if (r != want)
		fail_msg("'%s': r=%d id=%u (%s %.3f), want %d", query, r, m.best.id,
			 m.best.text ? m.best.text : "-", m.best.score, want);
}

static void test_exact_name_and_alias(void **state)
{
	expect_resolved(*state, "Kimon Bay", 29, ALIAS_METHOD_EXACT_NAME);
	expect_resolved(*state, "  Kimon Bay\t", 29, ALIAS_METHOD_EXACT_NAME);
	expect_resolved(*state, "Kira Leni", 7, ALIAS_METHOD_EXACT_ALIAS);
	expect_resolved(*state, "Cathedral Cave Gozo", 28, ALIAS_METHOD_EXACT_ALIAS);
}

static void test_accent_case_sigma_variants(void **state)
{
	expect_resolved(*state, "ΝΑΥΑΓΙΟ ΚΥΡΑ ΛΕΝΗ", 7, ALIAS_METHOD_NORMALIZED);
	expect_resolved(*state, "ποθητος", 1, ALIAS_METHOD_NORMALIZED);
	expect_resolved(*state, "ΠΟΘΗΤΟΣ", 1, ALIAS_METHOD_NORMALIZED);
	expect_resolved(*state, "Ποθητοσ", 1, ALIAS_METHOD_NORMALIZED);
	expect_resolved(*state, "ΑΚΡΑ ΚΑΤΑΦΥΓΗ", 2, ALIAS_METHOD_NORMALIZED);
	expect_resolved(*state, "“Zenobia”", 24, ALIAS_METHOD_NORMALIZED);
}

static void test_inflected_forms(void **state)
{
	expect_resolved(*state, "στον Ποθητό", 1, ALIAS_METHOD_NORMALIZED);
	expect_resolved(*state, "Ποθητού", 1, ALIAS_METHOD_NORMALIZED);
	expect_resolved(*state, "Μακρονήσου", 4, ALIAS_METHOD_NORMALIZED);
	expect_resolved(*state, "Πατρόκλου", 16, ALIAS_METHOD_NORMALIZED);
	expect_resolved(*state, "Πάτροκλο", 16, ALIAS_METHOD_NORMALIZED);
	expect_resolved(*state, "Πατρίδα", 8, ALIAS_METHOD_NORMALIZED);
	expect_resolved(*state, "Αγίου Γεωργίου", 31, ALIAS_METHOD_NORMALIZED);
	expect_resolved(*state, "Βρετανικού", 21, ALIAS_METHOD_NORMALIZED);
	expect_resolved(*state, "Τοίχος Αγ. Μαρίνας", 32, ALIAS_METHOD_NORMALIZED);
	expect_resolved(*state, "Ποντικονησιού", 5, ALIAS_METHOD_NORMALIZED);
}

static void test_transliterations(void **state)
{
	expect_resolved(*state, "Kyra Leni wreck", 7, ALIAS_METHOD_NORMALIZED);
	expect_resolved(*state, "Makronisou", 4, ALIAS_METHOD_NORMALIZED);
	expect_resolved(*state, "Pothito", 1, ALIAS_METHOD_NORMALIZED);
	expect_resolved(*state, "Koudounia", 3, ALIAS_METHOD_EXACT_ALIAS);
	expect_resolved(*state, "Vouliagmeni", 22, ALIAS_METHOD_NORMALIZED);
	expect_resolved(*state, "Katafigi", 2, ALIAS_METHOD_NORMALIZED);
	expect_resolved(*state, "Ζηνοβία", 24, ALIAS_METHOD_EXACT_ALIAS);
}

static void test_one_letter_typos(void **state)
{
	expect_resolved(*state, "Petrokarvo", 13, ALIAS_METHOD_FUZZY);
	expect_resolved(*state, "Beufighter", 17, ALIAS_METHOD_FUZZY);
	expect_resolved(*state, "Burdigalla", 20, ALIAS_METHOD_NORMALIZED); /* doubles are one */
	expect_resolved(*state, "Burdigela", 20, ALIAS_METHOD_FUZZY);
	expect_resolved(*state, "Retreiver", 9, ALIAS_METHOD_FUZZY);
	expect_resolved(*state, "Lagonsii", 15, ALIAS_METHOD_FUZZY);
	expect_resolved(*state, "Um El Fraoud", 27, ALIAS_METHOD_FUZZY);
}

static void test_patris_is_not_patroklos(void **state)
{
	/* a margin above 0.08 makes even normalised hits search fuzzy ones */
	struct alias_index_settings wide = {.margin = 0.1, .terms = site_terms};
	struct alias_index *idx = sites_index(&wide);
	struct alias_candidate c[4];
	size_t n;

	expect_resolved(*state, "Πατρίς", 8, ALIAS_METHOD_NORMALIZED);
	expect_resolved(*state, "Πάτροκλος", 16, ALIAS_METHOD_EXACT_NAME);
	expect_resolved(*state, "Patris", 8, ALIAS_METHOD_EXACT_ALIAS);
	expect_resolved(*state, "Patroklou", 16, ALIAS_METHOD_NORMALIZED);
	expect_resolved(idx, "Πατρίς", 8, ALIAS_METHOD_NORMALIZED);
	assert_int_equal(alias_index_lookup(idx, "Πατρίς", c, ELEMENTSOF(c), &n), 0);
	assert_true(n >= 2);
	assert_int_equal(c[0].id, 8);
	assert_int_equal(c[1].id, 16);
	assert_true(c[1].score < 0.6);
	alias_index_free(idx);
}

static void test_hms_maori_is_not_hms_retriever(void **state)
{
	expect_resolved(*state, "HMS Retriever", 9, ALIAS_METHOD_EXACT_ALIAS);
	expect_unresolved(*state, "HMS Maori", -ENOENT);
}

static void test_blue_hole_but_not_blue_hole_dahab(void **state)
{
	struct alias_match m;

	expect_resolved(*state, "Blue Hole", 25, ALIAS_METHOD_EXACT_NAME);
	expect_resolved(*state, "Dwejra Blue Hole", 25, ALIAS_METHOD_EXACT_ALIAS);
	assert_int_equal(alias_index_resolve(*state, "Blue Hole Dahab", &m), -ENOENT);
	assert_int_equal(m.best.id, 25); /* found, yet far below the threshold */
	assert_true(m.best.score < 0.6);
	expect_resolved(*state, "Inland Sea", 26, ALIAS_METHOD_EXACT_NAME);
}

static void test_word_prefix(void **state)
{
	expect_resolved(*state, "Kimon", 29, ALIAS_METHOD_PREFIX);
	expect_resolved(*state, "Cable ship", 9, ALIAS_METHOD_PREFIX);
	/* two sites start so: no guess */
	expect_unresolved(*state, "Dwejra", -ENOTUNIQ);
	expect_unresolved(*state, "Agia", -ENOENT); /* and both score alike */
}

static void test_places_not_in_the_table(void **state)
{
	static const char *const unknown[] = {
	    "Cape Greco",         "Ghar Lapsi",      "Xlendi Reef", "Οτζιά",
	    "Ξερονήσι Σαρωνίδας", "Blue Hole Dahab", "Chios",       "Λαύριο",
	    "Santorini caldera",  "Μαρίνα Λαυρίου",
	};

	for (size_t i = 0; i < ELEMENTSOF(unknown); i++)
		expect_unresolved(*state, unknown[i], -ENOENT);
}

static void test_same_key_two_ids_is_ambiguous(void **state)
{
	_cleanup_(alias_index_freep) struct alias_index *idx = NULL;
	struct alias_match m;

	assert_int_equal(alias_index_new(NULL, &idx), 0);
	assert_int_equal(alias_index_add(idx, 1, "Άγιος Νικόλαος", false), 0);
	assert_int_equal(alias_index_add(idx, 2, "Agios Nikolaos", false), 0);
	assert_int_equal(alias_index_resolve(idx, "Αγίου Νικολάου", &m), -ENOTUNIQ);
	assert_int_equal(m.best.score, m.runner_up.score);
	/* the exact text is still too close to the other site's key */
	assert_int_equal(alias_index_resolve(idx, "Agios Nikolaos", &m), -ENOTUNIQ);
	assert_int_equal(m.best.id, 2);
	assert_int_equal(m.best.method, ALIAS_METHOD_EXACT_NAME);
}

static void test_add_errors_and_duplicates(void **state)
{
	_cleanup_(alias_index_freep) struct alias_index *idx = NULL;
	struct alias_candidate c[2];
	size_t n = 99;

	assert_int_equal(alias_index_new(NULL, &idx), 0);
	assert_int_equal(alias_index_add(idx, 1, "!!! ", true), -EINVAL);
	assert_int_equal(alias_index_add(idx, 1, "Oria \xc3", true), -EILSEQ);
	assert_int_equal(alias_index_add(idx, 1, "Oria", true), 0);
	assert_int_equal(alias_index_add(idx, 1, " Oria ", true), 0);
	assert_int_equal(alias_index_size(idx), 1);
	assert_int_equal(alias_index_lookup(idx, "...", c, ELEMENTSOF(c), &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(alias_index_lookup(idx, "\xff", c, ELEMENTSOF(c), &n), -EILSEQ);
}

static void test_empty_index_and_long_queries(void **state)
{
	_cleanup_(alias_index_freep) struct alias_index *idx = NULL;
	char words[200], longword[300];
	struct alias_candidate c[2];
	struct alias_match m;
	size_t n = 99;

	assert_int_equal(alias_index_new(NULL, &idx), 0);
	assert_int_equal(alias_index_lookup(idx, "Zenobia", c, ELEMENTSOF(c), &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(alias_index_resolve(idx, "Zenobia", &m), -ENOENT);
	assert_int_equal(m.best.id, 0);
	/* 40 words: more than a key holds */
	for (size_t i = 0; i < 40; i++)
		memcpy(words + 2 * i, "a ", 2);
	words[80] = '\0';
	assert_int_equal(alias_index_lookup(*state, words, c, ELEMENTSOF(c), &n), -E2BIG);
	/* a word longer than the distance's 64 bytes is compared on its start */
	for (size_t i = 0; i + 1 < sizeof(longword); i++)
		longword[i] = "drom"[i % 4];
	longword[sizeof(longword) - 1] = '\0';
	memcpy(longword, "Zenobia", 7);
	assert_int_equal(alias_index_add(idx, 24, longword, true), 0);
	assert_int_equal(alias_index_lookup(idx, longword, c, ELEMENTSOF(c), &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(c[0].method, ALIAS_METHOD_EXACT_ALIAS);
	longword[200] = 'x';
	assert_int_equal(alias_index_lookup(idx, longword, c, ELEMENTSOF(c), &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(c[0].method, ALIAS_METHOD_FUZZY);
}

static void test_lookup_one_candidate_per_id_best_first(void **state)
{
	struct alias_candidate c[3];
	size_t n;

	assert_int_equal(alias_index_lookup(*state, "Heinkel", c, ELEMENTSOF(c), &n), 0);
	assert_true(n >= 1 && n <= 3);
	assert_int_equal(c[0].id, 18);
	assert_string_equal(c[0].text, "Heinkel");
	for (size_t i = 1; i < n; i++) {
		assert_true(c[i].score <= c[i - 1].score);
		assert_int_not_equal(c[i].id, 18);
	}
}

static void test_settings_threshold_and_margin(void **state)
{
	struct alias_index_settings strict = {.threshold = 0.85, .terms = site_terms};
	struct alias_index_settings loose = {.margin = 0.5, .terms = site_terms};
	struct alias_index *a = sites_index(&strict), *b = sites_index(&loose);
	struct alias_match m;

	assert_int_equal(alias_index_resolve(a, "Petrokarvo", &m), -ENOENT);
	assert_int_equal(alias_index_resolve(a, "Petrokaravo", &m), 0);
	/* Κουδούνια against Κούνδουρος: 0.98 vs 0.72 */
	assert_int_equal(alias_index_resolve(b, "Κουδούνια", &m), -ENOTUNIQ);
	assert_int_equal(m.runner_up.id, 11);
	alias_index_free(a);
	alias_index_free(b);
}

/* Every (dive_site_name -> dive_site_id) of the expected answers. */
static void check_expected_file(struct alias_index *idx, const char *path, size_t *ret_n)
{
	json_error_t err;
	json_t *root = json_load_file(path, 0, &err), *trip, *dive;
	size_t i, j;

	if (!root)
		fail_msg("%s: %s", path, err.text);
	json_array_foreach(json_object_get(root, "trips"), i, trip)
	{
		json_array_foreach(json_object_get(trip, "dives"), j, dive)
		{
			const char *name =
			    json_string_value(json_object_get(dive, "dive_site_name"));
			json_t *id = json_object_get(dive, "dive_site_id");
			struct alias_match m;
			int r;

			if (!name)
				continue;
			r = alias_index_resolve(idx, name, &m);
			if (json_is_integer(id) && (r != 0 || m.best.id != json_integer_value(id)))
				fail_msg("%s: '%s' gives r=%d id=%u, want %lld", path, name, r,
					 m.best.id, (long long)json_integer_value(id));
			if (!json_is_integer(id) && r == 0)
				fail_msg("%s: '%s' is not in the table, resolved to %u (%s %.3f)",
					 path, name, m.best.id, m.best.text, m.best.score);
			(*ret_n)++;
		}
	}
	json_decref(root);
}

static void test_corpus_expected_names(void **state)
{
	char dir[4096], path[8192];
	struct dirent *de;
	size_t files = 0, names = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/tests/corpus/expected", srcdir());
	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);

		if (len < 6 || strcmp(de->d_name + len - 5, ".json") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		check_expected_file(*state, path, &names);
		files++;
	}
	closedir(d);
	assert_true(files >= 30);
	assert_true(names >= 60);
}

/* The trigram index finds what scoring every key finds. */
static void test_index_agrees_with_scan(void **state)
{
	static const char *const q[] = {
	    "Petrokarvo", "Beufighter", "Blue Hole Dahab", "Kimon",       "Agia",   "HMS Maori",
	    "Lagonsii",   "Retreiver",  "Kira Lenni",      "Um El Farud", "Dwejra", "Μακρονισος",
	    "Koudounis",  "Avantis 3",  "Heinkel 111",     "Zenobya",     "Pateis", "Sounion",
	};

	for (size_t i = 0; i < ELEMENTSOF(q); i++) {
		struct alias_candidate a[4], b[4];
		size_t na, nb;

		assert_int_equal(alias_index_lookup(*state, q[i], a, ELEMENTSOF(a), &na), 0);
		assert_int_equal(alias_index_lookup_scan(*state, q[i], b, ELEMENTSOF(b), &nb), 0);
		assert_true(na >= 1);
		assert_int_equal(a[0].id, b[0].id);
		assert_true(a[0].score == b[0].score);
	}
}

static void test_diving_centres_index(void **state)
{
	struct alias_index_settings s = {.terms = center_terms};
	_cleanup_(alias_index_freep) struct alias_index *idx = NULL;
	struct alias_match m;

	assert_int_equal(alias_index_new(&s, &idx), 0);
	load_tuples(idx, "diving_centers", false);
	assert_int_equal(alias_index_resolve(idx, "Odyssey Dive Club", &m), 0);
	assert_int_equal(m.best.id, 3);
	assert_int_equal(alias_index_resolve(idx, "ODYSSEY", &m), 0);
	assert_int_equal(m.best.id, 3);
	assert_int_equal(alias_index_resolve(idx, "Blue Dolphin", &m), 0);
	assert_int_equal(m.best.id, 2);
	assert_int_equal(alias_index_resolve(idx, "Κυκλάδες Dive Team", &m), 0);
	assert_int_equal(m.best.id, 6);
	assert_int_equal(alias_index_resolve(idx, "Sliema Divers", &m), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_exact_name_and_alias),
	    cmocka_unit_test(test_accent_case_sigma_variants),
	    cmocka_unit_test(test_inflected_forms),
	    cmocka_unit_test(test_transliterations),
	    cmocka_unit_test(test_one_letter_typos),
	    cmocka_unit_test(test_patris_is_not_patroklos),
	    cmocka_unit_test(test_hms_maori_is_not_hms_retriever),
	    cmocka_unit_test(test_blue_hole_but_not_blue_hole_dahab),
	    cmocka_unit_test(test_word_prefix),
	    cmocka_unit_test(test_places_not_in_the_table),
	    cmocka_unit_test(test_same_key_two_ids_is_ambiguous),
	    cmocka_unit_test(test_add_errors_and_duplicates),
	    cmocka_unit_test(test_empty_index_and_long_queries),
	    cmocka_unit_test(test_lookup_one_candidate_per_id_best_first),
	    cmocka_unit_test(test_settings_threshold_and_margin),
	    cmocka_unit_test(test_corpus_expected_names),
	    cmocka_unit_test(test_index_agrees_with_scan),
	    cmocka_unit_test(test_diving_centres_index),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

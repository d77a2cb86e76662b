/* test-aho-corasick.c: every string found where it ends, overlaps included. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "aho-corasick.h"

struct seen {
	unsigned ids[64];
	size_t ends[64];
	size_t n, at;
};

static void note(unsigned id, void *userdata)
{
	struct seen *s = userdata;
	assert_true(s->n < 64);
	s->ids[s->n] = id;
	s->ends[s->n++] = s->at;
}

static void scan(const struct ac *a, const char *text, struct seen *s)
{
	uint32_t state = 0;

	for (s->at = 0; text[s->at]; s->at++) {
		state = ac_step(a, state, (unsigned char)text[s->at]);
		ac_each_id(a, state, note, s);
	}
}

static bool found(const struct seen *s, unsigned id, size_t end)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->ids[i] == id && s->ends[i] == end)
			return true;
	return false;
}

/* The textbook set: he, she, his, hers, in "ushers". */
static void test_ac_overlapping_strings(void **state)
{
	struct ac *a = NULL;
	struct seen s = {0};

	assert_int_equal(ac_new(&a), 0);
	assert_int_equal(ac_add(a, "he", 1), 0);
	assert_int_equal(ac_add(a, "she", 2), 0);
	assert_int_equal(ac_add(a, "his", 3), 0);
	assert_int_equal(ac_add(a, "hers", 4), 0);
	assert_int_equal(ac_link(a), 0);
	scan(a, "ushers", &s);
	assert_int_equal(s.n, 3);
	assert_true(found(&s, 2, 3)); /* s-h-e ends at byte 3 */
	assert_true(found(&s, 1, 3)); /* and h-e within it, by the dictionary link */
	assert_true(found(&s, 4, 5));
	ac_free(a);
}

/* Several strings may share an id, a string may have several; a byte
 * outside every string leads back to the start; UTF-8 is bytes. */
static void test_ac_shared_ids_and_utf8(void **state)
{
	struct ac *a = NULL;
	struct seen s = {0};

	assert_int_equal(ac_new(&a), 0);
	assert_int_equal(ac_add(a, "ιαν", 7), 0);
	assert_int_equal(ac_add(a, "jan", 7), 0);
	assert_int_equal(ac_add(a, "jan", 8), 0);
	assert_int_equal(ac_add(a, "jan", 8), 0); /* twice: reported once */
	assert_int_equal(ac_link(a), 0);
	scan(a, "3 ιαν, 4 jan; x", &s);
	assert_int_equal(s.n, 3);
	assert_true(found(&s, 7, strlen("3 ιαν") - 1));
	assert_true(found(&s, 7, strlen("3 ιαν, 4 jan") - 1));
	assert_true(found(&s, 8, strlen("3 ιαν, 4 jan") - 1));
	ac_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ac_overlapping_strings),
	    cmocka_unit_test(test_ac_shared_ids_and_utf8),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

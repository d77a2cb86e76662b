/* Unit tests of date resolution against the message's Date: day (parsers/dates.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>

#include "cleanup.h"
#include "dates.h"

#define D(y, m, d) ((struct date){(y), (m), (d)})

static void assert_date(struct date got, struct date want)
{
	char g[11], w[11];

	dates_format(got, g);
	dates_format(want, w);
	assert_string_equal(g, w);
}

static void test_date_weekday_of_known_days(void **state)
{
	assert_int_equal(dates_weekday(D(1970, 1, 1)), 4);  /* Thursday */
	assert_int_equal(dates_weekday(D(2025, 8, 23)), 6); /* Saturday */
	assert_int_equal(dates_weekday(D(2026, 7, 26)), 7); /* Sunday */
	assert_int_equal(dates_weekday(D(2024, 2, 29)), 4);
	assert_int_equal(dates_weekday(D(1969, 12, 31)), 3); /* before the epoch */
}

static void test_date_days_round_trip(void **state)
{
	for (long z = -800; z < 30000; z += 37)
		assert_int_equal(dates_to_days(dates_from_days(z)), z);
	assert_date(dates_add(D(2025, 12, 31), 1), D(2026, 1, 1));
	assert_date(dates_add(D(2024, 3, 1), -1), D(2024, 2, 29));
	assert_date(dates_add(D(2025, 3, 1), -1), D(2025, 2, 28));
}

static void test_date_valid(void **state)
{
	assert_true(dates_valid(2024, 2, 29));
	assert_false(dates_valid(2025, 2, 29));
	assert_false(dates_valid(2100, 2, 29));
	assert_true(dates_valid(2000, 2, 29));
	assert_false(dates_valid(2025, 4, 31));
	assert_false(dates_valid(2025, 13, 1));
	assert_false(dates_valid(2025, 0, 1));
	assert_false(dates_valid(2025, 1, 0));
}

static void test_date_weekday_without_year_is_strictly_after(void **state)
{
	static const struct {
		struct date ref;
		int wd;
		struct date want;
	} t[] = {
	    {D(2025, 9, 16), 6, D(2025, 9, 20)}, /* Tuesday -> Saturday */
	    {D(2025, 9, 20), 6, D(2025, 9, 27)}, /* Saturday -> next Saturday */
	    {D(2026, 4, 17), 7, D(2026, 4, 19)}, /* Friday -> Sunday */
	    {D(2025, 12, 31), 1, D(2026, 1, 5)}, /* over the year */
	    {D(2024, 2, 28), 4, D(2024, 2, 29)}, /* leap day */
	};

	for (size_t i = 0; i < ELEMENTSOF(t); i++) {
		struct date d;
		assert_int_equal(dates_resolve_weekday(t[i].ref, t[i].wd, &d), 0);
		assert_date(d, t[i].want);
	}
}

static void test_date_day_month_looks_back_14_days(void **state)
{
	static const struct {
		struct date ref;
		int d, m;
		struct date want;
	} t[] = {
	    {D(2025, 12, 18), 3, 1, D(2026, 1, 3)}, /* a December letter for January */
	    {D(2025, 12, 18), 27, 12, D(2025, 12, 27)},
	    {D(2025, 10, 20), 18, 10, D(2025, 10, 18)}, /* two days ago: still this year */
	    {D(2025, 10, 20), 6, 10, D(2025, 10, 6)},   /* exactly 14 days before */
	    {D(2025, 10, 20), 5, 10, D(2026, 10, 5)},   /* 15 days before: next year */
	    {D(2025, 3, 1), 29, 2, D(2028, 2, 29)},     /* the next 29 February */
	};

	for (size_t i = 0; i < ELEMENTSOF(t); i++) {
		struct date d;
		assert_int_equal(dates_resolve_day_month(t[i].ref, t[i].d, t[i].m, &d), 0);
		assert_date(d, t[i].want);
	}
}

static void test_date_explicit_years(void **state)
{
	struct date d;

	assert_int_equal(dates_resolve_explicit(D(2025, 9, 12), 12, 9, 25, &d), 0);
	assert_date(d, D(2025, 9, 12));
	assert_int_equal(dates_resolve_explicit(D(2026, 3, 3), 14, 3, 2026, &d), 0);
	assert_date(d, D(2026, 3, 14));
	assert_int_equal(dates_resolve_explicit(D(2026, 3, 3), 14, 3, -1, &d), 0);
	assert_date(d, D(2026, 3, 14));
	assert_int_equal(dates_resolve_explicit(D(2026, 3, 3), 31, 2, 2026, &d), -EINVAL);
	assert_int_equal(dates_resolve_explicit(D(2026, 3, 3), 1, 13, -1, &d), -EINVAL);
}

static void test_date_day_with_weekday_finds_the_month(void **state)
{
	struct date d;

	/* "Σαβ. 4" in a letter of 26 June 2026: 4 July is a Saturday */
	assert_int_equal(dates_resolve_day_weekday(D(2026, 6, 26), 4, 6, &d), 0);
	assert_date(d, D(2026, 7, 4));
	/* "Τετ. 8" */
	assert_int_equal(dates_resolve_day_weekday(D(2026, 6, 26), 8, 3, &d), 0);
	assert_date(d, D(2026, 7, 8));
	assert_int_equal(dates_resolve_day_weekday(D(2026, 6, 26), 32, 3, &d), -EINVAL);
	assert_int_equal(dates_resolve_day_weekday(D(2026, 6, 26), 4, 8, &d), -EINVAL);
}

static void test_date_rejects_bad_reference(void **state)
{
	struct date d;

	assert_int_equal(dates_resolve_weekday(D(2025, 2, 30), 1, &d), -EINVAL);
	assert_int_equal(dates_resolve_day_month(D(0, 0, 0), 1, 1, &d), -EINVAL);
	assert_int_equal(dates_resolve_weekday(D(2025, 2, 3), 0, &d), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_date_weekday_of_known_days),
	    cmocka_unit_test(test_date_days_round_trip),
	    cmocka_unit_test(test_date_valid),
	    cmocka_unit_test(test_date_weekday_without_year_is_strictly_after),
	    cmocka_unit_test(test_date_day_month_looks_back_14_days),
	    cmocka_unit_test(test_date_explicit_years),
	    cmocka_unit_test(test_date_day_with_weekday_finds_the_month),
	    cmocka_unit_test(test_date_rejects_bad_reference),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

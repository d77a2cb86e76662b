/* dates.h: calendar arithmetic and reference-date resolution, pure (no clock).
 *
 * Resolution follows the corpus rules: a weekday alone is the first such day
 * strictly after the reference day; a day and month without a year is the
 * first such date not earlier than 14 days before the reference day; a
 * two-digit year is 20yy. Weekdays are 1 = Monday .. 7 = Sunday. Functions
 * return 0 or -EINVAL (no such date). */
#ifndef DIVEMAP_DATES_H
#define DIVEMAP_DATES_H

#include <stdbool.h>

struct date {
	int y, m, d;
};

#define DATES_LOOKBACK_DAYS 14

bool dates_valid(int y, int m, int d);
long dates_to_days(struct date a); /* days since 1970-01-01 */
struct date dates_from_days(long days);
struct date dates_add(struct date a, long days);
int dates_cmp(struct date a, struct date b);
int dates_weekday(struct date a);
int dates_resolve_weekday(struct date ref, int weekday, struct date *ret);
int dates_resolve_day_month(struct date ref, int day, int month, struct date *ret);
/* A day of month with its weekday but no month ("Σαβ. 4"): the first date not
 * earlier than 14 days before ref with that day and weekday (within 2 years). */
int dates_resolve_day_weekday(struct date ref, int day, int weekday, struct date *ret);
/* d/m/y as written; year < 0 = not written, 0..99 = 20yy. */
int dates_resolve_explicit(struct date ref, int day, int month, int year, struct date *ret);
/* "YYYY-MM-DD" into buf[11]. */
void dates_format(struct date a, char buf[static 11]);

#endif

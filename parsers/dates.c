/* dates.c: see dates.h. Civil-date arithmetic after H. Hinnant's algorithms. */
#include <errno.h>
#include <stdio.h>

#include "dates.h"

static bool leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

bool dates_valid(int y, int m, int d)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (y < 1900 || y > 9999 || m < 1 || m > 12 || d < 1)
		return false;
	return d <= mdays[m - 1] + (m == 2 && leap(y));
}

long dates_to_days(struct date a)
{
	long y = a.y - (a.m <= 2);
	long era = (y >= 0 ? y : y - 399) / 400;
	long yoe = y - era * 400;
	long doy = (153 * (a.m + (a.m > 2 ? -3 : 9)) + 2) / 5 + a.d - 1;
	long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

struct date dates_from_days(long z)
{
	z += 719468;
	long era = (z >= 0 ? z : z - 146096) / 146097;
	long doe = z - era * 146097;
	long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	long mp = (5 * doy + 2) / 153;
	int d = (int)(doy - (153 * mp + 2) / 5 + 1);
	int m = (int)(mp < 10 ? mp + 3 : mp - 9);

	return (struct date){.y = (int)(yoe + era * 400 + (m <= 2)), .m = m, .d = d};
}

struct date dates_add(struct date a, long days)
{
	return dates_from_days(dates_to_days(a) + days);
}

int dates_cmp(struct date a, struct date b)
{
	long x = dates_to_days(a), y = dates_to_days(b);

	return x < y ? -1 : x > y;
}

int dates_weekday(struct date a)
{
	long z = dates_to_days(a); /* 1970-01-01 was a Thursday */
	long wd = (z % 7 + 7 + 3) % 7;

	return (int)wd + 1;
}

int dates_resolve_weekday(struct date ref, int weekday, struct date *ret)
{
	int delta;

	if (weekday < 1 || weekday > 7 || !dates_valid(ref.y, ref.m, ref.d))
		return -EINVAL;
	delta = (weekday - dates_weekday(ref) + 7) % 7;
	*ret = dates_add(ref, delta == 0 ? 7 : delta);
	return 0;
}

int dates_resolve_day_month(struct date ref, int day, int month, struct date *ret)
{
	struct date floor;

	if (!dates_valid(ref.y, ref.m, ref.d))
		return -EINVAL;
	floor = dates_add(ref, -DATES_LOOKBACK_DAYS);
	for (int y = floor.y; y <= floor.y + 4; y++) {
		struct date c = {y, month, day};
		if (dates_valid(y, month, day) && dates_cmp(c, floor) >= 0) {
			*ret = c;
			return 0;
		}
	}
	return -EINVAL;
}

int dates_resolve_day_weekday(struct date ref, int day, int weekday, struct date *ret)
{
	struct date floor;

	if (!dates_valid(ref.y, ref.m, ref.d) || weekday < 1 || weekday > 7)
		return -EINVAL;
	floor = dates_add(ref, -DATES_LOOKBACK_DAYS);
	for (int i = 0; i < 24; i++) {
		int m = (floor.m - 1 + i) % 12 + 1, y = floor.y + (floor.m - 1 + i) / 12;
		struct date c = {y, m, day};
		if (dates_valid(y, m, day) && dates_cmp(c, floor) >= 0 &&
		    dates_weekday(c) == weekday) {
			*ret = c;
			return 0;
		}
	}
	return -EINVAL;
}

int dates_resolve_explicit(struct date ref, int day, int month, int year, struct date *ret)
{
	if (year < 0)
		return dates_resolve_day_month(ref, day, month, ret);
	if (year < 100)
		year += 2000;
	if (!dates_valid(year, month, day))
		return -EINVAL;
	*ret = (struct date){year, month, day};
	return 0;
}

void dates_format(struct date a, char buf[static 11])
{
	snprintf(buf, 11, "%04u-%02u-%02u", (unsigned)a.y % 10000u, (unsigned)a.m % 100u,
		 (unsigned)a.d % 100u);
}

/* clock.h: the monotonic clock, for durations and deadlines (never for
 * dates: those come from the messages). */
#ifndef DIVEMAP_CLOCK_H
#define DIVEMAP_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t clock_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint64_t clock_now_us(void)
{
	return clock_now_ns() / 1000u;
}

#endif

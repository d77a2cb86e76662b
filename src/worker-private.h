/* worker-private.h: what both sides of worker.h share: the frame types, the
 * limits, and the exit status of a worker out of memory (worker.c: the
 * parent, worker-child.c: the child). */
#ifndef DIVEMAP_WORKER_PRIVATE_H
#define DIVEMAP_WORKER_PRIVATE_H

#include <sys/resource.h>

enum {
	WORKER_HELLO = 1,
	WORKER_READY,
	WORKER_NAMES,
	WORKER_NAMES_OK,
	WORKER_MESSAGE,
	WORKER_RESULT,
	WORKER_ERROR,
};

#define WORKER_PROTOCOL   1
#define WORKER_FD         3
#define WORKER_MAX_NAMES  (64u << 20)
#define WORKER_MAX_FILES  16
#define WORKER_EXIT_NOMEM 3

/* Lowers both the soft and hard limit of resource to v (or keeps a lower
 * hard limit). Async-signal-safe. */
static inline void worker_lower_limit(int resource, rlim_t v)
{
	struct rlimit rl;

	if (getrlimit(resource, &rl) == 0 && rl.rlim_max != RLIM_INFINITY && rl.rlim_max < v)
		v = rl.rlim_max;
	rl.rlim_cur = rl.rlim_max = v;
	(void)setrlimit(resource, &rl);
}

#endif

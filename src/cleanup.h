/* cleanup.h: scope-bound cleanup after systemd's _cleanup_ idiom.
 *
 *   _cleanup_free_ char *s = strdup(x);      freed when s leaves scope
 *   return TAKE_PTR(s);                      hand it out instead
 *
 * DEFINE_CLEANUP_FUNC(type, fn) makes fnp(type **) for _cleanup_(fnp),
 * calling fn only on a non-NULL pointer. */
#ifndef DIVEMAP_CLEANUP_H
#define DIVEMAP_CLEANUP_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f)         __attribute__((cleanup(f)))
#define _cleanup_free_       _cleanup_(freep)
#define _cleanup_fclose_     _cleanup_(fclosep)
#define _cleanup_close_      _cleanup_(closep)
#define _unused_             __attribute__((unused))
#define _warn_unused_result_ __attribute__((warn_unused_result))
#define _printf_(a, b)       __attribute__((format(printf, a, b)))

#define TAKE_PTR(p)                                                                                \
	({                                                                                         \
		__typeof__(p) _p = (p);                                                            \
		(p) = NULL;                                                                        \
		_p;                                                                                \
	})

#define TAKE_FD(fd)                                                                                \
	({                                                                                         \
		int _fd = (fd);                                                                    \
		(fd) = -1;                                                                         \
		_fd;                                                                               \
	})

#define DEFINE_CLEANUP_FUNC(type, fn)                                                              \
	static inline void fn##p(type **p)                                                         \
	{                                                                                          \
		if (*p)                                                                            \
			fn(*p);                                                                    \
	}

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

static inline void freep(void *p)
{
	free(*(void **)p);
}

static inline void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

static inline void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

#endif

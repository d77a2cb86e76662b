/* strutil.c: see strutil.h. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "strutil.h"

int parse_uint(const char *s, unsigned long long max, unsigned long long *ret)
{
	unsigned long long v = 0;

	if (!s || !*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		if (v > (max - (unsigned)(*s - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (unsigned)(*s - '0');
	}
	*ret = v;
	return 0;
}

int parse_uint32(const char *s, unsigned *ret)
{
	unsigned long long v;
	int r = parse_uint(s, 0xffffffffu, &v);

	if (r == 0)
		*ret = (unsigned)v;
	return r;
}

int parse_udouble(const char *s, double *ret)
{
	const char *p = s;
	int digits = 0, dot = 0;
	char *end;
	double v;

	if (!s || !*s)
		return -EINVAL;
	for (; *p; p++) {
		if (*p == '.' && !dot)
			dot = 1;
		else if (*p >= '0' && *p <= '9')
			digits++;
		else
			return -EINVAL;
	}
	if (!digits)
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end)
		return -ERANGE;
	*ret = v;
	return 0;
}

int parse_bool(const char *s)
{
	static const char *const yes[] = {"1", "yes", "true", "on"};
	static const char *const no[] = {"0", "no", "false", "off"};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return 1;
		if (strcasecmp(s, no[i]) == 0)
			return 0;
	}
	return -EINVAL;
}

bool startswith(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

char *strstrip(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int set_reason(char **reterr_reason, int r, const char *fmt, ...)
{
	va_list ap;

	if (!reterr_reason)
		return r;
	va_start(ap, fmt);
	if (vasprintf(reterr_reason, fmt, ap) < 0)
		*reterr_reason = NULL;
	va_end(ap);
	return r;
}

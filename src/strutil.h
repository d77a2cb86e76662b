/* strutil.h: checked number parsing and small string helpers.
 * Parsers return 0 or -EINVAL (not a number, trailing junk) / -ERANGE. */
#ifndef DIVEMAP_STRUTIL_H
#define DIVEMAP_STRUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "cleanup.h"

#define streq(a, b) (strcmp((a), (b)) == 0)

/* For the reterr_reason out-parameters: *reterr_reason = the text (NULL when
 * out of memory; nothing when reterr_reason is NULL), and r returned.
 * errno is left alone, so %m says what it said before the call. */
int set_reason(char **reterr_reason, int r, const char *fmt, ...) _printf_(3, 4);

int parse_uint(const char *s, unsigned long long max, unsigned long long *ret);
int parse_uint32(const char *s, unsigned *ret);
/* A decimal number such as "1.5" or "45"; no exponent, no sign. */
int parse_udouble(const char *s, double *ret);
/* yes/no, true/false, on/off, 1/0 -> 1 or 0; -EINVAL otherwise. */
int parse_bool(const char *s);
bool startswith(const char *s, const char *prefix);
/* Strips ASCII white space at both ends, in place; returns s. */
char *strstrip(char *s);

#endif

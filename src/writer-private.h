/* writer-private.h: what writer.c shares with writer-unresolved.c. */
#ifndef DIVEMAP_WRITER_PRIVATE_H
#define DIVEMAP_WRITER_PRIVATE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include <jansson.h>

#include "db.h"
#include "strutil.h"

#define NAME_MAX_CHARS  255u /* characters of ingest_unresolved.name */
#define JSON_DUMP_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(10))

/* Byte length of s cut to at most max bytes and max_chars characters,
 * never inside a UTF-8 sequence. */
static inline size_t utf8_cut(const char *s, size_t max, size_t max_chars)
{
	size_t i = 0, chars = 0, len = strlen(s);

	if (len <= max && len <= max_chars)
		return len;
	while (i < len && chars < max_chars) {
		size_t n = 1;
		while (i + n < len && ((unsigned char)s[i + n] & 0xC0) == 0x80)
			n++;
		if (i + n > max)
			break;
		i += n;
		chars++;
	}
	return i;
}

static inline struct db_value text_value(const char *s, size_t max, size_t max_chars)
{
	if (!s)
		return DB_NULL;
	return (struct db_value){.type = DB_T_TEXT, .p = s, .len = utf8_cut(s, max, max_chars)};
}

/* A non-negative integer from a result cell; 0 when NULL or not a number. */
static inline long long cell_int(const char *s)
{
	unsigned long long v = 0;

	if (!s || parse_uint(s, LLONG_MAX, &v) < 0)
		return 0;
	return (long long)v;
}

/* DB_TEXT for an array (the macro's NULL test warns on one). */
static inline struct db_value str_value(const char *s)
{
	return DB_TEXT(s);
}

static inline const char *jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* Upserts the result's "unresolved" names for the newsletter and takes it
 * off the names it no longer leaves unresolved (none when fresh: a new
 * newsletter is on no list). 0 or -errno (db_error()). */
int writer_unresolved_write(struct db *db, const json_t *unresolved, long long newsletter_id,
			    bool fresh);

#endif

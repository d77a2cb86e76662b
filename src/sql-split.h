/* sql-split.h: a migration file's text split into SQL statements.
 *
 * Statements end at ';' outside 'strings', "strings", `names`, -- and #
 * line comments and C comments; backslash escapes inside strings are
 * honoured as MariaDB reads them. Comments and white space before a
 * statement are dropped, so each statement starts at its first token; those
 * inside it are kept (a MySQL conditional comment is code). Text after the
 * last ';' that is not only comments is a statement of its own. Pure: no
 * database, no logging. */
#ifndef DIVEMAP_SQL_SPLIT_H
#define DIVEMAP_SQL_SPLIT_H

#include <stddef.h>

struct sql_stmt {
	char *sql;     /* NUL-terminated, without the ';' and trailing blanks */
	unsigned line; /* 1-based line where it starts */
};

/* Returns 0 and an array of *ret_n statements, or -ENOMEM, or -EINVAL with
 * *reterr_reason ("line 7: unterminated 'string'"). */
int sql_split(const char *text, size_t len, struct sql_stmt **ret, size_t *ret_n,
	      char **reterr_reason);
void sql_stmts_free(struct sql_stmt *s, size_t n);

#endif

/* sql-split.c: a small SQL statement splitter; see sql-split.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "sql-split.h"
#include "strutil.h"

enum state { NORMAL, SQUOTE, DQUOTE, BACKTICK, LINE_COMMENT, BLOCK_COMMENT };

struct splitter {
	const char *text;
	size_t len, pos;
	unsigned line;
	enum state state;
	unsigned opened_line; /* where the open quote or comment began */
	size_t start;         /* of the current statement; SIZE_MAX: none yet */
	size_t code_end;      /* just after its last character that is not a comment */
	bool cond_comment;    /* the open block comment is a conditional one (code) */
	unsigned start_line;
	struct sql_stmt *out;
	size_t n;
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int emit(struct splitter *s)
{
	struct sql_stmt *a;
	char *sql;

	if (s->start == SIZE_MAX)
		return 0;
	sql = strndup(s->text + s->start, s->code_end - s->start);
	if (!sql)
		return -ENOMEM;
	a = reallocarray(s->out, s->n + 1, sizeof(*a));
	if (!a) {
		free(sql);
		return -ENOMEM;
	}
	s->out = a;
	s->out[s->n++] = (struct sql_stmt){.sql = sql, .line = s->start_line};
	s->start = SIZE_MAX;
	return 0;
}

/* "--" starts a comment only when followed by white space or the end. */
static bool dash_comment(const struct splitter *s)
{
	size_t i = s->pos;
	return s->text[i] == '-' && i + 1 < s->len && s->text[i + 1] == '-' &&
	       (i + 2 >= s->len || is_blank(s->text[i + 2]));
}

static void begin_token(struct splitter *s)
{
	if (s->start == SIZE_MAX) {
		s->start = s->pos;
		s->start_line = s->line;
	}
}

/* One character in NORMAL state; returns 0 or -ENOMEM. */
static int step_normal(struct splitter *s)
{
	char c = s->text[s->pos];
	char next = s->pos + 1 < s->len ? s->text[s->pos + 1] : '\0';

	s->opened_line = s->line;
	if (c == ';')
		return emit(s);
	if (is_blank(c))
		return 0;
	if (c == '#' || dash_comment(s)) {
		s->state = LINE_COMMENT;
		return 0;
	}
	if (c == '/' && next == '*') {
		/* conditional comments are code: they begin a statement */
		s->cond_comment = s->pos + 2 < s->len &&
				  (s->text[s->pos + 2] == '!' || s->text[s->pos + 2] == 'M');
		if (s->cond_comment)
			begin_token(s);
		s->state = BLOCK_COMMENT;
		s->pos++; /* so that slash-star-slash does not close itself */
		return 0;
	}
	begin_token(s);
	s->code_end = s->pos + 1;
	if (c == '\'')
		s->state = SQUOTE;
	else if (c == '"')
		s->state = DQUOTE;
	else if (c == '`')
		s->state = BACKTICK;
	return 0;
}

static void step_quoted(struct splitter *s, char quote)
{
	char c = s->text[s->pos];

	if (c == '\\' && quote != '`') {
		if (s->pos + 1 < s->len)
			s->pos++; /* the caller counts an escaped line end */
		return;
	}
	if (c == quote) {
		s->state = NORMAL; /* a doubled quote reopens at once */
		s->code_end = s->pos + 1;
	}
}

static int fail(struct splitter *s, char **reterr_reason, const char *what)
{
	return set_reason(reterr_reason, -EINVAL, "line %u: %s", s->opened_line, what);
}

int sql_split(const char *text, size_t len, struct sql_stmt **ret, size_t *ret_n,
	      char **reterr_reason)
{
	struct splitter s = {.text = text, .len = len, .line = 1, .start = SIZE_MAX};
	int r = 0;

	*reterr_reason = NULL;
	for (s.pos = 0; r == 0 && s.pos < len; s.pos++) {
		char c = text[s.pos];
		if (c == '\0') {
			s.opened_line = s.line;
			r = fail(&s, reterr_reason, "NUL byte in SQL text");
			break;
		}
		switch (s.state) {
		case NORMAL:
			r = step_normal(&s);
			break;
		case SQUOTE:
			step_quoted(&s, '\'');
			break;
		case DQUOTE:
			step_quoted(&s, '"');
			break;
		case BACKTICK:
			step_quoted(&s, '`');
			break;
		case LINE_COMMENT:
			if (c == '\n')
				s.state = NORMAL;
			break;
		case BLOCK_COMMENT:
			if (c == '*' && s.pos + 1 < len && text[s.pos + 1] == '/') {
				s.state = NORMAL;
				s.pos++;
				if (s.cond_comment)
					s.code_end = s.pos + 1;
			}
			break;
		}
		if (s.pos < len && text[s.pos] == '\n')
			s.line++;
	}
	if (r == 0 && s.state != NORMAL && s.state != LINE_COMMENT)
		r = fail(&s, reterr_reason,
			 s.state == SQUOTE     ? "unterminated 'string'"
			 : s.state == DQUOTE   ? "unterminated \"string\""
			 : s.state == BACKTICK ? "unterminated `name`"
					       : "unterminated /* comment */");
	if (r == 0)
		r = emit(&s);
	if (r < 0) {
		sql_stmts_free(s.out, s.n);
		return r;
	}
	*ret = s.out;
	*ret_n = s.n;
	return 0;
}

void sql_stmts_free(struct sql_stmt *s, size_t n)
{
	for (size_t i = 0; s && i < n; i++)
		free(s[i].sql);
	free(s);
}

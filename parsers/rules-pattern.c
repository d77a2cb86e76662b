/* rules-pattern.c: reading a rule's pattern for what every match of it
 * needs (rules-prefilter.c looks for that in the text's lines) and for
 * whether it can match a line break.
 *
 * The pattern is read as written, with its {vocabulary} and {define}
 * macros: literal text, a vocabulary (any of its words), \d and classes of
 * digits and punctuation are needs; a group's needs are its content's; an
 * alternation needs one thing of each branch (the most telling need of
 * each, joined); a lookahead's content is needed too (it lies within the
 * line, or the text, the rule is matched on); whatever is optional (?, *,
 * {0,n}), a negative or lookbehind assertion (it may look at earlier
 * lines), or not understood needs nothing. Only that keeps the reading sound: a line
 * without a need cannot hold a match. Extended syntax, (?x), is not read at
 * all. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "rules-private.h"

#define ANALYSE_DEPTH 16 /* groups and defines within each other */
#define RUN_MAX       128

/* The needs of a pattern region, all of them. */
struct req {
	struct clause c[FILTER_MAX];
	size_t n;
	bool give_up; /* (?x): the rule gets no filter */
};

struct analysis {
	const struct rules *r;
	const struct pattern_sets *sets;
};

static void req_add(struct req *q, const struct clause *c)
{
	if (q->n < FILTER_MAX)
		q->c[q->n++] = *c;
}

static void chars_add(struct clause *c, unsigned char b)
{
	c->chars[b >> 6] |= 1ull << (b & 63);
}

static bool chars_any(const struct clause *c)
{
	return c->chars[0] || c->chars[1];
}

/* The longest piece of a word between spaces (a space in a vocabulary word
 * matches any run of blanks), folded. */
static char *word_piece(const char *w)
{
	const char *best = w;
	size_t best_n = 0;

	for (const char *p = w; *p;) {
		size_t n = strcspn(p, " ");
		if (n > best_n) {
			best = p;
			best_n = n;
		}
		p += n;
		p += strspn(p, " ");
	}
	return best_n ? rules_fold(best, best_n) : NULL;
}

/* A clause naming the string set key: the vocabulary's words, or literal;
 * the strings are handed over when the set is new. */
static int string_clause(struct analysis *a, const char *key, const struct vocab *v,
			 const char *literal, struct clause *ret)
{
	const struct pattern_sets *s = a->sets;
	unsigned set;
	int k = s->intern(s->userdata, key, &set);

	if (k < 0)
		return k;
	if (k > 0 && v) {
		for (size_t i = 0; i < v->n && k >= 0; i++) {
			_cleanup_free_ char *piece = word_piece(v->words[i]);
			if (!piece)
				return -ENOMEM; /* a word is never only spaces */
			k = *piece ? s->add(s->userdata, set, piece) : 0;
		}
	} else if (k > 0)
		k = s->add(s->userdata, set, literal);
	if (k < 0)
		return k;
	*ret = (struct clause){.sets = {set}, .n_sets = 1};
	return 0;
}

/* Literal characters read in a row; they become one string clause. */
struct run {
	char s[RUN_MAX + 1];
	size_t n, last; /* last: where its last character starts */
};

static int flush_run(struct analysis *a, struct run *run, struct req *q)
{
	struct clause c = {0};
	int k = 0;

	run->s[run->n] = '\0';
	if (run->n == 1 && (unsigned char)run->s[0] < 0x80 && !isalpha((unsigned char)run->s[0])) {
		chars_add(&c, (unsigned char)run->s[0]);
		req_add(q, &c);
	} else if (run->n > 0) {
		_cleanup_free_ char *folded = rules_fold(run->s, run->n);
		_cleanup_free_ char *key = NULL;
		if (!folded || asprintf(&key, "s:%s", folded) < 0)
			return -ENOMEM;
		if (*folded) {
			k = string_clause(a, key, NULL, folded, &c);
			if (k >= 0)
				req_add(q, &c);
		}
	}
	run->n = 0;
	return k;
}

/* The end of the class opening at p (the byte after its ']'). */
static const char *class_end(const char *p, const char *end)
{
	p++;
	if (p < end && *p == '^')
		p++;
	if (p < end && *p == ']')
		p++;
	while (p < end && *p != ']') {
		if (*p == '\\' && p + 1 < end)
			p += 2;
		else if (*p == '[' && p + 1 < end && p[1] == ':') {
			const char *q = memmem(p + 2, (size_t)(end - p - 2), ":]", 2);
			p = q ? q + 2 : p + 1;
		} else
			p++;
	}
	return p < end ? p + 1 : end;
}

/* After \Q at p: the byte after the matching \E (or end). */
static const char *quote_end(const char *p, const char *end)
{
	const char *q = memmem(p, (size_t)(end - p), "\\E", 2);
	return q ? q + 2 : end;
}

/* The end of the group opening at p (the byte after its ')'). */
static const char *group_end(const char *p, const char *end)
{
	int depth = 0;

	while (p < end) {
		if (*p == '\\' && p + 1 < end)
			p = p[1] == 'Q' ? quote_end(p + 2, end) : p + 2;
		else if (*p == '[')
			p = class_end(p, end);
		else {
			if (*p == '(')
				depth++;
			else if (*p == ')' && --depth == 0)
				return p + 1;
			p++;
		}
	}
	return end;
}

/* A quantifier at p: its length, 0 if none; *zero: it allows no repeat. */
static size_t quantifier(const char *p, const char *end, bool *zero)
{
	const char *q = p;

	if (q >= end)
		return 0;
	if (*q == '?' || *q == '*' || *q == '+') {
		*zero = *q != '+';
		q++;
	} else if (*q == '{') {
		size_t d1 = 0, d2 = 0;
		bool comma = false;
		q++;
		while (q < end && *q >= '0' && *q <= '9')
			q++, d1++;
		if (q < end && *q == ',') {
			comma = true;
			for (q++; q < end && *q >= '0' && *q <= '9'; q++)
				d2++;
		}
		if (q >= end || *q != '}' || (d1 == 0 && (!comma || d2 == 0)))
			return 0;
		q++;
		*zero = d1 == 0 || strspn(p + 1, "0") == d1;
	} else
		return 0;
	if (q < end && (*q == '?' || *q == '+'))
		q++; /* lazy, possessive */
	return (size_t)(q - p);
}

/* {name}, {name=group} or {name-} at p, as rules-compile.c expands them:
 * copies the name, returns the end of the macro (NULL: not a macro). */
static const char *macro(const char *p, const char *end, char *name, size_t size)
{
	size_t n, m;

	if (p + 1 >= end || p[1] < 'a' || p[1] > 'z')
		return NULL;
	n = strspn(p + 1, "abcdefghijklmnopqrstuvwxyz0123456789_=-");
	if (p + 1 + n >= end || p[1 + n] != '}')
		return NULL;
	m = strcspn(p + 1, "=}");
	if (p[1 + m] == '}' && p[m] == '-')
		m--;
	if (m >= size)
		return NULL;
	memcpy(name, p + 1, m);
	name[m] = '\0';
	return p + n + 2;
}

static size_t utf8_len(unsigned char c)
{
	return c < 0xC0 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

/* A class as a clause of ASCII characters, when it is one. */
/* A class of single characters as a clause: ASCII digits and punctuation
 * looked for as they are, letters and other characters as strings of the
 * folded text. 1 and *ret, 0 when the class is not one (negated, a range of
 * letters, a property...), or a negative errno. */
static int class_clause(struct analysis *a, const char *p, const char *cend, struct clause *ret)
{
	struct clause c = {0};
	char strs[RUN_MAX + 3] = "c:";
	size_t ns = 2;

	p++;
	if (*p == '^')
		return 0;
	for (bool first = true; p < cend - 1; first = false) {
		unsigned char lo = (unsigned char)*p, hi;
		if (*p == '\\') {
			if (p[1] == 'd') {
				for (char d = '0'; d <= '9'; d++)
					chars_add(&c, (unsigned char)d);
				p += 2;
				continue;
			}
			if ((unsigned char)p[1] >= 0x80 || isalnum((unsigned char)p[1]))
				return 0;
			lo = (unsigned char)p[1];
			p += 2;
		} else if (lo >= 0x80 || isalpha(lo)) {
			size_t n = utf8_len(lo);
			if (ns + n > RUN_MAX ||
			    (p + n < cend - 1 && p[n] == '-' && p + n + 1 < cend - 1))
				return 0; /* too many, or a range of letters */
			memcpy(strs + ns, p, n);
			ns += n;
			p += n;
			continue;
		} else if ((*p == ']' && first) || *p != '[') {
			p++;
		} else
			return 0;
		hi = lo;
		if (p + 1 < cend - 1 && *p == '-') {
			hi = (unsigned char)p[1];
			if (hi == '\\' || hi >= 0x80 || isalpha(hi) || hi < lo)
				return 0;
			p += 2;
		}
		for (unsigned b = lo; b <= hi; b++)
			chars_add(&c, (unsigned char)b);
	}
	if (ns > 2) { /* one string set of the class's letters */
		const struct pattern_sets *sets = a->sets;
		unsigned set;
		int k;

		strs[ns] = '\0';
		for (const char *q = strs + 2; *q; q += utf8_len((unsigned char)*q)) {
			_cleanup_free_ char *f = rules_fold(q, utf8_len((unsigned char)*q));
			if (!f)
				return -ENOMEM;
			if (!*f)
				return 0; /* a mark: nothing to look for */
		}
		k = sets->intern(sets->userdata, strs, &set);
		for (const char *q = strs + 2; k == 1 && *q; q += utf8_len((unsigned char)*q)) {
			_cleanup_free_ char *f = rules_fold(q, utf8_len((unsigned char)*q));
			int added = f ? sets->add(sets->userdata, set, f) : -ENOMEM;
			if (added < 0)
				k = added;
		}
		if (k < 0)
			return k;
		c.sets[c.n_sets++] = set;
	}
	*ret = c;
	return chars_any(&c) || c.n_sets;
}

static int analyse(struct analysis *a, const char *p, const char *end, int depth, struct req *out);

/* How much a clause narrows the lines: a string beats punctuation, which
 * beats a digit (nearly every line of a schedule has one). */
static int clause_score(const struct clause *c)
{
	if (c->n_sets)
		return 3;
	return (c->chars[0] & 0x03ff000000000000ull) ? 1 : 2;
}

/* The vocabulary's words as a string set: a clause, or none when a word has
 * nothing left to look for once folded. */
static int vocab_clause(struct analysis *a, const struct vocab *v, const char *name, struct req *q)
{
	_cleanup_free_ char *key = NULL;
	struct clause c;
	int k;

	for (size_t i = 0; i < v->n; i++) {
		_cleanup_free_ char *piece = word_piece(v->words[i]);
		if (!piece || !*piece)
			return piece ? 0 : -ENOMEM;
	}
	if (asprintf(&key, "v:%s", name) < 0)
		return -ENOMEM;
	k = string_clause(a, key, v, NULL, &c);
	if (k >= 0)
		req_add(q, &c);
	return k;
}

/* The group opening at p, ending before gend: what its content requires. */
static int analyse_group(struct analysis *a, const char *p, const char *gend, int depth,
			 struct req *q)
{
	const char *c = p + 1, *close = gend - 1;

	if (*c == '*')
		return 0; /* a verb */
	if (*c == '?') {
		c++;
		if (*c == ':' || *c == '|' || *c == '=')
			c++; /* a lookahead's text follows the match within its subject */
		else if ((*c == '<' || *c == '\'') && (isalpha((unsigned char)c[1]) || c[1] == '_'))
			c += strcspn(c, ">'") + 1;
		else if (*c == 'P' && c[1] == '<')
			c += strcspn(c, ">") + 1;
		else {
			size_t n =
			    strspn(c, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ^-");
			if (memchr(c, 'x', n))
				q->give_up = true; /* extended syntax: not read here */
			if (n == 0 || c[n] != ':')
				return 0; /* a lookaround, a condition, a call, options */
			c += n + 1;
		}
	}
	return c <= close ? analyse(a, c, close, depth + 1, q) : 0;
}

static int commit(struct req *out, struct req *pending)
{
	for (size_t i = 0; i < pending->n; i++)
		req_add(out, &pending->c[i]);
	out->give_up |= pending->give_up;
	*pending = (struct req){0};
	return 0;
}

/* A sequence without a top-level '|'. */
static int analyse_branch(struct analysis *a, const char *p, const char *end, int depth,
			  struct req *out)
{
	struct req pending = {0};
	struct run run = {0};
	int k = 0;

	while (p < end && k >= 0) {
		const char *next;
		char name[64];
		bool zero;
		size_t qn, n;

		if ((qn = quantifier(p, end, &zero))) {
			if (run.n > 0) {
				if (zero)
					run.n = run.last;
				k = flush_run(a, &run, out);
			} else if (zero)
				pending = (struct req){.give_up = pending.give_up};
			p += qn;
			continue;
		}
		if (*p == '\\' && p + 1 < end && p[1] != 'Q' &&
		    ((unsigned char)p[1] >= 0x80 || !isalnum((unsigned char)p[1]))) {
			n = utf8_len((unsigned char)p[1]); /* an escaped literal */
			p++;
		} else if (*p != '\\' && *p != '[' && *p != '(' && *p != '.' && *p != '^' &&
			   *p != '$' && !(*p == '{' && macro(p, end, name, sizeof(name)))) {
			n = utf8_len((unsigned char)*p);
		} else
			n = 0;
		if (n > 0) { /* a literal character */
			commit(out, &pending);
			if (run.n + n > RUN_MAX)
				k = flush_run(a, &run, out);
			run.last = run.n;
			memcpy(run.s + run.n, p, n);
			run.n += n;
			p += n;
			continue;
		}
		k = flush_run(a, &run, out);
		if (k >= 0)
			commit(out, &pending);
		if (k < 0)
			break;
		if (*p == '\\') {
			char e = p + 1 < end ? p[1] : 0;
			if (e == 'd') {
				struct clause c = {0};
				for (char d = '0'; d <= '9'; d++)
					chars_add(&c, (unsigned char)d);
				req_add(&pending, &c);
				p += 2;
			} else if (e == 'Q')
				p = quote_end(p + 2, end);
			else if (strchr("pPxogkN", e) && p + 2 < end && strchr("{<'", p[2])) {
				const char *q = memchr(p + 3,
						       p[2] == '{'   ? '}'
						       : p[2] == '<' ? '>'
								     : '\'',
						       (size_t)(end - p - 3));
				p = q ? q + 1 : end;
			} else {
				p += 2;
				while (p < end &&
				       ((e == 'x' && isxdigit((unsigned char)*p)) ||
					(isdigit((unsigned char)e) && isdigit((unsigned char)*p))))
					p++;
				if (e == 'c' && p < end)
					p++;
			}
		} else if (*p == '[') {
			struct clause c;
			next = class_end(p, end);
			k = class_clause(a, p, next, &c);
			if (k > 0)
				req_add(&pending, &c);
			p = next;
		} else if (*p == '(') {
			next = group_end(p, end);
			k = analyse_group(a, p, next, depth, &pending);
			p = next;
		} else if (*p == '{' && (next = macro(p, end, name, sizeof(name)))) {
			const struct vocab *v = rules_vocab_find(a->r, name);
			const struct define *d = v ? NULL : rules_define_find(a->r, name);
			if (v)
				k = vocab_clause(a, v, name, &pending);
			else if (d)
				k = analyse(a, d->pattern, d->pattern + strlen(d->pattern),
					    depth + 1, &pending);
			p = next;
		} else
			p++; /* . ^ $ */
	}
	if (k >= 0)
		k = flush_run(a, &run, out);
	commit(out, &pending);
	return k;
}

/* Where the top-level '|' of p..end is, or end. */
static const char *branch_end(const char *p, const char *end)
{
	while (p < end && *p != '|') {
		if (*p == '\\' && p + 1 < end)
			p = p[1] == 'Q' ? quote_end(p + 2, end) : p + 2;
		else if (*p == '[')
			p = class_end(p, end);
		else if (*p == '(')
			p = group_end(p, end);
		else
			p++;
	}
	return p;
}

#define UNIONS 2

/* Joins clause c into union u; false when u would name too many sets. */
static bool join(struct clause *u, const struct clause *c)
{
	if (u->n_sets + c->n_sets > CLAUSE_MAX_SETS)
		return false;
	u->chars[0] |= c->chars[0];
	u->chars[1] |= c->chars[1];
	memcpy(u->sets + u->n_sets, c->sets, c->n_sets * sizeof(unsigned));
	u->n_sets += c->n_sets;
	return true;
}

/* An alternation requires one thing of each branch. Every clause of a
 * branch is needed by that branch, so any pick of one clause per branch,
 * joined, is needed by the alternation: the best clause of each makes one
 * union, the second best (or the best again) another ("9:30 | 9am | noon"
 * needs a digit or "noon", and ':' or '.' or "am"... or "noon"). A branch
 * that needs nothing makes the alternation need nothing. */
static int analyse(struct analysis *a, const char *p, const char *end, int depth, struct req *out)
{
	const char *b = branch_end(p, end);
	struct clause u[UNIONS];
	bool ok = true, several = false;

	if (depth > ANALYSE_DEPTH)
		return 0;
	if (b == end)
		return analyse_branch(a, p, end, depth, out);
	memset(u, 0, sizeof(u));
	for (;;) {
		struct req q = {0};
		const struct clause *pick[UNIONS] = {NULL};
		int k = analyse_branch(a, p, b, depth, &q);
		if (k < 0)
			return k;
		out->give_up |= q.give_up;
		for (size_t i = 0; i < q.n; i++) {
			const struct clause *c = &q.c[i];
			if (!pick[0] || clause_score(c) > clause_score(pick[0])) {
				pick[1] = pick[0];
				pick[0] = c;
			} else if (!pick[1] || clause_score(c) > clause_score(pick[1]))
				pick[1] = c;
		}
		several |= pick[1] != NULL;
		for (size_t k2 = 0; k2 < UNIONS && ok; k2++)
			ok = pick[0] && join(&u[k2], pick[k2] ? pick[k2] : pick[0]);
		if (b == end)
			break;
		p = b + 1;
		b = branch_end(p, end);
	}
	for (size_t k2 = 0; ok && k2 < (several ? UNIONS : 1); k2++)
		req_add(out, &u[k2]);
	return 0;
}

int pattern_needs(const struct rules *r, const char *source, const struct pattern_sets *sets,
		  struct clause *ret, size_t *ret_n)
{
	struct analysis a = {.r = r, .sets = sets};
	struct req q = {0};
	int k = analyse(&a, source, source + strlen(source), 0, &q);

	if (k < 0)
		return k;
	if (q.give_up)
		q.n = 0;
	memcpy(ret, q.c, q.n * sizeof(q.c[0]));
	*ret_n = q.n;
	return 0;
}

/* Whether a class (p at '[', cend after ']') can match a line break. */
static bool class_crosses(const char *p, const char *cend)
{
	bool negated = p[1] == '^';

	for (const char *q = p + 1 + negated; q < cend - 1; q++) {
		if (*q == '\n')
			return true;
		if (*q == '[' && q[1] == ':')
			return true; /* [:space:], [:cntrl:], [:^alpha:]... */
		if (*q != '\\')
			continue;
		q++;
		if (*q == 'n' || *q == 's' || *q == 'v' || *q == 'R')
			return !negated; /* a negated class without them has \n */
		if (strchr("DWHVPSxoc01234567N", *q) ||
		    (*q == 'p' && q[1] == '{' && strchr("CAX", q[2])))
			return true;
	}
	return negated; /* [^abc] matches \n */
}

bool pattern_crosses_lines(const char *p)
{
	const char *end = p + strlen(p);

	while (p < end) {
		if (*p == '\n')
			return true;
		if (*p == '[') {
			const char *cend = class_end(p, end);
			if (class_crosses(p, cend))
				return true;
			p = cend;
			continue;
		}
		if (*p == '(' && p[1] == '?') {
			size_t n =
			    strspn(p + 2, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ^-");
			if (memchr(p + 2, 's', n))
				return true; /* (?s): . matches \n */
		}
		if (*p == '\\') {
			char e = p[1];
			if (e == 'Q') {
				const char *q = quote_end(p + 2, end);
				if (memchr(p, '\n', (size_t)(q - p)))
					return true;
				p = q;
				continue;
			}
			if (strchr("nsRvXCDWHVPxoc01234567", e) || (e == 'N' && p[2] == '{') ||
			    (e == 'p' && p[2] == '{' && strchr("CAX", p[3])))
				return true;
			p += 2;
			continue;
		}
		p++;
	}
	return false;
}

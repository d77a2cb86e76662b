/* rules-prefilter.c: what a line must contain for a rule to match in it.
 *
 * Most rules cannot match most lines: a date needs a digit or a month name, a
 * price a currency. At load, each rule's pattern (as written, with its
 * {vocabulary} and {define} macros) is read for what every match must
 * contain: literal text, a vocabulary's word, a digit or punctuation
 * character, or one of a few such things for an alternation. A rule is then
 * tried only on the lines that hold all of them. The reading is
 * conservative: whatever it does not understand requires nothing, so a
 * line it rules out can never hold a match.
 *
 * Words and literal text are looked for in the case- and accent-folded text
 * (rules_fold(), the same folding as the vocabulary look-up) by one
 * Aho-Corasick automaton built from every rule's strings; characters are
 * looked for in the text as it is. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cleanup.h"
#include "rules-private.h"
#include "strutil.h"

#define CLAUSE_MAX_SETS 16 /* string sets one alternation may name */
#define FILTER_MAX      16 /* clauses kept per rule */
#define ANALYSE_DEPTH   16 /* groups and defines within each other */

/* One thing of which a line must hold at least one: an ASCII character of
 * chars, or a string of one of the string sets. */
struct clause {
	uint64_t chars[2];
	unsigned sets[CLAUSE_MAX_SETS];
	size_t n_sets;
};

struct prefilter {
	struct clause c[FILTER_MAX];
	size_t n;
};

struct ac_node {
	uint32_t child, sibling; /* first child, next sibling; 0 = none */
	uint32_t fail, dict;     /* longest proper suffix node; nearest suffix with sets */
	uint32_t sets;           /* head of this node's set list in outs, 0 = none */
	unsigned char byte;
};

struct ac_out {
	unsigned set;
	uint32_t next;
};

struct prefilter_index {
	struct ac_node *nodes; /* nodes[0] is the root */
	size_t n_nodes;
	uint32_t root[256];  /* the root's transitions, dense */
	struct ac_out *outs; /* outs[0] unused */
	size_t n_outs;
	char **keys; /* set i is keys[i]: "v:NAME" or "s:STRING" */
	size_t n_sets;
};

struct prefilter_lines {
	size_t n_lines, words;
	uint64_t *chars; /* 3 a line: ASCII bytes, and bit 0 of the third: maybe a digit */
	uint64_t *sets;  /* words a line: the string sets found in it */
	bool all;        /* folding moved lines: every line may match */
};

/* The parse of a pattern region, an AND of clauses. */
struct req {
	struct clause c[FILTER_MAX];
	size_t n;
	bool give_up; /* (?x) or too deep: the rule gets no filter */
};

struct analysis {
	struct rules *r;
	struct prefilter_index *ix;
};

static void req_add(struct req *q, const struct clause *c)
{
	if (q->n < FILTER_MAX)
		q->c[q->n++] = *c;
}

static int set_for(struct analysis *a, const char *key, unsigned *ret)
{
	struct prefilter_index *ix = a->ix;
	char **k;

	for (size_t i = 0; i < ix->n_sets; i++)
		if (streq(ix->keys[i], key)) {
			*ret = (unsigned)i;
			return 0;
		}
	k = reallocarray(ix->keys, ix->n_sets + 1, sizeof(char *));
	if (!k)
		return -ENOMEM;
	ix->keys = k;
	k[ix->n_sets] = strdup(key);
	if (!k[ix->n_sets])
		return -ENOMEM;
	*ret = (unsigned)ix->n_sets++;
	return 1; /* new: its strings must be added */
}

static int ac_child(struct prefilter_index *ix, uint32_t node, unsigned char b, uint32_t *ret)
{
	uint32_t c;
	struct ac_node *n;

	if (node == 0 && ix->root[b]) {
		*ret = ix->root[b];
		return 0;
	}
	for (c = ix->nodes[node].child; c; c = ix->nodes[c].sibling)
		if (ix->nodes[c].byte == b) {
			*ret = c;
			return 0;
		}
	if (ix->n_nodes >= UINT32_MAX)
		return -E2BIG;
	n = reallocarray(ix->nodes, ix->n_nodes + 1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	ix->nodes = n;
	c = (uint32_t)ix->n_nodes++;
	n[c] = (struct ac_node){.byte = b, .sibling = n[node].child};
	n[node].child = c;
	if (node == 0)
		ix->root[b] = c;
	*ret = c;
	return 0;
}

/* Adds string s (already folded) to set. */
static int ac_add(struct prefilter_index *ix, const char *s, unsigned set)
{
	uint32_t node = 0;
	struct ac_out *o;
	int k;

	for (; *s; s++)
		if ((k = ac_child(ix, node, (unsigned char)*s, &node)) < 0)
			return k;
	for (uint32_t i = ix->nodes[node].sets; i; i = ix->outs[i].next)
		if (ix->outs[i].set == set)
			return 0;
	o = reallocarray(ix->outs, ix->n_outs + 1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	ix->outs = o;
	o[ix->n_outs] = (struct ac_out){.set = set, .next = ix->nodes[node].sets};
	ix->nodes[node].sets = (uint32_t)ix->n_outs++;
	return 0;
}

static uint32_t ac_goto(const struct prefilter_index *ix, uint32_t node, unsigned char b)
{
	if (node == 0)
		return ix->root[b];
	for (uint32_t c = ix->nodes[node].child; c; c = ix->nodes[c].sibling)
		if (ix->nodes[c].byte == b)
			return c;
	return 0;
}

/* Failure and dictionary links, breadth first. */
static int ac_link(struct prefilter_index *ix)
{
	_cleanup_free_ uint32_t *queue = calloc(ix->n_nodes, sizeof(uint32_t));
	size_t head = 0, tail = 0;

	if (!queue)
		return -ENOMEM;
	for (uint32_t c = ix->nodes[0].child; c; c = ix->nodes[c].sibling)
		queue[tail++] = c; /* their fail and dict: the root */
	while (head < tail) {
		uint32_t u = queue[head++];
		for (uint32_t c = ix->nodes[u].child; c; c = ix->nodes[c].sibling) {
			unsigned char b = ix->nodes[c].byte;
			uint32_t f = ix->nodes[u].fail, g;
			while (f && !ac_goto(ix, f, b))
				f = ix->nodes[f].fail;
			g = ac_goto(ix, f, b);
			ix->nodes[c].fail = g;
			ix->nodes[c].dict = ix->nodes[g].sets ? g : ix->nodes[g].dict;
			queue[tail++] = c;
		}
	}
	return 0;
}

static uint32_t ac_step(const struct prefilter_index *ix, uint32_t node, unsigned char b)
{
	while (node && !ac_goto(ix, node, b))
		node = ix->nodes[node].fail;
	return ac_goto(ix, node, b);
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

/* A clause naming the string set key; *strings are added when it is new. */
static int string_clause(struct analysis *a, const char *key, const struct vocab *v,
			 const char *literal, struct clause *ret)
{
	unsigned set;
	int k = set_for(a, key, &set);

	if (k < 0)
		return k;
	if (k > 0 && v) {
		for (size_t i = 0; i < v->n && k >= 0; i++) {
			_cleanup_free_ char *piece = word_piece(v->words[i]);
			if (!piece)
				return -ENOMEM; /* a word is never only spaces */
			k = *piece ? ac_add(a->ix, piece, set) : 0;
		}
	} else if (k > 0)
		k = ac_add(a->ix, literal, set);
	if (k < 0)
		return k;
	*ret = (struct clause){.sets = {set}, .n_sets = 1};
	return 0;
}

#define RUN_MAX 128

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
static bool class_clause(const char *p, const char *cend, struct clause *ret)
{
	struct clause c = {0};

	p++;
	if (*p == '^')
		return false;
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
				return false;
			lo = (unsigned char)p[1];
			p += 2;
		} else if ((*p == ']' && first) || (lo < 0x80 && !isalpha(lo) && *p != '[')) {
			p++;
		} else
			return false;
		hi = lo;
		if (p + 1 < cend - 1 && *p == '-') {
			hi = (unsigned char)p[1];
			if (hi == '\\' || hi >= 0x80 || isalpha(hi) || hi < lo)
				return false;
			p += 2;
		}
		for (unsigned b = lo; b <= hi; b++)
			chars_add(&c, (unsigned char)b);
	}
	*ret = c;
	return chars_any(&c);
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
		if (*c == ':' || *c == '|')
			c++;
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
			if (class_clause(p, next, &c))
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

/* An alternation requires one thing of each branch: the best clause of
 * each, joined into one (none if a branch requires nothing). */
static int analyse(struct analysis *a, const char *p, const char *end, int depth, struct req *out)
{
	const char *b = branch_end(p, end);
	struct clause u = {0};
	bool ok = true;

	if (depth > ANALYSE_DEPTH)
		return 0;
	if (b == end)
		return analyse_branch(a, p, end, depth, out);
	for (;;) {
		struct req q = {0};
		const struct clause *best = NULL;
		int k = analyse_branch(a, p, b, depth, &q);
		if (k < 0)
			return k;
		out->give_up |= q.give_up;
		for (size_t i = 0; i < q.n; i++)
			if (!best || clause_score(&q.c[i]) > clause_score(best))
				best = &q.c[i];
		if (!best || u.n_sets + best->n_sets > CLAUSE_MAX_SETS)
			ok = false;
		else {
			u.chars[0] |= best->chars[0];
			u.chars[1] |= best->chars[1];
			memcpy(u.sets + u.n_sets, best->sets, best->n_sets * sizeof(unsigned));
			u.n_sets += best->n_sets;
		}
		if (b == end)
			break;
		p = b + 1;
		b = branch_end(p, end);
	}
	if (ok)
		req_add(out, &u);
	return 0;
}

int prefilter_build(struct rules *r)
{
	struct prefilter_index *ix = calloc(1, sizeof(*ix));
	struct analysis a = {.r = r, .ix = ix};
	int k = 0;

	if (!ix)
		return -ENOMEM;
	r->prefilter = ix;
	ix->nodes = calloc(1, sizeof(*ix->nodes)); /* the root */
	ix->outs = calloc(1, sizeof(*ix->outs));   /* outs[0]: the end of every list */
	if (!ix->nodes || !ix->outs)
		return -ENOMEM;
	ix->n_nodes = ix->n_outs = 1;
	for (size_t i = 0; i < r->n_rules && k >= 0; i++) {
		struct rule *rule = &r->rules[i];
		struct req q = {0};

		k = analyse(&a, rule->source, rule->source + strlen(rule->source), 0, &q);
		if (k < 0 || q.give_up || q.n == 0)
			continue;
		rule->filter = calloc(1, sizeof(*rule->filter));
		if (!rule->filter)
			return -ENOMEM;
		memcpy(rule->filter->c, q.c, q.n * sizeof(q.c[0]));
		rule->filter->n = q.n;
	}
	return k < 0 ? k : ac_link(ix);
}

void prefilter_index_free(struct prefilter_index *ix)
{
	if (!ix)
		return;
	for (size_t i = 0; i < ix->n_sets; i++)
		free(ix->keys[i]);
	free(ix->keys);
	free(ix->nodes);
	free(ix->outs);
	free(ix);
}

void prefilter_free(struct prefilter *f)
{
	free(f);
}

/* Lead bytes of UTF-8 sequences that may be a decimal digit (\d matches any
 * Unicode Nd): all but Latin, Greek and the punctuation and symbol blocks. */
static bool maybe_digit_lead(unsigned char b)
{
	return b >= 0xD0 && b != 0xE2;
}

int prefilter_lines_new(const struct rules *r, const char *text, size_t len, const size_t *starts,
			size_t n_lines, struct prefilter_lines **ret)
{
	const struct prefilter_index *ix = r->prefilter;
	_cleanup_free_ char *folded = NULL;
	struct prefilter_lines *pl;
	size_t line = 0;
	uint32_t node = 0;

	pl = calloc(1, sizeof(*pl));
	if (!pl)
		return -ENOMEM;
	pl->n_lines = n_lines;
	pl->words = (ix->n_sets + 63) / 64;
	pl->chars = calloc(3 * n_lines, sizeof(uint64_t));
	pl->sets = calloc(pl->words * n_lines + 1, sizeof(uint64_t));
	folded = rules_fold(text, len);
	if (!pl->chars || !pl->sets || !folded) {
		prefilter_lines_free(pl);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n_lines; i++) {
		uint64_t *c = &pl->chars[3 * i];
		for (size_t p = starts[i]; p + 1 < starts[i + 1]; p++) {
			unsigned char b = (unsigned char)text[p];
			if (b < 0x80)
				c[b >> 6] |= 1ull << (b & 63);
			else if (maybe_digit_lead(b))
				c[2] = 1;
		}
	}
	for (const char *p = folded; *p; p++) {
		if (*p == '\n') {
			line++;
			node = 0;
			if (line >= n_lines)
				break;
			continue;
		}
		node = ac_step(ix, node, (unsigned char)*p);
		for (uint32_t u = ix->nodes[node].sets ? node : ix->nodes[node].dict; u;
		     u = ix->nodes[u].dict)
			for (uint32_t o = ix->nodes[u].sets; o; o = ix->outs[o].next)
				pl->sets[line * pl->words + ix->outs[o].set / 64] |=
				    1ull << (ix->outs[o].set % 64);
	}
	pl->all = line != n_lines - 1; /* folding added or removed a line break */
	*ret = pl;
	return 0;
}

void prefilter_lines_free(struct prefilter_lines *pl)
{
	if (!pl)
		return;
	free(pl->chars);
	free(pl->sets);
	free(pl);
}

bool prefilter_line_ok(const struct prefilter_lines *pl, const struct prefilter *f, size_t line)
{
	const uint64_t *chars, *sets;

	if (!f || pl->all)
		return true;
	chars = &pl->chars[3 * line];
	sets = &pl->sets[line * pl->words];
	for (size_t i = 0; i < f->n; i++) {
		const struct clause *c = &f->c[i];
		bool ok = (c->chars[0] & chars[0]) || (c->chars[1] & chars[1]) ||
			  (chars[2] && (c->chars[0] & 0x03ff000000000000ull));
		for (size_t j = 0; j < c->n_sets && !ok; j++)
			ok = sets[c->sets[j] / 64] & (1ull << (c->sets[j] % 64));
		if (!ok)
			return false;
	}
	return true;
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

bool prefilter_crosses_lines(const char *p)
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

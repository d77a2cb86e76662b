/* extract-facts.c: lines, rule matches over the text, and their values. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "cleanup.h"
#include "extract-private.h"
#include "strutil.h"

/* The length of the run of spaces at p when it may separate fixed-width
 * columns: two or more, after text and before more text; else 0. */
static size_t column_gap(const char *t, const struct line *l, size_t p)
{
	size_t q = p;

	if (p == l->start || t[p - 1] == ' ' || t[p - 1] == '\t')
		return 0;
	while (q < l->end && t[q] == ' ')
		q++;
	return q - p >= 2 && q < l->end ? q - p : 0;
}

/* "Sat 26.09   09.30   Elephant Cave   EUR 50,00": columns of spaces, at
 * least two gaps of three (a narrower gap then also parts two columns). */
static bool space_columns(const char *t, const struct line *l)
{
	size_t gaps = 0;

	for (size_t p = l->start; p < l->end; p++)
		gaps += column_gap(t, l, p) >= 3;
	return gaps >= 2;
}

static void split_cells(const char *t, struct line *l, bool spaced)
{
	size_t s = l->start;

	l->n_cells = 0;
	for (size_t p = l->start; p <= l->end && l->n_cells < EXTRACT_MAX_CELLS; p++) {
		size_t sep = 0;
		if (p == l->end)
			sep = 1;
		else if (t[p] == '\t')
			sep = 1;
		else if (p + 3 <= l->end && memcmp(t + p, " | ", 3) == 0)
			sep = 3;
		else if (spaced)
			sep = column_gap(t, l, p);
		if (!sep)
			continue;
		l->cs[l->n_cells] = s;
		l->ce[l->n_cells] = p;
		l->n_cells++;
		s = p + sep;
		p += sep - 1;
	}
}

static bool is_blank(const char *t, size_t s, size_t e)
{
	for (; s < e; s++)
		if (t[s] != ' ' && t[s] != '\t' && t[s] != '\r')
			return false;
	return true;
}

int ex_split_lines(struct ex *x)
{
	size_t n = 1, i = 0, s = 0;

	for (size_t p = 0; p < x->len; p++)
		n += x->text[p] == '\n';
	x->lines = calloc(n, sizeof(*x->lines));
	if (!x->lines)
		return -ENOMEM;
	for (size_t p = 0; p <= x->len; p++) {
		if (p < x->len && x->text[p] != '\n')
			continue;
		struct line *l = &x->lines[i++];
		size_t e = p > s && x->text[p - 1] == '\r' ? p - 1 : p;
		const char *t = x->text;
		*l = (struct line){.start = s, .end = e, .blank = is_blank(t, s, e)};
		l->quoted = e > s && t[s] == '>';
		l->signature = (e - s == 2 || e - s == 3) && memcmp(t + s, "--", 2) == 0 &&
			       (e - s == 2 || t[s + 2] == ' ');
		l->table = memmem(t + s, e - s, " | ", 3) || memchr(t + s, '\t', e - s);
		if (l->table)
			split_cells(t, l, false);
		else if (space_columns(t, l)) {
			l->table = true;
			split_cells(t, l, true);
		}
		s = p + 1;
	}
	x->n_lines = i;
	return 0;
}

_printf_(2, 3) int ex_warn(struct ex *x, const char *fmt, ...)
{
	struct extract_result *r = x->res;
	char *s = NULL, **w;
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (k < 0)
		return -ENOMEM;
	w = reallocarray(r->warnings, r->n_warnings + 1, sizeof(char *));
	if (!w) {
		free(s);
		return -ENOMEM;
	}
	r->warnings = w;
	w[r->n_warnings++] = s;
	return 0;
}

static size_t line_of(const struct ex *x, size_t pos)
{
	size_t lo = 0, hi = x->n_lines;

	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;
		if (x->lines[mid].start <= pos)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

static int add_hit(struct ex *x, const struct rule *rule, const struct rule_match *m)
{
	struct hit *h;
	size_t line = line_of(x, m->start);

	if (x->lines[line].quoted)
		return 0;
	if (x->n_hits >= EXTRACT_MAX_HITS)
		return -E2BIG;
	if ((x->n_hits & (x->n_hits - 1)) == 0) {
		h = reallocarray(x->hits, x->n_hits ? 2 * x->n_hits : 64, sizeof(*h));
		if (!h)
			return -ENOMEM;
		x->hits = h;
	}
	x->hits[x->n_hits] = (struct hit){
	    .rule = rule, .kind = rule_kind(rule), .m = *m, .line = line, .seq = x->n_hits};
	x->n_hits++;
	return 0;
}

static size_t next_char(const char *t, size_t len, size_t p)
{
	p++;
	while (p < len && ((unsigned char)t[p] & 0xc0) == 0x80)
		p++;
	return p;
}

/* Every match of rule from pos on, within line l or, for RULES_WHOLE_TEXT,
 * anywhere. */
static int scan_from(struct ex *x, struct rules_scan *scan, const struct rule *rule, size_t l,
		     size_t pos)
{
	for (;;) {
		struct rule_match m;
		int k = rules_scan_match(scan, rule, l, pos, &m);
		if (k == 0)
			return 0;
		if (k == -E2BIG) {
			size_t at = l == RULES_WHOLE_TEXT ? line_of(x, pos) : l;
			k = ex_warn(x, "rule %s: match limit hit on line %zu, line skipped",
				    rule_id(rule), at + 1);
			if (k < 0 || l != RULES_WHOLE_TEXT || at + 1 >= x->n_lines)
				return k;
			pos = x->lines[at + 1].start;
			continue;
		}
		if (k < 0)
			return k;
		k = add_hit(x, rule, &m);
		if (k < 0)
			return k;
		pos = m.end > m.start ? m.end : next_char(x->text, x->len, m.start);
	}
}

/* Every match of rule: line by line on the lines that may hold one, or
 * through the whole text for a rule that crosses lines. */
static int scan_rule(struct ex *x, struct rules_scan *scan, const struct rule *rule)
{
	if (rule_crosses_lines(rule))
		return rules_scan_next_line(scan, rule, 0) < x->n_lines
			   ? scan_from(x, scan, rule, RULES_WHOLE_TEXT, 0)
			   : 0;
	for (size_t l = rules_scan_next_line(scan, rule, 0); l < x->n_lines;
	     l = rules_scan_next_line(scan, rule, l + 1)) {
		int k = x->lines[l].quoted ? 0 : scan_from(x, scan, rule, l, x->lines[l].start);
		if (k < 0)
			return k;
	}
	return 0;
}

static bool inside(const struct hit *a, const struct hit *b)
{
	return a->m.start >= b->m.start && a->m.end <= b->m.end;
}

static bool overlaps(const struct hit *a, const struct hit *b)
{
	return a->m.start < b->m.end && b->m.start < a->m.end;
}

static bool is_dated(enum rule_kind k)
{
	return k == RK_DATE || k == RK_WEEKDAY || k == RK_RELDAY;
}

static bool is_timed(enum rule_kind k)
{
	return k == RK_TIME || k == RK_MEET_TIME || k == RK_DIVE_TIME;
}

/* Of two overlapping dates, an explicit date beats a weekday alone, then the
 * longer wins, then the earlier rule. */
static bool wins(const struct hit *b, const struct hit *a, bool b_first)
{
	size_t lb = b->m.end - b->m.start, la = a->m.end - a->m.start;

	if ((b->kind == RK_DATE) != (a->kind == RK_DATE))
		return b->kind == RK_DATE;
	return lb > la || (lb == la && b_first);
}

/* Whether b says a is not a fact: anything inside an ignore span, prices
 * inside extras, times inside dates, the loser of two overlapping dates. */
static bool drops(const struct hit *a, const struct hit *b)
{
	if (b->kind == RK_IGNORE && a->kind != RK_IGNORE && inside(a, b) &&
	    (is_dated(a->kind) || is_timed(a->kind) || a->kind == RK_PRICE))
		return true;
	if (b->kind == RK_PRICE_EXTRA && a->kind == RK_PRICE && overlaps(a, b))
		return true;
	if (is_timed(a->kind) && b->kind == RK_DATE && overlaps(a, b))
		return true;
	if (is_timed(a->kind) && (b->kind == RK_PRICE || b->kind == RK_GROUP_SIZE) &&
	    overlaps(a, b))
		return true;
	if (a->kind == RK_DURATION && b->kind == RK_DIVE_DURATION && overlaps(a, b))
		return true; /* "1 hour in the water" is a dive's, not the trip's */
	return is_dated(a->kind) && is_dated(b->kind) && overlaps(a, b) &&
	       wins(b, a, b->seq < a->seq);
}

/* Drops what an overlapping hit says is not a fact. Hits are sorted by
 * start; maxend[i] is the furthest end of hits[0..i], so the look back stops
 * where nothing earlier can reach. */
static int filter_hits(struct ex *x)
{
	_cleanup_free_ size_t *maxend = calloc(x->n_hits + 1, sizeof(size_t));

	if (!maxend)
		return -ENOMEM;
	for (size_t i = 0; i < x->n_hits; i++)
		maxend[i] =
		    i > 0 && maxend[i - 1] > x->hits[i].m.end ? maxend[i - 1] : x->hits[i].m.end;
	for (size_t i = 0; i < x->n_hits; i++) {
		struct hit *a = &x->hits[i];
		for (size_t j = i; j-- > 0 && maxend[j] > a->m.start && !a->dropped;)
			if (!x->hits[j].dropped && overlaps(a, &x->hits[j]))
				a->dropped = drops(a, &x->hits[j]);
		for (size_t j = i + 1;
		     j < x->n_hits && x->hits[j].m.start < a->m.end && !a->dropped; j++)
			if (!x->hits[j].dropped)
				a->dropped = drops(a, &x->hits[j]);
	}
	return 0;
}

static int by_position(const void *pa, const void *pb)
{
	const struct hit *a = pa, *b = pb;

	if (a->m.start != b->m.start)
		return a->m.start < b->m.start ? -1 : 1;
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

int ex_collect_hits(struct ex *x)
{
	_cleanup_(rules_scan_freep) struct rules_scan *scan = NULL;
	int k = rules_scan_new(x->rules, x->text, x->len, &scan);

	if (k < 0)
		return k;
	for (size_t i = 0; i < rules_count(x->rules); i++) {
		k = scan_rule(x, scan, rules_get(x->rules, i));
		if (k < 0)
			return k;
	}
	if (x->n_hits)
		qsort(x->hits, x->n_hits, sizeof(*x->hits), by_position);
	for (size_t i = 0, l = 0; l < x->n_lines; l++) {
		x->lines[l].h0 = i;
		while (i < x->n_hits && x->hits[i].line == l)
			i++;
		x->lines[l].h1 = i;
	}
	return filter_hits(x);
}

bool ex_group(const struct ex *x, const struct hit *h, enum rule_group g, size_t *rs, size_t *re)
{
	(void)x;
	if (h->m.gs[g] == (size_t)-1)
		return false;
	if (rs)
		*rs = h->m.gs[g];
	if (re)
		*re = h->m.ge[g];
	return true;
}

int ex_group_key(const struct ex *x, const struct hit *h, enum rule_group g, const char *vocab,
		 const char **ret_key)
{
	size_t s, e;

	if (!ex_group(x, h, g, &s, &e))
		return -ENOENT;
	return rules_vocab_lookup(x->rules, vocab, x->text + s, e - s, ret_key);
}

/* A group as a number: digits, or a vocabulary key (month, weekday, number). */
int ex_group_int(const struct ex *x, const struct hit *h, enum rule_group g, int *ret)
{
	static const char *const vocab_of[_RG_MAX] = {
	    [RG_MONTH] = "month",  [RG_WEEKDAY] = "weekday", [RG_REL] = "relday",
	    [RG_COUNT] = "number", [RG_N] = "number",        [RG_MIN] = "minute_word",
	};
	char digits[8];
	const char *key = NULL;
	unsigned v;
	size_t s, e;

	if (!ex_group(x, h, g, &s, &e) || e == s)
		return -ENOENT;
	if (e - s < sizeof(digits) && x->text[s] >= '0' && x->text[s] <= '9') {
		memcpy(digits, x->text + s, e - s);
		digits[e - s] = '\0';
		if (parse_uint32(digits, &v) < 0 || v > 100000)
			return -EINVAL;
		*ret = (int)v;
		return 0;
	}
	if (!vocab_of[g] || rules_vocab_lookup(x->rules, vocab_of[g], x->text + s, e - s, &key) < 0)
		return -ENOENT;
	if (parse_uint32(key, &v) < 0)
		return -EINVAL;
	*ret = (int)v;
	return 0;
}

int ex_hit_time(const struct ex *x, const struct hit *h)
{
	int hour = 12, min = 0;

	if (ex_group(x, h, RG_NOON, NULL, NULL))
		return 12 * 60;
	if (ex_group_int(x, h, RG_HOUR, &hour) < 0)
		return -1;
	if (ex_group_int(x, h, RG_MIN, &min) < 0)
		min = 0;
	if (ex_group(x, h, RG_PM, NULL, NULL) && hour < 12)
		hour += 12;
	if (ex_group(x, h, RG_AM, NULL, NULL) && hour == 12)
		hour = 0;
	if (ex_group(x, h, RG_QTO, NULL, NULL)) {
		hour = hour == 0 ? 23 : hour - 1;
		min = 45;
	}
	if (hour > 23 || min > 59)
		return -1;
	return hour * 60 + min;
}

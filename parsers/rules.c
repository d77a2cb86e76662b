/* rules.c: loading, validating and compiling rule files; see rules.h. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <dirent.h>
#include <errno.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "buf.h"
#include "cleanup.h"
#include "digest.h"
#include "fold.h"
#include "rules-private.h"
#include "strutil.h"

static const char *const kind_names[_RK_MAX] = {
    [RK_DATE] = "date",
    [RK_WEEKDAY] = "weekday",
    [RK_RELDAY] = "relday",
    [RK_TIME] = "time",
    [RK_MEET_TIME] = "meet_time",
    [RK_DIVE_TIME] = "dive_time",
    [RK_PRICE] = "price",
    [RK_PRICE_EXTRA] = "price_extra",
    [RK_DURATION] = "duration",
    [RK_DIVE_DURATION] = "dive_duration",
    [RK_GROUP_SIZE] = "group_size",
    [RK_LEVEL] = "level",
    [RK_REQUIREMENT] = "requirement",
    [RK_CANCEL] = "cancel",
    [RK_MOVE] = "move",
    [RK_PAST] = "past",
    [RK_NOTRIP] = "notrip",
    [RK_IGNORE] = "ignore",
    [RK_DIVE_COUNT] = "dive_count",
    [RK_SITE] = "site",
    [RK_SITE_WEAK] = "site_weak",
    [RK_SITE_DESCRIPTOR] = "site_descriptor",
    [RK_SITE_HEADER] = "site_header",
    [RK_REQ_HEADER] = "req_header",
    [RK_END] = "end",
    [RK_EVERY_TRIP] = "every_trip",
    [RK_SIZE_HEADER] = "size_header",
    [RK_PRICE_HEADER] = "price_header",
};

static const char *const group_names[_RG_MAX] = {
    [RG_DAY] = "day",         [RG_DAY2] = "day2",   [RG_MONTH] = "month", [RG_YEAR] = "year",
    [RG_WEEKDAY] = "weekday", [RG_REL] = "rel",     [RG_HOUR] = "hour",   [RG_MIN] = "min",
    [RG_PM] = "pm",           [RG_AM] = "am",       [RG_QTO] = "qto",     [RG_NOON] = "noon",
    [RG_AMOUNT] = "amount",   [RG_CUR] = "cur",     [RG_N] = "n",         [RG_HOURS] = "hours",
    [RG_MINUTES] = "minutes", [RG_LEVEL] = "level", [RG_COUNT] = "count", [RG_SITE] = "site",
};

const char *rules_group_name(enum rule_group g)
{
	return g < _RG_MAX ? group_names[g] : NULL;
}

const char *rule_kind_name(enum rule_kind k)
{
	return k < _RK_MAX ? kind_names[k] : NULL;
}

static int kind_from_name(const char *s)
{
	for (int k = 0; k < _RK_MAX; k++)
		if (streq(kind_names[k], s))
			return k;
	return -EINVAL;
}

/* Appends "file:line: message" to the lines of *reterr_reason; returns r. */
_printf_(5, 6) static int fail(char **reterr_reason, int r, const char *file, unsigned line,
			       const char *fmt, ...)
{
	_cleanup_buf_ struct buf b = BUF_INIT(BUF_MAX_SMALL);
	va_list ap;

	if (!reterr_reason)
		return r;
	if (*reterr_reason && buf_printf(&b, "%s\n", *reterr_reason) < 0)
		return r; /* every error, one per line */
	if (buf_printf(&b, "%s:%u: ", file, line) < 0)
		return r;
	va_start(ap, fmt);
	if (buf_vprintf(&b, fmt, ap) < 0) {
		va_end(ap);
		return r;
	}
	va_end(ap);
	free(*reterr_reason);
	*reterr_reason = buf_take(&b, NULL);
	return r;
}

char *rules_fold(const char *s, size_t n)
{
	return fold_text(s, n);
}

/* Runs of white space become one space; none at either end. */
static void collapse_space(char *s)
{
	char *w = s;
	bool space = false;

	for (const char *p = s; *p; p++) {
		if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
			space = w > s;
			continue;
		}
		if (space)
			*w++ = ' ';
		space = false;
		*w++ = *p;
	}
	*w = '\0';
}

/* FNV-1a */
static size_t hash_str(const char *s)
{
	size_t h = 14695981039346656037ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/* slots[] of a power of two at least twice n, each string's index + 1 at
 * its hash (linear probing); the first of equal strings is kept. */
static int index_strings(char *const *strs, const char *(*get)(const void *, size_t),
			 const void *base, size_t n, size_t **ret_slots, size_t *ret_n_slots)
{
	size_t m = 8, *slots;

	while (m < 2 * n)
		m <<= 1;
	slots = calloc(m, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const char *s = strs ? strs[i] : get(base, i);
		size_t h = hash_str(s) & (m - 1);
		for (; slots[h]; h = (h + 1) & (m - 1))
			if (streq(strs ? strs[slots[h] - 1] : get(base, slots[h] - 1), s))
				break;
		if (!slots[h])
			slots[h] = i + 1;
	}
	free(*ret_slots);
	*ret_slots = slots;
	*ret_n_slots = m;
	return 0;
}

static const char *vocab_name_at(const void *base, size_t i)
{
	return ((const struct vocab *)base)[i].name;
}

/* Called once the vocabs are read and folded (rules-compile.c). */
int rules_vocab_index(struct rules *r)
{
	int k = index_strings(NULL, vocab_name_at, r->vocabs, r->n_vocabs, &r->vocab_slots,
			      &r->n_vocab_slots);
	if (k < 0)
		return k;
	r->n_vocabs_indexed = r->n_vocabs;
	for (size_t i = 0; i < r->n_vocabs && k >= 0; i++)
		k = index_strings(r->vocabs[i].folded_words, NULL, NULL, r->vocabs[i].n,
				  &r->vocabs[i].slots, &r->vocabs[i].n_slots);
	return k;
}

static struct vocab *vocab_find(const struct rules *r, const char *name)
{
	if (r->n_vocab_slots && r->n_vocabs_indexed == r->n_vocabs) {
		size_t m = r->n_vocab_slots - 1;
		for (size_t h = hash_str(name) & m; r->vocab_slots[h]; h = (h + 1) & m)
			if (streq(r->vocabs[r->vocab_slots[h] - 1].name, name))
				return &r->vocabs[r->vocab_slots[h] - 1];
		return NULL;
	}
	for (size_t i = 0; i < r->n_vocabs; i++)
		if (streq(r->vocabs[i].name, name))
			return &r->vocabs[i];
	return NULL;
}

static struct vocab *vocab_get(struct rules *r, const char *name)
{
	struct vocab *v = vocab_find(r, name), *nv;

	if (v)
		return v;
	nv = reallocarray(r->vocabs, r->n_vocabs + 1, sizeof(*nv));
	if (!nv)
		return NULL;
	r->vocabs = nv;
	v = &nv[r->n_vocabs];
	*v = (struct vocab){.name = strdup(name)};
	if (!v->name)
		return NULL;
	r->n_vocabs++;
	return v;
}

static int vocab_add(struct vocab *v, const char *key, const char *word)
{
	char **w, **k;

	w = reallocarray(v->words, v->n + 2, sizeof(char *));
	if (!w)
		return -ENOMEM;
	v->words = w;
	k = reallocarray(v->keys, v->n + 1, sizeof(char *));
	if (!k)
		return -ENOMEM;
	v->keys = k;
	w[v->n] = strdup(word);
	k[v->n] = strdup(key ? key : "");
	if (!w[v->n] || !k[v->n]) {
		free(w[v->n]);
		free(k[v->n]);
		w[v->n] = NULL;
		return -ENOMEM;
	}
	w[++v->n] = NULL;
	return 0;
}

const char *const *rules_vocab(const struct rules *r, const char *name)
{
	struct vocab *v = vocab_find(r, name);
	static const char *const empty[] = {NULL};

	if (!v)
		return NULL;
	return v->words ? (const char *const *)v->words : empty;
}

int rules_vocab_lookup(const struct rules *r, const char *name, const char *s, size_t n,
		       const char **ret_key)
{
	struct vocab *v = vocab_find(r, name);
	_cleanup_free_ char *heap = NULL;
	char folded[256];
	char *f;

	if (!v)
		return -ENOENT;
	/* most words are ASCII or Greek: folded without the heap */
	if (n < sizeof(folded) && fold_text_fast(s, n, folded)) {
		collapse_space(folded);
		f = folded;
	} else {
		heap = rules_fold(s, n);
		if (!heap)
			return -ENOMEM;
		collapse_space(heap);
		f = heap;
	}
	if (v->n_slots) {
		size_t m = v->n_slots - 1;
		for (size_t h = hash_str(f) & m; v->slots[h]; h = (h + 1) & m)
			if (streq(v->folded_words[v->slots[h] - 1], f)) {
				*ret_key = v->keys[v->slots[h] - 1];
				return 0;
			}
		return -ENOENT;
	}
	for (size_t i = 0; i < v->n; i++)
		if (streq(v->folded_words[i], f)) {
			*ret_key = v->keys[i];
			return 0;
		}
	return -ENOENT;
}

static void rule_done(struct rule *rule)
{
	free(rule->id);
	free(rule->source);
	free(rule->file);
	free(rule->gnums);
	prefilter_free(rule->filter);
	pcre2_code_free(rule->code);
}

struct rules *rules_free(struct rules *r)
{
	if (!r)
		return NULL;
	for (size_t i = 0; i < r->n_rules; i++)
		rule_done(&r->rules[i]);
	free(r->rules);
	for (size_t i = 0; i < r->n_vocabs; i++) {
		struct vocab *v = &r->vocabs[i];
		for (size_t j = 0; j < v->n; j++) {
			free(v->words[j]);
			free(v->keys[j]);
			if (v->folded_words)
				free(v->folded_words[j]);
		}
		free(v->words);
		free(v->keys);
		free(v->folded_words);
		free(v->slots);
		free(v->name);
	}
	free(r->vocabs);
	free(r->vocab_slots);
	for (size_t i = 0; i < r->n_defines; i++) {
		free(r->defines[i].name);
		free(r->defines[i].pattern);
		free(r->defines[i].file);
	}
	free(r->defines);
	prefilter_index_free(r->prefilter);
	pcre2_match_context_free(r->mctx);
	pcre2_jit_stack_free(r->jit_stack);
	free(r);
	return NULL;
}

size_t rules_count(const struct rules *r)
{
	return r->n_rules;
}

const struct rule *rules_get(const struct rules *r, size_t i)
{
	return i < r->n_rules ? &r->rules[i] : NULL;
}

const char *rule_id(const struct rule *rule)
{
	return rule->id;
}

enum rule_kind rule_kind(const struct rule *rule)
{
	return rule->kind;
}

const char *rules_version(const struct rules *r)
{
	return r->version;
}

void rules_set_limits(struct rules *r, unsigned match_limit, unsigned depth_limit)
{
	pcre2_set_match_limit(r->mctx, match_limit ? match_limit : RULES_MATCH_LIMIT_DEFAULT);
	pcre2_set_depth_limit(r->mctx, depth_limit ? depth_limit : RULES_DEPTH_LIMIT_DEFAULT);
}

/* The newer result when it is not 0, else the older one. */
static int keep_error(int newer, int older)
{
	return newer ? newer : older;
}

int rules_load(const char *dir, const char *override_dir, struct rules **ret, char **reterr_reason)
{
	struct rules *r;
	_cleanup_buf_ struct buf all = BUF_INIT(BUF_MAX_TEXT);
	int k;

	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->mctx = pcre2_match_context_create(NULL);
	r->jit_stack = pcre2_jit_stack_create(32 * 1024, 512 * 1024, NULL);
	if (!r->mctx || !r->jit_stack) {
		rules_free(r);
		return -ENOMEM;
	}
	pcre2_jit_stack_assign(r->mctx, NULL, r->jit_stack);
	rules_set_limits(r, 0, 0);
	/* every step runs (and reports its problems) unless memory ran out;
	 * the last error is the one returned */
	k = rules_read_dir(r, dir, true, &all, reterr_reason);
	if (k != -ENOMEM && override_dir)
		k = keep_error(rules_read_dir(r, override_dir, false, &all, reterr_reason), k);
	if (k != -ENOMEM)
		k = keep_error(rules_compile(r, reterr_reason), k);
	if (k < 0) {
		rules_free(r);
		return k;
	}
	sha256_hex(buf_str(&all), all.len, r->version);
	*ret = r;
	return 0;
}

/* Used by rules-parse.c. */
int rules_fail(char **reterr_reason, int r, const char *file, unsigned line, const char *msg,
	       const char *arg)
{
	return fail(reterr_reason, r, file, line, "%s%s%s%s", msg, arg ? " '" : "", arg ? arg : "",
		    arg ? "'" : "");
}

int rules_kind_from_name(const char *s)
{
	return kind_from_name(s);
}

struct vocab *rules_vocab_get(struct rules *r, const char *name)
{
	return vocab_get(r, name);
}

struct vocab *rules_vocab_find(const struct rules *r, const char *name)
{
	return vocab_find(r, name);
}

int rules_vocab_add(struct vocab *v, const char *key, const char *word)
{
	return vocab_add(v, key, word);
}

void rules_rule_done(struct rule *rule)
{
	rule_done(rule);
}

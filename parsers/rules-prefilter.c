/* rules-prefilter.c: which lines of a text a rule is worth trying on.
 *
 * Most rules cannot match most lines: a date needs a digit or a month name,
 * a price a currency. rules-pattern.c reads at load what every match of a
 * rule needs; here the text is looked at once: which ASCII characters each
 * line holds, and which needed strings (vocabulary words, literal text),
 * found by one Aho-Corasick automaton over the case- and accent-folded text
 * (fold_text(), as the vocabulary look-up folds). A rule is tried only on
 * the lines that hold all it needs. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "aho-corasick.h"
#include "cleanup.h"
#include "fold.h"
#include "rules-private.h"
#include "strutil.h"

struct prefilter_index {
	struct ac *ac;
	char **keys; /* set i is keys[i]: "v:NAME" or "s:STRING" */
	size_t n_sets;
};

struct prefilter_lines {
	size_t n_lines, words; /* line n_lines is all lines together */
	uint64_t *chars;       /* 3 a line: ASCII bytes, and bit 0 of the third: maybe a digit */
	uint64_t *sets;        /* words a line: the string sets found in it */
	bool all;              /* folding moved lines: every line may match */
};

/* The set named key: 1 when it is new (its strings follow), 0 if known. */
static int intern(void *userdata, const char *key, unsigned *ret)
{
	struct prefilter_index *ix = userdata;
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
	return 1;
}

static int add(void *userdata, unsigned set, const char *folded)
{
	struct prefilter_index *ix = userdata;
	return ac_add(ix->ac, folded, set);
}

/* A clause naming many sets is tested word by word against a line's sets. */
static int add_masks(struct rules *r)
{
	size_t words = (r->prefilter->n_sets + 63) / 64;

	for (size_t i = 0; i < r->n_rules; i++)
		for (size_t j = 0; r->rules[i].filter && j < r->rules[i].filter->n; j++) {
			struct clause *c = &r->rules[i].filter->c[j];
			if (c->n_sets <= 2)
				continue;
			c->mask = calloc(words, sizeof(uint64_t));
			if (!c->mask)
				return -ENOMEM;
			for (size_t k = 0; k < c->n_sets; k++)
				c->mask[c->sets[k] / 64] |= 1ull << (c->sets[k] % 64);
		}
	return 0;
}

int prefilter_build(struct rules *r)
{
	struct prefilter_index *ix = calloc(1, sizeof(*ix));
	const struct pattern_sets sets = {.intern = intern, .add = add, .userdata = ix};
	int k;

	if (!ix)
		return -ENOMEM;
	r->prefilter = ix;
	k = ac_new(&ix->ac);
	for (size_t i = 0; i < r->n_rules && k >= 0; i++) {
		struct rule *rule = &r->rules[i];
		struct clause c[FILTER_MAX];
		size_t n;

		k = pattern_needs(r, rule->source, &sets, c, &n);
		if (k < 0 || n == 0)
			continue;
		rule->filter = malloc(sizeof(*rule->filter) + n * sizeof(c[0]));
		if (!rule->filter)
			return -ENOMEM;
		rule->filter->n = n;
		memcpy(rule->filter->c, c, n * sizeof(c[0]));
	}
	if (k >= 0)
		k = add_masks(r);
	return k < 0 ? k : ac_link(ix->ac);
}

void prefilter_index_free(struct prefilter_index *ix)
{
	if (!ix)
		return;
	for (size_t i = 0; i < ix->n_sets; i++)
		free(ix->keys[i]);
	free(ix->keys);
	ac_free(ix->ac);
	free(ix);
}

void prefilter_free(struct prefilter *f)
{
	for (size_t i = 0; f && i < f->n; i++)
		free(f->c[i].mask);
	free(f);
}

/* Lead bytes of UTF-8 sequences that may be a decimal digit (\d matches any
 * Unicode Nd): all but Latin, Greek and the punctuation and symbol blocks. */
static bool maybe_digit_lead(unsigned char b)
{
	return b >= 0xD0 && b != 0xE2;
}

static void mark(unsigned set, void *userdata)
{
	uint64_t *line_sets = userdata;
	line_sets[set / 64] |= 1ull << (set % 64);
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
	pl->chars = calloc(3 * (n_lines + 1), sizeof(uint64_t));
	pl->sets = calloc(pl->words * (n_lines + 1) + 1, sizeof(uint64_t));
	folded = fold_text(text, len);
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
		node = ac_step(ix->ac, node, (unsigned char)*p);
		ac_each_id(ix->ac, node, mark, &pl->sets[line * pl->words]);
	}
	pl->all = line != n_lines - 1; /* folding added or removed a line break */
	for (size_t i = 0; i < n_lines; i++) {
		for (size_t w = 0; w < 3; w++)
			pl->chars[3 * n_lines + w] |= pl->chars[3 * i + w];
		for (size_t w = 0; w < pl->words; w++)
			pl->sets[n_lines * pl->words + w] |= pl->sets[i * pl->words + w];
	}
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

static bool line_ok(const struct prefilter_lines *pl, const struct prefilter *f, size_t line)
{
	const uint64_t *chars = &pl->chars[3 * line], *sets = &pl->sets[line * pl->words];

	for (size_t i = 0; i < f->n; i++) {
		const struct clause *c = &f->c[i];
		bool ok = (c->chars[0] & chars[0]) || (c->chars[1] & chars[1]) ||
			  (chars[2] && (c->chars[0] & 0x03ff000000000000ull));
		if (c->mask)
			for (size_t w = 0; w < pl->words && !ok; w++)
				ok = sets[w] & c->mask[w];
		else
			for (size_t j = 0; j < c->n_sets && !ok; j++)
				ok = sets[c->sets[j] / 64] & (1ull << (c->sets[j] % 64));
		if (!ok)
			return false;
	}
	return true;
}

bool prefilter_text_ok(const struct prefilter_lines *pl, const struct prefilter *f)
{
	return !f || pl->all || line_ok(pl, f, pl->n_lines);
}

size_t prefilter_next_line(const struct prefilter_lines *pl, const struct prefilter *f, size_t from)
{
	if (!f || pl->all)
		return from < pl->n_lines ? from : pl->n_lines;
	if (from == 0 && !line_ok(pl, f, pl->n_lines))
		return pl->n_lines; /* not in the whole text */
	for (size_t l = from; l < pl->n_lines; l++)
		if (line_ok(pl, f, l))
			return l;
	return pl->n_lines;
}

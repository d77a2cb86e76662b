/* alias-index-private.h: what alias-index.c shares with its two helpers,
 * alias-index-postings.c (posting tables, trigrams, word variants) and
 * alias-index-score.c (distance and scores). */
#ifndef DIVEMAP_ALIAS_INDEX_PRIVATE_H
#define DIVEMAP_ALIAS_INDEX_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alias-index.h"
#include "normalize.h"

#define ALIAS_SCORE_EXACT      1.0
#define ALIAS_SCORE_NORMALIZED 0.98
#define ALIAS_SCORE_FUZZY_MAX  0.9
#define ALIAS_TRIGRAMS_MAX     128
#define ALIAS_VARIANTS_MAX     256

/* Lists of keys by a 32-bit value (a trigram, a hashed word variant); a
 * list of one key holds it in place (most word variants have one). */
struct postings {
	uint32_t value; /* 0: empty slot */
	uint32_t n;     /* capacity: n rounded up to a power of two */
	union {
		uint32_t one;
		uint32_t *v;
	} u;
};

struct ptable {
	struct postings *v;
	size_t cap, n;
};

static inline const uint32_t *alias_postings_keys(const struct postings *p)
{
	return p->n == 1 ? &p->u.one : p->u.v;
}

struct postings *alias_ptable_find(const struct ptable *t, uint32_t value);
/* Adds key k to the list of value (not 0); 0 or -ENOMEM. */
int alias_ptable_add(struct ptable *t, uint32_t value, uint32_t k);
void alias_ptable_done(struct ptable *t);

/* The distinct trigrams of key's words, each padded with '$'; <= ALIAS_TRIGRAMS_MAX. */
size_t alias_key_trigrams(const char *key, uint32_t *out);
/* The hashed deletion neighbourhood of key's words; <= ALIAS_VARIANTS_MAX. */
size_t alias_key_variants(const char *key, uint32_t *out);

/* A key cut into words (pointing into it). */
struct alias_words {
	const char *w[NORMALIZE_TOKENS_MAX];
	size_t len[NORMALIZE_TOKENS_MAX];
	bool digit[NORMALIZE_TOKENS_MAX];
	size_t n, total;
};

void alias_words_split(const char *key, struct alias_words *ws);
/* The fuzzy score (<= ALIAS_SCORE_FUZZY_MAX) of key c for query q, words qw. */
double alias_score_key(const char *q, const struct alias_words *qw, const char *c,
		       enum alias_method *ret_method);

#endif

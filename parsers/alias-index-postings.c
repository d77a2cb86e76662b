/* alias-index-postings.c: posting tables, trigrams and word variants for
 * the alias index (alias-index-private.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "alias-index-private.h"

#define DEL_WORD_MIN 5 /* a typo in a shorter word cannot reach a score that counts */
#define DEL_WORD_MAX 16

static uint64_t hash_u32(uint32_t v)
{
	uint64_t h = v * 0x9E3779B97F4A7C15ULL;

	return h ^ (h >> 29);
}

static int postings_push(struct postings *p, uint32_t k)
{
	uint32_t *v;

	if (p->n == 0) {
		p->u.one = k;
	} else if (p->n == 1) {
		v = malloc(2 * sizeof(*v));
		if (!v)
			return -ENOMEM;
		v[0] = p->u.one;
		p->u.v = v;
	} else if ((p->n & (p->n - 1)) == 0) { /* full */
		v = realloc(p->u.v, 2 * p->n * sizeof(*v));
		if (!v)
			return -ENOMEM;
		p->u.v = v;
	}
	if (p->n > 0)
		p->u.v[p->n] = k;
	p->n++;
	return 0;
}

struct postings *alias_ptable_find(const struct ptable *t, uint32_t value)
{
	size_t mask = t->cap - 1;

	if (!t->cap)
		return NULL;
	for (size_t i = hash_u32(value) & mask;; i = (i + 1) & mask) {
		if (t->v[i].value == value)
			return &t->v[i];
		if (t->v[i].value == 0)
			return NULL;
	}
}

static int ptable_grow(struct ptable *t)
{
	size_t cap = t->cap ? t->cap * 2 : 1024;
	struct postings *v;

	if ((t->n + 1) * 4 <= t->cap * 3)
		return 0;
	v = calloc(cap, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < t->cap; i++) {
		size_t j;

		if (!t->v[i].value)
			continue;
		for (j = hash_u32(t->v[i].value) & (cap - 1); v[j].value; j = (j + 1) & (cap - 1))
			;
		v[j] = t->v[i];
	}
	free(t->v);
	t->v = v;
	t->cap = cap;
	return 0;
}

/* Adds key k to the list of value (not 0). */
int alias_ptable_add(struct ptable *t, uint32_t value, uint32_t k)
{
	struct postings *p = alias_ptable_find(t, value);
	int r;

	if (!p) {
		r = ptable_grow(t);
		if (r < 0)
			return r;
		size_t j = hash_u32(value) & (t->cap - 1);

		while (t->v[j].value)
			j = (j + 1) & (t->cap - 1);
		p = &t->v[j];
		p->value = value;
		t->n++;
	}
	return postings_push(p, k);
}

void alias_ptable_done(struct ptable *t)
{
	for (size_t i = 0; i < t->cap; i++)
		if (t->v[i].n > 1)
			free(t->v[i].u.v);
	free(t->v);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The distinct trigrams of key's words, each padded with '$'. */
size_t alias_key_trigrams(const char *key, uint32_t *out)
{
	size_t n = 0, m = 0;

	for (const char *w = key; *w && n < ALIAS_TRIGRAMS_MAX;) {
		size_t len = strcspn(w, " ");
		uint8_t pad[len + 2];

		pad[0] = '$';
		memcpy(pad + 1, w, len);
		pad[len + 1] = '$';
		for (size_t i = 0; i + 3 <= len + 2 && n < ALIAS_TRIGRAMS_MAX; i++)
			out[n++] = (uint32_t)pad[i] << 16 | (uint32_t)pad[i + 1] << 8 | pad[i + 2];
		w += len;
		w += *w == ' ';
	}
	qsort(out, n, sizeof(*out), cmp_u32);
	for (size_t i = 0; i < n; i++)
		if (m == 0 || out[m - 1] != out[i])
			out[m++] = out[i];
	return m;
}

/* The scratch arrays follow the key capacity. */
/* A word, or it less the byte at skip (skip == len: the word), hashed. */
static uint32_t hash_variant(const char *w, size_t len, size_t skip)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < len; i++)
		if (i != skip)
			h = (h ^ (uint8_t)w[i]) * 1099511628211ULL;
	h ^= h >> 32;
	return (uint32_t)h ? (uint32_t)h : 1;
}

/* The deletion neighbourhood of key's words: each word of DEL_WORD_MIN - 1
 * to DEL_WORD_MAX bytes, and each of DEL_WORD_MIN or more less one byte;
 * sorted, unique. Two words one edit apart share a variant. */
size_t alias_key_variants(const char *key, uint32_t *out)
{
	size_t n = 0, m = 0;

	for (const char *w = key; *w;) {
		size_t len = strcspn(w, " ");

		if (len + 1 >= DEL_WORD_MIN && len <= DEL_WORD_MAX &&
		    n + len + 1 <= ALIAS_VARIANTS_MAX) {
			out[n++] = hash_variant(w, len, len);
			for (size_t i = 0; len >= DEL_WORD_MIN && i < len; i++)
				out[n++] = hash_variant(w, len, i);
		}
		w += len;
		w += *w == ' ';
	}
	qsort(out, n, sizeof(*out), cmp_u32);
	for (size_t i = 0; i < n; i++)
		if (m == 0 || out[m - 1] != out[i])
			out[m++] = out[i];
	return m;
}

/* alias-index.c: the name/alias index of alias-index.h.
 *
 * Entries (id, text) point at distinct keys; a key lists its entries. Keys
 * are found by hash (exact and normalised lookups) and, for the fuzzy
 * search, by two posting tables (alias-index-postings.c): keys holding a
 * word one edit from a query word, then keys in the rarest lists of the
 * query's trigrams (a key in none of them shares less than TRIGRAM_SHARE of
 * the trigrams). At most FUZZY_VERIFY_MAX of those, word matches first and
 * then by shared trigrams, are scored (alias-index-score.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "alias-index-private.h"
#include "alias-index.h"
#include "normalize.h"

#define NONE             UINT32_MAX
#define FUZZY_VERIFY_MAX 32
#define TRIGRAM_SHARE    0.5
#define DEL_LIST_MAX     4096 /* a variant this common says little */
#define MARK_VARIANT     0x80 /* counts[k] bit: k shares a word variant */

struct entry {
	uint32_t id;
	uint32_t text; /* pool offset */
	uint32_t key;
	uint32_t next; /* next entry of the same key */
	bool is_alias;
};

struct key {
	uint32_t str; /* pool offset */
	uint32_t first;
};

struct alias_index {
	double threshold, margin;
	struct normalize_terms *terms;
	char *pool;
	size_t pool_len, pool_cap;
	struct entry *entries;
	size_t n_entries, entries_cap;
	struct key *keys;
	size_t n_keys, keys_cap;
	uint32_t *key_slots; /* key index + 1; 0: empty */
	size_t key_slots_cap;
	struct ptable tri; /* trigram -> keys */
	struct ptable del; /* a word, or it less one letter, hashed -> keys */
	uint8_t *counts;   /* scratch, one per key, all 0 between lookups */
	uint32_t *touched;
	size_t scratch_cap;
};

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t c = *cap ? *cap : 16;
	void *n;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	n = realloc(*p, c * size);
	if (!n)
		return -ENOMEM;
	*p = n;
	*cap = c;
	return 0;
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ULL;
	return h;
}

static int pool_add(struct alias_index *idx, const char *s, size_t len, uint32_t *ret)
{
	int r;

	if (idx->pool_len + len + 1 > UINT32_MAX)
		return -E2BIG;
	r = grow((void **)&idx->pool, &idx->pool_cap, idx->pool_len + len + 1, 1);
	if (r < 0)
		return r;
	memcpy(idx->pool + idx->pool_len, s, len);
	idx->pool[idx->pool_len + len] = '\0';
	*ret = (uint32_t)idx->pool_len;
	idx->pool_len += len + 1;
	return 0;
}

static uint32_t key_find(const struct alias_index *idx, const char *key)
{
	size_t mask = idx->key_slots_cap - 1;

	if (!idx->key_slots_cap)
		return NONE;
	for (size_t i = hash_str(key) & mask;; i = (i + 1) & mask) {
		uint32_t v = idx->key_slots[i];

		if (v == 0)
			return NONE;
		if (strcmp(idx->pool + idx->keys[v - 1].str, key) == 0)
			return v - 1;
	}
}

static void key_slot_put(uint32_t *slots, size_t cap, const char *key, uint32_t k)
{
	size_t i = hash_str(key) & (cap - 1);

	while (slots[i])
		i = (i + 1) & (cap - 1);
	slots[i] = k + 1;
}

static int key_slots_grow(struct alias_index *idx)
{
	size_t cap = idx->key_slots_cap ? idx->key_slots_cap * 2 : 64;
	uint32_t *slots;

	if ((idx->n_keys + 1) * 2 <= idx->key_slots_cap)
		return 0;
	slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (size_t k = 0; k < idx->n_keys; k++)
		key_slot_put(slots, cap, idx->pool + idx->keys[k].str, (uint32_t)k);
	free(idx->key_slots);
	idx->key_slots = slots;
	idx->key_slots_cap = cap;
	return 0;
}

static int scratch_grow(struct alias_index *idx)
{
	uint8_t *c;
	uint32_t *t;

	if (idx->scratch_cap >= idx->keys_cap)
		return 0;
	c = realloc(idx->counts, idx->keys_cap);
	if (!c)
		return -ENOMEM;
	idx->counts = c;
	memset(c + idx->scratch_cap, 0, idx->keys_cap - idx->scratch_cap);
	t = realloc(idx->touched, idx->keys_cap * sizeof(*t));
	if (!t)
		return -ENOMEM;
	idx->touched = t;
	idx->scratch_cap = idx->keys_cap;
	return 0;
}

/* The key is in place before its postings: a failure leaves it less
 * findable, never inconsistent. */
static int key_add(struct alias_index *idx, const char *key, uint32_t *ret)
{
	uint32_t tris[ALIAS_TRIGRAMS_MAX], vars[ALIAS_VARIANTS_MAX], k = (uint32_t)idx->n_keys, str;
	size_t n;
	int r;

	if ((r = key_slots_grow(idx)) < 0 ||
	    (r = grow((void **)&idx->keys, &idx->keys_cap, k + 1, sizeof(*idx->keys))) < 0 ||
	    (r = scratch_grow(idx)) < 0 || (r = pool_add(idx, key, strlen(key), &str)) < 0)
		return r;
	idx->keys[k] = (struct key){.str = str, .first = NONE};
	idx->n_keys++;
	key_slot_put(idx->key_slots, idx->key_slots_cap, key, k);
	*ret = k;
	n = alias_key_trigrams(key, tris);
	for (size_t i = 0; i < n; i++)
		if ((r = alias_ptable_add(&idx->tri, tris[i], k)) < 0)
			return r;
	n = alias_key_variants(key, vars);
	for (size_t i = 0; i < n; i++)
		if ((r = alias_ptable_add(&idx->del, vars[i], k)) < 0)
			return r;
	return 0;
}

/* Lookup ----------------------------------------------------------------- */

#define HITS_MAX  64  /* keys kept per lookup */
#define CANDS_MAX 256 /* entries of those keys */

struct hit {
	uint32_t key;
	enum alias_method method;
	double score;
};

struct hits {
	struct hit v[HITS_MAX];
	size_t n;
};

struct query {
	char *key;
	struct alias_words words;
	const char *raw; /* the query, trimmed */
	size_t raw_len;
};

static void hits_push(struct hits *h, uint32_t key, double score, enum alias_method method)
{
	size_t min = 0;

	if (score <= 0)
		return;
	if (h->n < HITS_MAX) {
		h->v[h->n++] = (struct hit){key, method, score};
		return;
	}
	for (size_t i = 1; i < h->n; i++)
		if (h->v[i].score < h->v[min].score)
			min = i;
	if (score > h->v[min].score)
		h->v[min] = (struct hit){key, method, score};
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int query_init(const struct alias_index *idx, const char *text, struct query *q)
{
	int r = normalize_key(text, idx->terms, &q->key);

	if (r < 0)
		return r;
	alias_words_split(q->key, &q->words);
	while (is_space(*text))
		text++;
	q->raw = text;
	q->raw_len = strlen(text);
	while (q->raw_len > 0 && is_space(text[q->raw_len - 1]))
		q->raw_len--;
	return 0;
}

static int cand_cmp(const void *a, const void *b)
{
	const struct alias_candidate *x = a, *y = b;

	if (x->score != y->score)
		return x->score < y->score ? 1 : -1;
	if (x->method != y->method)
		return x->method < y->method ? -1 : 1;
	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return (int)x->is_alias - (int)y->is_alias;
}

static void cand_from_entry(const struct alias_index *idx, const struct query *q,
			    const struct hit *h, const struct entry *e, struct alias_candidate *c)
{
	const char *text = idx->pool + e->text;

	*c = (struct alias_candidate){.id = e->id,
				      .text = text,
				      .is_alias = e->is_alias,
				      .method = h->method,
				      .score = h->score};
	if (h->method == ALIAS_METHOD_NORMALIZED && strlen(text) == q->raw_len &&
	    memcmp(text, q->raw, q->raw_len) == 0) {
		c->method = e->is_alias ? ALIAS_METHOD_EXACT_ALIAS : ALIAS_METHOD_EXACT_NAME;
		c->score = ALIAS_SCORE_EXACT;
	}
}

/* Entries of the hits, best first, one per id. */
static size_t hits_expand(const struct alias_index *idx, const struct query *q,
			  const struct hits *h, struct alias_candidate *ret, size_t max)
{
	struct alias_candidate c[CANDS_MAX];
	size_t n = 0, out = 0;

	for (size_t i = 0; i < h->n; i++)
		for (uint32_t e = idx->keys[h->v[i].key].first; e != NONE && n < CANDS_MAX;
		     e = idx->entries[e].next)
			cand_from_entry(idx, q, &h->v[i], &idx->entries[e], &c[n++]);
	/* c[0..n) are all filled by cand_from_entry() */
	// cppcheck-suppress uninitvar
	qsort(c, n, sizeof(*c), cand_cmp);
	for (size_t i = 0; i < n && out < max; i++) {
		bool seen = false;

		for (size_t j = 0; j < out && !seen; j++)
			seen = ret[j].id == c[i].id;
		if (!seen)
			ret[out++] = c[i];
	}
	return out;
}

static int postings_cmp(const void *a, const void *b)
{
	const struct postings *x = *(const struct postings *const *)a;
	const struct postings *y = *(const struct postings *const *)b;
	uint32_t nx = x ? x->n : 0, ny = y ? y->n : 0;

	return nx < ny ? -1 : nx > ny;
}

static void touch(struct alias_index *idx, uint32_t k, size_t *touched)
{
	if (idx->counts[k] == 0)
		idx->touched[(*touched)++] = k;
}

/* Marks the keys holding a word one edit from a query word; returns how
 * many keys were touched. */
static size_t mark_variants(struct alias_index *idx, const char *key)
{
	uint32_t vars[ALIAS_VARIANTS_MAX];
	size_t n = alias_key_variants(key, vars), touched = 0;

	for (size_t i = 0; i < n; i++) {
		const struct postings *p = alias_ptable_find(&idx->del, vars[i]);

		if (!p || p->n > DEL_LIST_MAX)
			continue;
		for (uint32_t j = 0; j < p->n; j++) {
			uint32_t k = alias_postings_keys(p)[j];

			touch(idx, k, &touched);
			idx->counts[k] |= MARK_VARIANT;
		}
	}
	return touched;
}

/* Counts, for each key in the rarest lists of the query's trigrams, how many
 * of those it is in; returns how many keys were touched, with *touched. */
static size_t count_trigrams(struct alias_index *idx, const char *key, size_t touched)
{
	const struct postings *lists[ALIAS_TRIGRAMS_MAX];
	uint32_t tris[ALIAS_TRIGRAMS_MAX];
	size_t m = alias_key_trigrams(key, tris), need;

	for (size_t i = 0; i < m; i++)
		lists[i] = alias_ptable_find(&idx->tri, tris[i]);
	qsort(lists, m, sizeof(*lists), postings_cmp);
	need = (size_t)((double)m * TRIGRAM_SHARE + 0.999);
	need = need ? need : 1;
	for (size_t i = 0; i + need <= m; i++)
		for (uint32_t j = 0; lists[i] && j < lists[i]->n; j++) {
			uint32_t k = alias_postings_keys(lists[i])[j];

			touch(idx, k, &touched);
			if ((idx->counts[k] & ~MARK_VARIANT) < MARK_VARIANT - 1)
				idx->counts[k]++;
		}
	return touched;
}

/* Scores FUZZY_VERIFY_MAX keys: those with a word one edit from a query
 * word first, then those sharing most trigrams with the query. */
static void fuzzy_hits(struct alias_index *idx, const struct query *q, uint32_t skip,
		       struct hits *h)
{
	size_t touched = count_trigrams(idx, q->key, mark_variants(idx, q->key));
	size_t hist[UINT8_MAX + 1] = {0}, sum = 0;
	unsigned cut = UINT8_MAX;
	size_t room;

	for (size_t i = 0; i < touched; i++)
		hist[idx->counts[idx->touched[i]]]++;
	while (cut > 1 && sum + hist[cut] <= FUZZY_VERIFY_MAX)
		sum += hist[cut--];
	room = FUZZY_VERIFY_MAX - sum; /* keys with exactly cut shared trigrams */
	for (size_t i = 0; i < touched; i++) {
		uint32_t k = idx->touched[i];
		unsigned c = idx->counts[k];
		enum alias_method m;
		double score;

		idx->counts[k] = 0;
		if (k == skip || c < cut || (c == cut && room == 0))
			continue;
		if (c == cut)
			room--;
		score = alias_score_key(q->key, &q->words, idx->pool + idx->keys[k].str, &m);
		hits_push(h, k, score, m);
	}
}

static int lookup(struct alias_index *idx, const char *text, bool scan, struct alias_candidate *ret,
		  size_t max, size_t *ret_n)
{
	struct query q = {0};
	struct hits h = {.n = 0};
	uint32_t exact;
	int r;

	r = query_init(idx, text, &q);
	if (r < 0)
		return r;
	if (q.key[0] == '\0') {
		free(q.key);
		*ret_n = 0;
		return 0;
	}
	exact = key_find(idx, q.key);
	if (exact != NONE)
		hits_push(&h, exact, ALIAS_SCORE_NORMALIZED, ALIAS_METHOD_NORMALIZED);
	if (exact != NONE && ALIAS_SCORE_NORMALIZED - ALIAS_SCORE_FUZZY_MAX >= idx->margin)
		; /* no fuzzy candidate could come within the margin */
	else if (!scan)
		fuzzy_hits(idx, &q, exact, &h);
	else
		for (uint32_t k = 0; k < idx->n_keys; k++) {
			enum alias_method m;
			double score;

			if (k == exact)
				continue;
			score = alias_score_key(q.key, &q.words, idx->pool + idx->keys[k].str, &m);
			hits_push(&h, k, score, m);
		}
	*ret_n = hits_expand(idx, &q, &h, ret, max);
	free(q.key);
	return 0;
}

int alias_index_lookup(struct alias_index *idx, const char *query, struct alias_candidate *ret,
		       size_t max, size_t *ret_n)
{
	return lookup(idx, query, /* scan= */ false, ret, max, ret_n);
}

int alias_index_lookup_scan(struct alias_index *idx, const char *query, struct alias_candidate *ret,
			    size_t max, size_t *ret_n)
{
	return lookup(idx, query, /* scan= */ true, ret, max, ret_n);
}

int alias_index_resolve(struct alias_index *idx, const char *query, struct alias_match *ret)
{
	struct alias_candidate c[8];
	size_t n;
	int r;

	r = alias_index_lookup(idx, query, c, ELEMENTSOF(c), &n);
	if (r < 0)
		return r;
	*ret = (struct alias_match){.best = {.score = 0}};
	if (n == 0)
		return -ENOENT;
	ret->best = c[0];
	if (n > 1)
		ret->runner_up = c[1]; /* one candidate per id */
	if (ret->best.score < idx->threshold)
		return -ENOENT;
	if (n > 1 && ret->best.score - ret->runner_up.score < idx->margin)
		return -ENOTUNIQ;
	return 0;
}

/* Building --------------------------------------------------------------- */

int alias_index_new(const struct alias_index_settings *settings, struct alias_index **ret)
{
	_cleanup_(alias_index_freep) struct alias_index *idx = NULL;
	struct alias_index_settings s = settings ? *settings : (struct alias_index_settings){0};
	int r;

	idx = calloc(1, sizeof(*idx));
	if (!idx)
		return -ENOMEM;
	idx->threshold = s.threshold > 0 ? s.threshold : ALIAS_INDEX_THRESHOLD;
	idx->margin = s.margin > 0 ? s.margin : ALIAS_INDEX_MARGIN;
	r = normalize_terms_new(s.terms, &idx->terms);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(idx);
	return 0;
}

struct alias_index *alias_index_free(struct alias_index *idx)
{
	if (!idx)
		return NULL;
	alias_ptable_done(&idx->tri);
	alias_ptable_done(&idx->del);
	free(idx->key_slots);
	free(idx->keys);
	free(idx->entries);
	free(idx->pool);
	free(idx->counts);
	free(idx->touched);
	normalize_terms_free(idx->terms);
	free(idx);
	return NULL;
}

/* Whether the key already holds this (id, text). */
static bool entry_known(const struct alias_index *idx, uint32_t k, uint32_t id, const char *text,
			size_t len)
{
	for (uint32_t e = idx->keys[k].first; e != NONE; e = idx->entries[e].next) {
		const char *t = idx->pool + idx->entries[e].text;

		if (idx->entries[e].id == id && strlen(t) == len && memcmp(t, text, len) == 0)
			return true;
	}
	return false;
}

int alias_index_add(struct alias_index *idx, uint32_t id, const char *text, bool is_alias)
{
	struct query q = {0};
	uint32_t k, str, e = (uint32_t)idx->n_entries;
	int r;

	r = query_init(idx, text, &q);
	if (r < 0)
		return r;
	if (q.key[0] == '\0') {
		free(q.key);
		return -EINVAL;
	}
	k = key_find(idx, q.key);
	if (k == NONE)
		r = key_add(idx, q.key, &k);
	free(q.key);
	if (r < 0)
		return r;
	if (entry_known(idx, k, id, q.raw, q.raw_len))
		return 0;
	if ((r = grow((void **)&idx->entries, &idx->entries_cap, e + 1, sizeof(*idx->entries))) <
		0 ||
	    (r = pool_add(idx, q.raw, q.raw_len, &str)) < 0)
		return r;
	idx->entries[e] =
	    (struct entry){.id = id, .text = str, .key = k, .next = NONE, .is_alias = is_alias};
	/* append, so a key lists its entries in the order they came */
	if (idx->keys[k].first == NONE)
		idx->keys[k].first = e;
	else {
		uint32_t last = idx->keys[k].first;

		while (idx->entries[last].next != NONE)
			last = idx->entries[last].next;
		idx->entries[last].next = e;
	}
	idx->n_entries++;
	return 0;
}

size_t alias_index_size(const struct alias_index *idx)
{
	return idx->n_entries;
}

const char *alias_method_to_string(enum alias_method m)
{
	static const char *const names[] = {
	    [ALIAS_METHOD_EXACT_NAME] = "exact-name", [ALIAS_METHOD_EXACT_ALIAS] = "exact-alias",
	    [ALIAS_METHOD_NORMALIZED] = "normalized", [ALIAS_METHOD_PREFIX] = "prefix",
	    [ALIAS_METHOD_FUZZY] = "fuzzy",
	};

	return (size_t)m < ELEMENTSOF(names) ? names[m] : "unknown";
}

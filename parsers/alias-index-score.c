/* alias-index-score.c: how close a key is to a query (alias-index-private.h).
 *
 * Whole keys and their words are compared by optimal-string-alignment
 * distance (Damerau-Levenshtein without repeated edits of one substring). */
#include <string.h>

#include "alias-index-private.h"

#define WORD_SIM_MIN 0.75 /* a word matches another at this similarity */
#define DL_MAX       64   /* bits in the distance's bit vectors */

/* Optimal-string-alignment (restricted Damerau-Levenshtein) distance,
 * bit-parallel after Hyyrö (2003), for a of 1..64 bytes. */
static unsigned dl_distance_bits(const char *a, size_t la, const char *b, size_t lb)
{
	uint64_t pm[256], vp = ~0ULL, vn = 0, d0 = 0, pm_old = 0, last = 1ULL << (la - 1);
	unsigned dist = (unsigned)la;

	for (size_t j = 0; j < lb; j++)
		pm[(uint8_t)b[j]] = 0;
	for (size_t i = 0; i < la; i++)
		pm[(uint8_t)a[i]] = 0;
	for (size_t i = 0; i < la; i++)
		pm[(uint8_t)a[i]] |= 1ULL << i;
	for (size_t j = 0; j < lb; j++) {
		uint64_t pj = pm[(uint8_t)b[j]], tr, hp, hn;

		tr = (((~d0) & pj) << 1) & pm_old;
		d0 = ((((pj & vp) + vp) ^ vp) | pj | vn) | tr;
		hp = vn | ~(d0 | vp);
		hn = d0 & vp;
		dist += (hp & last) != 0;
		dist -= (hn & last) != 0;
		hp = (hp << 1) | 1;
		hn <<= 1;
		vp = hn | ~(d0 | hp);
		vn = hp & d0;
		pm_old = pj;
	}
	return dist;
}

static double similarity(const char *a, size_t la, const char *b, size_t lb)
{
	size_t m = la > lb ? la : lb;

	if (m == 0)
		return 1.0;
	if (la == 0 || lb == 0)
		return 0.0;
	/* longer keys are compared on their first DL_MAX bytes */
	la = la > DL_MAX ? DL_MAX : la;
	lb = lb > DL_MAX ? DL_MAX : lb;
	m = m > DL_MAX ? DL_MAX : m;
	return 1.0 - (double)dl_distance_bits(a, la, b, lb) / (double)m;
}

void alias_words_split(const char *key, struct alias_words *ws)
{
	ws->n = ws->total = 0;
	for (const char *p = key; *p && ws->n < NORMALIZE_TOKENS_MAX;) {
		size_t len = strcspn(p, " ");

		ws->w[ws->n] = p;
		ws->len[ws->n] = len;
		ws->digit[ws->n] = strpbrk(p, "0123456789") && strpbrk(p, "0123456789") < p + len;
		ws->total += len;
		ws->n++;
		p += len;
		p += *p == ' ';
	}
}

static double word_sim(const struct alias_words *a, size_t i, const struct alias_words *b, size_t j)
{
	double s;

	if (a->len[i] == b->len[j] && memcmp(a->w[i], b->w[j], a->len[i]) == 0)
		return 1.0;
	if (a->digit[i] || b->digit[j]) /* 111 is no typo of 112 */
		return 0.0;
	s = similarity(a->w[i], a->len[i], b->w[j], b->len[j]);
	return s >= WORD_SIM_MIN ? s : 0.0;
}

/* Word by word: the query's words found in the key weigh most. */
static double words_score(const struct alias_words *q, const struct alias_words *c,
			  bool *ret_prefix)
{
	double best_q[NORMALIZE_TOKENS_MAX] = {0}, best_c[NORMALIZE_TOKENS_MAX] = {0};
	double cov_q = 0, cov_c = 0;
	bool prefix = q->n < c->n;

	for (size_t i = 0; i < q->n; i++)
		for (size_t j = 0; j < c->n; j++) {
			double s = word_sim(q, i, c, j);

			if (s > best_q[i])
				best_q[i] = s;
			if (s > best_c[j])
				best_c[j] = s;
		}
	for (size_t i = 0; i < q->n; i++) {
		cov_q += best_q[i] * (double)q->len[i];
		prefix =
		    prefix && q->len[i] == c->len[i] && memcmp(q->w[i], c->w[i], q->len[i]) == 0;
	}
	for (size_t j = 0; j < c->n; j++)
		cov_c += best_c[j] * (double)c->len[j];
	cov_q = q->total ? cov_q / (double)q->total : 0;
	cov_c = c->total ? cov_c / (double)c->total : 0;
	*ret_prefix = prefix;
	return cov_q * (0.75 + 0.25 * cov_c);
}

/* The score of key c for the query; equal keys are scored by the caller. */
double alias_score_key(const char *q, const struct alias_words *qw, const char *c,
		       enum alias_method *ret_method)
{
	struct alias_words cw;
	double whole, w;
	bool prefix;

	alias_words_split(c, &cw);
	whole = similarity(q, strlen(q), c, strlen(c));
	w = words_score(qw, &cw, &prefix);
	*ret_method = prefix ? ALIAS_METHOD_PREFIX : ALIAS_METHOD_FUZZY;
	return ALIAS_SCORE_FUZZY_MAX * (whole > w ? whole : w);
}

/* normalize.c: place-name keys (normalize.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "fold.h"
#include "normalize.h"
#include "translit.h"

struct term {
	char *words[NORMALIZE_TOKENS_MAX];
	size_t n;
	char *key; /* the words point into it */
};

struct normalize_terms {
	struct term *v;
	size_t n;
};

/* Inflection endings as translit_key() spells them (η/ι/υ -> i, ου -> u,
 * ω -> o), longest first: -ος/-ου/-ο, -ης/-η, -ας/-α, -ες, -ις/-ιδα/-ιδος
 * (Πατρίς/Πατρίδα), -ι/-ια/-ιου/-ιων, -ιος/-ιο, -ων. Greeklish spells them
 * alike, so Latin words lose them too. */
static const char *const endings[] = {
    "idos", "idas", "ides", "ida", "ios", "ias", "ies", "ion", "ia", "iu", "io",
    "os",   "us",   "on",   "is",  "as",  "es",  "u",   "o",   "i",  "a",  "e",
};

#define STEM_MIN 2

int normalize_fold(const char *utf8, char **ret)
{
	size_t len = strlen(utf8);
	char *fast = malloc(len + 1);
	utf8proc_uint8_t *out = NULL;
	utf8proc_ssize_t n;

	if (!fast)
		return -ENOMEM;
	/* ASCII and Greek letters have no compatibility forms and nothing to
	 * ignore: fold_text() gives the same (tests/test-fold checks) */
	if (fold_text_fast(utf8, len, fast)) {
		*ret = fast;
		return 0;
	}
	free(fast);
	n = utf8proc_map((const utf8proc_uint8_t *)utf8, 0, &out,
			 UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_COMPOSE |
			     UTF8PROC_CASEFOLD | UTF8PROC_STRIPMARK | UTF8PROC_IGNORE);
	if (n == UTF8PROC_ERROR_NOMEM)
		return -ENOMEM;
	if (n < 0)
		return -EILSEQ;
	*ret = (char *)out;
	return 0;
}

static bool is_apostrophe(int32_t cp)
{
	return cp == '\'' || cp == '`' || cp == 0x2018 || cp == 0x2019 || cp == 0x02BC;
}

static bool is_word_char(int32_t cp)
{
	/* ASCII and folded Greek without utf8proc's property table: a look-up
	 * keeps pages of it resident (0.2 MB in the daemon, which keys
	 * unresolved names); the answers are utf8proc's (test-normalize) */
	if (cp < 0x80)
		return (cp >= '0' && cp <= '9') || ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z');
	if (cp >= 0x3B1 && cp <= 0x3C9) /* α..ω, ς among them */
		return true;
	switch (utf8proc_category(cp)) {
	case UTF8PROC_CATEGORY_LU:
	case UTF8PROC_CATEGORY_LL:
	case UTF8PROC_CATEGORY_LT:
	case UTF8PROC_CATEGORY_LM:
	case UTF8PROC_CATEGORY_LO:
	case UTF8PROC_CATEGORY_ND:
	case UTF8PROC_CATEGORY_NL:
	case UTF8PROC_CATEGORY_NO:
		return true;
	default:
		return false;
	}
}

void normalize_strip_punct(char *s)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t n = 0;
	bool space = false;

	while (*p) {
		int32_t cp;
		utf8proc_ssize_t k = utf8proc_iterate(p, -1, &cp);

		if (k <= 0) { /* not UTF-8: treat the byte as a separator */
			p++;
			space = n > 0;
			continue;
		}
		if (is_word_char(cp)) {
			if (space)
				s[n++] = ' ';
			memmove(s + n, p, (size_t)k);
			n += (size_t)k;
			space = false;
		} else if (!is_apostrophe(cp))
			space = n > 0;
		p += k;
	}
	s[n] = '\0';
}

static bool has_digit(const char *w)
{
	for (; *w; w++)
		if (*w >= '0' && *w <= '9')
			return true;
	return false;
}

void normalize_stem_word(char *word)
{
	size_t len = strlen(word);

	if (has_digit(word))
		return;
	for (size_t i = 0; i < sizeof(endings) / sizeof(endings[0]); i++) {
		size_t e = strlen(endings[i]);

		if (len >= e + STEM_MIN && memcmp(word + len - e, endings[i], e) == 0) {
			word[len - e] = '\0';
			return;
		}
	}
}

/* Splits s in place at spaces; returns the count or -E2BIG. */
static int split_words(char *s, char **words)
{
	char *save = NULL;
	size_t n = 0;

	for (char *w = strtok_r(s, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		if (n == NORMALIZE_TOKENS_MAX)
			return -E2BIG;
		words[n++] = w;
	}
	return (int)n;
}

static void join_words(char *out, char *const *words, const bool *drop, size_t n)
{
	size_t len = 0;

	for (size_t i = 0; i < n; i++) {
		size_t k;

		if (drop && drop[i])
			continue;
		k = strlen(words[i]);
		if (len > 0)
			out[len++] = ' ';
		memmove(out + len, words[i], k);
		len += k;
	}
	out[len] = '\0';
}

static bool term_at(const struct term *t, char *const *words, size_t n, size_t i)
{
	if (t->n == 0 || i + t->n > n)
		return false;
	for (size_t j = 0; j < t->n; j++)
		if (strcmp(words[i + j], t->words[j]) != 0)
			return false;
	return true;
}

void normalize_strip_terms(char *key, const struct normalize_terms *terms)
{
	char *words[NORMALIZE_TOKENS_MAX];
	bool drop[NORMALIZE_TOKENS_MAX] = {false};
	size_t kept;
	int n;

	if (!terms || terms->n == 0)
		return;
	n = split_words(key, words);
	if (n < 0)
		return; /* keys come from split words: cannot happen */
	kept = (size_t)n;
	for (size_t i = 0; i < (size_t)n;) {
		size_t step = 1;

		for (size_t t = 0; t < terms->n; t++)
			if (term_at(&terms->v[t], words, (size_t)n, i)) {
				for (size_t j = 0; j < terms->v[t].n; j++)
					drop[i + j] = true;
				kept -= terms->v[t].n;
				step = terms->v[t].n;
				break;
			}
		i += step;
	}
	join_words(key, words, kept > 0 ? drop : NULL, (size_t)n);
}

/* Steps 1-4: the key before the terminology is stripped. */
static int key_words(const char *utf8, char **ret)
{
	char *words[NORMALIZE_TOKENS_MAX];
	_cleanup_free_ char *folded = NULL;
	char *key;
	int r, n;

	if (strlen(utf8) > NORMALIZE_INPUT_MAX)
		return -E2BIG;
	r = normalize_fold(utf8, &folded);
	if (r < 0)
		return r;
	normalize_strip_punct(folded);
	r = translit_key(folded, &key);
	if (r < 0)
		return r;
	n = split_words(key, words);
	if (n < 0) {
		free(key);
		return n;
	}
	for (int i = 0; i < n; i++)
		normalize_stem_word(words[i]);
	join_words(key, words, NULL, (size_t)n);
	*ret = key;
	return 0;
}

int normalize_key(const char *utf8, const struct normalize_terms *terms, char **ret_key)
{
	char *key;
	int r;

	r = key_words(utf8, &key);
	if (r < 0)
		return r;
	normalize_strip_terms(key, terms);
	*ret_key = key;
	return 0;
}

struct normalize_terms *normalize_terms_free(struct normalize_terms *t)
{
	if (!t)
		return NULL;
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].key);
	free(t->v);
	free(t);
	return NULL;
}

int normalize_terms_new(const char *const *terms, struct normalize_terms **ret)
{
	_cleanup_(normalize_terms_freep) struct normalize_terms *t = NULL;
	size_t n = 0;

	while (terms && terms[n])
		n++;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->v = calloc(n ? n : 1, sizeof(*t->v));
	if (!t->v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct term *term = &t->v[t->n];
		int r = key_words(terms[i], &term->key);

		if (r < 0)
			return r;
		t->n++;
		r = split_words(term->key, term->words);
		if (r < 0)
			return r;
		term->n = (size_t)r;
	}
	*ret = TAKE_PTR(t);
	return 0;
}

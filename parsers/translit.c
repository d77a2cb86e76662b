/* translit.c: Greek to Latin (ELOT 743), then one Latin spelling (translit.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "translit.h"

/* α (U+03B1) to ω (U+03C9); ς is folded away before we get here but kept. */
static const char *const greek[] = {
    "a", "v", "g", "d", "e", "z", "i", "th", "i", "k",  "l",  "m", "n",
    "x", "o", "p", "r", "s", "s", "t", "y",  "f", "ch", "ps", "o",
};

/* Two Latin letters spelled one way; tried before single letters. */
static const struct {
	char in[3];
	const char *out;
} pairs[] = {
    {"ou", "u"}, {"oy", "u"}, {"ph", "f"}, {"ch", "h"}, {"kh", "h"}, {"ck", "k"},
    {"ai", "e"}, {"ay", "e"}, {"ei", "i"}, {"oi", "i"}, {"mb", "v"}, {"mp", "v"},
    {"nt", "d"}, {"nd", "d"}, {"ng", "g"}, {"gk", "g"},
};

static const char *latin_single(char c)
{
	switch (c) {
	case 'y':
		return "i";
	case 'c':
		return "k";
	case 'x':
		return "ks";
	case 'b':
		return "v";
	default:
		return NULL;
	}
}

static bool is_ascii_letter(char c)
{
	return c >= 'a' && c <= 'z';
}

/* Appends s to out, a doubled ASCII letter once. */
static void emit(char *out, size_t *n, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (*n > 0 && out[*n - 1] == s[i] && is_ascii_letter(s[i]))
			continue;
		out[(*n)++] = s[i];
	}
}

/* Greek letters to ELOT Latin; anything else copied. */
static int greek_to_latin(const char *in, char **ret)
{
	size_t len = strlen(in), n = 0;
	const uint8_t *p = (const uint8_t *)in;
	int32_t cp, prev = 0;
	char *out;

	/* No Greek letter gives more than two bytes per its two. */
	out = malloc(len + 1);
	if (!out)
		return -ENOMEM;
	while (*p) {
		utf8proc_ssize_t k = utf8proc_iterate(p, -1, &cp);

		if (k <= 0) { /* folded text is valid; copy a stray byte */
			out[n++] = (char)*p++;
			continue;
		}
		if (cp >= 0x3B1 && cp <= 0x3C9) {
			const char *s = greek[cp - 0x3B1];

			/* αυ, ευ, ηυ: the υ is a v */
			if (cp == 0x3C5 && (prev == 0x3B1 || prev == 0x3B5 || prev == 0x3B7))
				s = "v";
			memcpy(out + n, s, strlen(s));
			n += strlen(s);
		} else {
			memcpy(out + n, p, (size_t)k);
			n += (size_t)k;
		}
		prev = cp;
		p += k;
	}
	out[n] = '\0';
	*ret = out;
	return 0;
}

static void latin_canon(const char *in, char *out)
{
	size_t n = 0;

	for (size_t i = 0; in[i];) {
		const char *s = NULL;

		for (size_t j = 0; in[i + 1] && j < sizeof(pairs) / sizeof(pairs[0]); j++)
			if (in[i] == pairs[j].in[0] && in[i + 1] == pairs[j].in[1]) {
				s = pairs[j].out;
				i += 2;
				break;
			}
		if (!s) {
			s = latin_single(in[i]);
			if (s)
				i++;
		}
		if (s)
			emit(out, &n, s, strlen(s));
		else
			emit(out, &n, &in[i++], 1);
	}
	out[n] = '\0';
}

int translit_key(const char *folded, char **ret)
{
	char *latin, *out;
	int r;

	r = greek_to_latin(folded, &latin);
	if (r < 0)
		return r;
	/* Only x grows (to ks). */
	out = malloc(2 * strlen(latin) + 1);
	if (!out) {
		free(latin);
		return -ENOMEM;
	}
	latin_canon(latin, out);
	free(latin);
	*ret = out;
	return 0;
}

/* fold.c: case and accent folding of UTF-8 text; see fold.h. */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "cleanup.h"
#include "fold.h"

/* The monotonic Greek letters, U+0386..U+03CE, folded as utf8proc folds
 * them (lower case, no accents, final sigma as sigma): the low byte of the
 * U+03xx result; 0 where utf8proc is needed (ano teleia, gaps). */
static const unsigned char greek_fold[0x3CF - 0x386] = {
    [0x386 - 0x386] = 0xB1, [0x388 - 0x386] = 0xB5, [0x389 - 0x386] = 0xB7, [0x38A - 0x386] = 0xB9,
    [0x38C - 0x386] = 0xBF, [0x38E - 0x386] = 0xC5, [0x38F - 0x386] = 0xC9, [0x390 - 0x386] = 0xB9,
    [0x3AA - 0x386] = 0xB9, [0x3AB - 0x386] = 0xC5, [0x3AC - 0x386] = 0xB1, [0x3AD - 0x386] = 0xB5,
    [0x3AE - 0x386] = 0xB7, [0x3AF - 0x386] = 0xB9, [0x3B0 - 0x386] = 0xC5, [0x3C2 - 0x386] = 0xC3,
    [0x3CA - 0x386] = 0xB9, [0x3CB - 0x386] = 0xC5, [0x3CC - 0x386] = 0xBF, [0x3CD - 0x386] = 0xC5,
    [0x3CE - 0x386] = 0xC9,
};

unsigned fold_greek(unsigned cp)
{
	if (cp >= 0x391 && cp <= 0x3A9 && cp != 0x3A2)
		return cp + 0x20; /* capitals */
	if (cp >= 0x3B1 && cp <= 0x3C9 && cp != 0x3C2)
		return cp;
	return cp >= 0x386 && cp < 0x3CF && greek_fold[cp - 0x386] ? 0x300 | greek_fold[cp - 0x386]
								   : 0;
}

/* Writes the word p[0..n) folded to out + *o (room for n bytes) without
 * utf8proc; false when the word holds anything but ASCII and Greek. */
static bool fold_fast(const unsigned char *p, size_t n, char *out, size_t *o)
{
	size_t w = *o;

	for (size_t i = 0; i < n; i++) {
		unsigned cp;
		if (p[i] < 0x80 && p[i] != 0) {
			out[w++] = (char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] + 32 : p[i]);
			continue;
		}
		if ((p[i] != 0xCE && p[i] != 0xCF) || i + 1 >= n || (p[i + 1] & 0xC0) != 0x80)
			return false;
		cp = fold_greek((unsigned)(p[i] & 0x1F) << 6 | (p[i + 1] & 0x3F));
		if (!cp)
			return false;
		out[w++] = (char)(0xC0 | cp >> 6);
		out[w++] = (char)(0x80 | (cp & 0x3F));
		i++;
	}
	*o = w;
	return true;
}

bool fold_text_fast(const char *s, size_t n, char *out)
{
	size_t o = 0;

	if (!fold_fast((const unsigned char *)s, n, out, &o))
		return false;
	out[o] = '\0';
	return true;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Word by word (ASCII white space never composes with what follows it), so
 * that one symbol does not send the whole text through utf8proc. */
char *fold_text(const char *s, size_t n)
{
	_cleanup_free_ char *out = malloc(n + 1);
	size_t o = 0, cap = n + 1;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n;) {
		size_t w = 0;
		utf8proc_uint8_t *slow = NULL;
		utf8proc_ssize_t r;

		while (i + w < n && !is_space(s[i + w]))
			w++;
		if (w == 0) {
			out[o++] = s[i++];
			continue;
		}
		if (fold_fast((const unsigned char *)s + i, w, out, &o)) {
			i += w;
			continue;
		}
		r = utf8proc_map((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)w, &slow,
				 UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD |
				     UTF8PROC_STRIPMARK);
		if (r < 0) { /* not UTF-8: as it is */
			memcpy(out + o, s + i, w);
			o += w;
		} else {
			if (o + (size_t)r + (n - i - w) + 1 > cap) {
				char *bigger = realloc(out, o + (size_t)r + (n - i - w) + 1);
				if (!bigger) {
					free(slow);
					return NULL;
				}
				out = bigger;
				cap = o + (size_t)r + (n - i - w) + 1;
			}
			memcpy(out + o, slow, (size_t)r);
			o += (size_t)r;
			free(slow);
		}
		i += w;
	}
	out[o] = '\0';
	return TAKE_PTR(out);
}

/* fuzz-normalize.c: normalize_key() with the matcher's terminology, and the
 * steps one by one (fold, strip_punct, stem_word) on the same bytes. */
#include <stdlib.h>
#include <string.h>

#include "../fixtures/site-terms.h"
#include "fuzz.h"
#include "normalize.h"

static struct normalize_terms *terms;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if (normalize_terms_new(site_terms, &terms) < 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, *key = NULL, *folded = NULL;

	if (size > 8192)
		return 0;
	s = strndup((const char *)data, size);
	if (!s)
		return 0;
	if (normalize_key(s, terms, &key) == 0)
		free(key);
	if (normalize_fold(s, &folded) == 0) {
		normalize_strip_punct(folded);
		normalize_strip_terms(folded, terms);
		free(folded);
	}
	normalize_stem_word(s);
	free(s);
	return 0;
}

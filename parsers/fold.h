/* fold.h: case and accent folding of UTF-8 text, for comparing words.
 *
 * fold_text() gives what utf8proc_map() gives with STABLE, COMPOSE,
 * CASEFOLD and STRIPMARK ("ΣΆΒΒΑΤΟ", "Σαββατο" and "σάββατο" all become
 * "σαββατο"), computing ASCII and the Greek letters itself: most text of
 * the newsletters is that, and utf8proc costs more than the rest of the
 * look-up. A test checks both ways agree on every code point below U+0400. */
#ifndef DIVEMAP_FOLD_H
#define DIVEMAP_FOLD_H

#include <stdbool.h>
#include <stddef.h>

/* A folded copy of s[0..n) (NUL-terminated; invalid UTF-8 is copied as it
 * is), or NULL when out of memory. */
char *fold_text(const char *s, size_t n);

/* fold_text() into out (room for n + 1 bytes) when s is all ASCII and
 * Greek letters, without the heap; false otherwise. */
bool fold_text_fast(const char *s, size_t n, char *out);
/* A monotonic Greek letter (U+0386..U+03CE) folded as fold_text() folds
 * it, 0 for any other code point. */
unsigned fold_greek(unsigned cp);

#endif

/* normalize.h: one comparable key for a place name as newsletters write it.
 *
 * "ΝΑΥΑΓΙΟ ΚΥΡΑ ΛΕΝΗ", "Kira Leni" and "Κυρά Λένη" all give "kir len":
 *   1. normalize_fold         Unicode case folding (final sigma folds to σ),
 *                             compatibility forms, marks stripped (utf8proc)
 *   2. normalize_strip_punct  anything but letters and digits becomes one
 *                             space; apostrophes vanish ("Paul's" = "pauls")
 *   3. translit_key           Greek to Latin and one Latin spelling (translit.h)
 *   4. normalize_stem_word    per word, Greek inflection endings off the
 *                             Latin form (Ποθητό/Ποθητού/Pothitos = "pothit")
 *   5. normalize_strip_terms  words of the terminology (wreck, ναυάγιο, cape,
 *                             ν. ...) dropped, unless nothing else is left
 * Terms go through steps 1-4 themselves, so one entry ("ναυάγιο") covers its
 * inflections, capitals and transliteration ("ΝΑΥΑΓΙΟΥ", "navagio").
 * Functions return 0, -ENOMEM, -EILSEQ (invalid UTF-8) or, for keys, -E2BIG
 * (input longer than NORMALIZE_INPUT_MAX bytes or with more than
 * NORMALIZE_TOKENS_MAX words); normalize_fold() takes text of any length. */
#ifndef DIVEMAP_NORMALIZE_H
#define DIVEMAP_NORMALIZE_H

#include "cleanup.h"

#define NORMALIZE_INPUT_MAX  1024
#define NORMALIZE_TOKENS_MAX 32

struct normalize_terms;

/* terms: NULL-terminated, copied; a term may hold several words ("cable ship"). */
int normalize_terms_new(const char *const *terms, struct normalize_terms **ret);
struct normalize_terms *normalize_terms_free(struct normalize_terms *t);
DEFINE_CLEANUP_FUNC(struct normalize_terms, normalize_terms_free)

int normalize_fold(const char *utf8, char **ret);
/* In place on folded text; trims and collapses spaces. */
void normalize_strip_punct(char *s);
/* In place on one word of a translit_key() result. */
void normalize_stem_word(char *word);
/* In place on a space-separated key; terms may be NULL. */
void normalize_strip_terms(char *key, const struct normalize_terms *terms);

/* All steps; *ret_key is "" when the text holds no letter or digit. */
int normalize_key(const char *utf8, const struct normalize_terms *terms, char **ret_key);

#endif

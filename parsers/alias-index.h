/* alias-index.h: names as newsletters write them -> dive-site (or centre) ids.
 *
 * An in-memory index over (id, name) and (id, alias) pairs; one index for the
 * dive sites, another for the diving centres. Keys come from normalize_key()
 * with the settings' terminology. A lookup scores, per id, the best of:
 *   exact name / exact alias   the text as stored (trimmed)          1.00
 *   normalised                 same key ("ΝΑΥΑΓΙΟ ΚΥΡΑ ΛΕΝΗ")         0.98
 *   prefix                     the query's words begin the key ("Kimon"
 *                              for "Kimon Bay")                      <= 0.90
 *   fuzzy                      Damerau-Levenshtein, whole key and word by
 *                              word, on candidates from a word-variant and
 *                              a trigram index                      <= 0.90
 * Word by word, a query word that the key lacks costs more than a key word
 * the query lacks: "Blue Hole Dahab" scores 0.49 against "Blue Hole".
 * alias_index_resolve() accepts the best only when it scores >= threshold
 * and beats the best candidate of any other id by >= margin.
 * Not thread-safe: a lookup uses scratch space held in the index. */
#ifndef DIVEMAP_ALIAS_INDEX_H
#define DIVEMAP_ALIAS_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cleanup.h"

/* The defaults, from the corpus: its right answers score 0.81 or more
 * (Petrokarvo, Beufighter are fuzzy), places not in the table 0.45 at most
 * (HMS Maori against Oria), and the runner-up trails by 0.63 or more. 0.75
 * lets a one-letter typo in a six-letter key pass and refuses one in a
 * shorter key; 0.05 leaves ties unresolved and keeps a normalised hit (0.98)
 * clear of any fuzzy one (<= 0.90). */
#define ALIAS_INDEX_THRESHOLD 0.75
#define ALIAS_INDEX_MARGIN    0.05

struct alias_index_settings {
	double threshold;         /* 0 = ALIAS_INDEX_THRESHOLD */
	double margin;            /* 0 = ALIAS_INDEX_MARGIN */
	const char *const *terms; /* NULL-terminated terminology, copied; NULL = none */
};

enum alias_method {
	ALIAS_METHOD_EXACT_NAME,
	ALIAS_METHOD_EXACT_ALIAS,
	ALIAS_METHOD_NORMALIZED,
	ALIAS_METHOD_PREFIX,
	ALIAS_METHOD_FUZZY,
};

struct alias_candidate {
	uint32_t id;
	const char *text; /* the name or alias matched; owned by the index */
	bool is_alias;
	enum alias_method method;
	double score; /* 0..1 */
};

struct alias_match {
	struct alias_candidate best;
	struct alias_candidate runner_up; /* best of another id; id 0, score 0 if none */
};

struct alias_index;

/* settings may be NULL (all defaults). */
int alias_index_new(const struct alias_index_settings *settings, struct alias_index **ret);
struct alias_index *alias_index_free(struct alias_index *idx);
DEFINE_CLEANUP_FUNC(struct alias_index, alias_index_free)

/* -EINVAL when text has no letter or digit; -E2BIG, -EILSEQ as normalize_key. */
int alias_index_add(struct alias_index *idx, uint32_t id, const char *text, bool is_alias);
size_t alias_index_size(const struct alias_index *idx); /* entries added */

/* Up to max candidates, one per id, best first; *ret_n may be 0. When a key
 * matches after normalisation and the margin is <= 0.08, fuzzy candidates
 * (<= 0.90) could not change the answer and are not searched. The
 * _scan variant scores every key instead of using the trigram index: the
 * reference for tests and the benchmark. */
int alias_index_lookup(struct alias_index *idx, const char *query, struct alias_candidate *ret,
		       size_t max, size_t *ret_n);
int alias_index_lookup_scan(struct alias_index *idx, const char *query, struct alias_candidate *ret,
			    size_t max, size_t *ret_n);

/* 0: resolved, ret->best holds the answer. -ENOENT: nothing scores the
 * threshold. -ENOTUNIQ: another id comes within the margin. In both failures
 * ret still holds the best and runner-up found, for the log. */
int alias_index_resolve(struct alias_index *idx, const char *query, struct alias_match *ret);

const char *alias_method_to_string(enum alias_method m);

#endif

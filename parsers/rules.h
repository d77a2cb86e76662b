/* rules.h: the extraction rules, loaded from a rules directory.
 *
 * A directory holds *.rules files (rules/README.md: vocabularies, defines and
 * PCRE2 patterns with an id and a kind). rules_load() reads them in name
 * order, then the same from an optional override directory (a rule with an
 * id already loaded replaces it; vocabulary entries add up), expands macros,
 * compiles every pattern once (UTF, UCP, caseless, JIT) and hashes the
 * contents. Errors come back as "file:line: message" in *reterr_reason.
 * The set is read-only after loading; match with rules_match(). */
#ifndef DIVEMAP_RULES_H
#define DIVEMAP_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "cleanup.h"

struct rules;
struct rule;

/* Kinds a rule can emit; rules/README.md says what each one means. */
enum rule_kind {
	RK_DATE,
	RK_WEEKDAY,
	RK_RELDAY,
	RK_TIME,
	RK_MEET_TIME,
	RK_DIVE_TIME,
	RK_PRICE,
	RK_PRICE_EXTRA,
	RK_DURATION,
	RK_DIVE_DURATION,
	RK_GROUP_SIZE,
	RK_LEVEL,
	RK_REQUIREMENT,
	RK_CANCEL,
	RK_MOVE,
	RK_PAST,
	RK_NOTRIP,
	RK_IGNORE,
	RK_DIVE_COUNT,
	RK_SITE,
	RK_SITE_WEAK,
	RK_SITE_DESCRIPTOR,
	RK_SITE_HEADER,
	RK_REQ_HEADER,
	RK_END,
	RK_EVERY_TRIP,
	RK_SIZE_HEADER,
	RK_PRICE_HEADER,
	_RK_MAX
};

/* Named groups a pattern may set; the engine reads them by these names. */
enum rule_group {
	RG_DAY,
	RG_DAY2,
	RG_MONTH,
	RG_YEAR,
	RG_WEEKDAY,
	RG_REL,
	RG_HOUR,
	RG_MIN,
	RG_PM,
	RG_AM,
	RG_QTO,
	RG_NOON,
	RG_AMOUNT,
	RG_CUR,
	RG_N,
	RG_HOURS,
	RG_MINUTES,
	RG_LEVEL,
	RG_COUNT,
	RG_SITE,
	_RG_MAX
};

struct rule_match {
	size_t start, end;               /* the whole match, bytes */
	size_t gs[_RG_MAX], ge[_RG_MAX]; /* group spans; gs == (size_t)-1: unset */
};

#define RULES_MATCH_LIMIT_DEFAULT 100000u
#define RULES_DEPTH_LIMIT_DEFAULT 2000u

int rules_load(const char *dir, const char *override_dir, struct rules **ret, char **reterr_reason);
struct rules *rules_free(struct rules *r);
/* Lowers the per-match budget (0 = default); for tests and the config. */
void rules_set_limits(struct rules *r, unsigned match_limit, unsigned depth_limit);
const char *rules_version(const struct rules *r); /* SHA-256 hex of the files */
size_t rules_count(const struct rules *r);
const struct rule *rules_get(const struct rules *r, size_t i);
const char *rule_id(const struct rule *rule);
enum rule_kind rule_kind(const struct rule *rule);
const char *rule_kind_name(enum rule_kind k);
/* Matches rule at or after start in the UTF-8 text[0..len). 1 = match,
 * 0 = none, -E2BIG = match or depth limit hit, -EILSEQ: text not UTF-8,
 * other negative errno on failure. */
int rules_match(const struct rules *r, const struct rule *rule, const char *text, size_t len,
		size_t start, struct rule_match *ret);
/* Matching a text: rules_scan_new() looks at the text once (its lines, and
 * what each contains, so that a rule is only tried on lines that can hold a
 * match of it) and keeps the match data every rule reuses. The text must be
 * valid UTF-8 (-EILSEQ otherwise). A rule whose pattern cannot match a line
 * break is matched line by line; one that can (\n, \s, [^x]...) on the whole
 * text (rules/README.md). */
struct rules_scan;
#define RULES_WHOLE_TEXT ((size_t)-1)
int rules_scan_new(const struct rules *r, const char *text, size_t len, struct rules_scan **ret);
struct rules_scan *rules_scan_free(struct rules_scan *s);
size_t rules_scan_lines(const struct rules_scan *s);
bool rule_crosses_lines(const struct rule *rule);
/* The first line (0-based, split at '\n') from `from` on that holds what
 * rule needs; rules_scan_lines() if none does. For a rule that crosses
 * lines: `from` itself if the whole text holds what it needs. */
size_t rules_scan_next_line(const struct rules_scan *s, const struct rule *rule, size_t from);
/* Matches rule at or after byte start, within line i or the whole text
 * (RULES_WHOLE_TEXT). 1 = match, 0 = none, -E2BIG = match or depth limit
 * hit, other negative errno. */
int rules_scan_match(struct rules_scan *s, const struct rule *rule, size_t line, size_t start,
		     struct rule_match *ret);
DEFINE_CLEANUP_FUNC(struct rules_scan, rules_scan_free)
/* A vocabulary's words as a NULL-terminated array (NULL: no such vocabulary). */
const char *const *rules_vocab(const struct rules *r, const char *name);
/* The key of the entry whose word equals s[0..n) ignoring case and accents:
 * 0 and *ret_key, or -ENOENT. */
int rules_vocab_lookup(const struct rules *r, const char *name, const char *s, size_t n,
		       const char **ret_key);
/* Case- and accent-folded copy of s[0..n) (UTF-8), for comparing words. */
char *rules_fold(const char *s, size_t n);

#endif

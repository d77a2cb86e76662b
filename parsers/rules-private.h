/* rules-private.h: internals shared by rules.c and rules-parse.c. */
#ifndef DIVEMAP_RULES_PRIVATE_H
#define DIVEMAP_RULES_PRIVATE_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "digest.h"
#include "rules.h"

struct vocab {
	char *name;
	char **words; /* NULL-terminated */
	char **keys;  /* "" for an entry without key */
	char **folded_words;
	size_t n;
	size_t *slots; /* hash of folded_words: index + 1, 0 free; n_slots a power of 2 */
	size_t n_slots;
};

struct define {
	char *name;
	char *pattern;
	char *file;
	unsigned line;
};

struct rule {
	char *id;
	char *source; /* the pattern as written */
	char *file;   /* base name */
	unsigned line;
	enum rule_kind kind;
	pcre2_code *code;
	bool jit;                 /* JIT-compiled: matched through pcre2_jit_match() */
	bool crosses_lines;       /* can match a line break: matched on the whole text */
	unsigned short *gnums;    /* group numbers of the rule_group names, */
	size_t g0[_RG_MAX + 1];   /* names[g] at gnums[g0[g]..g0[g + 1]) (DUPNAMES) */
	struct prefilter *filter; /* what a line must contain to be worth matching */
};

struct rules {
	struct rule *rules;
	size_t n_rules;
	struct vocab *vocabs;
	size_t n_vocabs;
	size_t *vocab_slots; /* hash of the vocabs' names, as above */
	size_t n_vocab_slots, n_vocabs_indexed;
	struct define *defines;
	size_t n_defines;
	pcre2_match_context *mctx;
	pcre2_jit_stack *jit_stack;
	uint32_t max_groups; /* the most capture groups of any rule, for match data */
	struct prefilter_index *prefilter;
	char version[SHA256_HEX_SIZE];
};

/* rules-parse.c, rules-compile.c */
int rules_read_dir(struct rules *r, const char *dir, bool required, struct buf *all,
		   char **reterr_reason);
int rules_compile(struct rules *r, char **reterr_reason);
const struct define *rules_define_find(const struct rules *r, const char *name);
/* A vocabulary word's character as a pattern: escaped when PCRE2 reads it
 * as syntax, a space as \h+ (rules-trie.c spells words the same way). */
int rules_escape_char(char c, struct buf *out);
/* rules-pattern.c: what every match of a pattern needs, as clauses that
 * must all hold; a clause holds when a line has one of its ASCII characters
 * or a string of one of its string sets. */
#define CLAUSE_MAX_SETS 48 /* string sets one alternation may name */
#define FILTER_MAX      16 /* clauses kept per rule */
struct clause {
	uint64_t chars[2];
	unsigned sets[CLAUSE_MAX_SETS];
	size_t n_sets;
	uint64_t *mask; /* the sets as a bit mask, for a clause of many (rules-prefilter.c) */
};
struct prefilter {
	size_t n;
	struct clause c[];
};
/* Where string sets live: intern() gives the number of the set named key
 * (returning 1 if it is new, then add() receives each of its strings,
 * folded). */
struct pattern_sets {
	int (*intern)(void *userdata, const char *key, unsigned *ret_set);
	int (*add)(void *userdata, unsigned set, const char *folded);
	void *userdata;
};
/* Fills ret[0..*ret_n) (room for FILTER_MAX); *ret_n = 0: the pattern needs
 * nothing that is looked for. */
int pattern_needs(const struct rules *r, const char *source, const struct pattern_sets *sets,
		  struct clause *ret, size_t *ret_n);
/* Whether a compiled pattern (as given to PCRE2) can match or look at a line
 * break: such a rule is matched against the whole text, not line by line. */
bool pattern_crosses_lines(const char *pattern);

/* rules-prefilter.c: which lines of a text each rule is worth trying on */
struct prefilter_lines;
int prefilter_build(struct rules *r);
void prefilter_index_free(struct prefilter_index *ix);
void prefilter_free(struct prefilter *f);
int prefilter_lines_new(const struct rules *r, const char *text, size_t len, const size_t *starts,
			size_t n_lines, struct prefilter_lines **ret);
void prefilter_lines_free(struct prefilter_lines *pl);
/* Whether the text, its lines taken together, holds all f needs. */
bool prefilter_text_ok(const struct prefilter_lines *pl, const struct prefilter *f);
/* The first line from `from` on that holds all f needs; n_lines if none. */
size_t prefilter_next_line(const struct prefilter_lines *pl, const struct prefilter *f,
			   size_t from);

/* rules-trie.c: the words as one trie-shaped alternation (without the
 * group around it); -EINVAL when a word does not lend itself to it. */
int rules_trie_expand(char *const *words, size_t n, struct buf *out);
/* rules.c */
const char *rules_group_name(enum rule_group g);
int rules_fail(char **reterr_reason, int r, const char *file, unsigned line, const char *msg,
	       const char *arg);
int rules_kind_from_name(const char *s);
struct vocab *rules_vocab_get(struct rules *r, const char *name);
struct vocab *rules_vocab_find(const struct rules *r, const char *name);
int rules_vocab_add(struct vocab *v, const char *key, const char *word);
int rules_vocab_index(struct rules *r);
void rules_rule_done(struct rule *rule);

#endif

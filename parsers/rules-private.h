/* rules-private.h: internals shared by rules.c and rules-parse.c. */
#ifndef DIVEMAP_RULES_PRIVATE_H
#define DIVEMAP_RULES_PRIVATE_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdbool.h>

#include "buf.h"
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
	char version[65];
};

/* rules-parse.c, rules-compile.c */
int rules_read_dir(struct rules *r, const char *dir, bool required, struct buf *all,
		   char **reterr_reason);
int rules_compile(struct rules *r, char **reterr_reason);
/* rules.c */
int rules_fail(char **reterr_reason, int r, const char *file, unsigned line, const char *msg,
	       const char *arg);
int rules_kind_from_name(const char *s);
struct vocab *rules_vocab_get(struct rules *r, const char *name);
struct vocab *rules_vocab_find(const struct rules *r, const char *name);
int rules_vocab_add(struct vocab *v, const char *key, const char *word);
int rules_vocab_index(struct rules *r);
void rules_rule_done(struct rule *rule);

#endif

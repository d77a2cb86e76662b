/* rules-compile.c: macro expansion, accent folding and PCRE2 compilation. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "cleanup.h"
#include "rules-private.h"
#include "strutil.h"

#define RULES_PATTERN_MAX (1u << 20)
#define RULES_MAX_NESTING 8

/* Greek vowels, accented or not, upper or lower: each maps to a class that
 * matches every accent variant (case is left to PCRE2_CASELESS). */
static const char *const vowel_classes[] = {
    "αάΑΆ", "εέΕΈ", "ηήΗΉ", "ιίϊΐΙΊΪ", "οόΟΌ", "υύϋΰΥΎΫ", "ωώΩΏ",
};

static const char *vowel_class(utf8proc_int32_t c)
{
	for (size_t i = 0; i < ELEMENTSOF(vowel_classes); i++) {
		const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)vowel_classes[i];
		utf8proc_int32_t v;
		utf8proc_ssize_t n;

		while (*p && (n = utf8proc_iterate(p, -1, &v)) > 0) {
			if (v == c)
				return vowel_classes[i];
			p += n;
		}
	}
	return NULL;
}

/* Copies pattern p to out with every Greek vowel made accent-insensitive. */
static int fold_pattern(const char *p, struct buf *out)
{
	bool in_class = false, quoted = false;
	int k = 0;

	while (*p && k >= 0) {
		utf8proc_int32_t c;
		utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)p, -1, &c);
		const char *cls;

		if (n <= 0)
			return -EINVAL;
		if (quoted) {
			if (startswith(p, "\\E"))
				quoted = false;
			k = buf_append(out, p, (size_t)n);
		} else if (*p == '\\') {
			if (p[1] == 'Q')
				quoted = true;
			utf8proc_int32_t c2;
			utf8proc_ssize_t n2 =
			    p[1] ? utf8proc_iterate((const utf8proc_uint8_t *)p + 1, -1, &c2) : 0;
			if (n2 < 0)
				return -EINVAL;
			k = buf_append(out, p, (size_t)(1 + n2));
			n = 1 + n2;
		} else if ((cls = vowel_class(c))) {
			if (in_class)
				k = buf_puts(out, cls);
			else
				k = buf_printf(out, "[%s]", cls);
		} else {
			if (*p == '[' && !in_class)
				in_class = true;
			else if (*p == ']' && in_class)
				in_class = false;
			k = buf_append(out, p, (size_t)n);
		}
		p += n;
	}
	return k;
}

int rules_escape_char(char c, struct buf *out)
{
	if (c == ' ')
		return buf_puts(out, "\\h+");
	if (strchr("\\^$.|?*+()[]{}-#", c))
		return buf_printf(out, "\\%c", c);
	return buf_putc(out, c);
}

static int escape_word(const char *w, struct buf *out)
{
	int k = 0;

	for (; *w && k >= 0; w++)
		k = rules_escape_char(*w, out);
	return k;
}

static int by_length_desc(const void *a, const void *b)
{
	size_t la = strlen(*(char *const *)a), lb = strlen(*(char *const *)b);
	return la < lb ? 1 : la > lb ? -1 : 0;
}

static int expand_vocab(const struct vocab *v, const char *group, struct buf *out)
{
	_cleanup_free_ char **sorted = NULL;
	int k;

	sorted = calloc(v->n + 1, sizeof(char *));
	if (!sorted)
		return -ENOMEM;
	if (v->n) /* an empty vocabulary may have no array */
		memcpy(sorted, v->words, v->n * sizeof(char *));
	qsort(sorted, v->n, sizeof(char *), by_length_desc);
	k = group ? buf_printf(out, "(?<%s>", group) : buf_puts(out, "(?:");
	if (k >= 0 && v->n > 0) {
		size_t before = out->len;
		k = rules_trie_expand(sorted, v->n, out);
		if (k >= 0)
			return buf_putc(out, ')');
		if (k == -ENOMEM)
			return k;
		buf_truncate(out, before); /* not a trie: the plain alternation */
		k = 0;
	}
	for (size_t i = 0; i < v->n && k >= 0; i++) {
		if (i > 0)
			k = buf_putc(out, '|');
		if (k >= 0)
			k = escape_word(sorted[i], out);
	}
	if (v->n == 0 && k >= 0)
		k = buf_puts(out, "(*FAIL)");
	return k < 0 ? k : buf_putc(out, ')');
}

const struct define *rules_define_find(const struct rules *r, const char *name)
{
	for (size_t i = r->n_defines; i > 0; i--)
		if (streq(r->defines[i - 1].name, name))
			return &r->defines[i - 1];
	return NULL;
}

/* {name} -> vocabulary alternation captured as "name", or (?:define);
 * {name=group} captures as group; {name-} does not capture. */
static int expand(const struct rules *r, const char *p, struct buf *out, int depth,
		  const char **reterr_name)
{
	int k = 0;

	if (depth > RULES_MAX_NESTING)
		return -ELOOP;
	while (*p && k >= 0) {
		size_t n = 0;
		if (*p == '\\' && p[1]) {
			k = buf_append(out, p, 2);
			p += 2;
			continue;
		}
		if (*p == '{' && p[1] >= 'a' && p[1] <= 'z')
			n = strspn(p + 1, "abcdefghijklmnopqrstuvwxyz0123456789_=-");
		if (n == 0 || p[1 + n] != '}') {
			k = buf_putc(out, *p++);
			continue;
		}
		_cleanup_free_ char *name = strndup(p + 1, n);
		if (!name)
			return -ENOMEM;
		char *eq = strchr(name, '='), *group = name;
		bool capture = true;
		if (eq) {
			*eq = '\0';
			group = eq + 1;
		} else if (name[strlen(name) - 1] == '-') {
			name[strlen(name) - 1] = '\0';
			capture = false;
		}
		const struct vocab *v = rules_vocab_find(r, name);
		const struct define *d = v ? NULL : rules_define_find(r, name);
		if (v)
			k = expand_vocab(v, capture ? group : NULL, out);
		else if (d) {
			k = buf_puts(out, "(?:");
			if (k >= 0)
				k = expand(r, d->pattern, out, depth + 1, reterr_name);
			if (k >= 0)
				k = buf_putc(out, ')');
		} else {
			*reterr_name = p;
			return -ENOENT;
		}
		p += n + 2;
	}
	return k;
}

static int fold_vocabs(struct rules *r)
{
	for (size_t i = 0; i < r->n_vocabs; i++) {
		struct vocab *v = &r->vocabs[i];
		if (v->folded_words)
			continue;
		v->folded_words = calloc(v->n + 1, sizeof(char *));
		if (!v->folded_words)
			return -ENOMEM;
		for (size_t j = 0; j < v->n; j++) {
			v->folded_words[j] = rules_fold(v->words[j], strlen(v->words[j]));
			if (!v->folded_words[j])
				return -ENOMEM;
		}
	}
	return rules_vocab_index(r);
}

/* The numbers of the groups the engine reads by name, looked up once. */
static int group_numbers(struct rules *r, struct rule *rule)
{
	PCRE2_SPTR first[_RG_MAX], last[_RG_MAX];
	int esz[_RG_MAX];
	uint32_t groups;
	size_t n = 0;

	(void)pcre2_pattern_info(rule->code, PCRE2_INFO_CAPTURECOUNT, &groups);
	if (groups > r->max_groups)
		r->max_groups = groups;
	for (int g = 0; g < _RG_MAX; g++) {
		esz[g] = pcre2_substring_nametable_scan(rule->code, (PCRE2_SPTR)rules_group_name(g),
							&first[g], &last[g]);
		rule->g0[g] = n;
		if (esz[g] > 0)
			n += (size_t)(last[g] - first[g]) / (size_t)esz[g] + 1;
	}
	rule->g0[_RG_MAX] = n;
	if (n == 0)
		return 0;
	rule->gnums = calloc(n, sizeof(unsigned short));
	if (!rule->gnums)
		return -ENOMEM;
	for (int g = 0; g < _RG_MAX; g++)
		for (size_t i = rule->g0[g]; esz[g] > 0 && first[g] <= last[g]; first[g] += esz[g])
			rule->gnums[i++] = (unsigned short)(first[g][0] << 8 | first[g][1]);
	return 0;
}

static int compile_one(struct rules *r, struct rule *rule, char **err)
{
	_cleanup_buf_ struct buf exp = BUF_INIT(RULES_PATTERN_MAX);
	_cleanup_buf_ struct buf folded = BUF_INIT(RULES_PATTERN_MAX);
	const char *bad = NULL;
	PCRE2_SIZE off;
	int code, k;

	k = expand(r, rule->source, &exp, 0, &bad);
	if (k == -ENOENT) {
		size_t n = strcspn(bad, "}") + 1;
		_cleanup_free_ char *m = strndup(bad, n);
		return rules_fail(err, -EINVAL, rule->file, rule->line,
				  "unknown vocabulary or define", m);
	}
	if (k < 0)
		return rules_fail(err, k, rule->file, rule->line, "cannot expand pattern of",
				  rule->id);
	k = fold_pattern(buf_str(&exp), &folded);
	if (k < 0)
		return rules_fail(err, k, rule->file, rule->line, "pattern is not UTF-8 in",
				  rule->id);
	rule->code =
	    pcre2_compile((PCRE2_SPTR)buf_str(&folded), folded.len,
			  PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS | PCRE2_DUPNAMES | PCRE2_MULTILINE,
			  &code, &off, NULL);
	if (!rule->code) {
		PCRE2_UCHAR msg[256];
		_cleanup_free_ char *where = NULL;
		pcre2_get_error_message(code, msg, sizeof(msg));
		if (asprintf(&where, "bad pattern in rule %s: %s (at offset %zu of the expansion)",
			     rule->id, (const char *)msg, (size_t)off) < 0)
			return -ENOMEM;
		return rules_fail(err, -EINVAL, rule->file, rule->line, where, NULL);
	}
	/* The interpreter gives the same answers; DIVEMAP_RULES_NO_JIT=1 picks it
	 * (valgrind cannot follow JIT code). */
	rule->crosses_lines = pattern_crosses_lines(buf_str(&folded));
	if (!getenv("DIVEMAP_RULES_NO_JIT"))
		rule->jit = pcre2_jit_compile(rule->code, PCRE2_JIT_COMPLETE) == 0;
	return group_numbers(r, rule);
}

int rules_compile(struct rules *r, char **err)
{
	int k = fold_vocabs(r), first = 0;

	for (size_t i = 0; i < r->n_rules && k != -ENOMEM; i++)
		if ((k = compile_one(r, &r->rules[i], err)) < 0)
			first = first ?: k; /* report every bad pattern */
	if (k == -ENOMEM || first < 0)
		return k == -ENOMEM ? k : first;
	return prefilter_build(r);
}

/* rules-scan.c: matching rules against one text, line by line; see rules.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "charset.h"
#include "cleanup.h"
#include "rules-private.h"

struct rules_scan {
	const struct rules *r;
	const char *text;
	size_t len;
	size_t n_lines;
	size_t *starts; /* line i is text[starts[i]..starts[i + 1] - 1) */
	pcre2_match_data *md;
	struct prefilter_lines *pl;
};

/* Matches rule in text[0..end) from start; the group spans come from the
 * numbers rules_compile() looked up. */
static int match(const struct rules *r, const struct rule *rule, pcre2_match_data *md,
		 const char *text, size_t end, size_t start, struct rule_match *ret)
{
	PCRE2_SIZE *ov;
	int rc;

	if (rule->jit)
		rc = pcre2_jit_match(rule->code, (PCRE2_SPTR)text, end, start, 0, md, r->mctx);
	else
		rc = pcre2_match(rule->code, (PCRE2_SPTR)text, end, start, PCRE2_NO_UTF_CHECK, md,
				 r->mctx);
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
	    rc == PCRE2_ERROR_JIT_STACKLIMIT || rc == PCRE2_ERROR_HEAPLIMIT)
		return -E2BIG;
	if (rc < 0)
		return -EINVAL;
	ov = pcre2_get_ovector_pointer(md);
	ret->start = ov[0];
	ret->end = ov[1];
	for (int g = 0; g < _RG_MAX; g++) {
		ret->gs[g] = ret->ge[g] = (size_t)-1;
		/* the first set group of that name (names may repeat) */
		for (size_t i = rule->g0[g]; i < rule->g0[g + 1]; i++) {
			unsigned num = rule->gnums[i];
			if (num < (unsigned)rc && ov[2 * num] != PCRE2_UNSET) {
				ret->gs[g] = ov[2 * num];
				ret->ge[g] = ov[2 * num + 1];
				break;
			}
		}
	}
	return 1;
}

int rules_match(const struct rules *r, const struct rule *rule, const char *text, size_t len,
		size_t start, struct rule_match *ret)
{
	pcre2_match_data *md;
	int k;

	if (!charset_utf8_valid(text, len))
		return -EILSEQ;
	md = pcre2_match_data_create(r->max_groups + 1, NULL);
	if (!md)
		return -ENOMEM;
	k = match(r, rule, md, text, len, start, ret);
	pcre2_match_data_free(md);
	return k;
}

int rules_scan_new(const struct rules *r, const char *text, size_t len, struct rules_scan **ret)
{
	_cleanup_(rules_scan_freep) struct rules_scan *s = NULL;
	size_t n = 1, i = 0;
	int k;

	if (!charset_utf8_valid(text, len))
		return -EILSEQ;
	for (size_t p = 0; p < len; p++)
		n += text[p] == '\n';
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	*s = (struct rules_scan){.r = r, .text = text, .len = len, .n_lines = n};
	s->starts = calloc(n + 1, sizeof(size_t));
	s->md = pcre2_match_data_create(r->max_groups + 1, NULL);
	if (!s->starts || !s->md)
		return -ENOMEM;
	for (size_t p = 0; p < len; p++)
		if (text[p] == '\n')
			s->starts[++i] = p + 1;
	s->starts[n] = len + 1;
	k = prefilter_lines_new(r, text, len, s->starts, n, &s->pl);
	if (k < 0)
		return k;
	*ret = TAKE_PTR(s);
	return 0;
}

struct rules_scan *rules_scan_free(struct rules_scan *s)
{
	if (!s)
		return NULL;
	prefilter_lines_free(s->pl);
	pcre2_match_data_free(s->md);
	free(s->starts);
	free(s);
	return NULL;
}

size_t rules_scan_lines(const struct rules_scan *s)
{
	return s->n_lines;
}

bool rule_crosses_lines(const struct rule *rule)
{
	return rule->crosses_lines;
}

size_t rules_scan_next_line(const struct rules_scan *s, const struct rule *rule, size_t from)
{
	/* a match that crosses lines may find its needs on several: only the
	 * text as a whole says whether it is worth trying */
	if (rule->crosses_lines)
		return from < s->n_lines && prefilter_text_ok(s->pl, rule->filter) ? from
										   : s->n_lines;
	return prefilter_next_line(s->pl, rule->filter, from);
}

int rules_scan_match(struct rules_scan *s, const struct rule *rule, size_t line, size_t start,
		     struct rule_match *ret)
{
	size_t end = s->len;

	if (line != RULES_WHOLE_TEXT) {
		if (line >= s->n_lines)
			return 0;
		end = s->starts[line + 1] - 1;
		if (start < s->starts[line])
			start = s->starts[line];
	}
	if (start > end)
		return 0;
	return match(s->r, rule, s->md, s->text, end, start, ret);
}

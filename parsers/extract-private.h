/* extract-private.h: the engine's internal state, shared by extract*.c. */
#ifndef DIVEMAP_EXTRACT_PRIVATE_H
#define DIVEMAP_EXTRACT_PRIVATE_H

#include "extract.h"
#include "rules.h"

#define EXTRACT_MAX_HITS  50000
#define EXTRACT_MAX_TEXT  (256u << 10) /* bytes of text looked at */
#define EXTRACT_MAX_CELLS 16

struct line {
	size_t start, end; /* without the newline */
	bool blank, quoted, table, signature;
	size_t h0, h1; /* its hits: x->hits[h0..h1) */
	size_t n_cells;
	size_t cs[EXTRACT_MAX_CELLS], ce[EXTRACT_MAX_CELLS];
};

struct hit {
	const struct rule *rule;
	enum rule_kind kind;
	struct rule_match m;
	size_t line;
	size_t seq; /* order found: rule order, then position */
	bool dropped;
};

struct cand { /* a site named in a line */
	size_t start, end;
	char *name;
	int id;
	bool strong;
	size_t line; /* where it was named; (size_t)-1: the subject */
	int time;    /* a time written next to it, -1 */
	size_t time_start, time_end;
	const char *rule_id;
};

struct line_sites { /* ex_line_sites() of a line, kept: it depends on nothing that changes */
	bool done;
	struct cand *cs;
	size_t n;
};

struct ex {
	const struct rules *rules;
	const struct extract_input *in;
	const char *text;
	size_t len;
	struct line *lines;
	size_t n_lines;
	struct line_sites *sites; /* per line, filled as asked; NULL until then */
	struct hit *hits;
	size_t n_hits;
	struct extract_result *res;
	int header_site_col, header_req_col, header_meet_col; /* -1 = none */
	int header_size_col, header_price_col;
	const struct hit *header_size, *header_price; /* the header cells' rules */
	const struct hit *every_size;                 /* "max 8 divers per day" outside any trip */
};

/* extract-facts.c */
int ex_split_lines(struct ex *x);
int ex_collect_hits(struct ex *x);
int ex_warn(struct ex *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool ex_group(const struct ex *x, const struct hit *h, enum rule_group g, size_t *rs, size_t *re);
int ex_group_int(const struct ex *x, const struct hit *h, enum rule_group g, int *ret);
int ex_group_key(const struct ex *x, const struct hit *h, enum rule_group g, const char *vocab,
		 const char **ret_key);
int ex_hit_time(const struct ex *x, const struct hit *h); /* minutes or -1 */
/* extract-sites.c */
/* The sites named in a line, read once per text and lent: valid until
 * ex_lines_free(). */
int ex_line_sites(struct ex *x, size_t line, const struct cand **ret, size_t *ret_n);
/* A copy of n candidates the caller owns (ex_cands_free). */
int ex_cands_copy(const struct cand *from, size_t n, struct cand **ret);
int ex_subject_sites(struct ex *x, struct cand **ret, size_t *ret_n);
void ex_cands_free(struct cand *c, size_t n);
/* Frees x->lines with what was kept per line. */
void ex_lines_free(struct ex *x);
bool ex_is_word_in(const struct ex *x, const char *vocab, const char *s, size_t n);

/* extract-times.c: times written next to a line's sites become theirs. */
void ex_attach_times(struct ex *x, size_t line, struct cand *cs, size_t n);

/* extract-trip.c: one trip region (lines, dates) to trips in the result. */
struct region {
	struct date dates[32];
	size_t n_dates;
	struct extract_span date_span;
	size_t lines[256];
	size_t n_lines;
	bool cancelled, notrip, past;
	/* A line that names several trips is shared: on win_line, only
	 * [win_s, win_e) is this region's (win_e == 0: no window). */
	size_t win_line, win_s, win_e;
};

static inline bool region_sees(const struct region *rg, size_t line, size_t pos)
{
	return rg->win_e == 0 || line != rg->win_line || (pos >= rg->win_s && pos < rg->win_e);
}
/* 1 = trips added, 0 = nothing stated (an empty heading), < 0 on error. */
int ex_region_emit(struct ex *x, const struct region *rg);
#endif

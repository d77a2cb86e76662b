/* extract-trip.c: the facts of one region become trips and dives.
 *
 * trip_time is the first meeting time, else the first time; the price is the
 * lowest one stated; the difficulty the highest level stated. Dives are the
 * sites named in the region (weak mentions only when no strong one), one per
 * distinct site, repeated when a count says more dives at one site ("διπλή
 * βουτιά", "2 dives"); a site of the subject stands in when the region
 * counts dives but names none. A region that is cancelled, a course, a
 * recap, in the past or without any dive gives no trip. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "cleanup.h"
#include "extract-private.h"
#include "strutil.h"

#define MAX_DIVES 8

static const char *const level_rank[] = {
    "OPEN_WATER",
    "ADVANCED_OPEN_WATER",
    "DEEP_NITROX",
    "TECHNICAL_DIVING",
};

struct facts {
	int time, duration, group_size, count, dive_duration;
	const struct hit *time_hit, *duration_hit, *size_hit, *price_hit, *level_hit, *req_hit,
	    *dive_duration_hit;
	double price;
	bool size_set, price_set;
	struct extract_span size_span, price_span;
	const char *currency, *some_currency; /* of the lowest price; of any */
	int rank;                             /* index into level_rank, -1 */
	struct buf req;
	struct cand *cands;
	size_t n_cands;
	bool any;
};

static bool in_region(const struct region *rg, size_t line)
{
	for (size_t i = 0; i < rg->n_lines; i++)
		if (rg->lines[i] == line)
			return true;
	return false;
}

static struct extract_span span_of(const struct hit *h)
{
	if (!h)
		return (struct extract_span){0};
	return (struct extract_span){h->m.start, h->m.end, rule_id(h->rule)};
}

static int parse_amount(const struct ex *x, const struct hit *h, enum rule_group g, double *ret)
{
	char tmp[16];
	size_t s, e;

	if (!ex_group(x, h, g, &s, &e) || e - s >= sizeof(tmp))
		return -ENOENT;
	memcpy(tmp, x->text + s, e - s);
	tmp[e - s] = '\0';
	for (char *p = tmp; *p; p++)
		if (*p == ',')
			*p = '.';
	return parse_udouble(tmp, ret);
}

static int level_of(const struct ex *x, const struct hit *h, const char **ret_key)
{
	return ex_group_key(x, h, RG_LEVEL, "level", ret_key);
}

static int note_level(struct ex *x, struct facts *f, const struct hit *h, const char *key,
		      bool required, size_t s, size_t e)
{
	for (size_t r = 0; r < ELEMENTSOF(level_rank); r++)
		if (streq(level_rank[r], key) && (int)r > f->rank) {
			f->rank = (int)r;
			f->level_hit = h;
		}
	if (!required)
		return 0;
	f->req_hit = f->req_hit ? f->req_hit : h;
	if (memmem(buf_str(&f->req), f->req.len, x->text + s, e - s))
		return 0; /* said twice */
	if (f->req.len > 0 && buf_puts(&f->req, ", ") < 0)
		return -ENOMEM;
	return buf_append(&f->req, x->text + s, e - s);
}

static int hit_fact(struct ex *x, struct facts *f, const struct hit *h)
{
	const char *key;
	double v;
	int n;

	switch (h->kind) {
	case RK_MEET_TIME:
	case RK_TIME:
	case RK_DIVE_TIME:
		n = ex_hit_time(x, h);
		if (n >= 0 && (!f->time_hit ||
			       (h->kind == RK_MEET_TIME && f->time_hit->kind != RK_MEET_TIME))) {
			f->time = n;
			f->time_hit = h;
		}
		break;
	case RK_DURATION:
		if (!f->duration_hit && parse_amount(x, h, RG_HOURS, &v) == 0 && v > 0 && v <= 24) {
			f->duration = (int)(v * 60 + 0.5);
			f->duration_hit = h;
		}
		break;
	case RK_DIVE_DURATION:
		if (ex_group_int(x, h, RG_MINUTES, &n) < 0 && parse_amount(x, h, RG_HOURS, &v) == 0)
			n = (int)(v * 60 + 0.5); /* "1 hour in the water" */
		else if (ex_group_int(x, h, RG_MINUTES, &n) < 0)
			n = -1;
		if (!f->dive_duration_hit && n > 0 && n <= 300) {
			f->dive_duration = n;
			f->dive_duration_hit = h;
		}
		break;
	case RK_PRICE:
		if (!f->some_currency && ex_group_key(x, h, RG_CUR, "currency", &key) == 0)
			f->some_currency = key;
		if (parse_amount(x, h, RG_AMOUNT, &v) == 0 && v > 0 &&
		    (!f->price_set || v < f->price)) {
			f->price = v;
			f->price_hit = h;
			f->price_set = true;
			f->price_span = span_of(h);
			f->currency = ex_group_key(x, h, RG_CUR, "currency", &key) == 0 ? key : "";
		}
		break;
	case RK_GROUP_SIZE:
		if (!f->size_set && ex_group_int(x, h, RG_N, &n) == 0 && n > 0 && n <= 500) {
			f->group_size = n;
			f->size_hit = h;
			f->size_set = true;
			f->size_span = span_of(h);
		}
		break;
	case RK_LEVEL:
	case RK_REQUIREMENT: {
		size_t s, e;
		if (level_of(x, h, &key) == 0 && ex_group(x, h, RG_LEVEL, &s, &e))
			return note_level(x, f, h, key, h->kind == RK_REQUIREMENT, s, e);
		break;
	}
	case RK_DIVE_COUNT:
		if (ex_group_int(x, h, RG_COUNT, &n) == 0 && n > f->count && n <= 4)
			f->count = n;
		break;
	default:
		return 0;
	}
	f->any = true;
	return 0;
}

static const char *header_currency(const struct ex *x, const struct hit *h)
{
	const char *const *words = rules_vocab(x->rules, "currency");
	_cleanup_free_ char *cell = rules_fold(x->text + h->m.start, h->m.end - h->m.start);
	const char *key;

	for (size_t i = 0; cell && words && words[i]; i++) {
		_cleanup_free_ char *w = rules_fold(words[i], strlen(words[i]));
		if (w && *w && strstr(cell, w) &&
		    rules_vocab_lookup(x->rules, "currency", words[i], strlen(words[i]), &key) == 0)
			return key;
	}
	return "";
}

/* A bare number under a "Θέσεις" or "Τιμή (€)" header. */
static void column_number(struct ex *x, struct facts *f, int col, size_t s, size_t e)
{
	const struct hit *hdr = col == x->header_size_col ? x->header_size : x->header_price;
	struct extract_span span = {s, e, rule_id(hdr->rule)};
	const struct line *hl = &x->lines[hdr->line];
	double v;
	char num[16];

	if (e - s >= sizeof(num) || strspn(x->text + s, "0123456789.,") != e - s)
		return;
	memcpy(num, x->text + s, e - s);
	num[e - s] = '\0';
	for (char *p = num; *p; p++)
		if (*p == ',')
			*p = '.';
	if (parse_udouble(num, &v) < 0 || v <= 0)
		return;
	if (col == x->header_size_col && !f->size_set && v == (int)v && v <= 500) {
		f->group_size = (int)v;
		f->size_set = true;
		f->size_span = span;
	} else if (col == x->header_price_col && (!f->price_set || v < f->price)) {
		f->price = v;
		f->price_set = true;
		f->price_span = span;
		f->currency = "";
		/* the header may say the currency: "Τιμή (€)" */
		for (size_t i = hl->h0; i < hl->h1; i++)
			if (x->hits[i].kind == RK_PRICE_HEADER)
				f->currency = header_currency(x, &x->hits[i]);
	}
}

/* No header row named the columns: a certification in a row is required. */
static bool headerless(const struct ex *x)
{
	return x->header_site_col < 0 && x->header_req_col < 0 && x->header_meet_col < 0 &&
	       x->header_size_col < 0 && x->header_price_col < 0;
}

/* A table row: a cell that is a level (the requirement under a requirement
 * header or in a table without headers); the site column; the requirement
 * column. */
static int row_cells(struct ex *x, struct facts *f, size_t line, struct cand **cs, size_t *n)
{
	const struct line *l = &x->lines[line];
	const char *key;

	if (!l->table)
		return 0;
	for (size_t c = 0; c < l->n_cells; c++) {
		size_t s = l->cs[c], e = l->ce[c];
		while (s < e && x->text[s] == ' ')
			s++;
		while (e > s && x->text[e - 1] == ' ')
			e--;
		if (rules_vocab_lookup(x->rules, "level", x->text + s, e - s, &key) == 0) {
			int k = note_level(x, f, NULL, key,
					   (int)c == x->header_req_col || headerless(x), s, e);
			if (k < 0)
				return k;
		}
		if (((int)c == x->header_size_col || (int)c == x->header_price_col) && s < e)
			column_number(x, f, (int)c, s, e);
		if ((int)c == x->header_site_col && *n == 0 && s < e) {
			/* the whole cell names the place(s) even when unknown */
			struct cand *nc = reallocarray(*cs, *n + 1, sizeof(**cs));
			if (!nc)
				return -ENOMEM;
			*cs = nc;
			nc[*n] = (struct cand){.start = s,
					       .end = e,
					       .line = line,
					       .strong = true,
					       .time = -1,
					       .name = strndup(x->text + s, e - s)};
			if (!nc[(*n)++].name)
				return -ENOMEM;
		}
	}
	return 0;
}

static int gather(struct ex *x, const struct region *rg, struct facts *f)
{
	for (size_t li = 0; li < rg->n_lines; li++) {
		const struct line *l = &x->lines[rg->lines[li]];
		for (size_t i = l->h0; i < l->h1; i++) {
			const struct hit *h = &x->hits[i];
			int k = h->dropped || !region_sees(rg, h->line, h->m.start)
				    ? 0
				    : hit_fact(x, f, h);
			if (k < 0)
				return k;
		}
	}
	for (size_t li = 0; li < rg->n_lines; li++) {
		const struct cand *seen;
		struct cand *cs = NULL;
		size_t n = 0, n_seen = 0;
		int k = ex_line_sites(x, rg->lines[li], &seen, &n_seen);
		if (k >= 0) /* a copy: the cells below change it */
			k = ex_cands_copy(seen, n_seen, &cs);
		if (k >= 0) {
			n = n_seen;
			k = row_cells(x, f, rg->lines[li], &cs, &n);
		}
		if (k < 0) {
			ex_cands_free(cs, n);
			return k;
		}
		ex_attach_times(x, rg->lines[li], cs, n);
		for (size_t c = 0; c < n; c++) /* the part of a shared line that is ours */
			if (!region_sees(rg, rg->lines[li], cs[c].start)) {
				free(cs[c].name);
				memmove(&cs[c], &cs[c + 1], (n - c - 1) * sizeof(*cs));
				n--;
				c--;
			}
		if (n == 0) {
			free(cs);
			continue;
		}
		struct cand *all = reallocarray(f->cands, f->n_cands + n, sizeof(*all));
		if (!all) {
			ex_cands_free(cs, n);
			return -ENOMEM;
		}
		f->cands = all;
		if (n)
			memcpy(all + f->n_cands, cs, n * sizeof(*cs));
		f->n_cands += n;
		free(cs);
	}
	return 0;
}

static bool same_site(const struct cand *a, const struct cand *b)
{
	_cleanup_free_ char *fa = NULL, *fb = NULL;

	if (a->id > 0 || b->id > 0)
		return a->id == b->id;
	fa = rules_fold(a->name, strlen(a->name));
	fb = rules_fold(b->name, strlen(b->name));
	return fa && fb && streq(fa, fb);
}

/* Strong or known sites, else the weak ones; a site named twice is one dive
 * unless two times are written for it. */
static size_t pick(struct facts *f, const struct cand **out, size_t max)
{
	bool strong = false;
	size_t n = 0;

	for (size_t i = 0; i < f->n_cands; i++)
		strong |= f->cands[i].strong || f->cands[i].id > 0;
	for (size_t i = 0; i < f->n_cands && n < max; i++) {
		const struct cand *c = &f->cands[i];
		size_t j;
		if (!c->strong && c->id == 0 && strong)
			continue;
		for (j = 0; j < n; j++)
			if (same_site(out[j], c) &&
			    (c->time < 0 || out[j]->time < 0 || c->time == out[j]->time))
				break;
		if (j == n)
			out[n++] = c;
		else if (out[j]->time < 0 && c->time >= 0)
			out[j] = c;
	}
	return n;
}

/* A sentence that goes on over the line end (a hard-wrapped text): the
 * line ends without a stop and the next line of the region follows it. */
static bool wraps(const struct ex *x, const struct region *rg, size_t line)
{
	const struct line *l = &x->lines[line];
	size_t e = l->end;

	while (e > l->start && (x->text[e - 1] == ' ' || x->text[e - 1] == '\t'))
		e--;
	if (e == l->start || strchr(".!?;:", x->text[e - 1]) || line + 1 >= x->n_lines ||
	    x->lines[line + 1].blank || !in_region(rg, line + 1))
		return false;
	return true;
}

/* "Δύο βουτιές: 10:00 και 13:00": the times after a dive count, on its line
 * and on the next one when the sentence wraps there. */
/* The time is a meeting's ("meet 7:30"), no dive's. */
static bool is_meeting(const struct ex *x, const struct hit *t, size_t h1)
{
	for (size_t j = x->lines[t->line].h0; j < h1; j++)
		if (x->hits[j].kind == RK_MEET_TIME && !x->hits[j].dropped &&
		    x->hits[j].m.start <= t->m.start && t->m.end <= x->hits[j].m.end)
			return true;
	return false;
}

static size_t count_times(struct ex *x, const struct region *rg, int count, int *times)
{
	for (size_t li = 0; li < rg->n_lines; li++) {
		const struct line *l = &x->lines[rg->lines[li]];
		size_t j1 = wraps(x, rg, rg->lines[li]) ? x->lines[rg->lines[li] + 1].h1 : l->h1;
		for (size_t i = l->h0; i < l->h1; i++) {
			const struct hit *h = &x->hits[i];
			size_t n = 0;
			if (h->dropped || h->kind != RK_DIVE_COUNT ||
			    !region_sees(rg, h->line, h->m.start))
				continue;
			for (size_t j = l->h0; j < j1 && n < (size_t)count; j++) {
				const struct hit *t = &x->hits[j];
				if (!t->dropped && t->kind == RK_TIME && t->m.start > h->m.end &&
				    !is_meeting(x, t, j1))
					times[n++] = ex_hit_time(x, t);
			}
			if (n == (size_t)count)
				return n;
		}
	}
	return 0;
}

static int set_dive(const struct ex *x, struct extract_dive *d, int number, const struct cand *c,
		    int duration, const struct hit *dur_hit)
{
	*d = (struct extract_dive){
	    .number = number, .site_id = c->id, .time = c->time, .duration = duration};
	d->site_name = strdup(c->name);
	if (c->line < x->n_lines) /* the line that names it */
		d->description = strndup(x->text + x->lines[c->line].start,
					 x->lines[c->line].end - x->lines[c->line].start);
	if (!d->site_name || (c->line < x->n_lines && !d->description))
		return -ENOMEM;
	d->site_span = (struct extract_span){c->start, c->end, c->rule_id};
	/* a site of the subject (ex_subject_sites) has no line of the text */
	d->site_in_subject = c->line == (size_t)-1;
	if (c->time >= 0)
		d->time_span = (struct extract_span){c->time_start, c->time_end, NULL};
	d->duration_span = span_of(dur_hit);
	return 0;
}

static bool time_taken(const struct ex *x, const struct hit *h, const struct extract_dive *d,
		       size_t n)
{
	int v = ex_hit_time(x, h);

	for (size_t i = 0; i < n; i++)
		if (d[i].time >= 0 && (d[i].time == v || (d[i].time_span.start >= h->m.start &&
							  d[i].time_span.start < h->m.end)))
			return true;
	return false;
}

/* Several dives: the dive times of the region that no dive took ("1η
 * βουτιά 09:00, 2η 11:45", "first dive around 10:15"), in the order
 * written, go to the dives without a time, in order. */
static void dive_times_in_order(struct ex *x, const struct region *rg, struct extract_dive *d,
				size_t n)
{
	const struct hit *hs[MAX_DIVES];
	size_t nh = 0, j = 0;

	for (size_t li = 0; li < rg->n_lines; li++) {
		const struct line *l = &x->lines[rg->lines[li]];
		for (size_t i = l->h0; i < l->h1; i++) {
			const struct hit *h = &x->hits[i];
			size_t k;
			if (h->dropped || h->kind != RK_DIVE_TIME ||
			    !region_sees(rg, h->line, h->m.start) || time_taken(x, h, d, n) ||
			    ex_hit_time(x, h) < 0)
				continue;
			for (k = 0; k < nh; k++)
				if (hs[k]->m.start < h->m.end && h->m.start < hs[k]->m.end)
					break;
			if (k < nh)
				continue; /* two rules read the same words */
			if (nh == MAX_DIVES)
				return;
			for (k = nh++; k > 0 && hs[k - 1]->m.start > h->m.start; k--)
				hs[k] = hs[k - 1];
			hs[k] = h;
		}
	}
	for (size_t i = 0; i < n && j < nh; i++) {
		if (d[i].time >= 0)
			continue;
		d[i].time = ex_hit_time(x, hs[j]);
		d[i].time_span = span_of(hs[j++]);
	}
}

static void dive_time_hits(struct ex *x, const struct region *rg, const struct facts *f,
			   struct extract_dive *d, size_t n)
{
	if (n > 1)
		dive_times_in_order(x, rg, d, n);
	if (n != 1 || d[0].time >= 0)
		return;
	for (size_t i = 0; i < x->n_hits; i++) {
		const struct hit *h = &x->hits[i];
		bool named = false;
		if (h->dropped || h->kind != RK_DIVE_TIME || !in_region(rg, h->line) ||
		    !region_sees(rg, h->line, h->m.start))
			continue;                       /* few lines: a region holds at most 256 */
		for (size_t c = 0; c < f->n_cands; c++) /* another place's line */
			named |= f->cands[c].start >= x->lines[h->line].start &&
				 f->cands[c].end <= x->lines[h->line].end &&
				 f->cands[c].start != d[0].site_span.start;
		if (!named && (d[0].time = ex_hit_time(x, h)) >= 0) {
			d[0].time_span = span_of(h);
			return;
		}
	}
}

/* How many different dive times the region states (at most 4). */
static int distinct_dive_times(const struct ex *x, const struct region *rg)
{
	int seen[4], n = 0;

	for (size_t li = 0; li < rg->n_lines; li++) {
		const struct line *l = &x->lines[rg->lines[li]];
		for (size_t i = l->h0; i < l->h1; i++) {
			const struct hit *h = &x->hits[i];
			int v = h->kind == RK_DIVE_TIME && !h->dropped &&
					region_sees(rg, h->line, h->m.start)
				    ? ex_hit_time(x, h)
				    : -1;
			bool dup = v < 0;
			for (int j = 0; j < n && !dup; j++)
				dup = seen[j] == v;
			if (dup)
				continue;
			if (n == 4)
				return n;
			seen[n++] = v;
		}
	}
	return n;
}

static int make_dives(struct ex *x, const struct region *rg, struct facts *f,
		      struct extract_dive *d, size_t *ret_n)
{
	const struct cand *pk[MAX_DIVES];
	struct cand *subj = NULL;
	size_t n = pick(f, pk, MAX_DIVES), ns = 0, nd = 0;
	int times[MAX_DIVES], k = 0;

	if (n == 0 && (f->count > 0 || (f->time_hit && f->price_set))) {
		/* "δύο βουτιές στο σημείο του τίτλου": the subject names the place */
		k = ex_subject_sites(x, &subj, &ns);
		if (k >= 0 && ns == 1)
			pk[n++] = &subj[0];
	}
	for (size_t i = 0; i < n && k >= 0; i++, nd++)
		k = set_dive(x, &d[nd], (int)nd + 1, pk[i], f->dive_duration, f->dive_duration_hit);
	if (n == 1 && f->count < 2) /* "πρώτη κατάδυση στις 9, δεύτερη στις 11.30" */
		f->count = distinct_dive_times(x, rg) > 1 ? distinct_dive_times(x, rg) : f->count;
	if (k >= 0 && n == 1 && f->count > 1) {
		size_t nt = count_times(x, rg, f->count, times);
		for (int i = 1; i < f->count && k >= 0; i++, nd++) {
			k = set_dive(x, &d[nd], (int)nd + 1, pk[0], f->dive_duration,
				     f->dive_duration_hit);
			/* the time written at the site is the first dive's */
			d[nd].time = -1;
			d[nd].time_span = (struct extract_span){0};
		}
		for (size_t i = 0; i < nt && i < nd; i++)
			d[i].time = times[i];
	}
	ex_cands_free(subj, ns);
	if (k >= 0)
		dive_time_hits(x, rg, f, d, nd);
	*ret_n = nd;
	return k;
}

static void dives_free(struct extract_dive *d, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(d[i].site_name);
		free(d[i].description);
	}
}

static int add_trip(struct ex *x, const struct region *rg, struct facts *f, struct date date,
		    const struct extract_dive *d, size_t nd)
{
	struct extract_result *r = x->res;
	struct extract_trip *t = reallocarray(r->trips, r->n_trips + 1, sizeof(*t));
	const struct line *l = &x->lines[rg->lines[0]];

	if (!t)
		return -ENOMEM;
	r->trips = t;
	t = &t[r->n_trips++];
	*t = (struct extract_trip){.date = date,
				   .time = f->time_hit ? f->time : -1,
				   .duration = f->duration_hit ? f->duration : -1,
				   .group_size = f->size_set ? f->group_size : -1,
				   .has_price = f->price_set,
				   .price = f->price,
				   .date_span = rg->date_span,
				   .time_span = span_of(f->time_hit),
				   .duration_span = span_of(f->duration_hit),
				   .group_size_span = f->size_span,
				   .price_span = f->price_span,
				   .difficulty_span = span_of(f->level_hit),
				   .requirements_span = span_of(f->req_hit)};
	if (f->price_set) /* "Τιμή: 40 (μέλη), 50€": the currency of the letter */
		snprintf(t->currency, sizeof(t->currency), "%s",
			 f->currency && *f->currency ? f->currency
			 : f->some_currency          ? f->some_currency
						     : "");
	t->difficulty = f->rank >= 0 ? level_rank[f->rank] : NULL;
	t->special_requirements = f->req.len ? strdup(buf_str(&f->req)) : NULL;
	t->description = strndup(x->text + l->start, l->end - l->start);
	t->dives = calloc(nd ? nd : 1, sizeof(*t->dives));
	if (!t->description || !t->dives || (f->req.len && !t->special_requirements))
		return -ENOMEM;
	for (size_t i = 0; i < nd; i++) {
		t->dives[i] = d[i];
		t->dives[i].site_name = strdup(d[i].site_name);
		t->dives[i].description = d[i].description ? strdup(d[i].description) : NULL;
		t->n_dives++;
		if (!t->dives[i].site_name || (d[i].description && !t->dives[i].description))
			return -ENOMEM;
	}
	return 0;
}

int ex_region_emit(struct ex *x, const struct region *rg)
{
	struct facts f = {.rank = -1, .dive_duration = -1, .req = BUF_INIT(BUF_MAX_SMALL)};
	struct extract_dive d[MAX_DIVES];
	size_t nd = 0;
	int k;

	k = gather(x, rg, &f);
	if (k >= 0)
		k = make_dives(x, rg, &f, d, &nd);
	if (k >= 0 && !f.any && nd == 0)
		k = 0; /* an empty heading */
	else if (k >= 0 && (rg->cancelled || rg->notrip || rg->past || nd == 0))
		k = 2;
	else
		for (size_t i = 0; i < rg->n_dates && k >= 0; i++) {
			if (dates_cmp(rg->dates[i], x->in->ref) < 0)
				continue; /* a recap */
			k = add_trip(x, rg, &f, rg->dates[i], d, nd);
			if (k >= 0)
				k = 1;
		}
	dives_free(d, nd);
	ex_cands_free(f.cands, f.n_cands);
	buf_done(&f.req);
	return k;
}

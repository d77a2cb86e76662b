/* extract.c: segmentation of the text into trip regions, and the public API.
 *
 * A line with a date (or, when it has none, "tomorrow" or a weekday alone)
 * opens a region; the lines under it belong to it until the next opener, a
 * signature or an `end` rule (list footer, the sender's name), or a blank
 * line once the region has stated a price (else up to two more paragraphs).
 * Dates after a `move` rule are the trip's ("μεταφέρεται για την Κυριακή
 * 14/9", also when the new date is on the next line, or when the line ends
 * with a weekday that the next line's date completes). A weekday alone in a
 * sentence told in the past is a recap and opens nothing; a recap sentence
 * before a date on its line is not the trip's. A weekday alone under
 * an empty dated heading ("ΣΑΒΒΑΤΟΚΥΡΙΑΚΟ 6-7/9") falls within it. A table
 * row with a date is a region of its own; a later line with its own place
 * and price starts another trip on the same date. A group size stated
 * outside any trip "per day" holds for every trip. extract-trip.c turns
 * each region into trips. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "charset.h"
#include "cleanup.h"
#include "extract-private.h"
#include "strutil.h"

#define EXTRACT_MAX_PARAGRAPHS 2

static bool line_has_in(const struct ex *x, size_t line, enum rule_kind k, size_t from, size_t to)
{
	for (size_t i = x->lines[line].h0; i < x->lines[line].h1; i++)
		if (x->hits[i].kind == k && !x->hits[i].dropped && x->hits[i].m.start >= from &&
		    x->hits[i].m.start < to)
			return true;
	return false;
}

static bool line_has(const struct ex *x, size_t line, enum rule_kind k)
{
	for (size_t i = x->lines[line].h0; i < x->lines[line].h1; i++)
		if (x->hits[i].kind == k && !x->hits[i].dropped)
			return true;
	return false;
}

static int add_date(struct region *rg, struct date d)
{
	for (size_t i = 0; i < rg->n_dates; i++)
		if (dates_cmp(rg->dates[i], d) == 0)
			return 0;
	if (rg->n_dates >= ELEMENTSOF(rg->dates))
		return 0; /* a line listing more dates than that is no program */
	rg->dates[rg->n_dates++] = d;
	return 0;
}

/* The month of the next date on the line, for "Σάββατο 5 & Κυριακή 6 Ιουλίου". */
static int next_month(const struct ex *x, size_t from)
{
	int m;

	for (size_t j = from + 1; j < x->n_hits && x->hits[j].line == x->hits[from].line; j++)
		if (x->hits[j].kind == RK_DATE && !x->hits[j].dropped &&
		    ex_group_int(x, &x->hits[j], RG_MONTH, &m) == 0)
			return m;
	return -1;
}

static int warn_weekday(struct ex *x, const struct hit *h, struct date d)
{
	char buf[11];
	int wd;

	if (ex_group_int(x, h, RG_WEEKDAY, &wd) < 0 || wd == dates_weekday(d))
		return 0;
	dates_format(d, buf);
	return ex_warn(x, "rule %s: the weekday written at byte %zu is not the weekday of %s",
		       rule_id(h->rule), h->m.start, buf);
}

static int date_of_hit(struct ex *x, size_t i, struct region *rg)
{
	const struct hit *h = &x->hits[i];
	struct date ref = x->in->ref, d;
	int day, day2, month, year = -1, wd, k;

	if (ex_group_int(x, h, RG_DAY, &day) < 0)
		return 0;
	if (ex_group_int(x, h, RG_MONTH, &month) < 0)
		month = next_month(x, i);
	(void)ex_group_int(x, h, RG_YEAR, &year);
	if (month > 0)
		k = dates_resolve_explicit(ref, day, month, year, &d);
	else if (ex_group_int(x, h, RG_WEEKDAY, &wd) == 0)
		k = dates_resolve_day_weekday(ref, day, wd, &d);
	else
		return 0;
	if (k < 0)
		return 0;
	k = warn_weekday(x, h, d);
	if (k >= 0)
		k = add_date(rg, d);
	if (k >= 0 && ex_group_int(x, h, RG_DAY2, &day2) == 0 && day2 > day && day2 - day < 7)
		k = add_date(rg, dates_add(d, day2 - day));
	return k;
}

static void set_span(struct region *rg, const struct hit *h)
{
	if (rg->date_span.rule_id)
		return;
	rg->date_span = (struct extract_span){h->m.start, h->m.end, rule_id(h->rule)};
}

static bool sentence_end(const char *t, size_t len, size_t p)
{
	if (t[p] == '!' || t[p] == '?' || t[p] == ';')
		return true;
	return t[p] == '.' &&
	       (p + 1 >= len || t[p + 1] == ' ' || t[p + 1] == '\n' || t[p + 1] == '\r');
}

static bool blank_line_at(const char *t, size_t len, size_t p) /* p: a newline */
{
	for (size_t q = p + 1; q < len && t[q] != '\n'; q++)
		if (t[q] != ' ' && t[q] != '\t' && t[q] != '\r')
			return false;
	return true;
}

/* The sentence around [s, e): up to . ! ? ; or a blank line, 400 bytes at
 * most either side. */
static void sentence_of(const struct ex *x, size_t s, size_t e, size_t *ra, size_t *rb)
{
	const char *t = x->text;
	size_t a = s, b = e;

	while (a > 0 && s - a < 400 && !sentence_end(t, x->len, a - 1) &&
	       !(t[a - 1] == '\n' && a >= 2 && blank_line_at(t, x->len, a - 2)))
		a--;
	while (b < x->len && b - e < 400 && !sentence_end(t, x->len, b) &&
	       !(t[b] == '\n' && blank_line_at(t, x->len, b)))
		b++;
	*ra = a;
	*rb = b;
}

static size_t word_end(const char *t, size_t p, size_t b)
{
	while (p < b && ((unsigned char)t[p] >= 0x80 || (unsigned)((t[p] | 0x20) - 'a') < 26u))
		p++;
	return p;
}

/* Whether [a, b) holds a word of the vocabulary; for `past_word`, not one
 * right after a `relative_word` ("..., which was closed last year"). */
static bool word_in(const struct ex *x, const char *vocab, size_t a, size_t b)
{
	const char *t = x->text;
	bool past = streq(vocab, "past_word");

	for (size_t p = a, pw = 0, pe = 0, q; p < b; p = q + (q == p)) {
		q = word_end(t, p, b);
		if (q == p)
			continue;
		if (ex_is_word_in(x, vocab, t + p, q - p) &&
		    !(past && pe > pw && ex_is_word_in(x, "relative_word", t + pw, pe - pw)))
			return true;
		pw = p;
		pe = q;
	}
	return false;
}

/* A `past` match or a past word in [a, b) of the lines around line. */
static bool told_in_past(const struct ex *x, size_t line, size_t a, size_t b)
{
	size_t l0 = line, l1 = line;

	while (l0 > 0 && x->lines[l0].start > a)
		l0--;
	while (l1 + 1 < x->n_lines && x->lines[l1 + 1].start < b)
		l1++;
	for (size_t l = l0; l <= l1; l++)
		if (line_has_in(x, l, RK_PAST, a, b))
			return true;
	return word_in(x, "past_word", a, b);
}

/* Whether the weekday at [s, e) is told in the past: its clause (between
 * commas) says so, or, unless the clause speaks of what comes ("πάμε",
 * "we go": vocabulary `future_word`), its sentence does. "τι βουτιά ήταν
 * αυτή το Σάββατο!" is a recap; "ήταν καλός ο καιρός το Σάββατο, οπότε πάμε
 * ξανά την Κυριακή" is one for Saturday only. */
static bool in_past_sentence(const struct ex *x, size_t line, size_t s, size_t e)
{
	const char *t = x->text;
	size_t a, b, ca = s, cb = e;

	sentence_of(x, s, e, &a, &b);
	while (ca > a && t[ca - 1] != ',' && t[ca - 1] != ';')
		ca--;
	while (cb < b && t[cb] != ',' && t[cb] != ';')
		cb++;
	if (told_in_past(x, line, ca, cb))
		return true;
	return !word_in(x, "future_word", ca, cb) && told_in_past(x, line, a, b);
}

/* The dates a line opens, in rg; false when it opens none. */
static int line_opener(struct ex *x, size_t line, const struct date *context, size_t from,
		       size_t to, struct region *rg)
{
	size_t after = 0;
	int k = 0, v;

	for (size_t i = x->lines[line].h0; i < x->lines[line].h1; i++)
		if (x->hits[i].kind == RK_MOVE && !x->hits[i].dropped)
			after = x->hits[i].m.end;
	for (enum rule_kind kind = RK_DATE; kind <= RK_RELDAY && rg->n_dates == 0; kind++) {
		for (size_t i = x->lines[line].h0; i < x->lines[line].h1 && k >= 0; i++) {
			const struct hit *h = &x->hits[i];
			struct date d;
			if (h->line != line || h->kind != kind || h->dropped ||
			    h->m.start < after || h->m.start < from || h->m.start >= to)
				continue;
			if (kind == RK_DATE)
				k = date_of_hit(x, i, rg);
			else if (kind == RK_RELDAY && ex_group_int(x, h, RG_REL, &v) == 0)
				k = add_date(rg, dates_add(x->in->ref, v));
			else if (kind == RK_WEEKDAY && ex_group_int(x, h, RG_WEEKDAY, &v) == 0 &&
				 !in_past_sentence(x, line, h->m.start, h->m.end) &&
				 dates_resolve_weekday(
				     context ? dates_add(*context, -1) : x->in->ref, v, &d) == 0)
				k = add_date(rg, d);
			if (k >= 0 && rg->n_dates > 0)
				set_span(rg, h);
		}
	}
	return k < 0 ? k : rg->n_dates > 0;
}

/* A later line that names a place and states its own price is a trip of its
 * own on the same date (a row per dive with its price). */
static bool starts_sibling(struct ex *x, const struct region *rg, size_t line)
{
	const struct cand *cs;
	size_t n = 0;
	bool priced = false;

	if (!line_has(x, line, RK_PRICE))
		return false;
	for (size_t i = 0; i < rg->n_lines; i++)
		priced |= line_has(x, rg->lines[i], RK_PRICE);
	return priced && ex_line_sites(x, line, &cs, &n) == 0 && n > 0;
}

static void header_columns(struct ex *x, const struct line *l)
{
	x->header_site_col = x->header_req_col = x->header_meet_col = -1;
	x->header_size_col = x->header_price_col = -1;
	for (size_t c = 0; c < l->n_cells; c++) {
		size_t cs = l->cs[c], ce = l->ce[c];
		while (cs < ce && x->text[cs] == ' ')
			cs++;
		while (ce > cs && x->text[ce - 1] == ' ')
			ce--;
		if (ex_is_word_in(x, "meet", x->text + cs, ce - cs) && x->header_meet_col < 0)
			x->header_meet_col = (int)c;
	}
	for (size_t i = l->h0; i < l->h1; i++) {
		const struct hit *h = &x->hits[i];
		if (h->dropped)
			continue;
		for (size_t c = 0; c < l->n_cells; c++) {
			if (h->m.start < l->cs[c] || h->m.start >= l->ce[c])
				continue;
			if (h->kind == RK_SITE_HEADER && x->header_site_col < 0)
				x->header_site_col = (int)c;
			else if (h->kind == RK_REQ_HEADER && x->header_req_col < 0)
				x->header_req_col = (int)c;
			else if (h->kind == RK_SIZE_HEADER && x->header_size_col < 0) {
				x->header_size_col = (int)c;
				x->header_size = h;
			} else if (h->kind == RK_PRICE_HEADER && x->header_price_col < 0) {
				x->header_price_col = (int)c;
				x->header_price = h;
			}
		}
	}
}

struct seg {
	struct region rg;
	bool open, blank_seen, heading_notrip, have_context;
	size_t continued_line; /* 1 + a line that continues the one above, 0 */
	int paragraphs;
	struct date context;
};

static int close_region(struct ex *x, struct seg *s)
{
	int k;

	if (!s->open)
		return 0;
	s->open = false;
	k = ex_region_emit(x, &s->rg);
	if (k == 0 && s->rg.n_dates > 0) {
		/* an empty heading ("ΣΑΒΒΑΤΟΚΥΡΙΑΚΟ 6-7/9"): weekdays below are in it */
		s->context = s->rg.dates[0];
		s->have_context = true;
	}
	return k < 0 ? k : 0;
}

static int open_region(struct ex *x, struct seg *s, size_t line, const struct region *dates)
{
	size_t from = dates->win_e ? dates->win_s : 0, to = dates->win_e ? dates->win_e : SIZE_MAX;
	int k = close_region(x, s);

	if (k < 0)
		return k;
	s->rg = *dates;
	s->rg.n_lines = 0;
	s->rg.cancelled =
	    line_has_in(x, line, RK_CANCEL, from, to) && !line_has_in(x, line, RK_MOVE, from, to);
	s->rg.notrip = line_has_in(x, line, RK_NOTRIP, from, to) || s->heading_notrip;
	s->rg.past = line_has_in(x, line, RK_PAST, from, to);
	if (s->rg.past && dates->date_span.rule_id &&
	    line_has_in(x, line, RK_DATE, dates->date_span.start, dates->date_span.start + 1)) {
		/* "Κάναμε βουτιά την Κυριακή. Το Σάββατο 20/6 πάμε...": only an
		 * explicit date's own sentence tells whether it is a recap */
		size_t a, b;
		sentence_of(x, dates->date_span.start, dates->date_span.end, &a, &b);
		s->rg.past = line_has_in(x, line, RK_PAST, a > from ? a : from, b < to ? b : to);
		if (!s->rg.past && s->rg.win_e == 0 && a > x->lines[line].start) {
			/* nor the places of the recap before it */
			s->rg.win_line = line;
			s->rg.win_s = a;
			s->rg.win_e = x->lines[line].end + 1;
		}
	}
	s->open = true;
	s->paragraphs = 0;
	return 0;
}

static void region_add_line(struct seg *s, size_t line)
{
	if (s->rg.n_lines < ELEMENTSOF(s->rg.lines))
		s->rg.lines[s->rg.n_lines++] = line;
}

/* A region that has stated a price and named a place is complete: a blank
 * line ends it. */
static bool region_complete(struct ex *x, const struct region *rg)
{
	bool priced = false, named = false;

	for (size_t i = 0; i < rg->n_lines && !(priced && named); i++) {
		const struct cand *cs;
		size_t n = 0;
		priced |= line_has(x, rg->lines[i], RK_PRICE);
		if (!named && ex_line_sites(x, rg->lines[i], &cs, &n) == 0)
			named = n > 0;
	}
	return priced && named;
}

/* A group size stated for every trip, outside them ("max 8 divers per day"). */
static void note_every_trip(struct ex *x, size_t line)
{
	for (size_t i = x->lines[line].h0; i < x->lines[line].h1 && !x->every_size; i++)
		if (x->hits[i].kind == RK_GROUP_SIZE && !x->hits[i].dropped)
			x->every_size = &x->hits[i];
}

static void apply_every_trip(struct ex *x)
{
	int n;

	if (!x->every_size || ex_group_int(x, x->every_size, RG_N, &n) < 0 || n <= 0 || n > 500)
		return;
	for (size_t i = 0; i < x->res->n_trips; i++) {
		struct extract_trip *t = &x->res->trips[i];
		if (t->group_size >= 0)
			continue;
		t->group_size = n;
		t->group_size_span = (struct extract_span){
		    x->every_size->m.start, x->every_size->m.end, rule_id(x->every_size->rule)};
	}
}

/* Whether text between two dates of a line states something of its own (a
 * place, a time, a price): then each date has its part of the line. */
static bool gap_has_facts(struct ex *x, size_t line, size_t from, size_t to, const struct cand *cs,
			  size_t n)
{
	static const enum rule_kind kinds[] = {RK_PRICE, RK_TIME, RK_MEET_TIME, RK_DIVE_COUNT};

	for (size_t i = 0; i < ELEMENTSOF(kinds); i++)
		if (line_has_in(x, line, kinds[i], from, to))
			return true;
	for (size_t c = 0; c < n; c++)
		if (cs[c].start >= from && cs[c].start < to)
			return true;
	return false;
}

/* The starts of the parts of a line that names several trips ("Το Σάββατο
 * πάμε Ποθητό και την Κυριακή Πάτροκλο"); 0 when the line is one part. */
static size_t split_points(struct ex *x, size_t line, size_t *starts, size_t max)
{
	const struct line *l = &x->lines[line];
	const struct hit *prev = NULL;
	const struct cand *cs = NULL;
	size_t n = 0, ns = 0;
	enum rule_kind kind = line_has(x, line, RK_DATE)     ? RK_DATE
			      : line_has(x, line, RK_RELDAY) ? RK_RELDAY
							     : RK_WEEKDAY;

	size_t openers = 0;
	for (size_t i = l->h0; i < l->h1; i++)
		openers += x->hits[i].kind == kind && !x->hits[i].dropped;
	if (openers < 2 || openers > max || line_has(x, line, RK_MOVE) ||
	    ex_line_sites(x, line, &cs, &n) < 0)
		return 0; /* one date, or a list too long to be a program */
	for (size_t i = l->h0; i < l->h1 && ns < max; i++) {
		const struct hit *h = &x->hits[i];
		if (h->kind != kind || h->dropped)
			continue;
		if (prev && gap_has_facts(x, line, prev->m.end, h->m.start, cs, n))
			starts[ns++] = h->m.start;
		prev = h;
	}
	return ns;
}

static int open_split_regions(struct ex *x, struct seg *s, size_t line, const struct region *dates)
{
	const struct line *l = &x->lines[line];
	size_t starts[8], ns = split_points(x, line, starts, ELEMENTSOF(starts));
	int k;

	if (ns == 0 || l->table) {
		k = open_region(x, s, line, dates);
		region_add_line(s, line);
		return k;
	}
	for (size_t j = 0; j <= ns; j++) {
		struct region part = {.win_line = line,
				      .win_s = j == 0 ? l->start : starts[j - 1],
				      .win_e = j == ns ? l->end + 1 : starts[j]};
		k = line_opener(x, line, s->have_context ? &s->context : NULL, part.win_s,
				part.win_e, &part);
		if (k <= 0) /* a part without its own date belongs to the one before */
			continue;
		if ((k = open_region(x, s, line, &part)) < 0)
			return k;
		region_add_line(s, line);
	}
	return 0;
}

/* "μεταφέρεται για την\n Κυριακή 14/9": the new date is on the next line. */
static int moved_to_next_line(struct ex *x, struct seg *s, size_t i, struct region *dates)
{
	size_t j = i + 1;
	int k;

	while (j < x->n_lines && x->lines[j].blank)
		j++;
	if (j >= x->n_lines)
		return 0;
	k = line_opener(x, j, NULL, 0, SIZE_MAX, dates);
	if (k > 0)
		s->continued_line = j + 1;
	return k;
}

/* "POSTPONED to Saturday\n 20 June": a move whose target on its line is a
 * weekday at the line's end, and a date opening the next line. */
static bool move_wraps(const struct ex *x, size_t i)
{
	const struct line *l = &x->lines[i];
	size_t after = 0, wd_end = 0, j = i + 1, p;

	for (size_t k = l->h0; k < l->h1; k++) {
		const struct hit *h = &x->hits[k];
		if (h->dropped)
			continue;
		if (h->kind == RK_MOVE)
			after = h->m.end;
		else if (h->kind == RK_DATE && after && h->m.start >= after)
			return false;
		else if (h->kind == RK_WEEKDAY && after && h->m.start >= after)
			wd_end = h->m.end;
	}
	if (!after || !wd_end)
		return false;
	for (p = wd_end; p < l->end; p++)
		if (x->text[p] != ' ' && x->text[p] != '\t' && x->text[p] != ',')
			return false;
	if (j >= x->n_lines || x->lines[j].blank)
		return false;
	p = x->lines[j].start;
	while (p < x->lines[j].end && (x->text[p] == ' ' || x->text[p] == '\t'))
		p++;
	for (size_t k = x->lines[j].h0; k < x->lines[j].h1; k++)
		if (x->hits[k].kind == RK_DATE && !x->hits[k].dropped && x->hits[k].m.start == p)
			return true;
	return false;
}

static int segment_line(struct ex *x, struct seg *s, size_t i)
{
	const struct line *l = &x->lines[i];
	struct region dates = {0};
	int k, opener;

	if (line_has(x, i, RK_END)) {
		s->heading_notrip = false;
		return close_region(x, s);
	}
	opener = i + 1 == s->continued_line ? 0 : line_opener(x, i, NULL, 0, SIZE_MAX, &dates);
	if (opener > 0 && move_wraps(x, i)) {
		dates = (struct region){0};
		opener = moved_to_next_line(x, s, i, &dates);
	} else if (opener == 0 && line_has(x, i, RK_MOVE))
		opener = moved_to_next_line(x, s, i, &dates);
	if (opener < 0)
		return opener;
	if (opener) {
		if ((k = close_region(x, s)) < 0)
			return k;
		if (line_has(x, i, RK_DATE))
			s->have_context = false;
		else if (s->have_context) {
			dates = (struct region){0};
			if ((k = line_opener(x, i, &s->context, 0, SIZE_MAX, &dates)) < 0)
				return k;
		}
	}
	if (s->open && s->blank_seen && !opener &&
	    (region_complete(x, &s->rg) || ++s->paragraphs > EXTRACT_MAX_PARAGRAPHS))
		if ((k = close_region(x, s)) < 0)
			return k;
	s->blank_seen = false;
	if (l->table && !opener && l->n_cells >= 3 && !s->open)
		header_columns(x, l);
	if (opener) {
		k = open_split_regions(x, s, i, &dates);
		if (k < 0)
			return k;
		if (l->table)
			return close_region(x, s);
	} else if (s->open) {
		if (starts_sibling(x, &s->rg, i)) {
			struct region same = s->rg;
			if ((k = open_region(x, s, i, &same)) < 0)
				return k;
		}
		region_add_line(s, i);
		s->rg.cancelled |= line_has(x, i, RK_CANCEL) && !line_has(x, i, RK_MOVE);
	}
	s->heading_notrip = !opener && line_has(x, i, RK_NOTRIP);
	if (!s->open && line_has(x, i, RK_EVERY_TRIP))
		note_every_trip(x, i);
	return 0;
}

/* "Subject: Κέα 6-7/9" over a body of "Σάββατο: ... Κυριακή: ...": a date
 * of the subject later than the message's own is where weekdays fall. */
static int subject_context(struct ex *x, struct seg *s)
{
	struct ex sx = {.rules = x->rules, .in = x->in, .res = x->res};
	struct region rg = {0};
	int k;

	if (!x->in->subject)
		return 0;
	sx.text = x->in->subject;
	sx.len = strnlen(sx.text, EXTRACT_MAX_TEXT);
	k = ex_split_lines(&sx);
	if (k >= 0)
		k = ex_collect_hits(&sx);
	if (k >= 0 && sx.n_lines == 1 && !line_has(&sx, 0, RK_RELDAY))
		k = line_opener(&sx, 0, NULL, 0, SIZE_MAX, &rg);
	if (k > 0 && dates_cmp(rg.dates[0], x->in->ref) > 0) {
		s->context = rg.dates[0];
		s->have_context = true;
	}
	ex_lines_free(&sx);
	free(sx.hits);
	return k < 0 ? k : 0;
}

static int segment(struct ex *x)
{
	struct seg s = {0};
	int k;

	x->header_site_col = x->header_req_col = x->header_meet_col = -1;
	x->header_size_col = x->header_price_col = -1;
	k = subject_context(x, &s);
	for (size_t i = 0; i < x->n_lines && k >= 0; i++) {
		const struct line *l = &x->lines[i];
		if (l->quoted)
			continue;
		if (l->signature)
			k = close_region(x, &s);
		else if (l->blank)
			s.blank_seen = s.open;
		else
			k = segment_line(x, &s, i);
	}
	return k < 0 ? k : close_region(x, &s);
}

struct extract_result *extract_result_free(struct extract_result *r)
{
	if (!r)
		return NULL;
	for (size_t i = 0; i < r->n_trips; i++) {
		struct extract_trip *t = &r->trips[i];
		for (size_t j = 0; j < t->n_dives; j++) {
			free(t->dives[j].site_name);
			free(t->dives[j].description);
		}
		free(t->dives);
		free(t->special_requirements);
		free(t->description);
	}
	free(r->trips);
	for (size_t i = 0; i < r->n_warnings; i++)
		free(r->warnings[i]);
	free(r->warnings);
	free(r);
	return NULL;
}

/* Lines and matches of the text's first max bytes (cut at a line end). */
static int read_text(struct ex *x, size_t max)
{
	int k;

	ex_lines_free(x);
	free(x->hits);
	x->hits = NULL;
	x->n_lines = x->n_hits = 0;
	if (x->len > max) {
		const char *nl = memrchr(x->text, '\n', max);
		x->len = nl ? (size_t)(nl - x->text) : max;
		while (x->len > 0 && ((unsigned char)x->text[x->len] & 0xC0) == 0x80)
			x->len--; /* not inside a character */
		k = ex_warn(x, "only the first %zu bytes of the text were read", x->len);
		if (k < 0)
			return k;
	}
	k = ex_split_lines(x);
	return k < 0 ? k : ex_collect_hits(x);
}

/* A copy of s[0..n) with what is not UTF-8 masked, or NULL in *ret when
 * there is nothing to mask: the rules match valid UTF-8 only. */
static int masked_copy(const char *s, size_t n, char **ret)
{
	*ret = NULL;
	if (charset_utf8_valid(s, n))
		return 0;
	*ret = malloc(n + 1);
	if (!*ret)
		return -ENOMEM;
	memcpy(*ret, s, n);
	(*ret)[n] = '\0';
	charset_utf8_mask(*ret, n);
	return 0;
}

int extract_run(const struct rules *rules, const struct extract_input *input,
		struct extract_result **ret, char **reterr_reason)
{
	_cleanup_free_ char *text = NULL, *subject = NULL;
	struct extract_input in_valid = *input;
	const struct extract_input *in = &in_valid;
	struct ex x = {.rules = rules, .in = in};
	int k;

	if (masked_copy(input->text, input->len, &text) < 0 ||
	    (input->subject &&
	     masked_copy(input->subject, strnlen(input->subject, EXTRACT_MAX_TEXT), &subject) < 0))
		return -ENOMEM;
	in_valid.text = text ?: input->text;
	in_valid.subject = subject ?: input->subject;
	x.text = in->text;
	x.len = in->len;

	if (!dates_valid(in->ref.y, in->ref.m, in->ref.d)) {
		if (reterr_reason)
			*reterr_reason = strdup("the reference date is not a valid date");
		return -EINVAL;
	}
	x.res = calloc(1, sizeof(*x.res));
	if (!x.res)
		return -ENOMEM;
	k = read_text(&x, EXTRACT_MAX_TEXT);
	/* too many matches (a hostile text): read less of it, and say so */
	while (k == -E2BIG && x.len > 1024) {
		for (size_t i = 0; i < x.res->n_warnings; i++) /* of the pass given up */
			free(x.res->warnings[i]);
		x.res->n_warnings = 0;
		k = read_text(&x, x.len / 2);
	}
	if (k >= 0)
		k = segment(&x);
	if (k >= 0)
		apply_every_trip(&x);
	ex_lines_free(&x);
	free(x.hits);
	if (k < 0) {
		if (reterr_reason)
			*reterr_reason = strdup(k == -E2BIG ? "too many matches in the text"
							    : "extraction failed");
		extract_result_free(x.res);
		return k;
	}
	*ret = x.res;
	return 0;
}

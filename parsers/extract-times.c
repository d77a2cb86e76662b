/* extract-times.c: which times of a line belong to which of its dives.
 *
 * A time belongs to a site written right after it ("9:00 ν. Ποθητός",
 * "09:15 | 1η βουτιά | νησίδα Φλέβες", "1st dive 09:00 - HMS Maori") or
 * "at" right after it ("Blue Hole at noon", "Κουδούνια (1η βουτιά, 9:30)",
 * "Ξέρα Λιαπάδων γύρω στις 11:30": words of `time_approx` may come between),
 * unless it is a meeting column of a table, the time column of a dated row,
 * or the one time that follows the date of a line (the trip's). */
#include <string.h>

#include "cleanup.h"
#include "extract-private.h"

static size_t sep_len(const char *t, size_t p, size_t e)
{
	static const char *const seps[] = {" ", "\t", "|", ":", "-", "*", "–", "—", "•", "▸", "·"};

	for (size_t i = 0; i < ELEMENTSOF(seps); i++) {
		size_t n = strlen(seps[i]);
		if (p + n <= e && memcmp(t + p, seps[i], n) == 0)
			return n;
	}
	return 0;
}

static size_t word_end(const char *t, size_t p, size_t e)
{
	while (p < e && sep_len(t, p, e) == 0)
		p++;
	return p;
}

/* Whether a dive word is written between s and e. */
static bool names_dive(const struct ex *x, size_t s, size_t e)
{
	for (size_t p = s, q; p < e; p = q) {
		if (x->text[p] == ',' || sep_len(x->text, p, e) > 0) {
			q = p + 1;
			continue;
		}
		q = word_end(x->text, p, e);
		while (q > p && x->text[q - 1] == ',')
			q--;
		if (ex_is_word_in(x, "dive_word", x->text + p, q - p))
			return true;
	}
	return false;
}

/* Before a site: only separators, prepositions, dive words, ordinals, or a
 * word before a dive word ("09:00 | Πρωινή βουτιά | X"). After a site: only
 * spaces and prepositions ("Blue Hole at noon"), or, in parentheses or
 * around a dive word, separators too ("Ξύφος, βουτιά 10πμ"). */
static bool joins_time(const struct ex *x, size_t s, size_t e, bool before)
{
	const char *t = x->text;
	size_t p0 = s;
	bool loose; /* "Κουδούνια (1η βουτιά, 9:30)", "Blue Hole – dive at 10" */

	while (p0 < e && t[p0] == ' ')
		p0++;
	loose = !before && ((p0 < e && t[p0] == '(') || names_dive(x, s, e));
	for (size_t p = s, q, n; p < e; p = q) {
		if (loose && (t[p] == '(' || t[p] == ',')) {
			q = p + 1;
			continue;
		}
		if ((n = sep_len(t, p, e)) > 0) {
			if (!before && !loose && t[p] != ' ')
				return false;
			q = p + n;
			continue;
		}
		q = word_end(t, p, e);
		while (loose && q > p && t[q - 1] == ',')
			q--;
		if (ex_is_word_in(x, "site_prep", t + p, q - p) ||
		    ex_is_word_in(x, "site_skip", t + p, q - p) ||
		    ex_is_word_in(x, "time_approx", t + p, q - p))
			continue;
		if (!before && !loose)
			return false;
		if (ex_is_word_in(x, "dive_word", t + p, q - p) ||
		    ex_is_word_in(x, "dive_kind", t + p, q - p) ||
		    (t[p] >= '0' && t[p] <= '9' && q - p <= 4))
			continue;
		size_t r = q;
		while (r < e && sep_len(t, r, e) > 0)
			r++;
		size_t z = word_end(t, r, e);
		if (z == r || !ex_is_word_in(x, "dive_word", t + r, z - r))
			return false;
	}
	return true;
}

/* In a table whose header names a meeting column, its times are no dive's. */
static bool in_meet_column(const struct ex *x, const struct hit *h)
{
	const struct line *l = &x->lines[h->line];

	if (!l->table || x->header_meet_col < 0 || (size_t)x->header_meet_col >= l->n_cells)
		return false;
	return h->m.start >= l->cs[x->header_meet_col] && h->m.start < l->ce[x->header_meet_col];
}

/* "ραντεβού στις 8 στην Χ": a time a meeting rule read is the meeting's. */
static bool is_meeting_time(const struct ex *x, const struct hit *h)
{
	const struct line *l = &x->lines[h->line];

	for (size_t i = l->h0; i < l->h1; i++)
		if (x->hits[i].kind == RK_MEET_TIME && !x->hits[i].dropped &&
		    x->hits[i].m.start <= h->m.start && h->m.end <= x->hits[i].m.end)
			return true;
	return false;
}

static int cell_of(const struct line *l, size_t pos)
{
	for (size_t c = 0; c < l->n_cells; c++)
		if (pos >= l->cs[c] && pos < l->ce[c])
			return (int)c;
	return -1;
}

/* A dated table row is a trip: its time column is the trip's, not a dive's. */
static bool other_cell_of_dated_row(const struct ex *x, const struct hit *h, const struct cand *c)
{
	const struct line *l = &x->lines[h->line];

	if (!l->table || cell_of(l, h->m.start) == cell_of(l, c->start))
		return false;
	for (size_t i = l->h0; i < l->h1; i++)
		if (x->hits[i].kind == RK_DATE && !x->hits[i].dropped)
			return true;
	return false;
}

/* "Σάββατο 12 Ιουλίου, 09:00 – Ποθητός": the one time of a dated line,
 * written after the date, is the trip's. */
static bool trip_time_of_dated_line(const struct ex *x, const struct hit *t)
{
	const struct line *l = &x->lines[t->line];
	bool dated = false;

	for (size_t i = l->h0; i < l->h1; i++) {
		const struct hit *h = &x->hits[i];
		if (h->dropped || h == t)
			continue;
		if (h->kind == RK_TIME)
			return false;
		dated |= h->kind == RK_DATE && h->m.end <= t->m.start;
	}
	return dated;
}

/* Times written right before (or "at" right after) a site belong to it. */
void ex_attach_times(struct ex *x, size_t line, struct cand *cs, size_t n)
{
	for (size_t c = 0; c < n; c++) {
		const struct hit *best = NULL;
		/* a name that wraps onto the next line may have its time there */
		size_t last =
		    cs[c].end > x->lines[line].end && line + 1 < x->n_lines ? line + 1 : line;
		for (size_t i = x->lines[line].h0; i < x->lines[last].h1; i++) {
			const struct hit *h = &x->hits[i];
			if ((h->line != line && h->line != last) || h->dropped ||
			    h->kind != RK_TIME || in_meet_column(x, h) || is_meeting_time(x, h) ||
			    other_cell_of_dated_row(x, h, &cs[c]))
				continue;
			if (h->m.end <= cs[c].start && (c == 0 || h->m.start >= cs[c - 1].end) &&
			    joins_time(x, h->m.end, cs[c].start, true) &&
			    !trip_time_of_dated_line(x, h))
				best = h;
			else if (!best && h->m.start >= cs[c].end &&
				 (c + 1 == n || h->m.end <= cs[c + 1].start) &&
				 joins_time(x, cs[c].end, h->m.start, false))
				best = h;
		}
		if (best) {
			cs[c].time = ex_hit_time(x, best);
			cs[c].time_start = best->m.start;
			cs[c].time_end = best->m.end;
		}
	}
}

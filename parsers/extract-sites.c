/* extract-sites.c: finding the site names of a line.
 *
 * A name starts where a site rule says (after "1η βουτιά", a time at the
 * start of a row, "dive at") or wherever a capitalised phrase resolves to a
 * known site. From its start a name runs over capitalised words, site
 * terminology (ναυάγιο, ν., wreck) and joining words (του, of) up to
 * punctuation or a lower-case word. Names inside parentheses or after a
 * location descriptor ("βόρεια του", "near") are not dives. */
#include <errno.h>
#include <string.h>
#include <utf8proc.h>

#include "cleanup.h"
#include "extract-private.h"
#include "strutil.h"

#define PHRASE_MAX_WORDS 8

struct word {
	size_t s, e;
	bool cap, term, link, digit;
};

static size_t cp(const char *t, size_t end, size_t p, utf8proc_int32_t *c)
{
	utf8proc_ssize_t n =
	    utf8proc_iterate((const utf8proc_uint8_t *)t + p, (utf8proc_ssize_t)(end - p), c);
	if (n <= 0) {
		*c = -1;
		return 1;
	}
	return (size_t)n;
}

static bool is_letter(utf8proc_int32_t c)
{
	utf8proc_category_t k = c < 0 ? UTF8PROC_CATEGORY_CN : utf8proc_category(c);
	return k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO;
}

static bool is_alnum(utf8proc_int32_t c)
{
	return is_letter(c) || (c >= '0' && c <= '9') || (c >= 0x300 && c <= 0x36f);
}

bool ex_is_word_in(const struct ex *x, const char *vocab, const char *s, size_t n)
{
	const char *key;

	return rules_vocab_lookup(x->rules, vocab, s, n, &key) == 0;
}

/* The word at p (letters/digits, inner ' and -), or false. */
static bool read_word(const struct ex *x, size_t p, size_t end, struct word *w)
{
	const char *t = x->text;
	utf8proc_int32_t c;
	size_t q = p;

	if (p >= end || !is_alnum((cp(t, end, p, &c), c)))
		return false;
	while (q < end) {
		size_t n = cp(t, end, q, &c);
		if (is_alnum(c))
			q += n;
		else if ((c == '\'' || c == '-') && q + 1 < end &&
			 is_alnum((cp(t, end, q + 1, &c), c)))
			q += 1;
		else
			break;
	}
	*w = (struct word){.s = p, .e = q};
	if (q < end && t[q] == '.' && ex_is_word_in(x, "site_term", t + p, q + 1 - p))
		w->e = ++q;
	cp(t, end, p, &c);
	w->digit = c >= '0' && c <= '9';
	w->cap = !w->digit && (utf8proc_isupper(c) || utf8proc_category(c) == UTF8PROC_CATEGORY_LT);
	w->term = ex_is_word_in(x, "site_term", t + p, w->e - p);
	w->link = ex_is_word_in(x, "site_link", t + p, w->e - p);
	return true;
}

static size_t skip_spaces(const char *t, size_t p, size_t end)
{
	while (p < end && (t[p] == ' ' || t[p] == '\t'))
		p++;
	return p;
}

/* Between the words of one name: spaces, never a tab (a table cell ends). */
static size_t skip_blanks(const char *t, size_t p, size_t end)
{
	while (p < end && t[p] == ' ')
		p++;
	return p;
}

/* A name cut by the line end before its proper part ("στην παραλία\nτης
 * Βουλιαγμένης", "the wreck of\nthe Zenobia") goes on at the next line:
 * its start there, and its end in *end. */
static size_t wrapped_name(const struct ex *x, const struct word *ws, size_t n, size_t *end)
{
	const char *t = x->text, *nl;
	bool cap = false;
	size_t s = *end + 1;

	for (size_t i = 0; i < n; i++)
		cap |= ws[i].cap;
	if (n == 0 || n >= PHRASE_MAX_WORDS || (cap && !ws[n - 1].link) || *end >= x->len ||
	    t[*end] != '\n' || s >= x->len)
		return 0;
	nl = memchr(t + s, '\n', x->len - s);
	*end = nl ? (size_t)(nl - t) : x->len;
	if (*end > s && t[*end - 1] == '\r')
		(*end)--;
	return skip_spaces(t, s, *end);
}

/* Reads a site name from p; returns the number of words (0: none). */
static size_t read_phrase(const struct ex *x, size_t p, size_t end, bool allow_lower,
			  struct word *ws)
{
	const char *t = x->text;
	size_t n = 0, lower = 0, q;
	struct word w;

	for (p = skip_spaces(t, p, end); read_word(x, p, end, &w); p = skip_spaces(t, w.e, end)) {
		if (w.cap || w.term || !ex_is_word_in(x, "site_skip", t + w.s, w.e - w.s))
			break;
	}
again:
	for (; n < PHRASE_MAX_WORDS && read_word(x, p, end, &w); p = skip_blanks(t, w.e, end)) {
		if (w.digit && w.e < end && (t[w.e] == ':' || t[w.e] == '.'))
			break; /* a time, not "He 111" */
		if ((ex_is_word_in(x, "and", t + w.s, w.e - w.s) && !w.cap) ||
		    (n > 0 && (ex_is_word_in(x, "not_site", t + w.s, w.e - w.s) ||
			       ex_is_word_in(x, "weekday", t + w.s, w.e - w.s) ||
			       ex_is_word_in(x, "month", t + w.s, w.e - w.s))))
			break;
		if (w.cap || w.term || (w.digit && n > 0 && w.e - w.s <= 4) || (w.link && n > 0))
			ws[n++] = w;
		else if (allow_lower && lower < 3 &&
			 !ex_is_word_in(x, "site_prep", t + w.s, w.e - w.s)) {
			lower++;
			ws[n++] = w;
		} else
			break;
	}
	if (p == end && (q = wrapped_name(x, ws, n, &end)) > 0) {
		p = q;
		goto again;
	}
	while (n > 0 && ws[n - 1].link && !ws[n - 1].cap)
		n--;
	return n;
}

/* The name written from s to e, a line break in it made a space. */
static char *name_dup(const struct ex *x, size_t s, size_t e)
{
	char *name = strndup(x->text + s, e - s), *w = name;

	for (const char *r = name; r && *r; r++)
		if (*r == '\r' || *r == '\n') {
			while (w > name && (w[-1] == ' ' || w[-1] == '\t'))
				w--;
			*w++ = ' ';
			while (r[1] == ' ' || r[1] == '\t' || r[1] == '\r' || r[1] == '\n')
				r++;
		} else
			*w++ = *r;
	if (w)
		*w = '\0';
	return name;
}

static int resolve(const struct ex *x, size_t s, size_t e, int *ret_id)
{
	_cleanup_free_ char *name = NULL;

	if (!x->in->resolve_site)
		return -ENOENT;
	name = name_dup(x, s, e);
	if (!name)
		return -ENOMEM;
	return x->in->resolve_site(x->in->userdata, name, ret_id) == 0 && *ret_id > 0 ? 0 : -ENOENT;
}

static size_t utf8_chars(const char *s, size_t n)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		c += ((unsigned char)s[i] & 0xc0) != 0x80;
	return c;
}

/* The longest run of ws[] (earliest first) that is a known site. */
static int resolve_words(const struct ex *x, struct word *ws, size_t *n_inout, int *ret_id)
{
	size_t n = *n_inout;

	for (size_t i = 0; i < n; i++) {
		if (ws[i].link)
			continue;
		for (size_t j = n; j > i; j--) {
			bool named = false;
			for (size_t k = i; k < j; k++)
				named |= !ws[k].term && !ws[k].link && !ws[k].digit;
			if (j - i == 1 && utf8_chars(x->text + ws[i].s, ws[i].e - ws[i].s) < 4)
				continue; /* too short to look up alone */
			if (named && resolve(x, ws[i].s, ws[j - 1].e, ret_id) == 0) {
				/* the name is what resolved */
				memmove(ws, ws + i, (j - i) * sizeof(*ws));
				*n_inout = j - i;
				return 0;
			}
		}
	}
	return -ENOENT;
}

static int add_cand(struct cand **cs, size_t *n, size_t s, size_t e, const struct ex *x, int id,
		    bool strong, const char *rule_id)
{
	struct cand *c = reallocarray(*cs, *n + 1, sizeof(**cs));

	if (!c)
		return -ENOMEM;
	*cs = c;
	c[*n] = (struct cand){.start = s,
			      .end = e,
			      .id = id,
			      .strong = strong,
			      .time = -1,
			      .rule_id = rule_id,
			      .name = name_dup(x, s, e)};
	if (!c[*n].name)
		return -ENOMEM;
	(*n)++;
	return 0;
}

void ex_cands_free(struct cand *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(c[i].name);
	free(c);
}

/* "Συνάντηση", "Meet", "Μαρίνα Λαυρίου": no site name starts so. */
static bool may_start_name(const struct ex *x, const struct word *w)
{
	const char *s = x->text + w->s;
	size_t n = w->e - w->s;

	return !ex_is_word_in(x, "not_site", s, n) && !ex_is_word_in(x, "meet", s, n) &&
	       !ex_is_word_in(x, "place_noun", s, n) && !ex_is_word_in(x, "weekday", s, n) &&
	       !ex_is_word_in(x, "month", s, n);
}

/* After a name: "και", "κ", "and", "&" or "+" then another name, or 0. */
static size_t list_next(const struct ex *x, size_t p, size_t end)
{
	struct word w;

	p = skip_spaces(x->text, p, end);
	if (p < end && (x->text[p] == '&' || x->text[p] == '+'))
		return p + 1;
	if (read_word(x, p, end, &w) && !w.cap && ex_is_word_in(x, "and", x->text + w.s, w.e - w.s))
		return w.e;
	return 0;
}

/* The phrase only qualifies a dive ("Νυχτερινή βουτιά", "Night dive") or a
 * place that is no dive site ("Paphos harbour", "Gaios old harbour"). */
static bool before_dive_word(const struct ex *x, size_t p, size_t end)
{
	struct word w;

	if (!read_word(x, skip_spaces(x->text, p, end), end, &w))
		return false;
	if (ex_is_word_in(x, "dive_word", x->text + w.s, w.e - w.s) ||
	    ex_is_word_in(x, "place_noun", x->text + w.s, w.e - w.s))
		return true;
	/* one adjective between: "old harbour" */
	return !w.cap && read_word(x, skip_blanks(x->text, w.e, end), end, &w) &&
	       ex_is_word_in(x, "place_noun", x->text + w.s, w.e - w.s);
}

/* The word right before p on its line, in [*s, *e); false if none. */
static bool prev_word(const struct ex *x, size_t p, size_t *s, size_t *e)
{
	const char *t = x->text;

	while (p > 0 && (t[p - 1] == ' ' || t[p - 1] == '\t'))
		p--;
	*e = p;
	while (p > 0 && !strchr(" \t\n\r,.;:!?()|", t[p - 1]))
		p--;
	*s = p;
	return *s < *e;
}

/* Whether the word before p, past prepositions and articles, is a dive word
 * ("βουτιά στην |παραλία της Βουλιαγμένης", "dive at the |beach of X"). */
static bool after_dive_word(const struct ex *x, size_t p)
{
	size_t s, e;

	for (int i = 0; i < 3 && prev_word(x, p, &s, &e); i++, p = s) {
		if (ex_is_word_in(x, "dive_word", x->text + s, e - s) ||
		    ex_is_word_in(x, "dive_kind", x->text + s, e - s))
			return true; /* "απογευματινή στο |Λιμανάκι του Χ" */
		if (!ex_is_word_in(x, "site_prep", x->text + s, e - s) &&
		    !ex_is_word_in(x, "site_skip", x->text + s, e - s))
			return false;
	}
	return false;
}

/* "στην παραλία |Ποθητού", "λιμάνι της |Κορησσίας": the name only says
 * which beach or harbour. */
static bool after_place_noun(const struct ex *x, size_t p)
{
	size_t s, e;

	if (!prev_word(x, p, &s, &e))
		return false;
	if (ex_is_word_in(x, "site_link", x->text + s, e - s) && !prev_word(x, s, &s, &e))
		return false;
	return ex_is_word_in(x, "place_noun", x->text + s, e - s);
}

/* A phrase read at a rule's site mark: a candidate unless it is no name. A
 * place noun starts one only right after a dive word: a beach is a shore
 * dive's place, where a meeting at the beach is none. */
static int cand_one(const struct ex *x, size_t *p, size_t end, bool strong, const char *rule_id,
		    struct cand **cs, size_t *n)
{
	struct word ws[PHRASE_MAX_WORDS];
	size_t nw = read_phrase(x, *p, end, true, ws);
	bool cap = false, noun;
	int id = 0;

	if (nw == 0)
		return 0;
	noun = ex_is_word_in(x, "place_noun", x->text + ws[0].s, ws[0].e - ws[0].s) &&
	       after_dive_word(x, ws[0].s);
	if (!noun && !may_start_name(x, &ws[0]))
		return 0;
	if (resolve_words(x, ws, &nw, &id) < 0) {
		size_t k = 0;
		id = 0;
		while (k < nw &&
		       (ws[k].cap || ws[k].term || ws[k].link || ws[k].digit || (k == 0 && noun)))
			cap |= ws[k++].cap;
		nw = k;
		while (nw > 0 && ws[nw - 1].link)
			nw--;
		if (!cap || nw == 0 || before_dive_word(x, ws[nw - 1].e, end) ||
		    ex_is_word_in(x, "place_noun", x->text + ws[nw - 1].s,
				  ws[nw - 1].e - ws[nw - 1].s))
			return 0; /* "Gaios Harbour" */
	}
	*p = ws[nw - 1].e;
	return add_cand(cs, n, ws[0].s, ws[nw - 1].e, x, id, strong, rule_id) < 0 ? -ENOMEM : 1;
}

/* A list of names from p: when one of them is a known site, the others are
 * sites as well ("Manijin Island and Amphorae Cave"). */
static int cand_at(const struct ex *x, size_t p, size_t end, bool strong, const char *rule_id,
		   struct cand **cs, size_t *n)
{
	size_t n0 = *n;
	bool known = false;
	int k;

	while ((k = cand_one(x, &p, end, strong, rule_id, cs, n)) > 0)
		if ((p = list_next(x, p, end)) == 0)
			break;
	for (size_t i = n0; i < *n; i++)
		known |= (*cs)[i].id > 0;
	for (size_t i = n0; i < *n && known; i++)
		(*cs)[i].strong = true;
	return k < 0 ? k : 0;
}

static bool in_zone(const size_t *zs, const size_t *ze, size_t nz, size_t p)
{
	for (size_t i = 0; i < nz; i++)
		if (p >= zs[i] && p < ze[i])
			return true;
	return false;
}

static bool covered(const struct cand *cs, size_t n, size_t p)
{
	for (size_t i = 0; i < n; i++)
		if (p >= cs[i].start && p < cs[i].end)
			return true;
	return false;
}

static bool is_fact_zone(enum rule_kind k)
{
	switch (k) {
	case RK_DATE:
	case RK_WEEKDAY:
	case RK_RELDAY:
	case RK_PRICE:
	case RK_PRICE_EXTRA:
	case RK_TIME:
	case RK_MEET_TIME:
	case RK_GROUP_SIZE:
	case RK_DURATION:
	case RK_DIVE_DURATION:
	case RK_LEVEL:
	case RK_REQUIREMENT:
		return true;
	default:
		return false;
	}
}

/* Parenthesised text, other facts and what descriptor rules point at are no
 * dive sites. */
static size_t zones(const struct ex *x, size_t line, const struct line *l, size_t *zs, size_t *ze,
		    size_t max)
{
	size_t nz = 0, open = 0;
	int depth = 0;

	for (size_t p = l->start; p < l->end && nz < max; p++) {
		if (x->text[p] == '(' && depth++ == 0)
			open = p;
		else if (x->text[p] == ')' && depth > 0 && --depth == 0) {
			zs[nz] = open;
			ze[nz++] = p + 1;
		}
	}
	/* a descriptor of the line above may point here ("αντί\nγια Ξ") */
	for (size_t i = line > 0 ? x->lines[line - 1].h0 : l->h0; i < l->h1 && nz < max; i++) {
		const struct hit *h = &x->hits[i];
		struct word ws[PHRASE_MAX_WORDS];
		size_t s, nw;
		if (h->dropped || (h->line != line && h->kind != RK_SITE_DESCRIPTOR))
			continue;
		if (is_fact_zone(h->kind)) {
			zs[nz] = h->m.start; /* "Κυρ. 26/10", "Ώρα συνάντησης" name no place */
			ze[nz++] = h->m.end;
			continue;
		}
		if (h->kind != RK_SITE_DESCRIPTOR || !ex_group(x, h, RG_SITE, &s, NULL) ||
		    (h->line != line && (s < l->start || s > l->end)))
			continue;
		nw = read_phrase(x, s, l->end, false, ws);
		zs[nz] = h->m.start > l->start ? h->m.start : l->start;
		ze[nz++] = nw ? ws[nw - 1].e : h->m.end;
	}
	return nz;
}

static bool has_upper(const struct ex *x, const struct line *l)
{
	utf8proc_int32_t c;

	for (size_t p = l->start; p < l->end; p += cp(x->text, l->end, p, &c))
		if (utf8proc_isupper((cp(x->text, l->end, p, &c), c)))
			return true;
	return false;
}

/* "πρωι", "αυριο", "δυο": a word of a fact starts no name (in lower case,
 * where capitals do not tell names apart). */
static bool fact_word(const struct ex *x, const struct word *w)
{
	static const char *const vocabs[] = {"daypart_am", "daypart_pm", "noon",
					     "relday",     "number",     "dive_kind"};

	for (size_t i = 0; i < ELEMENTSOF(vocabs); i++)
		if (ex_is_word_in(x, vocabs[i], x->text + w->s, w->e - w->s))
			return true;
	return false;
}

/* A paragraph written all in lower case ("το σαββατο ... στις καλλιθεες"):
 * its names have no capitals to be found by. */
static bool caseless_paragraph(const struct ex *x, size_t line)
{
	size_t a = line, b = line;

	while (a > 0 && !x->lines[a - 1].blank && line - a < 20)
		a--;
	while (b + 1 < x->n_lines && !x->lines[b + 1].blank && b - line < 20)
		b++;
	for (size_t i = a; i <= b; i++)
		if (has_upper(x, &x->lines[i]))
			return false;
	return true;
}

/* Every capitalised phrase or terminology word that resolves; in a caseless
 * paragraph, every phrase that resolves. */
static int scan_known(const struct ex *x, const struct line *l, bool caseless, const size_t *zs,
		      const size_t *ze, size_t nz, struct cand **cs, size_t *n)
{
	const char *t = x->text;
	size_t p = l->start;

	while (p < l->end) {
		struct word w, ws[PHRASE_MAX_WORDS];
		utf8proc_int32_t c;
		size_t nw;
		int id;

		if (!read_word(x, p, l->end, &w)) {
			p += cp(t, l->end, p, &c);
			continue;
		}
		if ((w.cap || w.term || (caseless && !w.digit && !fact_word(x, &w))) &&
		    !in_zone(zs, ze, nz, p) && !covered(*cs, *n, p) && may_start_name(x, &w) &&
		    !after_place_noun(x, p) &&
		    (w.cap || !ex_is_word_in(x, "site_skip", t + w.s, w.e - w.s)) &&
		    (nw = read_phrase(x, p, l->end, caseless, ws)) > 0 && ws[0].s == p &&
		    resolve_words(x, ws, &nw, &id) == 0) {
			size_t q, n0 = *n + 1;
			int k = add_cand(cs, n, ws[0].s, ws[nw - 1].e, x, id, true, NULL);
			p = ws[nw - 1].e;
			/* "Mongonisi + Foo Bank": the names listed after it */
			if (k >= 0 && p < l->end && (q = list_next(x, p, l->end)) > 0 &&
			    !in_zone(zs, ze, nz, q))
				k = cand_at(x, q, l->end, true, NULL, cs, n);
			if (k < 0)
				return k;
			for (size_t i = n0; i < *n; i++)
				p = (*cs)[i].end > p ? (*cs)[i].end : p;
			continue;
		}
		p = w.e;
	}
	return 0;
}

static int by_start(const void *pa, const void *pb)
{
	const struct cand *a = pa, *b = pb;
	return a->start < b->start ? -1 : a->start > b->start;
}

/* Only prepositions between two names: the second locates the first
 * ("ναυάγιο Πατρίς στον Πάτροκλο", "wreck off Comino"). */
static bool only_preps(const struct ex *x, size_t s, size_t e)
{
	struct word w;
	bool any = false;

	for (s = skip_spaces(x->text, s, e); s < e; s = skip_spaces(x->text, w.e, e)) {
		if (!read_word(x, s, e, &w) ||
		    !ex_is_word_in(x, "site_prep", x->text + w.s, w.e - w.s))
			return false;
		any = true;
	}
	return any;
}

static void drop_located(struct cand *cs, size_t *n, const struct ex *x)
{
	for (size_t i = 1; i < *n; i++) {
		if (!only_preps(x, cs[i - 1].end, cs[i].start))
			continue;
		free(cs[i].name);
		memmove(&cs[i], &cs[i + 1], (*n - i - 1) * sizeof(*cs));
		(*n)--;
		i--;
	}
}

/* Where a name starting at p must end: its table cell, else the line. */
static size_t cell_end(const struct line *l, size_t p)
{
	for (size_t c = 0; l->table && c < l->n_cells; c++)
		if (p >= l->cs[c] && p < l->ce[c])
			return l->ce[c];
	return l->end;
}

int ex_cands_copy(const struct cand *from, size_t n, struct cand **ret)
{
	struct cand *c = n ? calloc(n, sizeof(*c)) : NULL;

	if (n && !c)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		c[i] = from[i];
		c[i].name = from[i].name ? strdup(from[i].name) : NULL;
		if (from[i].name && !c[i].name) {
			ex_cands_free(c, i);
			return -ENOMEM;
		}
	}
	*ret = c;
	return 0;
}

void ex_lines_free(struct ex *x)
{
	for (size_t i = 0; x->sites && i < x->n_lines; i++)
		ex_cands_free(x->sites[i].cs, x->sites[i].n);
	free(x->sites);
	free(x->lines);
	x->sites = NULL;
	x->lines = NULL;
}

static int line_sites(struct ex *x, size_t line, struct cand **ret, size_t *ret_n);

/* Kept per line: a line is looked at by several steps of the segmentation. */
int ex_line_sites(struct ex *x, size_t line, const struct cand **ret, size_t *ret_n)
{
	struct line_sites *ls;
	int k;

	if (!x->sites && !(x->sites = calloc(x->n_lines, sizeof(*x->sites))))
		return -ENOMEM;
	ls = &x->sites[line];
	if (!ls->done) {
		k = line_sites(x, line, &ls->cs, &ls->n);
		if (k < 0)
			return k;
		ls->done = true;
	}
	*ret = ls->cs;
	*ret_n = ls->n;
	return 0;
}

static int line_sites(struct ex *x, size_t line, struct cand **ret, size_t *ret_n)
{
	const struct line *l = &x->lines[line];
	struct cand *cs = NULL;
	size_t n = 0, zs[64], ze[64], nz;
	int k = 0;

	nz = zones(x, line, l, zs, ze, ELEMENTSOF(zs));
	for (size_t i = l->h0; i < l->h1 && k >= 0; i++) {
		const struct hit *h = &x->hits[i];
		size_t s;
		if (h->line != line || h->dropped ||
		    (h->kind != RK_SITE && h->kind != RK_SITE_WEAK) ||
		    !ex_group(x, h, RG_SITE, &s, NULL) || in_zone(zs, ze, nz, s) ||
		    covered(cs, n, s))
			continue;
		/* a rule may read the name on the next line ("στο\nΑμπελάκι") */
		k = cand_at(x, s,
			    s > l->end && line + 1 < x->n_lines ? x->lines[line + 1].end
								: cell_end(l, s),
			    h->kind == RK_SITE, rule_id(h->rule), &cs, &n);
	}
	if (k >= 0)
		k = scan_known(x, l, caseless_paragraph(x, line), zs, ze, nz, &cs, &n);
	if (k < 0) {
		ex_cands_free(cs, n);
		return k;
	}
	if (n)
		qsort(cs, n, sizeof(*cs), by_start);
	drop_located(cs, &n, x);
	for (size_t i = 0; i < n; i++)
		cs[i].line = line;
	*ret = cs;
	*ret_n = n;
	return 0;
}

int ex_subject_sites(struct ex *x, struct cand **ret, size_t *ret_n)
{
	/* the subject is matched as a text of its own */
	struct ex sx = *x;
	struct line l;
	struct cand *cs = NULL;
	size_t n = 0;
	int k;

	*ret = NULL;
	*ret_n = 0;
	if (!x->in->subject)
		return 0;
	sx.text = x->in->subject;
	sx.len = strlen(sx.text);
	l = (struct line){.start = 0, .end = sx.len};
	k = scan_known(&sx, &l, false, NULL, NULL, 0, &cs, &n);
	if (k < 0) {
		ex_cands_free(cs, n);
		return k;
	}
	for (size_t i = 0; i < n; i++)
		cs[i].line = (size_t)-1;
	*ret = cs;
	*ret_n = n;
	return 0;
}

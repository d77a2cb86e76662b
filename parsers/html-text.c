/* html-text.c: HTML to text (format in html-text.h).
 *
 * The tree is walked without recursion (parent/next pointers), so nesting
 * depth costs no stack; the walker keeps a few flags instead of a stack. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#include "buf.h"
#include "cleanup.h"
#include "html-text.h"

#define HTML_DEFAULT_MAX_INPUT  (16u << 20)
#define HTML_DEFAULT_MAX_OUTPUT (4u << 20)
#define HTML_DEFAULT_MAX_DEPTH  1024u
#define HTML_ROW_SCAN_MAX       1000 /* nodes looked at to decide whether a row is flat */

DEFINE_CLEANUP_FUNC(xmlDoc, xmlFreeDoc);

struct walker {
	struct buf out;
	size_t line_start;  /* offset of the current line in out */
	int pending_nl;     /* line breaks owed before the next character (0-2) */
	bool pending_space; /* a space owed before the next character */
	bool sep_pending;   /* " | " owed before the next character of this cell */
	bool cell_has_text; /* the current flat-row cell produced text */
	unsigned row_cells; /* non-empty cells emitted in the flat row */
	xmlNode *flat_row;  /* the flat table row being walked, or NULL */
	unsigned pre;       /* inside <pre> */
	bool truncated;
	bool full; /* out reached its maximum */
};

enum block_kind { INLINE, BLOCK, PARAGRAPH, SKIP };

static bool name_in(const char *name, const char *const *list)
{
	for (; *list; list++)
		if (strcasecmp(name, *list) == 0)
			return true;
	return false;
}

static enum block_kind element_kind(const xmlNode *n)
{
	static const char *const skip[] = {"script", "style",  "head",   "title",    "template",
					   "svg",    "object", "iframe", "noframes", NULL};
	static const char *const para[] = {"p",     "h1", "h2", "h3",         "h4",  "h5", "h6",
					   "table", "ul", "ol", "blockquote", "pre", "hr", NULL};
	static const char *const block[] = {
	    "div",      "li",      "tr",     "dt",     "dd",         "dl",      "section",
	    "article",  "header",  "footer", "nav",    "aside",      "main",    "form",
	    "fieldset", "address", "center", "figure", "figcaption", "caption", "thead",
	    "tbody",    "tfoot",   "td",     "th",     "body",       "html",    NULL};
	const char *name = (const char *)n->name;

	if (name_in(name, skip))
		return SKIP;
	if (name_in(name, para))
		return PARAGRAPH;
	if (name_in(name, block))
		return BLOCK;
	return INLINE;
}

static bool is_hidden(const xmlNode *n)
{
	xmlChar *prop = xmlGetProp(n, (const xmlChar *)"style");
	const char *style = (const char *)prop;
	char squeezed[256];
	size_t j = 0;

	if (!prop)
		return false;
	for (const char *p = style; *p && j + 1 < sizeof(squeezed); p++)
		if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
			squeezed[j++] = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
	squeezed[j] = '\0';
	xmlFree(prop);
	return strstr(squeezed, "display:none") != NULL;
}

static int put(struct walker *w, const char *s, size_t n)
{
	int r;

	if (w->full)
		return 0;
	r = buf_append(&w->out, s, n);
	if (r == -E2BIG) {
		w->full = w->truncated = true;
		return 0;
	}
	return r;
}

/* Emits the owed line breaks, separator or space before a visible character. */
static int flush_pending(struct walker *w)
{
	int r = 0;

	if (w->out.len > 0 && w->pending_nl > 0) {
		/* drop trailing spaces of the finished line */
		while (w->out.len > w->line_start && w->out.data[w->out.len - 1] == ' ')
			w->out.data[--w->out.len] = '\0';
		for (int i = 0; i < w->pending_nl && r >= 0; i++)
			r = put(w, "\n", 1);
		w->line_start = w->out.len;
		w->pending_space = false;
	}
	w->pending_nl = 0;
	if (r >= 0 && w->sep_pending && w->row_cells > 0 && w->out.len > w->line_start)
		r = put(w, " | ", 3);
	else if (r >= 0 && w->pending_space && w->out.len > w->line_start)
		r = put(w, " ", 1);
	w->sep_pending = w->pending_space = false;
	w->cell_has_text = true;
	return r;
}

static void request_break(struct walker *w, int n)
{
	if (w->flat_row) {
		w->pending_space = true;
		return;
	}
	if (w->pending_nl < n)
		w->pending_nl = n;
}

/* Length of an invisible character at p (0 if none). */
static size_t invisible_len(const unsigned char *p, size_t n)
{
	if (n >= 2 && ((p[0] == 0xC2 && p[1] == 0xAD) || (p[0] == 0xCD && p[1] == 0x8F)))
		return 2;
	if (n >= 3 && p[0] == 0xE2 && p[1] == 0x80 && p[2] >= 0x8B && p[2] <= 0x8D)
		return 3;
	if (n >= 3 && p[0] == 0xE2 && p[1] == 0x81 && p[2] == 0xA0)
		return 3;
	if (n >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF)
		return 3;
	return 0;
}

static int emit_text(struct walker *w, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	int r;

	for (size_t i = 0; i < n && !w->full;) {
		size_t k = invisible_len(p + i, n - i);

		if (k) {
			i += k;
		} else if (w->pre && p[i] == '\n') {
			w->pending_nl = w->pending_nl < 2 ? w->pending_nl + 1 : 2;
			i++;
		} else if (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r' ||
			   p[i] == '\f') {
			w->pending_space = true;
			i++;
		} else if (p[i] == 0xC2 && i + 1 < n && p[i + 1] == 0xA0) {
			w->pending_space = true;
			i += 2;
		} else {
			size_t j = i + 1;

			while (j < n && p[j] > ' ' && p[j] != 0xC2 && p[j] != 0xCD &&
			       p[j] != 0xE2 && p[j] != 0xEF)
				j++;
			r = flush_pending(w);
			if (r >= 0)
				r = put(w, s + i, j - i);
			if (r < 0)
				return r;
			i = j;
		}
	}
	return 0;
}

static bool row_is_flat(xmlNode *tr)
{
	unsigned cells = 0, seen = 0;

	for (xmlNode *c = tr->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE &&
		    (xmlStrcasecmp(c->name, (const xmlChar *)"td") == 0 ||
		     xmlStrcasecmp(c->name, (const xmlChar *)"th") == 0))
			cells++;
	if (cells < 2)
		return false;
	/* bounded depth-first search for a nested table */
	for (xmlNode *n = tr->children; n && n != tr;) {
		if (++seen > HTML_ROW_SCAN_MAX)
			return false;
		if (n->type == XML_ELEMENT_NODE &&
		    xmlStrcasecmp(n->name, (const xmlChar *)"table") == 0)
			return false;
		if (n->children) {
			n = n->children;
			continue;
		}
		while (n != tr && !n->next)
			n = n->parent;
		if (n != tr)
			n = n->next;
	}
	return true;
}

static unsigned list_number(const xmlNode *li)
{
	unsigned k = 1, steps = 0;

	for (const xmlNode *s = li->prev; s && steps < 100000; s = s->prev, steps++)
		if (s->type == XML_ELEMENT_NODE &&
		    xmlStrcasecmp(s->name, (const xmlChar *)"li") == 0)
			k++;
	return k;
}

static int enter_element(struct walker *w, xmlNode *n, enum block_kind kind)
{
	const char *name = (const char *)n->name;

	if (strcasecmp(name, "br") == 0) {
		if (w->flat_row)
			w->pending_space = true;
		else if (w->out.len > 0)
			w->pending_nl = w->pending_nl < 2 ? w->pending_nl + 1 : 2;
		return 0;
	}
	if (strcasecmp(name, "tr") == 0 && !w->flat_row && row_is_flat(n)) {
		request_break(w, 1);
		w->flat_row = n;
		w->row_cells = 0;
		return 0;
	}
	if (w->flat_row && (strcasecmp(name, "td") == 0 || strcasecmp(name, "th") == 0) &&
	    n->parent == w->flat_row) {
		w->sep_pending = true;
		w->cell_has_text = false;
		return 0;
	}
	if (strcasecmp(name, "pre") == 0)
		w->pre++;
	if (kind != INLINE)
		request_break(w, kind == PARAGRAPH ? 2 : 1);
	if (strcasecmp(name, "li") == 0) {
		char num[24];
		bool ol = n->parent && xmlStrcasecmp(n->parent->name, (const xmlChar *)"ol") == 0;

		if (ol)
			snprintf(num, sizeof(num), "%u. ", list_number(n));
		return emit_text(w, ol ? num : "- ");
	}
	return 0;
}

static void leave_element(struct walker *w, xmlNode *n, enum block_kind kind)
{
	const char *name = (const char *)n->name;

	if (n == w->flat_row) {
		w->flat_row = NULL;
		w->sep_pending = false;
		request_break(w, 1);
		return;
	}
	if (w->flat_row && n->parent == w->flat_row &&
	    (strcasecmp(name, "td") == 0 || strcasecmp(name, "th") == 0)) {
		if (w->cell_has_text)
			w->row_cells++;
		w->sep_pending = w->cell_has_text = false;
		w->pending_space = true;
		return;
	}
	if (strcasecmp(name, "pre") == 0 && w->pre > 0)
		w->pre--;
	if (kind != INLINE)
		request_break(w, kind == PARAGRAPH ? 2 : 1);
}

static int walk(struct walker *w, xmlNode *root, unsigned max_depth)
{
	unsigned depth = 0;
	xmlNode *n = root;
	int r = 0;

	while (n && r >= 0 && !w->full) {
		bool descend = false;
		enum block_kind kind = INLINE;

		if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
			r = emit_text(w, (const char *)n->content);
		} else if (n->type == XML_ELEMENT_NODE) {
			kind = element_kind(n);
			if (kind != SKIP && !is_hidden(n)) {
				r = enter_element(w, n, kind);
				descend = n->children != NULL;
				if (descend && depth >= max_depth) {
					w->truncated = true;
					descend = false;
				}
				if (!descend)
					leave_element(w, n, kind);
			}
		}
		if (descend) {
			depth++;
			n = n->children;
			continue;
		}
		/* climb until a node has a next sibling, leaving elements on the way */
		while (n && !n->next) {
			n = n->parent;
			if (!n || depth == 0)
				return r;
			depth--;
			leave_element(w, n, element_kind(n));
		}
		if (n)
			n = n->next;
	}
	return r;
}

static int fail(char **reterr_reason, const char *reason, int r)
{
	if (reterr_reason)
		*reterr_reason = strdup(reason);
	return r;
}

int html_text_convert(const char *html, size_t len, const struct html_limits *lim, char **ret_text,
		      size_t *ret_len, int *ret_truncated, char **reterr_reason)
{
	size_t max_in = lim && lim->max_input ? lim->max_input : HTML_DEFAULT_MAX_INPUT;
	size_t max_out = lim && lim->max_output ? lim->max_output : HTML_DEFAULT_MAX_OUTPUT;
	unsigned max_depth = lim && lim->max_depth ? lim->max_depth : HTML_DEFAULT_MAX_DEPTH;
	_cleanup_(xmlFreeDocp) xmlDoc *doc = NULL;
	struct walker w = {.out = BUF_INIT(max_out)};
	int r = 0;

	if (len > max_in || len > INT32_MAX)
		return fail(reterr_reason, "HTML part too large", -E2BIG);
	if (len > 0) {
		htmlParserCtxtPtr ctxt = htmlNewParserCtxt();

		if (!ctxt)
			return fail(reterr_reason, "out of memory converting HTML", -ENOMEM);
		doc = htmlCtxtReadMemory(ctxt, html, (int)len, NULL, "UTF-8",
					 HTML_PARSE_NONET | HTML_PARSE_NOERROR |
					     HTML_PARSE_NOWARNING | HTML_PARSE_RECOVER);
		/* libxml2 stops for good at a limit (elements nested deeper
		 * than 256): what follows is lost, which is a truncation */
		if (ctxt->disableSAX)
			w.truncated = true;
		htmlFreeParserCtxt(ctxt);
		if (doc && xmlDocGetRootElement(doc))
			r = walk(&w, xmlDocGetRootElement(doc), max_depth);
	}
	if (r >= 0 && w.out.len > 0) {
		while (w.out.len > w.line_start && w.out.data[w.out.len - 1] == ' ')
			w.out.data[--w.out.len] = '\0';
		if (buf_putc(&w.out, '\n') < 0)
			w.truncated = true;
	}
	if (r < 0) {
		buf_done(&w.out);
		return fail(reterr_reason, "out of memory converting HTML", r);
	}
	*ret_text = buf_take(&w.out, ret_len);
	if (!*ret_text)
		return fail(reterr_reason, "out of memory converting HTML", -ENOMEM);
	if (ret_truncated)
		*ret_truncated = w.truncated;
	return 0;
}

int html_to_text(const char *html, size_t len, const struct html_limits *lim, char **ret_text,
		 size_t *ret_len, char **reterr_reason)
{
	return html_text_convert(html, len, lim, ret_text, ret_len, NULL, reterr_reason);
}

long html_text_find_metadata(const char *s, size_t len)
{
	static const char tag[] = "DIVEMAP_METADATA:";
	static const char key[] = "diving_center_id=";
	const char *end = s + len, *p;
	long v = 0;

	p = memmem(s, len, tag, sizeof(tag) - 1);
	if (!p)
		return 0;
	p += sizeof(tag) - 1;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if ((size_t)(end - p) < sizeof(key) - 1 || memcmp(p, key, sizeof(key) - 1) != 0)
		return 0;
	p += sizeof(key) - 1;
	if (p >= end || *p < '0' || *p > '9')
		return 0;
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		if (v > (LONG_MAX - 9) / 10)
			return 0;
		v = v * 10 + (*p - '0');
	}
	return v;
}

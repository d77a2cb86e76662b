/* html-text.h: HTML (already UTF-8) to plain text, with libxml2's HTML parser.
 *
 * Output format, one '\n' per line break, no '\r':
 * - p, h1-h6, table, ul, ol, blockquote, pre are separated from their
 *   neighbours by one empty line; div, li, tr, dt, dd and other blocks by a
 *   line break; <br> is a line break (two in a row give an empty line);
 * - a table row whose cells hold no nested table is one line, its non-empty
 *   cells joined by " | " (breaks inside such a cell become spaces); rows of
 *   layout tables (with nested tables) are plain blocks;
 * - li starts its line with "- " (ul) or "N. " (ol);
 * - white space (and U+00A0) collapses to one space within a line, lines are
 *   trimmed, at most one empty line in a row, the text ends with '\n' unless
 *   empty; invisible characters (U+00AD, U+200B-U+200D, U+2060, U+FEFF, U+034F)
 *   are dropped;
 * - script, style, head, template, svg and elements with display:none are
 *   dropped; entities are decoded; images and links give only their text.
 * Returns 0, -E2BIG (input over max_input) or -ENOMEM, with a reason. */
#ifndef DIVEMAP_HTML_TEXT_H
#define DIVEMAP_HTML_TEXT_H

#include <stddef.h>

struct html_limits {
	size_t max_input;   /* bytes of HTML; 0 = 16 MiB */
	size_t max_output;  /* bytes of text; 0 = 4 MiB, longer output is cut (*ret_truncated) */
	unsigned max_depth; /* element nesting walked; 0 = 1024, deeper content is skipped */
};

int html_to_text(const char *html, size_t len, const struct html_limits *lim, char **ret_text,
		 size_t *ret_len, char **reterr_reason);

/* Like html_to_text() but also tells whether the output was cut or content
 * skipped for a limit (ret_truncated may be NULL). */
int html_text_convert(const char *html, size_t len, const struct html_limits *lim, char **ret_text,
		      size_t *ret_len, int *ret_truncated, char **reterr_reason);

/* Finds "DIVEMAP_METADATA: diving_center_id=N" (as in an HTML comment) in s;
 * returns N > 0, or 0 when absent or malformed. */
long html_text_find_metadata(const char *s, size_t len);

#endif

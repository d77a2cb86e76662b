/* rules-trie.c: a vocabulary's alternation written as a trie of its words.
 *
 * "Σάββατο|Σαββάτου|Σαβ|Sunday|Sun" makes PCRE2 try each word in turn at
 * every place a match may start; "(?:Σ(?:άββατο|αββάτου|αβ)|Sun(?:day)?)"
 * decides at the first letter. The answers are the same when siblings in
 * the trie can never match the same character: characters are grouped as
 * the compiled pattern treats them (caseless, and Greek vowels with or
 * without accents: rules-compile.c turns each into a class; symbols and
 * punctuation have no case), and a vocabulary with a word holding any other
 * letter keeps the plain alternation. A
 * word that goes on into longer ones becomes an optional tail, "Sun(?:day)?",
 * which tries the longer first as the length-sorted alternation did. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <utf8proc.h>

#include "cleanup.h"
#include "fold.h"
#include "rules-private.h"

struct trie_node {
	unsigned key;    /* the character as the pattern treats it */
	const char *chr; /* the character as first written */
	size_t chr_len;
	size_t child, sibling; /* 0: none (node 0 is the root) */
	bool end;              /* a word ends here */
};

struct trie {
	struct trie_node *nodes;
	size_t n;
};

/* The class of the character at p (its length in *len): ASCII in lower
 * case, a Greek letter folded, a symbol or punctuation mark (no case) as it
 * is; 0 for anything else. */
static unsigned char_key(const unsigned char *p, size_t *len)
{
	utf8proc_int32_t cp;
	utf8proc_ssize_t n;

	if (p[0] < 0x80) {
		*len = 1;
		return p[0] >= 'A' && p[0] <= 'Z' ? p[0] + 32u : p[0];
	}
	n = utf8proc_iterate(p, -1, &cp);
	if (n <= 0)
		return 0;
	*len = (size_t)n;
	if (cp >= 0x386 && cp < 0x3CF)
		return fold_greek((unsigned)cp);
	switch (utf8proc_category(cp)) {
	case UTF8PROC_CATEGORY_SC:
	case UTF8PROC_CATEGORY_SM:
	case UTF8PROC_CATEGORY_SO:
	case UTF8PROC_CATEGORY_PD:
	case UTF8PROC_CATEGORY_PO:
		return (unsigned)cp;
	default:
		return 0;
	}
}

static int trie_add(struct trie *t, const char *w)
{
	size_t node = 0;

	if (!*w)
		return -EINVAL;
	while (*w) {
		size_t len, c;
		unsigned key = char_key((const unsigned char *)w, &len);
		if (!key)
			return -EINVAL;
		for (c = t->nodes[node].child; c && t->nodes[c].key != key; c = t->nodes[c].sibling)
			;
		if (!c) {
			struct trie_node *n = reallocarray(t->nodes, t->n + 1, sizeof(*n));
			if (!n)
				return -ENOMEM;
			t->nodes = n;
			c = t->n++;
			n[c] = (struct trie_node){.key = key, .chr = w, .chr_len = len};
			/* appended, so that siblings keep the words' order */
			size_t *link = &n[node].child;
			while (*link)
				link = &n[*link].sibling;
			*link = c;
		}
		node = c;
		w += len;
	}
	t->nodes[node].end = true;
	return 0;
}

static int emit_char(const struct trie_node *n, struct buf *out)
{
	if (n->chr_len == 1)
		return rules_escape_char(n->chr[0], out);
	return buf_append(out, n->chr, n->chr_len); /* a multi-byte character */
}

static int emit(const struct trie *t, size_t node, struct buf *out)
{
	const struct trie_node *n = &t->nodes[node];
	bool group = n->child && (n->end || t->nodes[n->child].sibling);
	int k = 0;

	if (!n->child)
		return 0;
	if (group)
		k = buf_puts(out, "(?:");
	for (size_t c = n->child; c && k >= 0; c = t->nodes[c].sibling) {
		if (c != n->child)
			k = buf_putc(out, '|');
		if (k >= 0)
			k = emit_char(&t->nodes[c], out);
		if (k >= 0)
			k = emit(t, c, out);
	}
	if (group && k >= 0)
		k = buf_puts(out, n->end ? ")?" : ")");
	return k;
}

int rules_trie_expand(char *const *words, size_t n, struct buf *out)
{
	struct trie t = {.nodes = calloc(1, sizeof(struct trie_node)), .n = 1};
	int k = t.nodes ? 0 : -ENOMEM;

	for (size_t i = 0; i < n && k >= 0; i++)
		k = trie_add(&t, words[i]);
	if (k >= 0)
		k = emit(&t, 0, out);
	free(t.nodes);
	return k;
}

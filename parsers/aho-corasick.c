/* aho-corasick.c: many strings found in one pass; see aho-corasick.h. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "aho-corasick.h"
#include "cleanup.h"

struct ac_node {
	uint32_t child, sibling; /* first child, next sibling; 0 = none */
	uint32_t fail, dict;     /* longest proper suffix; nearest suffix that ends a string */
	uint32_t ids;            /* head of this node's id list in outs, 0 = none */
	unsigned char byte;
};

struct ac_out {
	unsigned id;
	uint32_t next;
};

struct ac {
	struct ac_node *nodes; /* nodes[0] is the root */
	size_t n_nodes;
	uint32_t root[256];  /* the root's transitions, dense */
	struct ac_out *outs; /* outs[0] unused: 0 ends a list */
	size_t n_outs;
};

int ac_new(struct ac **ret)
{
	struct ac *a = calloc(1, sizeof(*a));

	if (!a)
		return -ENOMEM;
	a->nodes = calloc(1, sizeof(*a->nodes));
	a->outs = calloc(1, sizeof(*a->outs));
	if (!a->nodes || !a->outs) {
		ac_free(a);
		return -ENOMEM;
	}
	a->n_nodes = a->n_outs = 1;
	*ret = a;
	return 0;
}

struct ac *ac_free(struct ac *a)
{
	if (a) {
		free(a->nodes);
		free(a->outs);
		free(a);
	}
	return NULL;
}

static int ac_child(struct ac *a, uint32_t node, unsigned char b, uint32_t *ret)
{
	uint32_t c;
	struct ac_node *n;

	if (node == 0 && a->root[b]) {
		*ret = a->root[b];
		return 0;
	}
	for (c = a->nodes[node].child; c; c = a->nodes[c].sibling)
		if (a->nodes[c].byte == b) {
			*ret = c;
			return 0;
		}
	if (a->n_nodes >= UINT32_MAX)
		return -E2BIG;
	n = reallocarray(a->nodes, a->n_nodes + 1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	a->nodes = n;
	c = (uint32_t)a->n_nodes++;
	n[c] = (struct ac_node){.byte = b, .sibling = n[node].child};
	n[node].child = c;
	if (node == 0)
		a->root[b] = c;
	*ret = c;
	return 0;
}

int ac_add(struct ac *a, const char *s, unsigned id)
{
	uint32_t node = 0;
	struct ac_out *o;
	int k;

	for (; *s; s++)
		if ((k = ac_child(a, node, (unsigned char)*s, &node)) < 0)
			return k;
	for (uint32_t i = a->nodes[node].ids; i; i = a->outs[i].next)
		if (a->outs[i].id == id)
			return 0;
	o = reallocarray(a->outs, a->n_outs + 1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	a->outs = o;
	o[a->n_outs] = (struct ac_out){.id = id, .next = a->nodes[node].ids};
	a->nodes[node].ids = (uint32_t)a->n_outs++;
	return 0;
}

static uint32_t ac_goto(const struct ac *a, uint32_t node, unsigned char b)
{
	if (node == 0)
		return a->root[b];
	for (uint32_t c = a->nodes[node].child; c; c = a->nodes[c].sibling)
		if (a->nodes[c].byte == b)
			return c;
	return 0;
}

/* Failure and dictionary links, breadth first. */
int ac_link(struct ac *a)
{
	_cleanup_free_ uint32_t *queue = calloc(a->n_nodes, sizeof(uint32_t));
	size_t head = 0, tail = 0;

	if (!queue)
		return -ENOMEM;
	for (uint32_t c = a->nodes[0].child; c; c = a->nodes[c].sibling)
		queue[tail++] = c; /* their fail and dict: the root */
	while (head < tail) {
		uint32_t u = queue[head++];
		for (uint32_t c = a->nodes[u].child; c; c = a->nodes[c].sibling) {
			unsigned char b = a->nodes[c].byte;
			uint32_t f = a->nodes[u].fail, g;
			while (f && !ac_goto(a, f, b))
				f = a->nodes[f].fail;
			g = ac_goto(a, f, b);
			a->nodes[c].fail = g;
			a->nodes[c].dict = a->nodes[g].ids ? g : a->nodes[g].dict;
			queue[tail++] = c;
		}
	}
	return 0;
}

uint32_t ac_step(const struct ac *a, uint32_t node, unsigned char b)
{
	while (node && !ac_goto(a, node, b))
		node = a->nodes[node].fail;
	return ac_goto(a, node, b);
}

void ac_each_id(const struct ac *a, uint32_t state, void (*fn)(unsigned id, void *userdata),
		void *userdata)
{
	for (uint32_t u = a->nodes[state].ids ? state : a->nodes[state].dict; u;
	     u = a->nodes[u].dict)
		for (uint32_t o = a->nodes[u].ids; o; o = a->outs[o].next)
			fn(a->outs[o].id, userdata);
}

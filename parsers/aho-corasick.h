/* aho-corasick.h: many strings found in one pass over a text (Aho and
 * Corasick, 1975).
 *
 * Strings are added with an id (several strings may share one), then
 * ac_link() prepares the automaton. A scan starts in state 0 and moves with
 * ac_step() over each byte; ac_each_id() tells the ids of the strings that
 * end at the state reached. Bytes are compared as they are: fold the
 * strings and the text alike first. */
#ifndef DIVEMAP_AHO_CORASICK_H
#define DIVEMAP_AHO_CORASICK_H

#include <stdint.h>

struct ac;

int ac_new(struct ac **ret);
struct ac *ac_free(struct ac *a);
/* Adds the non-empty NUL-terminated string s with id; before ac_link(). */
int ac_add(struct ac *a, const char *s, unsigned id);
int ac_link(struct ac *a);
uint32_t ac_step(const struct ac *a, uint32_t state, unsigned char b);
void ac_each_id(const struct ac *a, uint32_t state, void (*fn)(unsigned id, void *userdata),
		void *userdata);

#endif

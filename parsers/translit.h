/* translit.h: Greek and Latin spellings of a name onto one Latin key.
 *
 * Input is folded text (normalize_fold: lower case, no marks). Greek letters
 * follow ELOT 743 (θ th, χ ch, ψ ps, ξ x, β v, αυ av, ευ ev), then one pass
 * maps the usual Latin variants, whatever their source, onto one spelling:
 *   ou, u -> u      y, i, ei, oi -> i      ai, e -> e      ph, f -> f
 *   ch, kh, h -> h  c, ck, k -> k          x, ks -> ks     b, v, mp, mb -> v
 *   nt, nd -> d     ng, gk, gg -> g        doubled letters once (ss -> s)
 * so Κυρά Λένη = Kyra Leni = Kira Leni and Makronissos = Μακρόνησος.
 * Digits are kept as they are; other non-ASCII letters pass through. */
#ifndef DIVEMAP_TRANSLIT_H
#define DIVEMAP_TRANSLIT_H

/* Returns 0 or -ENOMEM; *ret is the new key (caller frees). */
int translit_key(const char *folded, char **ret);

#endif

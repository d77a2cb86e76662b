/* names.h: the names the matcher resolves against, read from the database.
 *
 * Reads dive_sites (id, name), dive_site_aliases (dive_site_id, alias) and
 * diving_centers (id, name, email) into the JSON text worker_set_names()
 * takes (worker.h):
 *   {"sites": [[id, "name"], ...], "aliases": [[site_id, "alias"], ...],
 *    "centers": [[id, "name", "email" | null], ...]}
 * Read-only. Returns 0, or -errno (db_error() says more). */
#ifndef DIVEMAP_NAMES_H
#define DIVEMAP_NAMES_H

#include <stddef.h>

struct db;

/* *ret_json is malloc'd, NUL-terminated, *ret_len bytes long. */
int names_load(struct db *db, char **ret_json, size_t *ret_len);

/* A cheap fingerprint of the same three tables (counts and a checksum of
 * every id and name, computed by the server): equal fingerprints mean
 * names_load() would give the same names. *ret (malloc'd) is a short string. */
int names_fingerprint(struct db *db, char **ret);

#endif

/* writer-unresolved.c: the ingest_unresolved rows of one newsletter, inside
 * the writer's transaction; see writer-private.h.
 *
 * One row per (kind, name): newsletter_ids lists the newsletters that left
 * it unresolved (the last UNRESOLVED_IDS), seen_count counts distinct
 * newsletters, so writing a newsletter again changes nothing; a newsletter
 * that now resolves the name (an alias was added) is taken off its list, and
 * a name no newsletter lists any more goes. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "db.h"
#include "normalize.h"
#include "strutil.h"
#include "writer-private.h"

#define UNRESOLVED_IDS 50u /* newsletter ids kept per unresolved name */

static bool ids_contain(const json_t *ids, long long id)
{
	const json_t *v;
	size_t i;

	json_array_foreach(ids, i, v)
	{
		if (json_integer_value(v) == id)
			return true;
	}
	return false;
}

/* Takes newsletter nl off row id's list (read again under its lock). */
static int ids_remove(struct db *db, const char *row_id, long long nl)
{
	_cleanup_(db_rows_freep) struct db_rows *rows = NULL;
	_cleanup_free_ char *s = NULL;
	struct db_value id = DB_INT(cell_int(row_id));
	json_t *ids, *v;
	size_t i;
	int r;

	r = db_query(db, "SELECT newsletter_ids FROM ingest_unresolved WHERE id = ? FOR UPDATE",
		     &id, 1, &rows);
	if (r < 0 || rows->n_rows == 0 || !db_cell(rows, 0, 0))
		return r;
	ids = json_loads(db_cell(rows, 0, 0), 0, NULL);
	if (!json_is_array(ids)) {
		json_decref(ids);
		return 0;
	}
	for (i = json_array_size(ids); i-- > 0;)
		if (v = json_array_get(ids, i), json_integer_value(v) == nl)
			json_array_remove(ids, i);
	if (json_array_size(ids) == 0) {
		json_decref(ids);
		return db_exec(db, "DELETE FROM ingest_unresolved WHERE id = ?", &id, 1, NULL,
			       NULL);
	}
	s = json_dumps(ids, JSON_DUMP_FLAGS);
	json_decref(ids);
	if (!s)
		return -ENOMEM;
	return db_exec(db,
		       "UPDATE ingest_unresolved SET newsletter_ids = ?, "
		       "seen_count = GREATEST(seen_count - 1, 1) WHERE id = ?",
		       (struct db_value[]){DB_TEXT(s), id}, 2, NULL, NULL);
}

/* The rows listing this newsletter for a name it no longer leaves
 * unresolved; the names are compared by the server, under the column's
 * collation, as the unique key does. The search does not lock (a scan
 * would lock every row it passes); each row found is locked and read again. */
static int unresolved_forget(struct db *db, const json_t *list, long long newsletter_id)
{
	const json_t *u;
	size_t n = json_array_size(list), np = 1, i;
	_cleanup_free_ struct db_value *p = calloc(2 * n + 1, sizeof(*p));
	_cleanup_(db_rows_freep) struct db_rows *rows = NULL;
	_cleanup_buf_ struct buf sql = BUF_INIT(BUF_MAX_SQL);
	char nl[24];
	int r;

	if (!p)
		return -ENOMEM;
	snprintf(nl, sizeof(nl), "%lld", newsletter_id);
	p[0] = str_value(nl);
	r = buf_puts(&sql, "SELECT id FROM ingest_unresolved "
			   "WHERE JSON_CONTAINS(newsletter_ids, ?)");
	json_array_foreach(list, i, u)
	{
		const char *k = jstr(u, "kind"), *name = jstr(u, "name");

		if (!k || !name || r < 0)
			continue;
		r = buf_puts(&sql, np == 1 ? " AND (kind, name) NOT IN ((?, ?)" : ", (?, ?)");
		p[np++] = DB_TEXT(k);
		p[np++] = text_value(name, NAME_MAX_CHARS * 4, NAME_MAX_CHARS);
	}
	if (r >= 0 && np > 1)
		r = buf_puts(&sql, ")");
	if (r < 0)
		return r;
	r = db_query(db, buf_str(&sql), p, np, &rows);
	if (r < 0)
		return r;
	for (i = 0; i < rows->n_rows; i++) {
		r = ids_remove(db, db_cell(rows, i, 0), newsletter_id);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The row's newsletter ids with ours added; *ret_new: it was not there. */
static int ids_with(struct db *db, const char *kind, struct db_value name, long long nl, char **ret,
		    bool *ret_new)
{
	_cleanup_(db_rows_freep) struct db_rows *rows = NULL;
	json_t *ids;
	int r;

	r = db_query(db,
		     "SELECT newsletter_ids FROM ingest_unresolved WHERE kind = ? AND name = ? "
		     "FOR UPDATE",
		     (struct db_value[]){DB_TEXT(kind), name}, 2, &rows);
	if (r < 0)
		return r;
	ids = rows->n_rows && db_cell(rows, 0, 0) ? json_loads(db_cell(rows, 0, 0), 0, NULL) : NULL;
	if (!json_is_array(ids)) {
		json_decref(ids);
		ids = json_array();
	}
	*ret_new = !ids_contain(ids, nl);
	if (*ret_new)
		json_array_append_new(ids, json_integer(nl));
	while (json_array_size(ids) > UNRESOLVED_IDS)
		json_array_remove(ids, 0);
	*ret = json_dumps(ids, JSON_DUMP_FLAGS);
	json_decref(ids);
	return *ret ? 0 : -ENOMEM;
}

static int unresolved_upsert(struct db *db, const json_t *u, long long newsletter_id)
{
	const char *kind = jstr(u, "kind"), *name = jstr(u, "name");
	_cleanup_free_ char *key = NULL, *ids = NULL, *cands = NULL;
	struct db_value vname;
	bool is_new;
	int r;

	if (!kind || !name || !name[0] || !(streq(kind, "site") || streq(kind, "center")))
		return 0;
	vname = text_value(name, NAME_MAX_CHARS * 4, NAME_MAX_CHARS);
	if (normalize_key(name, NULL, &key) < 0 || !key[0]) {
		free(key);
		key = strdup(name);
		if (!key)
			return -ENOMEM;
	}
	r = ids_with(db, kind, vname, newsletter_id, &ids, &is_new);
	if (r < 0)
		return r;
	if (json_is_array(json_object_get(u, "candidates")))
		cands = json_dumps(json_object_get(u, "candidates"), JSON_DUMP_FLAGS);
	return db_exec(db,
		       "INSERT INTO ingest_unresolved (kind, name, name_key, seen_count, "
		       "newsletter_ids, candidates) VALUES (?, ?, ?, 1, ?, ?) "
		       "ON DUPLICATE KEY UPDATE seen_count = seen_count + ?, "
		       "last_seen = IF(? > 0, CURRENT_TIMESTAMP, last_seen), "
		       "newsletter_ids = VALUES(newsletter_ids), candidates = VALUES(candidates)",
		       (struct db_value[]){DB_TEXT(kind), vname,
					   text_value(key, NAME_MAX_CHARS * 4, NAME_MAX_CHARS),
					   DB_TEXT(ids), DB_TEXT(cands), DB_INT(is_new),
					   DB_INT(is_new)},
		       7, NULL, NULL);
}

int writer_unresolved_write(struct db *db, const json_t *unresolved, long long newsletter_id,
			    bool fresh)
{
	const json_t *u;
	size_t i;
	int r;

	r = fresh ? 0 : unresolved_forget(db, unresolved, newsletter_id);
	if (r < 0)
		return r;
	json_array_foreach(unresolved, i, u)
	{
		r = unresolved_upsert(db, u, newsletter_id);
		if (r < 0)
			return r;
	}
	return 0;
}

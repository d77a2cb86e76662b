/* names.c: dive sites, aliases and centers as the worker's names JSON. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "db.h"
#include "names.h"
#include "strutil.h"

/* One cell as JSON: a number for the integer columns, else a string or null. */
static json_t *cell_json(const struct db_rows *rows, size_t row, size_t col, bool is_id)
{
	const char *v = db_cell(rows, row, col);
	unsigned long long n;

	if (!v)
		return json_null();
	if (is_id)
		return parse_uint(v, INT64_MAX, &n) < 0 ? NULL : json_integer((json_int_t)n);
	return json_stringn(v, rows->lengths[row * rows->n_cols + col]);
}

/* Appends the rows of sql to root[key] as arrays; column 0 is an id. */
static int load_table(struct db *db, json_t *root, const char *key, const char *sql)
{
	_cleanup_(db_rows_freep) struct db_rows *rows = NULL;
	json_t *list = json_array();
	int r;

	if (!list || json_object_set_new(root, key, list) < 0)
		return -ENOMEM;
	r = db_query(db, sql, NULL, 0, &rows);
	if (r < 0)
		return r;
	for (size_t i = 0; i < rows->n_rows; i++) {
		json_t *row = json_array();
		if (!row || json_array_append_new(list, row) < 0)
			return -ENOMEM;
		for (size_t c = 0; c < rows->n_cols; c++) {
			json_t *v = cell_json(rows, i, c, c == 0);
			/* a name that is not valid UTF-8 cannot be matched anyway */
			if (!v)
				v = json_null();
			if (json_array_append_new(row, v) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

int names_load(struct db *db, char **ret_json, size_t *ret_len)
{
	_cleanup_(json_decrefp) json_t *root = json_object();
	char *text;
	int r;

	if (!root)
		return -ENOMEM;
	if ((r = load_table(db, root, "sites", "SELECT id, name FROM dive_sites ORDER BY id")) <
		0 ||
	    (r = load_table(db, root, "aliases",
			    "SELECT dive_site_id, alias FROM dive_site_aliases ORDER BY id")) < 0 ||
	    (r = load_table(db, root, "centers",
			    "SELECT id, name, email FROM diving_centers ORDER BY id")) < 0)
		return r;
	text = json_dumps(root, JSON_COMPACT);
	if (!text)
		return -ENOMEM;
	*ret_len = strlen(text);
	*ret_json = text;
	return 0;
}

int names_fingerprint(struct db *db, char **ret)
{
	_cleanup_(db_rows_freep) struct db_rows *rows = NULL;
	int r;

	r = db_query(db,
		     "SELECT CONCAT_WS(':',"
		     " (SELECT CONCAT(COUNT(*), '/', COALESCE(BIT_XOR(CRC32(CONCAT_WS("
		     "'|', id, name))), 0)) FROM dive_sites),"
		     " (SELECT CONCAT(COUNT(*), '/', COALESCE(BIT_XOR(CRC32(CONCAT_WS("
		     "'|', id, dive_site_id, alias))), 0)) FROM dive_site_aliases),"
		     " (SELECT CONCAT(COUNT(*), '/', COALESCE(BIT_XOR(CRC32(CONCAT_WS("
		     "'|', id, name, email))), 0)) FROM diving_centers))",
		     NULL, 0, &rows);
	if (r < 0)
		return r;
	if (rows->n_rows != 1 || !db_cell(rows, 0, 0))
		return -EIO;
	*ret = strdup(db_cell(rows, 0, 0));
	return *ret ? 0 : -ENOMEM;
}

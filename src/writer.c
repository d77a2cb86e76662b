/* writer.c: one message's trips, dives and parse log in one transaction;
 * see writer.h.
 *
 * Reparse safety. Writing a newsletter again (reparse, or new rules)
 * replaces the trips an earlier parse of it inserted, except those that
 * people have touched since:
 *   - current_bookings > 0 (someone booked a place),
 *   - trip_status other than 'scheduled' (confirmed, cancelled, completed),
 *   - updated_at later than created_at on the trip or on one of its dives
 *     (an admin edited it: Divemap sets updated_at on every edit, and this
 *     program never updates a trip it inserted, it leaves both timestamps
 *     to the server).
 * Such a trip is kept as it is, with its dives. An extracted trip that
 * stands for a kept one is not inserted again: the same date and time (no
 * time matches no time), or else the same date when the newsletter has one
 * trip that day and one kept trip of that date is left (an admin corrected
 * the time). Every kept trip is named in the parse log's warnings
 * ("kept trip 17 (2025-08-23 09:00): has 2 bookings") and counted in
 * writer_stats.trips_kept; the details JSON lists them under
 * "writer": {"kept": [...]}. Nothing else is ever deleted. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "buf.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "store.h"
#include "strutil.h"
#include "writer-private.h"
#include "writer.h"

#define TEXT_MAX        65535u /* bytes of a TEXT column */
#define REASON_MAX      1024u  /* characters of the reason columns */
#define BACKOFF_BASE_MS 100u
#define DURATION_MAX    4294967295ull

struct old_trip {
	long long id;
	char date[16], time[16]; /* time "" when NULL */
	char why[96];            /* "" when it may be replaced */
	bool matched;
};

struct wctx {
	const struct writer_input *in;
	const json_t *result; /* NULL for writer_mark_failed */
	const char *reason;   /* writer_mark_failed */
	const char *rules_version;
	long long newsletter_id;
	struct writer_stats *st;
	/* per attempt */
	struct old_trip *old;
	size_t n_old;
	json_t *warnings, *trip_ids;
	unsigned log_trips, log_dives; /* extracted and in the database: inserted or kept */
	char err[256];                 /* a failure that is not the database's */
};

/* An integer (or a whole real) as DB_INT, anything else as NULL. */
static struct db_value jint(const json_t *o, const char *key, long long min, long long max)
{
	const json_t *v = json_object_get(o, key);
	long long i;

	if (json_is_integer(v))
		i = json_integer_value(v);
	else if (json_is_real(v) && json_real_value(v) == (double)(long long)json_real_value(v))
		i = (long long)json_real_value(v);
	else
		return DB_NULL;
	return i < min || i > max ? DB_NULL : DB_INT(i);
}

_printf_(2, 3) static void warn(struct wctx *c, const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) >= 0)
		json_array_append_new(c->warnings, json_string(s));
	va_end(ap);
	free(s);
}

static bool valid_date(const char *s)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	unsigned y, m, d;
	int n = 0;

	if (!s || strlen(s) != 10 || sscanf(s, "%4u-%2u-%2u%n", &y, &m, &d, &n) != 3 || n != 10)
		return false;
	if (y < 1900 || m < 1 || m > 12 || d < 1 || d > (unsigned)mdays[m - 1])
		return false;
	return !(m == 2 && d == 29 && (y % 4 != 0 || (y % 100 == 0 && y % 400 != 0)));
}

/* "9:00", "09:00" or "09:00:00" -> "09:00:00" in out; false when not a time. */
static bool norm_time(const char *s, char out[16])
{
	unsigned h, m, sec = 0;
	int n = 0, n2 = 0;

	if (!s || sscanf(s, "%2u:%2u%n", &h, &m, &n) != 2)
		return false;
	if (s[n] == ':') {
		if (sscanf(s + n, ":%2u%n", &sec, &n2) != 1)
			return false;
		n += n2;
	}
	if (s[n] || h > 23 || m > 59 || sec > 59)
		return false;
	snprintf(out, 16, "%02u:%02u:%02u", h, m, sec);
	return true;
}

/* Locks the message row; learns its newsletter when the caller did not say. */
static int lock_message(struct db *db, struct wctx *c)
{
	_cleanup_(db_rows_freep) struct db_rows *rows = NULL;
	const char *nl;
	int r;

	r = db_query(db, "SELECT newsletter_id FROM ingest_messages WHERE id = ? FOR UPDATE",
		     (struct db_value[]){DB_INT((long long)c->in->message_id)}, 1, &rows);
	if (r < 0)
		return r;
	if (rows->n_rows == 0) {
		snprintf(c->err, sizeof(c->err), "no ingest_messages row %llu", c->in->message_id);
		return -ENOENT;
	}
	nl = db_cell(rows, 0, 0);
	if (c->in->newsletter_id > 0)
		c->newsletter_id = c->in->newsletter_id;
	else if (nl)
		(void)sscanf(nl, "%lld", &c->newsletter_id);
	return 0;
}

#define OLD_TRIPS_SQL                                                                              \
	"SELECT t.id, t.trip_date, t.trip_time, t.current_bookings, t.trip_status, "               \
	"COALESCE(t.updated_at > t.created_at, 0), "                                               \
	"(SELECT COUNT(*) FROM parsed_dives d WHERE d.trip_id = t.id "                             \
	"AND d.updated_at > d.created_at) "                                                        \
	"FROM parsed_dive_trips t WHERE t.source_newsletter_id = ? ORDER BY t.id FOR UPDATE"

static void old_trip_classify(struct old_trip *o, const char *bookings, const char *status,
			      const char *edited, const char *dives_edited)
{
	long long b = bookings ? cell_int(bookings) : 0;

	if (b > 0)
		snprintf(o->why, sizeof(o->why), "has %lld booking%s", b, b == 1 ? "" : "s");
	else if (status && !streq(status, "scheduled"))
		snprintf(o->why, sizeof(o->why), "status is '%s'", status);
	else if (edited && !streq(edited, "0"))
		snprintf(o->why, sizeof(o->why), "edited in Divemap");
	else if (dives_edited && !streq(dives_edited, "0"))
		snprintf(o->why, sizeof(o->why), "a dive of it was edited in Divemap");
	else
		o->why[0] = '\0';
}

static int load_old_trips(struct db *db, struct wctx *c)
{
	_cleanup_(db_rows_freep) struct db_rows *rows = NULL;
	int r;

	r = db_query(db, OLD_TRIPS_SQL, (struct db_value[]){DB_INT(c->newsletter_id)}, 1, &rows);
	if (r < 0)
		return r;
	c->old = calloc(rows->n_rows + 1, sizeof(*c->old));
	if (!c->old)
		return -ENOMEM;
	c->n_old = rows->n_rows;
	for (size_t i = 0; i < rows->n_rows; i++) {
		struct old_trip *o = &c->old[i];

		o->id = cell_int(db_cell(rows, i, 0));
		snprintf(o->date, sizeof(o->date), "%s", db_cell(rows, i, 1));
		snprintf(o->time, sizeof(o->time), "%s",
			 db_cell(rows, i, 2) ? db_cell(rows, i, 2) : "");
		old_trip_classify(o, db_cell(rows, i, 3), db_cell(rows, i, 4), db_cell(rows, i, 5),
				  db_cell(rows, i, 6));
	}
	return 0;
}

/* Deletes the earlier trips that may be replaced, dives first (a schema
 * without ON DELETE CASCADE must work too). */
static int delete_replaceable(struct db *db, struct wctx *c)
{
	int r;

	for (size_t i = 0; i < c->n_old; i++) {
		struct db_value id = DB_INT(c->old[i].id);

		if (c->old[i].why[0])
			continue;
		r = db_exec(db, "DELETE FROM parsed_dives WHERE trip_id = ?", &id, 1, NULL, NULL);
		if (r < 0)
			return r;
		r = db_exec(db, "DELETE FROM parsed_dive_trips WHERE id = ?", &id, 1, NULL, NULL);
		if (r < 0)
			return r;
		c->st->trips_deleted++;
	}
	return 0;
}

/* The extracted trips dated date. */
static size_t trips_on(const struct wctx *c, const char *date)
{
	const json_t *t;
	size_t i, n = 0;

	json_array_foreach(json_object_get(c->result, "trips"), i, t)
	{
		const char *d = jstr(t, "trip_date");
		n += d && streq(d, date);
	}
	return n;
}

/* The kept trip an extracted one stands for: the same date and time, or
 * else the only kept trip of that date when the newsletter has only one
 * trip that day (an admin corrected the time, or new rules read it
 * differently). */
static struct old_trip *kept_trip_for(struct wctx *c, const char *date, const char *time)
{
	struct old_trip *same_day = NULL;
	size_t n_same_day = 0;

	for (size_t i = 0; i < c->n_old; i++) {
		struct old_trip *o = &c->old[i];

		if (!o->why[0] || o->matched || !streq(o->date, date))
			continue;
		if (streq(o->time, time))
			return o;
		same_day = o;
		n_same_day++;
	}
	return n_same_day == 1 && trips_on(c, date) == 1 ? same_day : NULL;
}

/* The caller's cache of this transaction's look-ups: the entry for code. */
static struct writer_cache_entry *cache_find(struct writer_cache *wc, const char *code)
{
	for (size_t i = 0; wc && i < wc->n; i++)
		if (streq(wc->e[i].code, code))
			return &wc->e[i];
	return NULL;
}

static void cache_add(struct writer_cache *wc, const char *code, long long id)
{
	if (!wc || wc->n == ELEMENTSOF(wc->e) || strlen(code) >= sizeof(wc->e[0].code))
		return;
	snprintf(wc->e[wc->n].code, sizeof(wc->e[0].code), "%s", code);
	wc->e[wc->n++].id = id;
}

static int difficulty_id(struct db *db, struct wctx *c, const char *code, struct db_value *ret)
{
	_cleanup_(db_rows_freep) struct db_rows *rows = NULL;
	struct writer_cache_entry *e;
	long long id = 0;
	int r;

	*ret = DB_NULL;
	if (!code)
		return 0;
	e = cache_find(c->in->cache, code);
	if (e) {
		if (e->id > 0)
			*ret = DB_INT(e->id);
		return 0;
	}
	r = db_query(db, "SELECT id FROM difficulty_levels WHERE code = ?",
		     (struct db_value[]){DB_TEXT(code)}, 1, &rows);
	if (r < 0)
		return r;
	if (rows->n_rows == 1) {
		id = cell_int(db_cell(rows, 0, 0));
		*ret = DB_INT(id);
	}
	cache_add(c->in->cache, code, id);
	return 0;
}

#define DIVE_COLS        6
#define DIVES_PER_INSERT 16 /* rows of one statement: a few shapes, each prepared once */

/* The values of one parsed_dives row into v[0..DIVE_COLS); tbuf holds its time. */
static void dive_values(long long trip_id, const json_t *dive, size_t index, char tbuf[16],
			struct db_value *v)
{
	const char *desc = jstr(dive, "dive_description"), *site = jstr(dive, "dive_site_name");
	struct db_value number = jint(dive, "dive_number", 1, 1000), site_id;
	bool has_time = norm_time(jstr(dive, "dive_time"), tbuf);

	site_id = jint(dive, "dive_site_id", 1, 2147483647);
	if (number.type == DB_T_NULL)
		number = DB_INT((long long)index + 1);
	/* an unresolved site keeps its name where Divemap's admins see it */
	if (!desc && site_id.type == DB_T_NULL)
		desc = site;
	v[0] = DB_INT(trip_id);
	v[1] = site_id;
	v[2] = number;
	v[3] = has_time ? (struct db_value){.type = DB_T_TEXT, .p = tbuf, .len = strlen(tbuf)}
			: DB_NULL;
	v[4] = jint(dive, "dive_duration", 0, 100000);
	v[5] = text_value(desc, TEXT_MAX, TEXT_MAX);
}

/* Dives [first, first + n) of a trip in one multi-row INSERT. */
static int insert_dive_rows(struct db *db, long long trip_id, const json_t *dives, size_t first,
			    size_t n)
{
	struct db_value v[DIVES_PER_INSERT * DIVE_COLS];
	char times[DIVES_PER_INSERT][16];
	char sql[160 + DIVES_PER_INSERT * 24];
	int len;

	len = snprintf(sql, sizeof(sql), "%s",
		       "INSERT INTO parsed_dives (trip_id, dive_site_id, dive_number, dive_time, "
		       "dive_duration, dive_description) VALUES ");
	for (size_t i = 0; i < n; i++) {
		dive_values(trip_id, json_array_get(dives, first + i), first + i, times[i],
			    v + i * DIVE_COLS);
		len += snprintf(sql + len, sizeof(sql) - (size_t)len, "%s(?, ?, ?, ?, ?, ?)",
				i ? ", " : "");
	}
	return db_exec(db, sql, v, n * DIVE_COLS, NULL, NULL);
}

static int insert_dives(struct db *db, long long trip_id, const json_t *dives)
{
	size_t total = json_array_size(dives);
	int r;

	for (size_t i = 0; i < total; i += DIVES_PER_INSERT) {
		size_t n = total - i < DIVES_PER_INSERT ? total - i : DIVES_PER_INSERT;

		r = insert_dive_rows(db, trip_id, dives, i, n);
		if (r < 0)
			return r;
	}
	return 0;
}

static struct db_value price_value(struct wctx *c, const json_t *trip, char buf[32])
{
	const json_t *v = json_object_get(trip, "trip_price");

	if (!json_is_number(v))
		return DB_NULL;
	if (json_number_value(v) < 0 || json_number_value(v) >= 1e8) {
		warn(c, "price %g out of range: left out", json_number_value(v));
		return DB_NULL;
	}
	snprintf(buf, 32, "%.2f", json_number_value(v));
	return DB_TEXT(buf);
}

static const char *currency_value(struct wctx *c, const json_t *trip)
{
	const char *s = jstr(trip, "trip_currency");

	if (!s)
		return "EUR";
	if (strlen(s) != 3 || strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != 3) {
		warn(c, "currency '%.16s' is not an ISO 4217 code: EUR written", s);
		return "EUR";
	}
	return s;
}

#define TRIP_COLS        11
#define TRIPS_PER_INSERT 16
#define TRIP_ROW_SQL     "(?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, 'scheduled', ?, 0)"
#define TRIP_INSERT_SQL                                                                            \
	"INSERT INTO parsed_dive_trips (diving_center_id, trip_date, trip_time, "                  \
	"trip_duration, trip_difficulty_id, trip_price, trip_currency, "                           \
	"group_size_limit, current_bookings, trip_description, special_requirements, "             \
	"trip_status, source_newsletter_id, view_count) VALUES "

/* One parsed_dive_trips row to insert: its values, and where its id goes. */
struct trip_row {
	const json_t *trip;
	size_t pos; /* in c->trip_ids */
	char time[16], pbuf[32];
	struct db_value v[TRIP_COLS];
};

/* The row's values, with the warnings they call for. */
static int trip_values(struct db *db, struct wctx *c, const json_t *trip, const char *date,
		       struct trip_row *row)
{
	struct db_value diff, center = jint(c->result, "diving_center_id", 1, 2147483647);
	const char *code = jstr(trip, "trip_difficulty");
	struct db_value price = price_value(c, trip, row->pbuf);
	const char *currency = currency_value(c, trip);
	int r;

	r = difficulty_id(db, c, code, &diff);
	if (r < 0)
		return r;
	if (code && diff.type == DB_T_NULL)
		warn(c, "difficulty '%.64s' is not in difficulty_levels: left out", code);
	row->trip = trip;
	row->v[0] = center;
	row->v[1] = DB_TEXT(date);
	row->v[2] = row->time[0] ? DB_TEXT(row->time) : DB_NULL;
	row->v[3] = jint(trip, "trip_duration", 0, 100000);
	row->v[4] = diff;
	row->v[5] = price;
	row->v[6] = DB_TEXT(currency);
	row->v[7] = jint(trip, "group_size_limit", 0, 100000);
	row->v[8] = text_value(jstr(trip, "trip_description"), TEXT_MAX, TEXT_MAX);
	row->v[9] = text_value(jstr(trip, "special_requirements"), TEXT_MAX, TEXT_MAX);
	row->v[10] = DB_INT(c->newsletter_id);
	return 0;
}

static int insert_trip_row(struct db *db, struct wctx *c, const json_t *trip, const char *date,
			   const char *time, unsigned long long *ret_id)
{
	struct trip_row row = {0};
	int r;

	snprintf(row.time, sizeof(row.time), "%s", time);
	r = trip_values(db, c, trip, date, &row);
	if (r < 0)
		return r;
	return db_exec(db, TRIP_INSERT_SQL TRIP_ROW_SQL, row.v, TRIP_COLS, NULL, ret_id);
}

static int insert_trip(struct db *db, struct wctx *c, const json_t *trip, size_t index)
{
	const char *date = jstr(trip, "trip_date");
	const json_t *dives = json_object_get(trip, "dives");
	unsigned long long id;
	struct old_trip *kept;
	char time[16] = "";
	int r;

	if (!valid_date(date)) {
		warn(c, "trip %zu: date '%.32s' is not a date: left out", index + 1,
		     date ? date : "(none)");
		return json_array_append_new(c->trip_ids, json_null());
	}
	if (!norm_time(jstr(trip, "trip_time"), time))
		time[0] = '\0';
	kept = kept_trip_for(c, date, time);
	if (kept) {
		kept->matched = true;
		c->log_trips++;
		c->log_dives += (unsigned)json_array_size(dives);
		return json_array_append_new(c->trip_ids, json_integer(kept->id));
	}
	r = insert_trip_row(db, c, trip, date, time, &id);
	if (r < 0)
		return r;
	c->st->trips++;
	c->log_trips++;
	r = insert_dives(db, (long long)id, dives);
	if (r < 0)
		return r;
	c->st->dives += (unsigned)json_array_size(dives);
	c->log_dives += (unsigned)json_array_size(dives);
	return json_array_append_new(c->trip_ids, json_integer((json_int_t)id));
}

/* May the ids of one multi-row INSERT be taken as consecutive from the
 * first? Yes when InnoDB hands out consecutive values to such an insert
 * (innodb_autoinc_lock_mode 0 or 1) one apart: asked once per transaction
 * of the caller's cache. Without a cache, no. */
static int consecutive_ids(struct db *db, struct wctx *c, bool *ret)
{
	_cleanup_(db_rows_freep) struct db_rows *rows = NULL;
	struct writer_cache *wc = c->in->cache;
	int r;

	*ret = false;
	if (!wc)
		return 0;
	if (wc->autoinc == 0) {
		r = db_query(db,
			     "SELECT @@innodb_autoinc_lock_mode IN (0, 1) AND "
			     "@@auto_increment_increment = 1",
			     NULL, 0, &rows);
		if (r < 0)
			return r;
		wc->autoinc = rows->n_rows == 1 && cell_int(db_cell(rows, 0, 0)) == 1 ? 1 : -1;
	}
	*ret = wc->autoinc > 0;
	return 0;
}

/* rows[0..n) in one INSERT; their ids into c->trip_ids. */
static int insert_trip_rows(struct db *db, struct wctx *c, struct trip_row *rows, size_t n)
{
	struct db_value v[TRIPS_PER_INSERT * TRIP_COLS];
	char sql[sizeof(TRIP_INSERT_SQL) + TRIPS_PER_INSERT * (sizeof(TRIP_ROW_SQL) + 2)];
	unsigned long long first = 0;
	size_t len = strlen(TRIP_INSERT_SQL);
	int r;

	memcpy(sql, TRIP_INSERT_SQL, len + 1);
	for (size_t i = 0; i < n; i++) {
		memcpy(v + i * TRIP_COLS, rows[i].v, sizeof(rows[i].v));
		len += (size_t)snprintf(sql + len, sizeof(sql) - len, "%s%s", i ? ", " : "",
					TRIP_ROW_SQL);
	}
	r = db_exec(db, sql, v, n * TRIP_COLS, NULL, &first);
	if (r < 0)
		return r;
	if (first == 0) {
		snprintf(c->err, sizeof(c->err), "no id for the inserted trips");
		return -EIO;
	}
	for (size_t i = 0; i < n; i++) {
		r = json_array_set_new(c->trip_ids, rows[i].pos,
				       json_integer((json_int_t)(first + i)));
		if (r < 0)
			return -ENOMEM;
	}
	return 0;
}

/* The dives of the inserted trips, up to DIVES_PER_INSERT rows a statement. */
static int insert_trip_rows_dives(struct db *db, struct wctx *c, const struct trip_row *rows,
				  size_t n)
{
	struct db_value v[DIVES_PER_INSERT * DIVE_COLS];
	char times[DIVES_PER_INSERT][16];
	char sql[160 + DIVES_PER_INSERT * 24];
	size_t k = 0, len = 0;
	int r;

	for (size_t i = 0; i <= n; i++) {
		const json_t *dives = i < n ? json_object_get(rows[i].trip, "dives") : NULL;
		size_t nd = json_array_size(dives);
		long long id =
		    i < n ? json_integer_value(json_array_get(c->trip_ids, rows[i].pos)) : 0;

		for (size_t d = 0; d <= nd; d++) {
			bool last = i == n && d == nd;

			if (k > 0 && (k == DIVES_PER_INSERT || last)) {
				r = db_exec(db, sql, v, k * DIVE_COLS, NULL, NULL);
				if (r < 0)
					return r;
				k = 0;
			}
			if (d == nd)
				break;
			if (k == 0)
				len = (size_t)snprintf(
				    sql, sizeof(sql), "%s",
				    "INSERT INTO parsed_dives (trip_id, dive_site_id, dive_number, "
				    "dive_time, dive_duration, dive_description) VALUES ");
			dive_values(id, json_array_get(dives, d), d, times[k], v + k * DIVE_COLS);
			len += (size_t)snprintf(sql + len, sizeof(sql) - len,
						"%s(?, ?, ?, ?, ?, ?)", k ? ", " : "");
			k++;
			c->st->dives++;
			c->log_dives++;
		}
	}
	return 0;
}

/* Every trip to insert in multi-row INSERTs (consecutive ids), then all
 * their dives likewise: the statements of insert_trip() for a whole
 * newsletter in two or three. */
static int insert_trips_batched(struct db *db, struct wctx *c)
{
	const json_t *trips = json_object_get(c->result, "trips"), *trip;
	_cleanup_free_ struct trip_row *rows = calloc(json_array_size(trips) + 1, sizeof(*rows));
	size_t i, n = 0;
	int r;

	if (!rows)
		return -ENOMEM;
	json_array_foreach(trips, i, trip)
	{
		const char *date = jstr(trip, "trip_date");
		const json_t *dives = json_object_get(trip, "dives");
		struct trip_row *row = &rows[n];
		struct old_trip *kept;

		if (!valid_date(date)) {
			warn(c, "trip %zu: date '%.32s' is not a date: left out", i + 1,
			     date ? date : "(none)");
			r = json_array_append_new(c->trip_ids, json_null());
		} else {
			if (!norm_time(jstr(trip, "trip_time"), row->time))
				row->time[0] = '\0';
			kept = kept_trip_for(c, date, row->time);
			if (kept) {
				kept->matched = true;
				c->log_trips++;
				c->log_dives += (unsigned)json_array_size(dives);
				r = json_array_append_new(c->trip_ids, json_integer(kept->id));
			} else {
				r = trip_values(db, c, trip, date, row);
				if (r < 0)
					return r;
				row->pos = json_array_size(c->trip_ids);
				n++;
				c->st->trips++;
				c->log_trips++;
				r = json_array_append_new(c->trip_ids, json_null());
			}
		}
		if (r < 0)
			return -ENOMEM;
	}
	for (i = 0; i < n; i += TRIPS_PER_INSERT) {
		r = insert_trip_rows(db, c, rows + i,
				     n - i < TRIPS_PER_INSERT ? n - i : TRIPS_PER_INSERT);
		if (r < 0)
			return r;
	}
	return insert_trip_rows_dives(db, c, rows, n);
}

static int insert_trips(struct db *db, struct wctx *c)
{
	const json_t *trips = json_object_get(c->result, "trips"), *trip;
	bool batched;
	size_t i;
	int r;

	r = consecutive_ids(db, c, &batched);
	if (r < 0)
		return r;
	if (batched)
		r = insert_trips_batched(db, c);
	else
		json_array_foreach(trips, i, trip)
		{
			r = insert_trip(db, c, trip, i);
			if (r < 0)
				return r;
		}
	if (r < 0)
		return r;
	for (i = 0; i < c->n_old; i++) {
		const struct old_trip *o = &c->old[i];

		if (!o->why[0])
			continue;
		c->st->trips_kept++;
		warn(c, "kept trip %lld (%s%s%.5s): %s%s", o->id, o->date, o->time[0] ? " " : "",
		     o->time, o->why,
		     o->matched ? "; not inserted again" : "; no longer in the newsletter");
	}
	return 0;
}

static const char *parse_status(struct wctx *c)
{
	if (c->log_trips == 0)
		return "no_trips";
	return c->st->unresolved > 0 ? "partial" : "ok";
}

static json_t *kept_json(const struct wctx *c)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < c->n_old; i++)
		if (c->old[i].why[0])
			json_array_append_new(a,
					      json_pack("{s:I,s:s}", "id", (json_int_t)c->old[i].id,
							"why", c->old[i].why));
	return a;
}

/* Appends JSON text without the white space between its tokens. */
static int json_compact_append(struct buf *out, const char *s, size_t n)
{
	bool in_string = false;
	size_t from = 0;
	int r;

	for (size_t i = 0; i < n; i++) {
		char ch = s[i];

		if (in_string) {
			if (ch == '\\')
				i++;
			else if (ch == '"')
				in_string = false;
			continue;
		}
		if (ch == '"')
			in_string = true;
		else if (ch == ' ' || ch == '\n' || ch == '\t' || ch == '\r') {
			r = buf_append(out, s + from, i - from);
			if (r < 0)
				return r;
			from = i + 1;
		}
	}
	return buf_append(out, s + from, n - from);
}

/* The details from the result's own text (the worker's json_dumps()):
 * compacted, with "writer" added before its closing brace. The same JSON
 * as json_dumps() of the result with "writer" set, without printing the
 * whole result again. NULL when the text is not such an object. */
static char *details_from_text(const struct wctx *c, const json_t *writer)
{
	const char *t = c->in->result_text;
	size_t n = c->in->result_len ? c->in->result_len : strlen(t);
	_cleanup_buf_ struct buf b = BUF_INIT(2 * n + 4096);
	_cleanup_free_ char *w = json_dumps(writer, JSON_DUMP_FLAGS);

	while (n > 0 && strchr(" \n\t\r", t[n - 1]))
		n--;
	if (!w || n < 2 || t[0] != '{' || t[n - 1] != '}' || json_compact_append(&b, t, n - 1) < 0)
		return NULL;
	if (b.len > 1 && buf_puts(&b, ",") < 0)
		return NULL;
	if (buf_puts(&b, "\"writer\":") < 0 || buf_puts(&b, w) < 0 || buf_puts(&b, "}") < 0)
		return NULL;
	return buf_take(&b, NULL);
}

/* The result with what the writer did, as the parse log's details. */
static char *details_text(const struct wctx *c)
{
	json_t *d, *w;
	char *s = NULL;

	if (!c->result)
		return NULL;
	w = json_pack("{s:O,s:o}", "trip_ids", c->trip_ids, "kept", kept_json(c));
	if (!w)
		return NULL;
	if (c->in->result && c->in->result_text && !json_object_get(c->result, "writer"))
		s = details_from_text(c, w);
	if (!s) {
		d = json_copy((json_t *)c->result);
		if (d && json_object_set(d, "writer", w) == 0)
			s = json_dumps(d, JSON_DUMP_FLAGS);
		json_decref(d);
	}
	json_decref(w);
	return s;
}

static int insert_parse_log(struct db *db, struct wctx *c, const char *status, const char *reason)
{
	_cleanup_free_ char *warnings = json_dumps(c->warnings, JSON_DUMP_FLAGS);
	_cleanup_free_ char *details = details_text(c);
	unsigned long long dur = c->in->duration_us;

	if (!warnings || (c->result && !details))
		return -ENOMEM;
	return db_exec(
	    db,
	    "INSERT INTO ingest_parse_log (message_id, newsletter_id, duration_us, "
	    "rules_version, status, reason, trips, dives, unresolved, warnings, details) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	    (struct db_value[]){DB_INT((long long)c->in->message_id),
				c->newsletter_id > 0 ? DB_INT(c->newsletter_id) : DB_NULL,
				DB_INT((long long)(dur > DURATION_MAX ? DURATION_MAX : dur)),
				text_value(c->rules_version ? c->rules_version : "", 64, 64),
				DB_TEXT(status), text_value(reason, REASON_MAX * 4, REASON_MAX),
				DB_INT(c->log_trips), DB_INT(c->log_dives),
				DB_INT(c->st->unresolved), DB_TEXT(warnings), DB_TEXT(details)},
	    11, NULL, NULL);
}

/* The status, and with a result its decoded headers (store.h) in the same
 * statement. */
static int update_message(struct db *db, struct wctx *c, const char *status, const char *reason,
			  bool headers)
{
	struct store_decoded d = {0};
	int r;

	if (headers && c->result) {
		r = store_decoded_from_result(c->result, &d);
		if (r < 0)
			return r;
	}
	r = db_exec(
	    db,
	    "UPDATE ingest_messages SET status = ?, status_reason = ?, claimed_by = NULL, "
	    "claimed_at = NULL, subject = COALESCE(?, subject), sender = COALESCE(?, sender), "
	    "sender_name = COALESCE(?, sender_name), sent_at = COALESCE(?, sent_at), "
	    "sent_tz_min = COALESCE(?, sent_tz_min) WHERE id = ?",
	    (struct db_value[]){DB_TEXT(streq(status, "ok") ? "parsed" : status),
				text_value(reason, REASON_MAX * 4, REASON_MAX), DB_TEXT(d.subject),
				DB_TEXT(d.sender), DB_TEXT(d.sender_name),
				d.have_date ? DB_TEXT(d.sent_at) : DB_NULL,
				d.have_date ? DB_INT(d.sent_tz_min) : DB_NULL,
				DB_INT((long long)c->in->message_id)},
	    8, NULL, NULL);
	store_decoded_done(&d);
	return r;
}

/* The statements of writing, in an open transaction. A fresh message was
 * stored in this same transaction: its row is locked already, its
 * newsletter is new (no earlier trips, on no list of unresolved names). */
static int write_rows(struct db *db, struct wctx *c)
{
	const char *status;
	int r;

	if (c->in->fresh)
		c->newsletter_id = c->in->newsletter_id;
	else {
		r = lock_message(db, c);
		if (r < 0)
			return r;
	}
	if (c->newsletter_id <= 0) {
		snprintf(c->err, sizeof(c->err), "message %llu has no newsletters row",
			 c->in->message_id);
		return -EINVAL;
	}
	r = c->in->fresh ? 0 : load_old_trips(db, c);
	if (r >= 0)
		r = delete_replaceable(db, c);
	if (r >= 0)
		r = insert_trips(db, c);
	if (r >= 0)
		r = writer_unresolved_write(db, json_object_get(c->result, "unresolved"),
					    c->newsletter_id, c->in->fresh);
	if (r < 0)
		return r;
	c->st->unresolved = (unsigned)json_array_size(json_object_get(c->result, "unresolved"));
	status = parse_status(c);
	r = insert_parse_log(db, c, status, NULL);
	if (r >= 0)
		r = update_message(db, c, status, NULL, true);
	if (r < 0)
		return r;
	c->st->status = status;
	return 0;
}

static int mark_failed_rows(struct db *db, struct wctx *c)
{
	int r;

	if (c->in->fresh)
		c->newsletter_id = c->in->newsletter_id;
	r = c->in->fresh ? 0 : lock_message(db, c);
	if (r >= 0)
		r = insert_parse_log(db, c, "failed", c->reason);
	if (r >= 0)
		r = update_message(db, c, "failed", c->reason, false);
	if (r < 0)
		return r;
	c->st->status = "failed";
	snprintf(c->st->reason, sizeof(c->st->reason), "%s", c->reason);
	return 0;
}

/* Fresh state for one attempt: the pipeline's own warnings first. */
static int attempt_reset(struct wctx *c)
{
	const json_t *w;
	size_t i;

	free(c->old);
	c->old = NULL;
	c->n_old = 0;
	json_decref(c->warnings);
	json_decref(c->trip_ids);
	c->warnings = json_array();
	c->trip_ids = json_array();
	if (!c->warnings || !c->trip_ids)
		return -ENOMEM;
	json_array_foreach(json_object_get(c->result, "warnings"), i, w)
	{
		if (json_is_string(w))
			json_array_append(c->warnings, (json_t *)w);
	}
	c->st->trips = c->st->dives = c->st->unresolved = 0;
	c->st->trips_deleted = c->st->trips_kept = 0;
	c->log_trips = c->log_dives = 0;
	c->err[0] = '\0';
	return 0;
}

static void backoff(unsigned attempt)
{
	unsigned jitter = 0, ms;

	(void)getrandom(&jitter, sizeof(jitter), 0);
	ms = BACKOFF_BASE_MS * (1u << (attempt - 1)) + jitter % BACKOFF_BASE_MS;
	nanosleep(&(struct timespec){ms / 1000, (long)(ms % 1000) * 1000000L}, NULL);
}

static void reconnect(struct db **db, const struct config *cfg)
{
	_cleanup_free_ char *why = NULL;
	struct db *n = NULL;
	int r;

	if (!cfg)
		return;
	r = db_open_once(cfg, &n, &why);
	if (r < 0) {
		log_warning_errno(r, "reconnecting to the database failed: %s", why ? why : "%m");
		return;
	}
	db_free(*db);
	*db = n;
}

/* rows() in a transaction of its own until it succeeds, fails for good, or
 * the attempts run out: a transient failure (lost connection, deadlock, lock
 * wait timeout) rolls back, waits and starts again, on a new connection when
 * it was lost; a write the server refuses (db_error_is_refusal) is -EROFS
 * at once. */
static int run_attempts(struct db **db, const struct config *cfg, struct wctx *c,
			int (*rows)(struct db *, struct wctx *))
{
	bool refused;
	int r;

	for (unsigned a = 1;; a++) {
		c->st->attempts = a;
		r = attempt_reset(c);
		if (r < 0)
			return r;
		r = db_begin(*db);
		if (r >= 0)
			r = rows(*db, c);
		if (r >= 0)
			r = db_commit(*db);
		if (r == 0)
			return 0;
		if (r < 0)
			c->st->status = "failed";
		/* the server's error, when it was the server's */
		refused =
		    (r == -EIO || r == -EROFS) && !c->err[0] && db_error_is_refusal(db_errno(*db));
		if (!c->err[0])
			snprintf(c->err, sizeof(c->err), "%s",
				 r == -ENOMEM ? "out of memory" : db_error(*db));
		(void)db_rollback(*db);
		if (refused)
			return -EROFS;
		if ((r != -ECONNRESET && r != -EDEADLK) || a >= WRITER_MAX_ATTEMPTS)
			return r;
		log_warning("message %llu: %s (attempt %u of %u); retrying", c->in->message_id,
			    c->err, a, WRITER_MAX_ATTEMPTS);
		backoff(a);
		if (r == -ECONNRESET)
			reconnect(db, cfg);
	}
}

static void wctx_done(struct wctx *c)
{
	free(c->old);
	json_decref(c->warnings);
	json_decref(c->trip_ids);
}

static void log_outcome(const struct writer_input *in, const json_t *result,
			const struct writer_stats *st, const char *err, int r)
{
	const char *msgid = result ? jstr(result, "message_id") : NULL;
	char nl[24], mid[24], trips[16], kept[48] = "";

	if (st->trips_kept)
		snprintf(kept, sizeof(kept), ", %u earlier trips kept", st->trips_kept);
	snprintf(nl, sizeof(nl), "%lld", st->newsletter_id);
	snprintf(mid, sizeof(mid), "%llu", in->message_id);
	snprintf(trips, sizeof(trips), "%u", st->trips);
	if (r < 0) {
		log_full(LOG_ERR, r,
			 LOG_FIELDS({"NEWSLETTER_ID", nl}, {"MESSAGE_ID", msgid ? msgid : mid},
				    {"INGEST_MESSAGE_ID", mid}, {"STATUS", "unrecorded"}),
			 "message %s: nothing recorded: %s", mid, err && err[0] ? err : "%m");
		return;
	}
	log_full(streq(st->status, "failed") ? LOG_WARNING : LOG_INFO, 0,
		 LOG_FIELDS({"NEWSLETTER_ID", nl}, {"MESSAGE_ID", msgid ? msgid : mid},
			    {"INGEST_MESSAGE_ID", mid}, {"STATUS", st->status}, {"TRIPS", trips}),
		 "newsletter %s (message %s): %s, %u trips, %u dives, %u unresolved%s%s%s", nl, mid,
		 st->status, st->trips, st->dives, st->unresolved, kept, st->reason[0] ? ": " : "",
		 st->reason);
}

void writer_log_outcome(const struct writer_input *in, const struct writer_stats *st)
{
	log_outcome(in, in->result, st, NULL, 0);
}

static int fail_after(struct db **db, const struct config *cfg, struct wctx *c, const char *why)
{
	_cleanup_free_ char *reason = strdup(why);

	if (!reason)
		return -ENOMEM;
	c->reason = reason;
	return run_attempts(db, cfg, c, mark_failed_rows);
}

static void json_unrefp(json_t **j)
{
	json_decref(*j);
}

int writer_write(struct db **db, const struct config *cfg, const struct writer_input *in,
		 struct writer_stats *ret)
{
	_cleanup_(json_unrefp) json_t *owned = NULL;
	struct wctx c = {.in = in, .st = ret};
	json_error_t jerr;
	int r;

	*ret = (struct writer_stats){.status = "failed"};
	c.result = in->result;
	if (!c.result) {
		const char *t = in->result_text ? in->result_text : "";

		owned = json_loadb(t, in->result_len ? in->result_len : strlen(t), 0, &jerr);
		c.result = owned;
	}
	c.rules_version = in->rules_version ? in->rules_version : jstr(c.result, "rules_version");
	if (!json_is_object(c.result)) {
		char why[256];

		snprintf(why, sizeof(why), "the extraction result is not a JSON object: %s",
			 owned || in->result ? "wrong type" : jerr.text);
		r = fail_after(db, cfg, &c, why);
	} else {
		r = run_attempts(db, cfg, &c, write_rows);
		/* a refusal may be of one table, or end in a moment: marking the
		 * message failed would lose a good one; the caller retries */
		if (r < 0 && r != -ENOENT && r != -EROFS) {
			char why[300];

			snprintf(why, sizeof(why), "writing failed: %s", c.err);
			r = fail_after(db, cfg, &c, why);
		}
	}
	ret->newsletter_id = c.newsletter_id;
	log_outcome(in, c.result, ret, c.err, r);
	wctx_done(&c);
	return r;
}

int writer_mark_failed(struct db **db, const struct config *cfg, unsigned long long message_id,
		       const char *rules_version, unsigned long long duration_us,
		       const char *reason)
{
	struct writer_input in = {
	    .message_id = message_id, .rules_version = rules_version, .duration_us = duration_us};
	struct writer_stats st;
	struct wctx c = {.in = &in, .st = &st, .rules_version = rules_version, .reason = reason};
	int r;

	st = (struct writer_stats){.status = "failed"};
	r = run_attempts(db, cfg, &c, mark_failed_rows);
	st.newsletter_id = c.newsletter_id;
	log_outcome(&in, NULL, &st, c.err, r);
	wctx_done(&c);
	return r;
}

int writer_write_in_transaction(struct db *db, const struct writer_input *in,
				struct writer_stats *ret)
{
	struct wctx c = {.in = in, .st = ret, .result = in->result};
	int r;

	*ret = (struct writer_stats){.status = "failed", .attempts = 1};
	if (!json_is_object(c.result)) {
		snprintf(ret->reason, sizeof(ret->reason), "%s",
			 "internal: the result is not a JSON object");
		return -EINVAL;
	}
	c.rules_version = in->rules_version ? in->rules_version : jstr(c.result, "rules_version");
	r = attempt_reset(&c);
	if (r >= 0)
		r = write_rows(db, &c);
	if (r < 0) {
		ret->status = "failed";
		snprintf(ret->reason, sizeof(ret->reason), "%s",
			 c.err[0]       ? c.err
			 : r == -ENOMEM ? "out of memory"
					: db_error(db));
	}
	ret->newsletter_id = c.newsletter_id;
	wctx_done(&c);
	return r;
}

int writer_mark_failed_in_transaction(struct db *db, const struct writer_input *in,
				      const char *reason, struct writer_stats *ret)
{
	struct wctx c = {.in = in, .st = ret, .rules_version = in->rules_version, .reason = reason};
	int r;

	*ret = (struct writer_stats){.status = "failed", .attempts = 1};
	r = attempt_reset(&c);
	if (r >= 0)
		r = mark_failed_rows(db, &c);
	if (r < 0)
		snprintf(ret->reason, sizeof(ret->reason), "%s",
			 c.err[0]       ? c.err
			 : r == -ENOMEM ? "out of memory"
					: db_error(db));
	ret->newsletter_id = c.newsletter_id;
	wctx_done(&c);
	return r;
}

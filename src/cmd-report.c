/* cmd-report.c: one newsletter explained (`divemap-ingest log show ID`) and
 * the parse log as an HTML page (`divemap-ingest report --html FILE`); the
 * commands and their options are in cmd-log.c. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <utf8proc.h>

#include "cleanup.h"
#include "cmd-log.h"
#include "db.h"
#include "log.h"
#include "report-html.h"
#include "strutil.h"

/* A non-negative integer from a result cell; 0 when NULL or not a number. */
static long long cell_int(const char *s)
{
	unsigned long long v = 0;

	if (!s || parse_uint(s, LLONG_MAX, &v) < 0)
		return 0;
	return (long long)v;
}

/* ---- SQL for people ---- */

/* s as an SQL string literal that means s under any sql_mode: quotes
 * doubled; text with a backslash, a control character or invalid UTF-8 as a
 * hex literal. */
static void put_sql_string(FILE *f, const char *s)
{
	bool plain = true;
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	size_t len = strlen(s), i = 0;

	while (plain && i < len) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t n = utf8proc_iterate(p + i, (utf8proc_ssize_t)(len - i), &cp);

		if (n <= 0 || cp < 0x20 || cp == '\\' || (cp >= 0x7F && cp < 0xA0))
			plain = false;
		i += n > 0 ? (size_t)n : 1;
	}
	if (!plain) {
		fputs("_utf8mb4 X'", f);
		for (i = 0; i < len; i++)
			fprintf(f, "%02X", p[i]);
		fputs("'", f);
		return;
	}
	fputc('\'', f);
	for (i = 0; i < len; i++) {
		if (s[i] == '\'')
			fputc('\'', f);
		fputc(s[i], f);
	}
	fputc('\'', f);
}

/* ---- log show ---- */

#define SHOW_VALUE_COLS   24
#define SHOW_SNIPPET_COLS 34

struct show {
	const struct out *o;
	long long newsletter_id;
	const json_t *result;
	const char *text;
	size_t text_len;
};

/* "value  "snippet"  rule" for one field. */
static void show_field(const struct show *s, const json_t *obj, const char *field, int indent)
{
	const json_t *v = json_object_get(obj, field);
	const char *text = NULL, *rule = NULL;
	long long a, b;
	char num[64];
	unsigned used;

	if (json_is_string(v))
		text = json_string_value(v);
	else if (json_is_integer(v))
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v)), text = num;
	else if (json_is_real(v))
		snprintf(num, sizeof(num), "%.2f", json_real_value(v)), text = num;
	fprintf(s->o->f, "%*s%-22s ", indent, "", field);
	used = cmdlog_text(s->o->f, text ? text : "-", strlen(text ? text : "-"), SHOW_VALUE_COLS);
	if (s->text && report_span(obj, field, &a, &b, &rule)) {
		for (; used < SHOW_VALUE_COLS + 1; used++)
			fputc(' ', s->o->f);
		if (a >= 0 && b > a && (size_t)b <= s->text_len) {
			fputs(s->o->color ? "\033[36m\"" : "\"", s->o->f);
			cmdlog_text(s->o->f, s->text + a, (size_t)(b - a), SHOW_SNIPPET_COLS);
			fputs(s->o->color ? "\"\033[0m" : "\"", s->o->f);
		}
		if (rule) {
			fputs("  ", s->o->f);
			cmdlog_text(s->o->f, rule, strlen(rule), 40);
		}
	}
	fputc('\n', s->o->f);
}

static const char *const show_trip_fields[] = {
    "trip_date",        "trip_time",
    "trip_duration",    "trip_price",
    "trip_currency",    "group_size_limit",
    "trip_difficulty",  "special_requirements",
    "trip_description", NULL,
};
static const char *const show_dive_fields[] = {
    "dive_site_name", "dive_site_id", "dive_time", "dive_duration", "dive_description", NULL,
};

static void show_dive(const struct show *s, const json_t *dive, size_t j)
{
	const json_t *match = json_object_get(dive, "match");

	fprintf(s->o->f, "  Dive %lld",
		json_is_integer(json_object_get(dive, "dive_number"))
		    ? (long long)json_integer_value(json_object_get(dive, "dive_number"))
		    : (long long)j + 1);
	if (json_is_object(match)) {
		const char *m = json_string_value(json_object_get(match, "method"));
		fputs(" (site matched by ", s->o->f);
		cmdlog_text(s->o->f, m ? m : "?", strlen(m ? m : "?"), 20);
		fprintf(s->o->f, ", score %.2f)",
			json_number_value(json_object_get(match, "score")));
	}
	fputc('\n', s->o->f);
	for (size_t k = 0; show_dive_fields[k]; k++)
		show_field(s, dive, show_dive_fields[k], 4);
}

static void show_trips(const struct show *s)
{
	const json_t *trips = json_object_get(s->result, "trips"), *trip, *dive;
	const json_t *ids = json_object_get(json_object_get(s->result, "writer"), "trip_ids");
	size_t i, j;

	json_array_foreach(trips, i, trip)
	{
		const json_t *id = json_array_get(ids, i);

		if (s->o->color)
			fputs("\033[1m", s->o->f);
		fprintf(s->o->f, "\nTrip %zu", i + 1);
		if (json_is_integer(id))
			fprintf(s->o->f, " -> parsed_dive_trips.id %lld",
				(long long)json_integer_value(id));
		else
			fputs(" (not written)", s->o->f);
		fputs(s->o->color ? "\033[0m\n" : "\n", s->o->f);
		for (size_t k = 0; show_trip_fields[k]; k++)
			show_field(s, trip, show_trip_fields[k], 2);
		json_array_foreach(json_object_get(trip, "dives"), j, dive)
		{
			show_dive(s, dive, j);
		}
	}
}

static void show_list(const struct show *s, const char *title, const json_t *list)
{
	const json_t *w;
	size_t i;

	if (json_array_size(list) == 0)
		return;
	fprintf(s->o->f, "\n%s\n", title);
	json_array_foreach(list, i, w)
	{
		const char *t = json_string_value(w);
		fputs("  - ", s->o->f);
		cmdlog_text(s->o->f, t ? t : "?", strlen(t ? t : "?"), 0);
		fputc('\n', s->o->f);
	}
}

static void show_unresolved_one(const struct show *s, const json_t *u)
{
	const char *kind = json_string_value(json_object_get(u, "kind"));
	const char *name = json_string_value(json_object_get(u, "name"));
	const char *why = json_string_value(json_object_get(u, "why"));
	const json_t *cands = json_object_get(u, "candidates"), *c;
	size_t i;

	if (!kind || !name)
		return;
	fprintf(s->o->f, "  %s \"", kind);
	cmdlog_text(s->o->f, name, strlen(name), 0);
	fputs("\"", s->o->f);
	if (why) {
		fputs(" (", s->o->f);
		cmdlog_text(s->o->f, why, strlen(why), 60);
		fputs(")", s->o->f);
	}
	fputs("\n    candidates: ", s->o->f);
	if (json_array_size(cands) == 0)
		fputs("none", s->o->f);
	json_array_foreach(cands, i, c)
	{
		const char *cn = json_string_value(json_object_get(c, "name"));

		fprintf(s->o->f, "%s%lld ", i ? ", " : "",
			(long long)json_integer_value(json_object_get(c, "id")));
		cmdlog_text(s->o->f, cn ? cn : "?", strlen(cn ? cn : "?"), 40);
		fprintf(s->o->f, " (%.2f)", json_number_value(json_object_get(c, "score")));
	}
	fputc('\n', s->o->f);
	c = json_array_get(cands, 0);
	if (streq(kind, "site") && json_is_integer(json_object_get(c, "id"))) {
		fputs("    if it is the first candidate, add the alias with:\n      "
		      "INSERT INTO dive_site_aliases (dive_site_id, alias) VALUES (",
		      s->o->f);
		fprintf(s->o->f, "%lld, ", (long long)json_integer_value(json_object_get(c, "id")));
		put_sql_string(s->o->f, name);
		fprintf(s->o->f, ");\n    then: divemap-ingest reparse --newsletter %lld\n",
			s->newsletter_id);
	} else if (streq(kind, "site"))
		fputs("    no candidate: add the site in Divemap, or an alias of the right one\n",
		      s->o->f);
	else
		fputs("    a diving center is recognised by its e-mail address or name in "
		      "diving_centers\n",
		      s->o->f);
}

enum {
	SH_MSG,
	SH_SUBJECT,
	SH_SENDER,
	SH_SENDER_NAME,
	SH_SENT,
	SH_MSG_STATUS,
	SH_MSG_REASON,
	SH_MESSAGE_ID,
	SH_PARSED,
	SH_STATUS,
	SH_REASON,
	SH_TRIPS,
	SH_DIVES,
	SH_UNRESOLVED,
	SH_DURATION,
	SH_RULES,
	SH_WARNINGS,
	SH_DETAILS
};

static void show_header_line(const struct out *o, const char *label, const char *value)
{
	fprintf(o->f, "  %-10s ", label);
	cmdlog_text(o->f, value ? value : "-", strlen(value ? value : "-"), 0);
	fputc('\n', o->f);
}

static void show_header(const struct out *o, long long nl, const struct db_rows *r)
{
	char line[512];

	if (o->color)
		fputs("\033[1m", o->f);
	fprintf(o->f, "Newsletter %lld (message %s", nl, db_cell(r, 0, SH_MSG));
	if (db_cell(r, 0, SH_MESSAGE_ID)) {
		fputs(", ", o->f);
		cmdlog_text(o->f, db_cell(r, 0, SH_MESSAGE_ID),
			    strlen(db_cell(r, 0, SH_MESSAGE_ID)), 0);
	}
	fputs(o->color ? ")\033[0m\n" : ")\n", o->f);
	show_header_line(o, "Subject:", db_cell(r, 0, SH_SUBJECT));
	snprintf(line, sizeof(line), "%s%s%s%s",
		 db_cell(r, 0, SH_SENDER_NAME) ? db_cell(r, 0, SH_SENDER_NAME) : "",
		 db_cell(r, 0, SH_SENDER_NAME) ? " <" : "",
		 db_cell(r, 0, SH_SENDER) ? db_cell(r, 0, SH_SENDER) : "-",
		 db_cell(r, 0, SH_SENDER_NAME) ? ">" : "");
	show_header_line(o, "From:", line);
	snprintf(line, sizeof(line), "%s UTC",
		 db_cell(r, 0, SH_SENT) ? db_cell(r, 0, SH_SENT) : "-");
	show_header_line(o, "Date:", line);
	fprintf(o->f, "  %-10s ", "Status:");
	if (!db_cell(r, 0, SH_STATUS)) {
		cmdlog_status(o, db_cell(r, 0, SH_MSG_STATUS), 0);
		fputs(" (never parsed)\n", o->f);
		return;
	}
	cmdlog_status(o, db_cell(r, 0, SH_STATUS), 0);
	fprintf(o->f, ": %s trips, %s dives, %s unresolved (parsed %s UTC in %.1f ms)\n",
		db_cell(r, 0, SH_TRIPS), db_cell(r, 0, SH_DIVES), db_cell(r, 0, SH_UNRESOLVED),
		db_cell(r, 0, SH_PARSED), strtod(db_cell(r, 0, SH_DURATION), NULL) / 1000.0);
	if (db_cell(r, 0, SH_REASON))
		show_header_line(o, "Reason:", db_cell(r, 0, SH_REASON));
	show_header_line(o, "Rules:", db_cell(r, 0, SH_RULES));
}

static void show_center(struct db *db, const struct out *o, const json_t *result)
{
	_cleanup_(db_rows_freep) struct db_rows *rows = NULL;
	const json_t *id = json_object_get(result, "diving_center_id");
	const char *m = json_string_value(json_object_get(result, "diving_center_method"));
	char line[512];

	if (!json_is_integer(id)) {
		show_header_line(o, "Center:", "not recognised");
		return;
	}
	if (db_query(db, "SELECT name FROM diving_centers WHERE id = ?",
		     (struct db_value[]){DB_INT((long long)json_integer_value(id))}, 1,
		     &rows) < 0 ||
	    rows->n_rows != 1)
		snprintf(line, sizeof(line), "%lld (found by %.32s; not in diving_centers)",
			 (long long)json_integer_value(id), m ? m : "?");
	else
		snprintf(line, sizeof(line), "%lld %.300s (found by %.32s)",
			 (long long)json_integer_value(id), db_cell(rows, 0, 0), m ? m : "?");
	show_header_line(o, "Center:", line);
}

#define SHOW_SQL                                                                                   \
	"SELECT m.id, m.subject, m.sender, m.sender_name, m.sent_at, m.status, m.status_reason, "  \
	"m.message_id, l.parsed_at, l.status, l.reason, l.trips, l.dives, l.unresolved, "          \
	"l.duration_us, l.rules_version, l.warnings, l.details FROM ingest_messages m "            \
	"LEFT JOIN ingest_parse_log l ON l.id = (SELECT MAX(l2.id) FROM ingest_parse_log l2 "      \
	"WHERE l2.message_id = m.id) WHERE m.newsletter_id = ? ORDER BY m.id DESC LIMIT 1"

/* log show --json: the message, its last parse and the stored details. */
static int show_json(const struct db_rows *r, long long nl)
{
	static const struct {
		const char *key;
		int col;
	} keys[] = {
	    {"subject", SH_SUBJECT}, {"sender", SH_SENDER},         {"sender_name", SH_SENDER_NAME},
	    {"sent_at", SH_SENT},    {"message_id", SH_MESSAGE_ID}, {"parsed_at", SH_PARSED},
	    {"status", SH_STATUS},   {"reason", SH_REASON},         {"rules_version", SH_RULES},
	};
	json_t *o = json_pack("{s:I, s:I}", "newsletter_id", (json_int_t)nl, "ingest_message_id",
			      (json_int_t)cell_int(db_cell(r, 0, SH_MSG)));
	int k;

	for (size_t i = 0; o && i < ELEMENTSOF(keys); i++) {
		const char *v = db_cell(r, 0, keys[i].col);
		json_object_set_new(o, keys[i].key, v ? json_string(v) : json_null());
	}
	if (o && !db_cell(r, 0, SH_STATUS))
		json_object_set_new(o, "status", json_string(db_cell(r, 0, SH_MSG_STATUS)));
	for (int c = SH_TRIPS; o && c <= SH_DURATION; c++)
		json_object_set_new(o,
				    c == SH_TRIPS        ? "trips"
				    : c == SH_DIVES      ? "dives"
				    : c == SH_UNRESOLVED ? "unresolved"
							 : "duration_us",
				    db_cell(r, 0, c) ? json_integer(cell_int(db_cell(r, 0, c)))
						     : json_null());
	if (o) {
		json_t *w = db_cell(r, 0, SH_WARNINGS)
				? json_loads(db_cell(r, 0, SH_WARNINGS), 0, NULL)
				: NULL;
		json_t *d = db_cell(r, 0, SH_DETAILS)
				? json_loads(db_cell(r, 0, SH_DETAILS), 0, NULL)
				: NULL;
		json_object_set_new(o, "warnings", w ? w : json_array());
		json_object_set_new(o, "details", d ? d : json_null());
	}
	if (!o)
		return -ENOMEM;
	k = json_dumpf(o, stdout, JSON_INDENT(2)) < 0 || fputc('\n', stdout) == EOF ? -EIO : 0;
	json_decref(o);
	return k;
}

int cmdlog_show(struct db *db, const char *arg, bool json)
{
	_cleanup_(db_rows_freep) struct db_rows *rows = NULL;
	struct out o = cmdlog_out();
	unsigned long long nl;
	json_t *result = NULL, *warnings = NULL;
	struct show s = {.o = &o};
	const json_t *u;
	size_t i;
	int r;

	if (parse_uint(arg, 2147483647, &nl) < 0)
		return log_error("log show: '%s' is not a newsletter id", arg), -EINVAL;
	r = db_query(db, SHOW_SQL, (struct db_value[]){DB_INT((long long)nl)}, 1, &rows);
	if (r < 0)
		return log_error_errno(r, "cannot read the parse log: %s", db_error(db));
	if (rows->n_rows == 0)
		return log_error("no stored message has newsletter %llu", nl), -ENOENT;
	if (json)
		return show_json(rows, (long long)nl);
	show_header(&o, (long long)nl, rows);
	if (db_cell(rows, 0, SH_DETAILS))
		result = json_loads(db_cell(rows, 0, SH_DETAILS), 0, NULL);
	if (db_cell(rows, 0, SH_WARNINGS))
		warnings = json_loads(db_cell(rows, 0, SH_WARNINGS), 0, NULL);
	s.result = result;
	s.newsletter_id = (long long)nl;
	s.text = json_string_value(json_object_get(result, "text"));
	s.text_len = s.text ? json_string_length(json_object_get(result, "text")) : 0;
	if (result) {
		show_center(db, &o, result);
		show_trips(&s);
	}
	show_list(&s, "Warnings", warnings);
	if (json_array_size(json_object_get(result, "unresolved")))
		fputs("\nUnresolved names\n", o.f);
	json_array_foreach(json_object_get(result, "unresolved"), i, u)
	{
		show_unresolved_one(&s, u);
	}
	json_decref(result);
	json_decref(warnings);
	return fflush(o.f) == 0 ? 0 : -EIO;
}

/* ---- report --html ---- */

struct report_data {
	struct db_rows *rows, *counts, *unres;
	struct report_newsletter *nls;
	struct report_count *cnt;
	struct report_unresolved *un;
	json_t **json; /* details and candidates, freed at the end */
	size_t n_json;
};

static void report_data_done(struct report_data *d)
{
	for (size_t i = 0; i < d->n_json; i++)
		json_decref(d->json[i]);
	free(d->json);
	free(d->nls);
	free(d->cnt);
	free(d->un);
	db_rows_free(d->rows);
	db_rows_free(d->counts);
	db_rows_free(d->unres);
}

static const json_t *keep_json(struct report_data *d, const char *text)
{
	json_t *j = text ? json_loads(text, 0, NULL) : NULL;

	if (j)
		d->json[d->n_json++] = j;
	return j;
}

static int report_load(struct db *db, const struct log_opts *o, struct report_data *d)
{
	int r;

	r = cmdlog_query(db, o, LIST_COLUMNS ", l.details", " ORDER BY l.newsletter_id, l.id", true,
			 &d->rows);
	if (r >= 0)
		r = cmdlog_query(db, o, "l.status, COUNT(*)",
				 " GROUP BY l.status ORDER BY l.status", false, &d->counts);
	if (r < 0)
		return r;
	r = db_query(db,
		     "SELECT kind, name, seen_count, candidates FROM ingest_unresolved "
		     "ORDER BY seen_count DESC, last_seen DESC, name LIMIT ?",
		     (struct db_value[]){DB_INT(TOP_UNRESOLVED)}, 1, &d->unres);
	if (r < 0)
		return log_error_errno(r, "cannot read the unresolved names: %s", db_error(db));
	d->nls = calloc(d->rows->n_rows + 1, sizeof(*d->nls));
	d->cnt = calloc(d->counts->n_rows + 1, sizeof(*d->cnt));
	d->un = calloc(d->unres->n_rows + 1, sizeof(*d->un));
	d->json = calloc(d->rows->n_rows + d->unres->n_rows + 1, sizeof(*d->json));
	return d->nls && d->cnt && d->un && d->json ? 0 : -ENOMEM;
}

static void report_fill(struct report_data *d)
{
	for (size_t i = 0; i < d->rows->n_rows; i++) {
		const struct db_rows *w = d->rows;

		d->nls[i] = (struct report_newsletter){
		    .newsletter_id =
			db_cell(w, i, COL_NEWSLETTER) ? cell_int(db_cell(w, i, COL_NEWSLETTER)) : 0,
		    .message_id = cell_int(db_cell(w, i, COL_MESSAGE)),
		    .subject = db_cell(w, i, COL_SUBJECT),
		    .sender = db_cell(w, i, COL_SENDER),
		    .sent_at = db_cell(w, i, COL_SENT),
		    .parsed_at = db_cell(w, i, COL_PARSED),
		    .status = db_cell(w, i, COL_STATUS),
		    .reason = db_cell(w, i, COL_REASON),
		    .details = keep_json(d, db_cell(w, i, COL_DETAILS))};
	}
	for (size_t i = 0; i < d->counts->n_rows; i++)
		d->cnt[i] = (struct report_count){db_cell(d->counts, i, 0),
						  cell_int(db_cell(d->counts, i, 1))};
	for (size_t i = 0; i < d->unres->n_rows; i++)
		d->un[i] =
		    (struct report_unresolved){.kind = db_cell(d->unres, i, 0),
					       .name = db_cell(d->unres, i, 1),
					       .seen = cell_int(db_cell(d->unres, i, 2)),
					       .candidates = keep_json(d, db_cell(d->unres, i, 3))};
}

int cmdlog_report(struct db *db, const struct log_opts *o)
{
	struct report_data d = {0};
	char now[32];
	time_t t = time(NULL);
	struct tm tm;
	FILE *f = NULL;
	int r;

	r = report_load(db, o, &d);
	if (r >= 0) {
		report_fill(&d);
		strftime(now, sizeof(now), "%Y-%m-%d %H:%M:%S UTC", gmtime_r(&t, &tm));
		f = streq(o->html, "-") ? stdout : fopen(o->html, "we");
		if (!f)
			r = log_error_errno(errno, "cannot create '%s': %m", o->html);
	}
	if (r >= 0) {
		const struct report rep = {.generated_at = now,
					   .counts = d.cnt,
					   .n_counts = d.counts->n_rows,
					   .unresolved = d.un,
					   .n_unresolved = d.unres->n_rows,
					   .newsletters = d.nls,
					   .n_newsletters = d.rows->n_rows};
		r = report_html_write(f, &rep);
		if (f != stdout && fclose(f) != 0 && r >= 0)
			r = -EIO;
		if (r < 0)
			log_error_errno(r, "cannot write '%s': %m", o->html);
		else if (f != stdout)
			log_info("%s: %zu newsletters", o->html, d.rows->n_rows);
	}
	report_data_done(&d);
	return r;
}

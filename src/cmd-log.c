/* cmd-log.c: the admins' view of the parse log.
 *
 *   divemap-ingest log [--since DATE] [--status S] [--center ID|NAME]
 *                      [--history] [--limit N] [--json]
 *   divemap-ingest log --unresolved [--since DATE] [--limit N] [--json]
 *   divemap-ingest log show NEWSLETTER_ID
 *   divemap-ingest report --html FILE [the same filters]
 *
 * The list is an aligned table for people (status in colour on a terminal,
 * unless NO_COLOR is set) or JSON for tools. `show` prints one newsletter:
 * its headers and status, every field of every trip and dive with the text
 * it came from and the rule that found it, and each unresolved name with its
 * best candidates and the SQL an admin may run to add it as an alias
 * (printed, never run). Text from mail never reaches the terminal raw:
 * control characters and invalid UTF-8 are replaced. */
#include <errno.h>
#include <limits.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <utf8proc.h>

#include "buf.h"
#include "commands.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "cmd-log.h"
#include "strutil.h"

#define LIST_LIMIT_DEFAULT   50
#define REPORT_LIMIT_DEFAULT 500
#define LIMIT_MAX            100000

/* ---- text for the terminal ---- */

/* Writes s, at most max display columns (0: no limit), control characters
 * and invalid UTF-8 as U+FFFD, line breaks as spaces; returns the columns used. */
unsigned cmdlog_text(FILE *f, const char *s, size_t len, unsigned max)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	unsigned cols = 0;
	size_t i = 0;

	while (s && i < len) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t n = utf8proc_iterate(p + i, (utf8proc_ssize_t)(len - i), &cp);
		bool replaced = true;
		int w;

		if (n <= 0)
			cp = 0xFFFD, n = 1;
		else if (cp == '\n' || cp == '\t' || cp == '\r')
			cp = ' ';
		else if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0))
			cp = 0xFFFD;
		else
			replaced = false;
		w = utf8proc_charwidth(cp);
		if (w < 0)
			w = 1;
		if (max && cols + (unsigned)w > max - (i + (size_t)n < len ? 1 : 0)) {
			fputs("…", f);
			return cols + 1;
		}
		if (replaced) {
			utf8proc_uint8_t enc[4] = {0};
			fwrite(enc, 1, (size_t)utf8proc_encode_char(cp, enc), f);
		} else
			fwrite(p + i, 1, (size_t)n, f);
		cols += (unsigned)w;
		i += (size_t)n;
	}
	return cols;
}

/* s in a column of width cols, padded (right-aligned when right). */
void cmdlog_cell(FILE *f, const char *s, unsigned cols, bool right)
{
	const char *v = s ? s : "-";
	unsigned used;

	if (right) {
		unsigned w = (unsigned)strlen(v); /* numbers: ASCII */
		for (; w < cols; w++)
			fputc(' ', f);
		fputs(v, f);
		return;
	}
	used = cmdlog_text(f, v, strlen(v), cols);
	for (; used < cols; used++)
		fputc(' ', f);
}

static const char *status_color(const char *status)
{
	if (streq(status, "ok"))
		return "\033[32m";
	if (streq(status, "partial"))
		return "\033[33m";
	if (streq(status, "failed"))
		return "\033[1;31m";
	return "\033[2m";
}

void cmdlog_status(const struct out *o, const char *status, unsigned cols)
{
	if (o->color)
		fputs(status_color(status), o->f);
	cmdlog_cell(o->f, status, cols, false);
	if (o->color)
		fputs("\033[0m", o->f);
}

struct out cmdlog_out(void)
{
	struct out o = {.f = stdout};
	struct winsize ws;
	const char *term = getenv("TERM");

	if (isatty(STDOUT_FILENO)) {
		o.color = !getenv("NO_COLOR") && !(term && streq(term, "dumb"));
		if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40)
			o.width = ws.ws_col;
	}
	return o;
}

/* A non-negative integer from a result cell; 0 when NULL or not a number. */
static long long cell_int(const char *s)
{
	unsigned long long v = 0;

	if (!s || parse_uint(s, LLONG_MAX, &v) < 0)
		return 0;
	return (long long)v;
}

/* ---- options and the query ---- */

static void help(FILE *out)
{
	fputs("Usage: divemap-ingest log [OPTIONS]\n"
	      "       divemap-ingest log --unresolved [--since DATE] [--limit N] [--json]\n"
	      "       divemap-ingest log show NEWSLETTER_ID [--json]\n"
	      "       divemap-ingest report --html FILE [OPTIONS]\n"
	      "\n"
	      "The parse log: the last parse of each stored message, newest first.\n"
	      "`log show` explains one newsletter: every extracted value with the text it\n"
	      "came from and the rule that found it, and the SQL to add a missing alias.\n"
	      "`report --html` writes one self-contained HTML page: a summary, then each\n"
	      "newsletter's text with the extracted spans highlighted.\n"
	      "\n"
	      "Options:\n"
	      "      --since=DATE      parsed on or after DATE (YYYY-MM-DD[ HH:MM[:SS]], UTC)\n"
	      "      --status=S        ok, partial, no_trips or failed\n"
	      "      --center=C        diving center id, or part of its name\n"
	      "      --unresolved      log: the unresolved names instead;\n"
	      "                        report: only newsletters with unresolved names\n"
	      "      --history         every parse, not only the last of each message\n"
	      "      --limit=N         at most N rows (log: 50, report: 500)\n"
	      "      --json            JSON for tools instead of the table\n"
	      "      --html=FILE       report: the page to write (- for standard output)\n"
	      "  -h, --help            this help\n",
	      out);
}

/* YYYY-MM-DD, YYYY-MM-DD HH:MM or YYYY-MM-DD HH:MM:SS */
static bool valid_since(const char *s)
{
	unsigned y, mo, d, h = 0, mi = 0, se = 0;
	size_t len = strlen(s);
	char day[11];

	if (len == 10)
		return sscanf(s, "%4u-%2u-%2u", &y, &mo, &d) == 3 && mo >= 1 && mo <= 12 &&
		       d >= 1 && d <= 31 && strspn(s, "0123456789-") == len;
	if (len != 16 && len != 19)
		return false;
	memcpy(day, s, 10);
	day[10] = '\0';
	if (!valid_since(day) || s[10] != ' ')
		return false;
	if (strspn(s + 11, "0123456789:") != len - 11)
		return false;
	if (len == 16)
		return sscanf(s + 11, "%2u:%2u", &h, &mi) == 2 && h < 24 && mi < 60;
	return sscanf(s + 11, "%2u:%2u:%2u", &h, &mi, &se) == 3 && h < 24 && mi < 60 && se < 60;
}

static int parse_args(int argc, char **argv, struct log_opts *o, bool report)
{
	enum {
		OPT_SINCE = 0x100,
		OPT_STATUS,
		OPT_CENTER,
		OPT_UNRESOLVED,
		OPT_HISTORY,
		OPT_LIMIT,
		OPT_JSON,
		OPT_HTML
	};
	static const struct option options[] = {
	    {"since", required_argument, NULL, OPT_SINCE},
	    {"status", required_argument, NULL, OPT_STATUS},
	    {"center", required_argument, NULL, OPT_CENTER},
	    {"unresolved", no_argument, NULL, OPT_UNRESOLVED},
	    {"history", no_argument, NULL, OPT_HISTORY},
	    {"limit", required_argument, NULL, OPT_LIMIT},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"html", required_argument, NULL, OPT_HTML},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	int c;

	o->limit = report ? REPORT_LIMIT_DEFAULT : LIST_LIMIT_DEFAULT;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
		switch (c) {
		case OPT_SINCE:
			if (!valid_since(optarg))
				return log_error("--since: '%s' is not YYYY-MM-DD[ HH:MM]", optarg),
				       EX_USAGE;
			o->since = optarg;
			break;
		case OPT_STATUS:
			if (!streq(optarg, "ok") && !streq(optarg, "partial") &&
			    !streq(optarg, "no_trips") && !streq(optarg, "failed"))
				return log_error("--status: '%s' is not ok, partial, no_trips or "
						 "failed",
						 optarg),
				       EX_USAGE;
			o->status = optarg;
			break;
		case OPT_CENTER:
			o->center = optarg;
			break;
		case OPT_UNRESOLVED:
			o->unresolved = true;
			break;
		case OPT_HISTORY:
			o->history = true;
			break;
		case OPT_LIMIT:
			if (parse_uint(optarg, LIMIT_MAX, &o->limit) < 0 || o->limit == 0)
				return log_error("--limit: '%s' is not a number from 1 to %u",
						 optarg, LIMIT_MAX),
				       EX_USAGE;
			break;
		case OPT_JSON:
			o->json = true;
			break;
		case OPT_HTML:
			o->html = optarg;
			break;
		case 'h':
			help(stdout);
			exit(EX_OK);
		default:
			return EX_USAGE;
		}
	}
	if (report && !o->html)
		return log_error("report: where to? Give --html FILE"), EX_USAGE;
	return 0;
}

static int filter_sql(const struct log_opts *o, const char *columns, const char *tail,
		      struct buf *sql, struct db_value *p, size_t *n)
{
	unsigned long long id;
	int r;

	*n = 0;
	r = buf_printf(sql,
		       "SELECT %s FROM ingest_parse_log l "
		       "JOIN ingest_messages m ON m.id = l.message_id "
		       "LEFT JOIN diving_centers c ON c.id = JSON_VALUE(l.details, "
		       "'$.diving_center_id') WHERE 1 = 1",
		       columns);
	if (r >= 0 && !o->history)
		r = buf_puts(sql, " AND l.id = (SELECT MAX(l2.id) FROM ingest_parse_log l2 "
				  "WHERE l2.message_id = l.message_id)");
	if (r >= 0 && o->since) {
		r = buf_puts(sql, " AND l.parsed_at >= ?");
		p[(*n)++] = DB_TEXT(o->since);
	}
	if (r >= 0 && o->status) {
		r = buf_puts(sql, " AND l.status = ?");
		p[(*n)++] = DB_TEXT(o->status);
	}
	if (r >= 0 && o->center) {
		bool numeric = parse_uint(o->center, 2147483647, &id) == 0;

		r = buf_puts(sql, numeric ? " AND JSON_VALUE(l.details, '$.diving_center_id') = ?"
					  : " AND c.name LIKE CONCAT('%', ?, '%')");
		p[(*n)++] = numeric ? DB_INT((long long)id) : DB_TEXT(o->center);
	}
	if (r >= 0 && o->unresolved)
		r = buf_puts(sql, " AND l.unresolved > 0");
	if (r >= 0 && tail)
		r = buf_puts(sql, tail);
	return r;
}

int cmdlog_query(struct db *db, const struct log_opts *o, const char *columns, const char *tail,
		 bool limit, struct db_rows **ret)
{
	_cleanup_buf_ struct buf sql = BUF_INIT(BUF_MAX_SQL);
	struct db_value p[6];
	size_t n;
	int r;

	r = filter_sql(o, columns, tail, &sql, p, &n);
	if (r >= 0 && limit) {
		r = buf_puts(&sql, " LIMIT ?");
		p[n++] = DB_INT((long long)o->limit);
	}
	if (r < 0)
		return r;
	r = db_query(db, buf_str(&sql), p, n, ret);
	if (r < 0)
		log_error_errno(r, "cannot read the parse log: %s", db_error(db));
	return r;
}

/* ---- log: the list ---- */

static json_t *json_cell(const struct db_rows *rows, size_t i, size_t col, bool number)
{
	const char *v = db_cell(rows, i, col);

	if (!v)
		return json_null();
	return number ? json_integer(cell_int(v)) : json_string(v);
}

static int list_json(const struct db_rows *rows)
{
	static const struct {
		const char *key;
		size_t col;
		bool number;
	} keys[] = {
	    {"parse_id", COL_ID, true},
	    {"parsed_at", COL_PARSED, false},
	    {"newsletter_id", COL_NEWSLETTER, true},
	    {"message_id", COL_MESSAGE, true},
	    {"status", COL_STATUS, false},
	    {"reason", COL_REASON, false},
	    {"trips", COL_TRIPS, true},
	    {"dives", COL_DIVES, true},
	    {"unresolved", COL_UNRESOLVED, true},
	    {"duration_us", COL_DURATION, true},
	    {"subject", COL_SUBJECT, false},
	    {"sender", COL_SENDER, false},
	    {"sent_at", COL_SENT, false},
	    {"diving_center_id", COL_CENTER_ID, true},
	    {"diving_center", COL_CENTER, false},
	};
	json_t *a = json_array();
	int r;

	for (size_t i = 0; a && i < rows->n_rows; i++) {
		json_t *o = json_object();

		for (size_t k = 0; o && k < ELEMENTSOF(keys); k++)
			json_object_set_new(o, keys[k].key,
					    json_cell(rows, i, keys[k].col, keys[k].number));
		json_array_append_new(a, o);
	}
	if (!a)
		return -ENOMEM;
	r = json_dumpf(a, stdout, JSON_INDENT(2)) < 0 || fputc('\n', stdout) == EOF ? -EIO : 0;
	json_decref(a);
	return r;
}

/* "2026-11-22 02:04:58.123" -> "2026-11-22 02:04:58" */
static void put_time(FILE *f, const char *t, unsigned cols)
{
	char b[20];

	snprintf(b, sizeof(b), "%s", t ? t : "-");
	cmdlog_cell(f, b, cols, false);
}

static void list_table(const struct out *o, const struct db_rows *rows)
{
	unsigned subject_cols;

	if (rows->n_rows == 0) {
		fputs("No parses match.\n", o->f);
		return;
	}
	/* PARSED(19) NL(10) STATUS(8) TRIPS(5) DIVES(5) UNRES(5) CENTER(22), 2 apart */
	subject_cols = o->width > 112 ? o->width - 92 : 20;
	if (o->color)
		fputs("\033[1m", o->f);
	fprintf(o->f, "%-19s  %10s  %-8s  %5s  %5s  %5s  %-22s  SUBJECT", "PARSED (UTC)",
		"NEWSLETTER", "STATUS", "TRIPS", "DIVES", "UNRES", "CENTER");
	fputs(o->color ? "\033[0m\n" : "\n", o->f);
	for (size_t i = 0; i < rows->n_rows; i++) {
		const char *subject = db_cell(rows, i, COL_SUBJECT);

		put_time(o->f, db_cell(rows, i, COL_PARSED), 19);
		fputs("  ", o->f);
		cmdlog_cell(o->f, db_cell(rows, i, COL_NEWSLETTER), 10, true);
		fputs("  ", o->f);
		cmdlog_status(o, db_cell(rows, i, COL_STATUS), 8);
		fputs("  ", o->f);
		cmdlog_cell(o->f, db_cell(rows, i, COL_TRIPS), 5, true);
		fputs("  ", o->f);
		cmdlog_cell(o->f, db_cell(rows, i, COL_DIVES), 5, true);
		fputs("  ", o->f);
		cmdlog_cell(o->f, db_cell(rows, i, COL_UNRESOLVED), 5, true);
		fputs("  ", o->f);
		cmdlog_cell(o->f, db_cell(rows, i, COL_CENTER), 22, false);
		fputs("  ", o->f);
		if (streq(db_cell(rows, i, COL_STATUS), "failed") && db_cell(rows, i, COL_REASON)) {
			subject = db_cell(rows, i, COL_REASON);
		}
		if (subject)
			cmdlog_text(o->f, subject, strlen(subject), o->width ? subject_cols : 0);
		fputc('\n', o->f);
	}
}

static int list_parses(struct db *db, const struct log_opts *o)
{
	_cleanup_(db_rows_freep) struct db_rows *rows = NULL;
	struct out out = cmdlog_out();
	int r;

	r = cmdlog_query(db, o, LIST_COLUMNS, " ORDER BY l.parsed_at DESC, l.id DESC", true, &rows);
	if (r < 0)
		return r;
	if (o->json)
		return list_json(rows);
	list_table(&out, rows);
	return 0;
}

/* ---- log --unresolved ---- */

static void best_candidate(FILE *f, const char *cands_text, unsigned cols)
{
	json_t *c = cands_text ? json_loads(cands_text, 0, NULL) : NULL;
	const json_t *b = json_array_get(c, 0);
	char *s = NULL;

	if (json_is_object(b) && asprintf(&s, "%s (id %lld, %.2f)",
					  json_string_value(json_object_get(b, "name"))
					      ? json_string_value(json_object_get(b, "name"))
					      : "?",
					  (long long)json_integer_value(json_object_get(b, "id")),
					  json_number_value(json_object_get(b, "score"))) >= 0)
		cmdlog_text(f, s, strlen(s), cols);
	else
		fputs("-", f);
	free(s);
	json_decref(c);
}

static int unresolved_json(const struct db_rows *rows)
{
	json_t *a = json_array();
	int r;

	for (size_t i = 0; a && i < rows->n_rows; i++) {
		json_t *ids = json_loads(db_cell(rows, i, 5) ? db_cell(rows, i, 5) : "[]", 0, NULL);
		json_t *c = json_loads(db_cell(rows, i, 6) ? db_cell(rows, i, 6) : "[]", 0, NULL);

		json_array_append_new(
		    a, json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "kind",
				 json_cell(rows, i, 0, false), "name", json_cell(rows, i, 1, false),
				 "seen_count", json_cell(rows, i, 2, true), "first_seen",
				 json_cell(rows, i, 3, false), "last_seen",
				 json_cell(rows, i, 4, false), "newsletter_ids",
				 ids ? ids : json_array(), "candidates", c ? c : json_array()));
	}
	if (!a)
		return -ENOMEM;
	r = json_dumpf(a, stdout, JSON_INDENT(2)) < 0 || fputc('\n', stdout) == EOF ? -EIO : 0;
	json_decref(a);
	return r;
}

static int list_unresolved(struct db *db, const struct log_opts *o)
{
	_cleanup_(db_rows_freep) struct db_rows *rows = NULL;
	struct out out = cmdlog_out();
	struct db_value p[2];
	size_t n = 0;
	int r;

	if (o->since)
		p[n++] = DB_TEXT(o->since);
	p[n++] = DB_INT((long long)o->limit);
	r = db_query(db,
		     o->since
			 ? "SELECT kind, name, seen_count, first_seen, last_seen, newsletter_ids, "
			   "candidates FROM ingest_unresolved WHERE last_seen >= ? "
			   "ORDER BY seen_count DESC, last_seen DESC, name LIMIT ?"
			 : "SELECT kind, name, seen_count, first_seen, last_seen, newsletter_ids, "
			   "candidates FROM ingest_unresolved "
			   "ORDER BY seen_count DESC, last_seen DESC, name LIMIT ?",
		     p, n, &rows);
	if (r < 0)
		return log_error_errno(r, "cannot read the unresolved names: %s", db_error(db));
	if (o->json)
		return unresolved_json(rows);
	if (rows->n_rows == 0) {
		fputs("No unresolved names.\n", stdout);
		return 0;
	}
	fprintf(stdout, "%-30s  %-6s  %5s  %-19s  BEST CANDIDATE\n", "NAME", "KIND", "SEEN",
		"LAST SEEN (UTC)");
	for (size_t i = 0; i < rows->n_rows; i++) {
		cmdlog_cell(stdout, db_cell(rows, i, 1), 30, false);
		fputs("  ", stdout);
		cmdlog_cell(stdout, db_cell(rows, i, 0), 6, false);
		fputs("  ", stdout);
		cmdlog_cell(stdout, db_cell(rows, i, 2), 5, true);
		fputs("  ", stdout);
		put_time(stdout, db_cell(rows, i, 4), 19);
		fputs("  ", stdout);
		best_candidate(stdout, db_cell(rows, i, 6),
			       !out.width       ? 0
			       : out.width > 92 ? out.width - 72
						: 20);
		fputc('\n', stdout);
	}
	return 0;
}

/* ---- the commands ---- */

static int open_db(struct cli *cli, struct db **ret)
{
	const struct config *cfg;
	int r;

	r = cli_config(cli, &cfg);
	if (r != 0)
		return r;
	r = db_open(cfg, ret);
	return r < 0 ? EX_UNAVAILABLE : 0;
}

static int run_log(int argc, char **argv, struct cli *cli)
{
	_cleanup_(db_freep) struct db *db = NULL;
	struct log_opts o = {0};
	bool show = argc >= 2 && streq(argv[1], "show");
	const char *id = NULL;
	int r;

	if (show) {
		for (int i = 2; i < argc; i++)
			if (streq(argv[i], "--json"))
				o.json = true;
			else if (streq(argv[i], "--help") || streq(argv[i], "-h"))
				return help(stdout), EX_OK;
			else if (!id)
				id = argv[i];
			else
				id = "";
		if (!id || !id[0])
			return log_error("usage: divemap-ingest log show NEWSLETTER_ID [--json]"),
			       EX_USAGE;
	} else {
		r = parse_args(argc, argv, &o, false);
		if (r != 0)
			return r;
		if (optind < argc)
			return log_error("log: unexpected argument '%s'", argv[optind]), EX_USAGE;
		if (o.html)
			return log_error("log: --html belongs to `divemap-ingest report`"),
			       EX_USAGE;
	}
	r = open_db(cli, &db);
	if (r != 0)
		return r;
	if (show)
		r = cmdlog_show(db, id, o.json);
	else if (o.unresolved)
		r = list_unresolved(db, &o);
	else
		r = list_parses(db, &o);
	return r < 0 ? exit_code_from_errno(r) : EX_OK;
}

static int run_report(int argc, char **argv, struct cli *cli)
{
	_cleanup_(db_freep) struct db *db = NULL;
	struct log_opts o = {0};
	int r;

	r = parse_args(argc, argv, &o, true);
	if (r != 0)
		return r;
	if (optind < argc)
		return log_error("report: unexpected argument '%s'", argv[optind]), EX_USAGE;
	r = open_db(cli, &db);
	if (r != 0)
		return r;
	r = cmdlog_report(db, &o);
	return r < 0 ? exit_code_from_errno(r) : EX_OK;
}

const struct command command_log = {
    .name = "log",
    .summary = "the parse log: list, `log show ID` explains one newsletter",
    .run = run_log,
};

const struct command command_report = {
    .name = "report",
    .summary = "the parse log as one self-contained HTML page (--html FILE)",
    .run = run_report,
};

/* cmd-log.h: what cmd-log.c (the `log` and `report` commands) shares with
 * cmd-report.c (`log show` and the HTML report); private to those two. */
#ifndef DIVEMAP_CMD_LOG_H
#define DIVEMAP_CMD_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct db;
struct db_rows;

#define TOP_UNRESOLVED 20

struct log_opts {
	const char *since, *status, *center, *html;
	bool unresolved, history, json;
	unsigned long long limit;
};

struct out {
	FILE *f;
	bool color;
	unsigned width; /* terminal columns, 0: no limit */
};

#define LIST_COLUMNS                                                                               \
	"l.id, l.parsed_at, l.newsletter_id, l.message_id, l.status, l.trips, l.dives, "           \
	"l.unresolved, l.duration_us, l.reason, m.subject, m.sender, m.sent_at, "                  \
	"JSON_VALUE(l.details, '$.diving_center_id'), c.name"
enum {
	COL_ID,
	COL_PARSED,
	COL_NEWSLETTER,
	COL_MESSAGE,
	COL_STATUS,
	COL_TRIPS,
	COL_DIVES,
	COL_UNRESOLVED,
	COL_DURATION,
	COL_REASON,
	COL_SUBJECT,
	COL_SENDER,
	COL_SENT,
	COL_CENTER_ID,
	COL_CENTER,
	COL_DETAILS, /* report only */
};

/* SELECT columns FROM the log, the filters as placeholders, values in p. */

/* Standard output, with colour and width when it is a terminal (and
 * NO_COLOR is not set). */
struct out cmdlog_out(void);
/* Writes s (len bytes), at most max display columns (0: no limit), control
 * characters and invalid UTF-8 as U+FFFD, line breaks as spaces; returns
 * the columns used. */
unsigned cmdlog_text(FILE *f, const char *s, size_t len, unsigned max);
/* s in a column of cols, padded; right-aligned when right (ASCII only). */
void cmdlog_cell(FILE *f, const char *s, unsigned cols, bool right);
void cmdlog_status(const struct out *o, const char *status, unsigned cols);
/* The last parse of each message (or every parse: o->history) matching the
 * filters: SELECT columns ... tail [LIMIT o->limit]. Logs its errors. */
int cmdlog_query(struct db *db, const struct log_opts *o, const char *columns, const char *tail,
		 bool limit, struct db_rows **ret);

/* cmd-report.c */
int cmdlog_show(struct db *db, const char *newsletter_id, bool json);
int cmdlog_report(struct db *db, const struct log_opts *o);

#endif

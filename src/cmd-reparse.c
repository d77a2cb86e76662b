/* cmd-reparse.c: `divemap-ingest reparse [--newsletter ID]... [--since DATE]
 * [--failed] [--all]`: extraction again, on the stored raw messages.
 *
 * After new rules or new aliases, each selected message's raw bytes
 * (ingest_raw_messages) go through the worker again and the writer
 * replaces its trips (writer.h: one transaction, the reparse safety rule).
 * Running it again gives the same rows.
 *
 * Several processes may run at once (or beside the daemon): each message is
 * claimed in the database (SELECT ... FOR UPDATE SKIP LOCKED, then
 * claimed_by/claimed_at) and released by the writer's commit; a message
 * parsed since this run started, or claimed by a live process, is left
 * alone, so no message is done twice. A claim older than CLAIM_STALE_S (a
 * process that died) may be taken over. */
#include <errno.h>
#include <limits.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "buf.h"
#include "clock.h"
#include "commands.h"
#include "config.h"
#include "db.h"
#include "ingest.h"
#include "log.h"
#include "migrate.h"
#include "names.h"
#include "store.h"
#include "strutil.h"
#include "worker.h"
#include "writer.h"

#define CLAIM_STALE_S   900
#define MAX_NEWSLETTERS 1000

struct reparse_opts {
	long long *newsletters;
	size_t n_newsletters;
	const char *since;
	bool failed, all;
};

struct reparse_counts {
	unsigned long long done, ok, partial, no_trips, failed;
};

struct reparse_run {
	struct reparse_opts o;
	const struct config *cfg;
	struct db *db;
	struct worker *worker;
	char started[32]; /* the server's NOW(3) when the run began */
	char me[300];     /* claimed_by: host:pid */
	struct reparse_counts n;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void help(FILE *out)
{
	fputs(
	    "Usage: divemap-ingest reparse [--newsletter ID]... [--since DATE] [--failed] [--all]\n"
	    "\n"
	    "Runs the extraction again on stored messages and replaces their trips, after\n"
	    "new rules or new dive-site aliases. Trips that have bookings, a status other\n"
	    "than scheduled, or were edited in Divemap are kept as they are. Running it\n"
	    "again changes nothing; several reparse processes may run at once and share\n"
	    "the work.\n"
	    "\n"
	    "Which messages (given together, all must hold):\n"
	    "      --newsletter=ID   this newsletter (repeat for more)\n"
	    "      --since=DATE      sent (Date: header) on or after DATE (YYYY-MM-DD)\n"
	    "      --failed          those whose last parse failed\n"
	    "      --all             every stored message\n"
	    "  -h, --help            this help\n"
	    "\n"
	    "Exit status: 0 all reparsed, 65 some message failed, 69 the database could\n"
	    "not be reached, 64 usage, 78 configuration.\n",
	    out);
}

static int add_newsletter(struct reparse_opts *o, const char *arg)
{
	unsigned long long id;
	long long *n;

	if (parse_uint(arg, 2147483647, &id) < 0 || id == 0) {
		log_error("--newsletter: '%s' is not a newsletter id", arg);
		return EX_USAGE;
	}
	if (o->n_newsletters >= MAX_NEWSLETTERS) {
		log_error("--newsletter: at most %u at a time", MAX_NEWSLETTERS);
		return EX_USAGE;
	}
	n = realloc(o->newsletters, (o->n_newsletters + 1) * sizeof(*n));
	if (!n)
		return EX_OSERR;
	o->newsletters = n;
	n[o->n_newsletters++] = (long long)id;
	return 0;
}

static bool valid_since(const char *s)
{
	unsigned y, m, d;
	int n = 0;

	return strlen(s) == 10 && sscanf(s, "%4u-%2u-%2u%n", &y, &m, &d, &n) == 3 && n == 10 &&
	       m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

static int parse_args(int argc, char **argv, struct reparse_opts *o)
{
	enum { OPT_NEWSLETTER = 0x100, OPT_SINCE, OPT_FAILED, OPT_ALL };
	static const struct option options[] = {
	    {"newsletter", required_argument, NULL, OPT_NEWSLETTER},
	    {"since", required_argument, NULL, OPT_SINCE},
	    {"failed", no_argument, NULL, OPT_FAILED},
	    {"all", no_argument, NULL, OPT_ALL},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	int c, r;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
		switch (c) {
		case OPT_NEWSLETTER:
			r = add_newsletter(o, optarg);
			if (r != 0)
				return r;
			break;
		case OPT_SINCE:
			if (!valid_since(optarg)) {
				log_error("--since: '%s' is not a date (YYYY-MM-DD)", optarg);
				return EX_USAGE;
			}
			o->since = optarg;
			break;
		case OPT_FAILED:
			o->failed = true;
			break;
		case OPT_ALL:
			o->all = true;
			break;
		case 'h':
			help(stdout);
			exit(EX_OK);
		default:
			return EX_USAGE;
		}
	}
	if (optind < argc) {
		log_error("reparse: unexpected argument '%s' (see divemap-ingest reparse --help)",
			  argv[optind]);
		return EX_USAGE;
	}
	if (!o->all && !o->n_newsletters && !o->since && !o->failed) {
		log_error("reparse: which messages? Give --newsletter, --since, --failed or --all");
		return EX_USAGE;
	}
	return 0;
}

/* A non-negative integer from a result cell; 0 when NULL or not a number. */
static long long cell_int(const char *s)
{
	unsigned long long v = 0;

	if (!s || parse_uint(s, LLONG_MAX, &v) < 0)
		return 0;
	return (long long)v;
}

/* ---- claiming ---- */

/* The claim query: placeholders only, the values go as parameters. */
static int claim_sql(const struct reparse_opts *o, struct buf *b)
{
	int r = buf_puts(
	    b, "SELECT m.id, m.newsletter_id, m.size, "
	       "(SELECT LENGTH(raw) FROM ingest_raw_messages r WHERE r.message_id = m.id) "
	       "FROM ingest_messages m WHERE "
	       "(m.claimed_by IS NULL OR m.claimed_at < UTC_TIMESTAMP() - INTERVAL ? "
	       "SECOND) AND NOT EXISTS (SELECT 1 FROM ingest_parse_log l WHERE "
	       "l.message_id = m.id AND l.parsed_at >= ?) "
	       "AND EXISTS (SELECT 1 FROM ingest_raw_messages r WHERE r.message_id = m.id)");

	if (r >= 0 && o->failed)
		r = buf_puts(b, " AND m.status = 'failed'");
	if (r >= 0 && o->since)
		r = buf_puts(b, " AND COALESCE(m.sent_at, m.created_at) >= ?");
	for (size_t i = 0; r >= 0 && i < o->n_newsletters; i++)
		r = buf_puts(b, i == 0 ? " AND m.newsletter_id IN (?" : ", ?");
	if (r >= 0 && o->n_newsletters)
		r = buf_puts(b, ")");
	if (r >= 0)
		r = buf_puts(b, " ORDER BY m.id LIMIT 1 FOR UPDATE SKIP LOCKED");
	return r;
}

static size_t claim_params(const struct reparse_run *run, struct db_value *p)
{
	size_t n = 0;

	p[n++] = DB_INT(CLAIM_STALE_S);
	p[n++] = DB_TEXT((const char *)run->started);
	if (run->o.since)
		p[n++] = DB_TEXT(run->o.since);
	for (size_t i = 0; i < run->o.n_newsletters; i++)
		p[n++] = DB_INT(run->o.newsletters[i]);
	return n;
}

struct claimed {
	unsigned long long id;
	long long newsletter_id;
	unsigned long long size, stored;
};

/* Whether the locked message was parsed since the run began. The claim
 * query's subquery reads a snapshot taken when it started, so a parse
 * committed by another process while the query ran is only seen here, by a
 * locking (current) read. */
static int parsed_meanwhile(struct reparse_run *run, unsigned long long id)
{
	_cleanup_(db_rows_freep) struct db_rows *rows = NULL;
	int r;

	r = db_query(
	    run->db,
	    "SELECT COUNT(*) FROM ingest_parse_log WHERE message_id = ? AND parsed_at >= ? "
	    "LOCK IN SHARE MODE",
	    (struct db_value[]){DB_INT((long long)id), DB_TEXT((const char *)run->started)}, 2,
	    &rows);
	if (r < 0)
		return r;
	return !streq(db_cell(rows, 0, 0), "0");
}

static void claimed_from_row(const struct db_rows *rows, struct claimed *ret)
{
	*ret = (struct claimed){0};
	(void)parse_uint(db_cell(rows, 0, 0), UINT64_MAX, &ret->id);
	ret->newsletter_id = db_cell(rows, 0, 1) ? cell_int(db_cell(rows, 0, 1)) : 0;
	(void)parse_uint(db_cell(rows, 0, 2), UINT64_MAX, &ret->size);
	(void)parse_uint(db_cell(rows, 0, 3) ? db_cell(rows, 0, 3) : "0", UINT64_MAX, &ret->stored);
}

/* 1 with *ret: a message is ours now; 0: none left; 2: the one found was
 * parsed meanwhile by another process, look again. */
static int claim_next(struct reparse_run *run, struct claimed *ret)
{
	_cleanup_buf_ struct buf sql = BUF_INIT(BUF_MAX_SQL);
	_cleanup_free_ struct db_value *p = calloc(run->o.n_newsletters + 3, sizeof(*p));
	_cleanup_(db_rows_freep) struct db_rows *rows = NULL;
	int r, found = 0;
	size_t n;

	if (!p || claim_sql(&run->o, &sql) < 0)
		return -ENOMEM;
	n = claim_params(run, p);
	r = db_begin(run->db);
	if (r >= 0)
		r = db_query(run->db, buf_str(&sql), p, n, &rows);
	if (r >= 0 && rows->n_rows == 1) {
		claimed_from_row(rows, ret);
		r = parsed_meanwhile(run, ret->id);
		found = r > 0 ? 2 : 1;
	}
	if (r >= 0 && found == 1)
		r = db_exec(
		    run->db,
		    "UPDATE ingest_messages SET claimed_by = ?, claimed_at = UTC_TIMESTAMP(), "
		    "status = 'parsing' WHERE id = ?",
		    (struct db_value[]){DB_TEXT((const char *)run->me), DB_INT((long long)ret->id)},
		    2, NULL, NULL);
	if (r >= 0)
		r = db_commit(run->db);
	if (r < 0) {
		(void)db_rollback(run->db);
		return r;
	}
	return found;
}

/* Claims, retrying a deadlock or lock wait timeout a few times. */
static int claim_retrying(struct reparse_run *run, struct claimed *ret)
{
	int r;

	for (unsigned a = 1;; a++) {
		do
			r = claim_next(run, ret);
		while (r == 2);
		if (r != -EDEADLK || a >= WRITER_MAX_ATTEMPTS)
			return r;
		nanosleep(&(struct timespec){0, 50 * 1000000L * (long)a}, NULL);
	}
}

/* ---- one message ---- */

static void count(struct reparse_counts *n, const char *status)
{
	n->done++;
	if (streq(status, "ok"))
		n->ok++;
	else if (streq(status, "partial"))
		n->partial++;
	else if (streq(status, "no_trips"))
		n->no_trips++;
	else
		n->failed++;
}

/* The stored raw message through the worker (ingest_extract). */
static int extract(struct reparse_run *run, const struct claimed *c, json_t **ret, char **ret_why)
{
	_cleanup_(db_rows_freep) struct db_rows *rows = NULL;
	int r;

	*ret = NULL;
	r = db_query(run->db, "SELECT raw FROM ingest_raw_messages WHERE message_id = ?",
		     (struct db_value[]){DB_INT((long long)c->id)}, 1, &rows);
	if (r < 0)
		return r;
	if (rows->n_rows != 1 || !db_cell(rows, 0, 0))
		return asprintf(ret_why, "the raw message is gone") < 0 ? -ENOMEM : -ENOENT;
	r = ingest_extract(run->worker, db_cell(rows, 0, 0), rows->lengths[0],
			   c->stored < c->size ? (size_t)c->size : 0, ret, ret_why);
	return r < 0 && r != -ENOMEM ? -EBADMSG : r;
}

static int reparse_one(struct reparse_run *run, const struct claimed *c)
{
	_cleanup_free_ char *why = NULL;
	uint64_t start = clock_now_ns();
	struct writer_stats st;
	json_t *j = NULL;
	int r;

	r = extract(run, c, &j, &why);
	if (r == -ENOMEM || r == -ECONNRESET || r == -EIO)
		return log_error_errno(r, "message %llu: %s", c->id,
				       r == -ENOMEM ? "out of memory" : db_error(run->db));
	r = ingest_write(&run->db, run->cfg, c->id, c->newsletter_id, j, why,
			 (clock_now_ns() - start) / 1000, &st);
	json_decref(j);
	if (r >= 0)
		count(&run->n, st.status);
	return r;
}

/* ---- set-up ---- */

static int open_database(struct reparse_run *run)
{
	_cleanup_(db_rows_freep) struct db_rows *rows = NULL;
	char host[256] = "localhost";
	int r;

	r = db_open(run->cfg, &run->db);
	if (r < 0)
		return EX_UNAVAILABLE;
	r = migrate_ensure(run->db, run->cfg);
	if (r < 0)
		return exit_code_from_errno(r);
	r = db_query(run->db, "SELECT NOW(3)", NULL, 0, &rows);
	if (r < 0)
		return log_error_errno(r, "cannot read the server's clock: %s", db_error(run->db)),
		       exit_code_from_errno(r);
	snprintf(run->started, sizeof(run->started), "%s", db_cell(rows, 0, 0));
	(void)gethostname(host, sizeof(host) - 1);
	snprintf(run->me, sizeof(run->me), "%s:%d", host, (int)getpid());
	return 0;
}

static int start_worker(struct reparse_run *run)
{
	_cleanup_free_ char *names = NULL;
	size_t len = 0;
	int r;

	r = worker_new_from_config(run->cfg, run->cfg->parser.max_message_size, &run->worker);
	if (r < 0)
		return log_error_errno(r, "cannot set up the worker: %m"), EX_OSERR;
	r = names_load(run->db, &names, &len);
	if (r < 0)
		return log_error_errno(r, "cannot read dive sites and centers: %s",
				       db_error(run->db)),
		       exit_code_from_errno(r);
	r = worker_set_names(run->worker, names, len);
	if (r < 0)
		return log_error_errno(r, "cannot hand the names to the worker: %m"), EX_SOFTWARE;
	return 0;
}

/* A lost connection between messages: a new one (db_open's bounded
 * retries); 0 when we have one again. */
static int reconnect(struct reparse_run *run)
{
	struct db *n = NULL;
	int r;

	log_warning("the database connection was lost (%s); reconnecting", db_error(run->db));
	r = db_open(run->cfg, &n);
	if (r < 0)
		return r;
	db_free(run->db);
	run->db = n;
	return 0;
}

static int reparse_all(struct reparse_run *run)
{
	unsigned lost = 0;
	struct claimed c;
	int r;

	while (!stop_requested) {
		r = claim_retrying(run, &c);
		if (r == -ECONNRESET && ++lost <= WRITER_MAX_ATTEMPTS && reconnect(run) == 0)
			continue;
		if (r < 0)
			return log_error_errno(r, "cannot claim the next message: %s",
					       db_error(run->db));
		if (r == 0)
			return 0;
		lost = 0;
		r = reparse_one(run, &c);
		if (r < 0)
			return r;
	}
	log_notice("stopped on a signal after the message in hand");
	return 0;
}

static int finish(struct reparse_run *run, int r)
{
	log_notice("%llu messages reparsed: %llu ok, %llu partial, %llu without trips, %llu failed",
		   run->n.done, run->n.ok, run->n.partial, run->n.no_trips, run->n.failed);
	if (r < 0)
		return exit_code_from_errno(r);
	return run->n.failed ? EX_DATAERR : EX_OK;
}

static int run(int argc, char **argv, struct cli *cli)
{
	struct reparse_run run = {0};
	struct sigaction sa = {.sa_handler = on_signal};
	int r;

	r = parse_args(argc, argv, &run.o);
	r = r ?: cli_config(cli, &run.cfg);
	r = r ?: open_database(&run);
	r = r ?: start_worker(&run);
	if (r == 0) {
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		r = finish(&run, reparse_all(&run));
	}
	worker_free(run.worker);
	db_free(run.db);
	free(run.o.newsletters);
	return r;
}

const struct command command_reparse = {
    .name = "reparse",
    .summary = "run the extraction again on stored messages (after new rules or aliases)",
    .run = run,
};

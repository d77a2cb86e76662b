/* cmd-reparse.c: `divemap-ingest reparse [--newsletter ID]... [--since DATE]
 * [--failed] [--all]`: extraction again, on the stored raw messages.
 *
 * After new rules or new aliases, each selected message's raw bytes
 * (ingest_raw_messages) go through the worker again and the writer
 * replaces its trips (writer.h: one transaction, the reparse safety rule).
 * Running it again gives the same rows.
 *
 * Several processes may run at once (or beside the daemon): each message is
 * claimed in the database (claim.h: SELECT ... FOR UPDATE SKIP LOCKED, then
 * claimed_by/claimed_at) and released by the writer's commit; a message
 * parsed since this run started, or claimed by a live process, is left
 * alone, so no message is done twice. A claim older than CLAIM_STALE_S (a
 * process that died) may be taken over. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "claim.h"
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

static int reparse_one(struct reparse_run *run, const struct claimed *c)
{
	_cleanup_free_ char *why = NULL;
	uint64_t start = clock_now_ns();
	struct writer_stats st;
	json_t *j = NULL;
	int r;

	r = claim_extract(run->db, run->worker, c, &j, &why);
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
	claim_me(run->me, sizeof(run->me));
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
	const struct claim_filter filter = {.not_parsed_since = run->started,
					    .failed = run->o.failed,
					    .since = run->o.since,
					    .newsletters = run->o.newsletters,
					    .n_newsletters = run->o.n_newsletters};
	unsigned lost = 0;
	struct claimed c;
	int r;

	while (!stop_requested) {
		r = claim_next(run->db, run->me, &filter, &c);
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

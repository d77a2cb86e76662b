/* cmd-serve.c: `divemap-ingest serve`, the daemon (daemon.h) with the real
 * sink: each message is stored already claimed (store.h, claim.h: in the
 * storing transaction, so no other daemon's backlog ever takes it), decoded
 * and extracted by the sandboxed worker and written (ingest.h), and only
 * then acked. Its backlog is what an earlier run (killed, or cut off from the
 * database) stored but did not parse: claimed as reparse claims, so that
 * another daemon or a reparse never parses the same message too. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "claim.h"
#include "clock.h"
#include "commands.h"
#include "config.h"
#include "daemon.h"
#include "db.h"
#include "ingest.h"
#include "log.h"
#include "migrate.h"
#include "names.h"
#include "source-imap.h"
#include "source.h"
#include "store.h"
#include "strutil.h"
#include "worker.h"
#include "writer.h"

struct serve {
	const struct config *cfg;
	struct db *db;
	struct store *store;
	struct worker *worker;
	uint64_t names_at; /* when the names were last checked, CLOCK_MONOTONIC us */
	char *names_print; /* names_fingerprint() of the names the worker has */
	char me[300];      /* claimed_by */
	bool released;     /* the claims of dead processes were handed back */
};

/* A database error for the daemon's one log line (daemon_msg_info.error). */
static int db_failed(struct serve *sv, int r, struct daemon_msg_info *info)
{
	if (sv->db && r != -ENOMEM)
		snprintf(info->error, sizeof(info->error), "%s", db_error(sv->db));
	return r == -EBADMSG ? -EIO : r;
}

/* The worker holds no connection: it outlives a reconnect, so that a reload
 * whose rules do not load keeps the running set (serve_connect). */
static void serve_disconnect(void *userdata)
{
	struct serve *sv = userdata;

	sv->store = store_free(sv->store);
	sv->db = db_free(sv->db);
}

/* The sites, aliases and centers the matcher resolves against, to the
 * worker; with force false only when their fingerprint changed. */
static int send_names(struct serve *sv, bool force)
{
	_cleanup_free_ char *names = NULL, *print = NULL;
	size_t len = 0;
	bool changed;
	int r;

	sv->names_at = clock_now_us();
	r = names_fingerprint(sv->db, &print);
	if (r < 0)
		return log_error_errno(r, "cannot check the dive sites and centers: %s",
				       db_error(sv->db));
	changed = !sv->names_print || !streq(print, sv->names_print);
	if (!force && !changed)
		return 0;
	r = names_load(sv->db, &names, &len);
	if (r < 0)
		return log_error_errno(r, "cannot read dive sites and centers: %s",
				       db_error(sv->db));
	r = worker_set_names(sv->worker, names, len);
	if (r < 0)
		return log_error_errno(r, "cannot hand the names to the worker: %m");
	if (sv->names_print && changed)
		log_info("dive sites, aliases or centers changed: the matcher has them now");
	free(sv->names_print);
	sv->names_print = TAKE_PTR(print);
	return 0;
}

static int serve_connect(void *userdata, const struct config *cfg, char **reterr_reason)
{
	struct serve *sv = userdata;
	struct worker *w = NULL;
	int r;

	serve_disconnect(sv);
	sv->cfg = cfg;
	sv->released = false;
	claim_me(sv->me, sizeof(sv->me));
	r = db_open_once(cfg, &sv->db, reterr_reason);
	if (r < 0)
		return r;
	r = migrate_ensure(sv->db, cfg);
	if (r < 0) /* logged; a schema we cannot use is no reason to wait */
		return r == -ENOMEM || r == -ECONNRESET || r == -ETIMEDOUT ? r : -EINVAL;
	r = store_new(sv->db, cfg, &sv->store);
	if (r < 0)
		return asprintf(reterr_reason, "cannot read the newsletters table's limits: %s",
				db_error(sv->db)) < 0
			   ? -ENOMEM
			   : r;
	r = worker_new_from_config(cfg, store_max_message_size(sv->store), &w);
	if (r < 0 && !sv->worker)
		return log_error_errno(r, "cannot set up the worker: %m"), -EINVAL;
	if (r < 0) /* new rules that do not load: the running worker and its set stay */
		log_error("the rules in '%s' cannot be loaded: keeping the rules loaded before",
			  cfg->parser.rules_dir);
	else {
		worker_free(sv->worker);
		sv->worker = w;
	}
	return send_names(sv, true);
}

static size_t serve_max_message_size(void *userdata)
{
	struct serve *sv = userdata;

	return sv->store ? store_max_message_size(sv->store) : 0;
}

static int serve_source_opened(void *userdata, struct source *s)
{
	struct serve *sv = userdata;

	return source_is_imap(s) ? source_imap_load_checkpoint(s, sv->db) : 0;
}

/* The sender's name (else address) from the pipeline result, for STATUS=. */
static void sender_of(const json_t *result, char *out, size_t size)
{
	const json_t *from = json_object_get(result, "from");
	const char *name = json_string_value(json_object_get(from, "name"));
	const char *addr = json_string_value(json_object_get(from, "address"));

	snprintf(out, size, "%s", name && *name ? name : addr ? addr : "");
}

/* Worker, then writer (ingest.h, the path `parse` takes too); a message the
 * worker fails on, or one over the size bound, is marked failed. */
static int parse_stored(struct serve *sv, const struct source_msg *m,
			const struct store_result *res, struct daemon_msg_info *info)
{
	_cleanup_free_ char *why = NULL;
	uint64_t start = clock_now_us();
	struct writer_stats st;
	json_t *j = NULL;
	int r;

	r = ingest_extract(sv->worker, m->data, m->len, m->full_size, &j, &why);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		log_warning("%s: stored as message %llu, marked failed: %s", m->ref,
			    res->message_id, why ? why : "cannot be parsed");
	else
		sender_of(j, info->from, sizeof(info->from));
	r = ingest_write(&sv->db, sv->cfg, res->message_id, res->newsletter_id, j, why,
			 clock_now_us() - start, &st);
	json_decref(j);
	/* the writer logs the outcome (one journal entry with NEWSLETTER_ID=...);
	 * when nothing could be recorded the message stays claimed by us, and
	 * the backlog takes it up after the reconnect */
	return r < 0 ? db_failed(sv, r, info) : 0;
}

static int serve_handle(void *userdata, struct source *s, const struct source_msg *m,
			struct daemon_msg_info *info)
{
	struct serve *sv = userdata;
	struct store_result res;
	int r;

	/* new sites and aliases reach the matcher within [parser] alias_refresh:
	 * a cheap fingerprint first, the names themselves only when it changed */
	if (clock_now_us() - sv->names_at > (uint64_t)sv->cfg->parser.alias_refresh_s * 1000000u &&
	    send_names(sv, false) < 0)
		log_warning("matching against the names the matcher had before");
	/* stored claimed by us (or 'failed' when over the bound): a crash
	 * after the commit leaves a claim of a process that is gone, which the
	 * backlog hands back (claim_release_dead) */
	r = store_message_claimed(sv->store, sv->db, m, sv->me, &res);
	if (r < 0) /* the daemon logs it, once, and backs off */
		return db_failed(sv, r, info);
	if (res.outcome == STORE_STORED) {
		info->counted = true;
		r = parse_stored(sv, m, &res, info);
		if (r < 0)
			return r;
	} else
		log_info("%s: already stored (message %llu), skipped", m->ref, res.message_id);
	r = source_ack(s, m);
	if (r < 0)
		log_warning_errno(r, "%s: stored, but cannot mark it done at the source: %m",
				  m->ref);
	return 0;
}

/* One message an earlier run stored and did not parse. */
static int serve_backlog(void *userdata, struct daemon_msg_info *info)
{
	static const struct claim_filter unparsed = {.unparsed = true};
	struct serve *sv = userdata;
	_cleanup_free_ char *why = NULL;
	unsigned long long n = 0;
	uint64_t start;
	struct writer_stats st;
	struct claimed c;
	json_t *j = NULL;
	int r;

	if (!sv->released) {
		r = claim_release_dead(sv->db, sv->me, &n);
		if (r < 0)
			return db_failed(sv, r, info);
		if (n)
			log_info("%llu message%s claimed by processes of this host that are gone: "
				 "pending again",
				 n, n == 1 ? "" : "s");
		sv->released = true;
	}
	r = claim_next(sv->db, sv->me, &unparsed, &c);
	if (r <= 0)
		return r < 0 ? db_failed(sv, r, info) : 0;
	log_info("message %llu (newsletter %lld) was stored but not parsed by an earlier run: "
		 "parsing it",
		 c.id, c.newsletter_id);
	start = clock_now_us();
	r = claim_extract(sv->db, sv->worker, &c, &j, &why);
	if (r < 0 && r != -EBADMSG)
		return db_failed(sv, r, info);
	if (j)
		sender_of(j, info->from, sizeof(info->from));
	r = ingest_write(&sv->db, sv->cfg, c.id, c.newsletter_id, j, why, clock_now_us() - start,
			 &st);
	json_decref(j);
	return r < 0 ? db_failed(sv, r, info) : 1;
}

static const struct daemon_sink serve_sink = {
    .connect = serve_connect,
    .disconnect = serve_disconnect,
    .max_message_size = serve_max_message_size,
    .source_opened = serve_source_opened,
    .handle = serve_handle,
    .backlog = serve_backlog,
};

static void help(FILE *out)
{
	fputs("Usage: divemap-ingest serve\n"
	      "\n"
	      "Runs as a daemon: waits for the database, applies pending migrations\n"
	      "([database] auto_migrate), then watches every [imap NAME] (IDLE) and\n"
	      "[maildir NAME] (inotify) source of the configuration and ingests each new\n"
	      "newsletter. Speaks the systemd notify protocol (READY, STATUS, WATCHDOG,\n"
	      "RELOADING, STOPPING); runs in the foreground, logging to stderr, without it.\n"
	      "\n"
	      "Signals: SIGHUP reads the configuration again (an invalid one is refused\n"
	      "and the old one kept); SIGTERM or SIGINT finish the message in hand and\n"
	      "exit.\n",
	      out);
}

static int run(int argc, char **argv, struct cli *cli)
{
	static const struct option options[] = {{"help", no_argument, NULL, 'h'}, {}};
	struct serve sv = {0};
	const struct config *cfg;
	int c, r;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
		if (c == 'h') {
			help(stdout);
			return EX_OK;
		}
		return EX_USAGE;
	}
	if (optind < argc) {
		log_error("serve takes no arguments; the sources are in the configuration");
		return EX_USAGE;
	}
	r = cli_config(cli, &cfg);
	if (r != 0)
		return r;
	r = daemon_run(cfg->path, cfg, &serve_sink, &sv);
	serve_disconnect(&sv);
	worker_free(sv.worker);
	free(sv.names_print);
	return r < 0 ? exit_code_from_errno(r) : EX_OK;
}

const struct command command_serve = {
    .name = "serve",
    .summary = "run as a daemon: watch the IMAP and maildir sources",
    .run = run,
};

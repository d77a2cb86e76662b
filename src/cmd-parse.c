/* cmd-parse.c: `divemap-ingest parse [OPTIONS] FILE...`, the one-shot intake.
 *
 * Each message of each file is stored first (store.h: raw bytes, exactly
 * once), then decoded and extracted by the sandboxed worker, then written
 * (writer.h). --dry-run stores and writes nothing and prints the worker's
 * JSON instead; --no-db needs no database at all. A message the worker
 * cannot decode or dies on is stored and marked failed, and the run goes on.
 *
 * Commit groups. Storing and writing several messages make one transaction
 * (up to --commit-every messages, --commit-ms milliseconds after it began,
 * or GROUP_MAX_BYTES of messages): one durable commit for the group instead
 * of two per message. A message is acked (a maildir's moves to cur/), its
 * outcome logged and its --output-dir file written only once its group is
 * committed. What it risks: a crash or kill loses the uncommitted group,
 * nothing else; those messages were never acked nor committed, so the next
 * `parse` of the same input stores and parses them (the committed ones are
 * duplicates by SHA-256 and skipped). When any statement of a group fails
 * (a database error, a deadlock, a lost connection, a commit that fails),
 * the group is rolled back and its messages are stored and written again
 * one transaction each, with the usual retries, reusing the extraction they
 * had: one bad message is marked failed on its own and the others are
 * recorded as they would have been. A message stored in a transaction of its
 * own is stored claimed (claim.h), so that a daemon's backlog never parses
 * it at the same time; when its outcome cannot be written (the database
 * refuses, or is gone), the claim is handed back and the run stops: the
 * message is left pending, never marked failed for it. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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
#include "source.h"
#include "store.h"
#include "strutil.h"
#include "worker.h"
#include "writer.h"

#define PROGRESS_MIN_BYTES (16u << 20) /* smaller inputs get no progress bar */
#define PROGRESS_PERIOD_NS (200 * 1000000ull)
#define GROUP_MESSAGES     100  /* --commit-every by default */
#define GROUP_MS           1000 /* --commit-ms by default */
#define GROUP_MAX_MESSAGES 10000u
#define GROUP_MAX_BYTES    (32u << 20) /* message bytes held for a group */

struct parse_opts {
	bool dry_run, no_db;
	const char *output_dir;
	unsigned commit_every, commit_ms;
};

/* A message of the open group, copied: its source's buffer is reused. */
struct pending {
	struct source_msg m;
	char *data, *kind, *ref, *account, *mailbox, *name;
	struct store_result res;
	uint64_t store_us;
	/* handed to the extraction thread; under the group's lock until extracted */
	bool submitted, extracted;
	struct pending *next;
	int extract_r; /* once extracted: j and text, or why */
	json_t *j;
	char *text, *why;
	uint64_t duration_us;
	struct writer_stats st;
};

/* The extraction runs in a thread of its own, so that the worker extracts
 * the next messages while this thread stores and writes: the worker and the
 * database work at the same time. Only that thread uses the worker while a
 * group is open; the group waits for it (drains) before a commit or a
 * replay. */
struct group {
	struct pending **items;
	size_t n, cap, bytes;
	size_t written; /* items[0..written) are written in the transaction */
	uint64_t start_ns;
	bool open;                 /* a transaction is open */
	struct writer_cache cache; /* the open transaction's */
	unsigned long long commits, replays;
	struct worker *worker;
	pthread_t thread;
	bool thread_on, stop;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct pending *head, *tail; /* waiting for the thread */
	size_t in_flight;            /* submitted, not yet extracted */
};

struct counts {
	unsigned long long messages, stored, duplicates, likely, failed;
};

struct progress {
	bool on;
	uint64_t total, done; /* bytes */
	uint64_t start_ns, last_ns;
};

struct parse_run {
	struct parse_opts o;
	const struct config *cfg;
	struct db *db;
	struct store *store;
	struct worker *worker;
	size_t max_message_size;
	struct counts n;
	struct progress p;
	struct group g;
	bool input_error;
	char me[300]; /* claimed_by of the messages stored one at a time */
};

static void help(FILE *out)
{
	fputs("Usage: divemap-ingest parse [OPTIONS] FILE...\n"
	      "\n"
	      "Stores, parses and writes the newsletters in FILE: a mailbox (mbox), one\n"
	      "message (.eml), a maildir (its new and unseen messages, moved to cur/ once\n"
	      "stored), or - for standard input. Each message is stored exactly once\n"
	      "(a second run reports duplicates), then its trips are written to the\n"
	      "Divemap database. A message that cannot be parsed is stored, marked failed,\n"
	      "and the run goes on.\n"
	      "\n"
	      "Options:\n"
	      "      --dry-run         write nothing; print each message's result as JSON\n"
	      "                        (names are read from the database)\n"
	      "      --no-db           use no database at all (implies --dry-run; sites and\n"
	      "                        centers are then not resolved: their ids are null)\n"
	      "      --output-dir=DIR  write each result to DIR/NAME.json instead of printing\n"
	      "                        it, NAME being the file name without extension\n"
	      "                        (MAILBOX-NNNN for the messages of a mailbox); a message\n"
	      "                        stored before is not parsed again and gets no file\n"
	      "      --commit-every=N  store and write up to N messages in one transaction\n"
	      "                        (default 100; 1: each message on its own); a crash\n"
	      "                        loses the uncommitted ones, which the next run of the\n"
	      "                        same input stores again\n"
	      "      --commit-ms=MS    commit a group at the latest MS milliseconds after it\n"
	      "                        began (default 1000)\n"
	      "  -h, --help            this help\n"
	      "\n"
	      "Exit status (sysexits.h): 0 every message stored and parsed (or known\n"
	      "already), 65 some message failed, 66 an input could not be read, 75 the\n"
	      "database is not reachable (try again), 64 usage, 78 configuration.\n",
	      out);
}

static int parse_args(int argc, char **argv, struct parse_opts *o)
{
	enum { OPT_DRY_RUN = 0x100, OPT_NO_DB, OPT_OUTPUT_DIR, OPT_COMMIT_EVERY, OPT_COMMIT_MS };
	static const struct option options[] = {
	    {"dry-run", no_argument, NULL, OPT_DRY_RUN},
	    {"no-db", no_argument, NULL, OPT_NO_DB},
	    {"output-dir", required_argument, NULL, OPT_OUTPUT_DIR},
	    {"commit-every", required_argument, NULL, OPT_COMMIT_EVERY},
	    {"commit-ms", required_argument, NULL, OPT_COMMIT_MS},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	unsigned long long v;
	int c;

	o->commit_every = GROUP_MESSAGES;
	o->commit_ms = GROUP_MS;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
		switch (c) {
		case OPT_COMMIT_EVERY:
		case OPT_COMMIT_MS:
			if (parse_uint(optarg, c == OPT_COMMIT_MS ? 3600000 : GROUP_MAX_MESSAGES,
				       &v) < 0 ||
			    v == 0) {
				log_error("parse: --%s: '%s' is not a number from 1 to %u",
					  c == OPT_COMMIT_MS ? "commit-ms" : "commit-every", optarg,
					  c == OPT_COMMIT_MS ? 3600000 : GROUP_MAX_MESSAGES);
				return EX_USAGE;
			}
			if (c == OPT_COMMIT_MS)
				o->commit_ms = (unsigned)v;
			else
				o->commit_every = (unsigned)v;
			break;
		case OPT_DRY_RUN:
			o->dry_run = true;
			break;
		case OPT_NO_DB:
			o->no_db = o->dry_run = true;
			break;
		case OPT_OUTPUT_DIR:
			o->output_dir = optarg;
			break;
		case 'h':
			help(stdout);
			exit(EX_OK);
		default:
			return EX_USAGE;
		}
	}
	if (optind >= argc) {
		log_error("parse: which files? (see divemap-ingest parse --help)");
		return EX_USAGE;
	}
	return 0;
}

/* ---- progress on a terminal ---- */

static void progress_init(struct progress *p, char **files, int n)
{
	struct stat st;

	*p = (struct progress){.start_ns = clock_now_ns()};
	if (!isatty(STDERR_FILENO) || log_get_max_level() < LOG_INFO)
		return;
	for (int i = 0; i < n; i++)
		if (!streq(files[i], "-") && stat(files[i], &st) == 0 && S_ISREG(st.st_mode))
			p->total += (uint64_t)st.st_size;
	p->on = p->total >= PROGRESS_MIN_BYTES;
}

static void progress_show(struct progress *p, const struct counts *n, bool force)
{
	uint64_t t = clock_now_ns();
	double secs, rate;
	char eta[32] = "";

	if (!p->on || (!force && t - p->last_ns < PROGRESS_PERIOD_NS))
		return;
	p->last_ns = t;
	secs = (double)(t - p->start_ns) / 1e9;
	rate = secs > 0 ? (double)p->done / secs : 0;
	if (rate > 0 && p->total > p->done) {
		unsigned long left = (unsigned long)((double)(p->total - p->done) / rate);
		snprintf(eta, sizeof(eta), " ETA %lu:%02lu", left / 60, left % 60);
	}
	fprintf(stderr, "\r\033[K%llu messages  %3.0f%%  %.1f MB/s%s", n->messages,
		p->total
		    ? 100.0 * (double)(p->done < p->total ? p->done : p->total) / (double)p->total
		    : 0.0,
		rate / 1e6, eta);
}

static void progress_end(struct progress *p)
{
	if (p->on)
		fputs("\r\033[K", stderr);
}

/* ---- output ---- */

/* "dir/all.mbox" + 3 -> "all-0003"; "x/001-a.eml" -> "001-a"; a maildir
 * message: its file name. */
static char *output_name(const char *path, const struct source_msg *m, unsigned index)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	const char *dot = strrchr(base, '.');
	int len = (int)(dot && dot != base ? (size_t)(dot - base) : strlen(base));
	char *s;

	if (streq(path, "-")) {
		base = "stdin";
		len = 5;
	} else if (streq(m->kind, "maildir")) {
		/* the message's file name without its ":2,FLAGS" info */
		base = m->ref;
		len = (int)strcspn(m->ref, ":");
	}
	if (streq(m->kind, "mbox") || (streq(m->kind, "stdin") && strchr(m->ref, ':')))
		return asprintf(&s, "%.*s-%04u", len, base, index) < 0 ? NULL : s;
	return asprintf(&s, "%.*s", len, base) < 0 ? NULL : s;
}

/* Writes text and a newline to standard output or DIR/NAME.json. */
static int write_output_text(struct parse_run *run, const char *name, const char *text, size_t n)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_fclose_ FILE *f = NULL;

	if (!run->o.output_dir) {
		if (fwrite(text, 1, n, stdout) != n || fputc('\n', stdout) == EOF)
			return log_error_errno(EIO, "cannot write the output");
		return 0;
	}
	if (asprintf(&path, "%s/%s.json", run->o.output_dir, name) < 0)
		return -ENOMEM;
	f = fopen(path, "we");
	if (!f)
		return log_error_errno(errno, "cannot create '%s': %m", path);
	if (fwrite(text, 1, n, f) != n || fputc('\n', f) == EOF || fflush(f) != 0)
		return log_error_errno(EIO, "cannot write '%s'", path);
	return 0;
}

/* The JSON the way the worker prints it (pipeline.c), so that a result
 * printed as the worker wrote it and one printed from its tree are the same
 * bytes. */
static int write_output(struct parse_run *run, const char *name, const json_t *j)
{
	_cleanup_free_ char *text = json_dumps(j, JSON_INDENT(2));

	if (!text)
		return -ENOMEM;
	return write_output_text(run, name, text, strlen(text));
}

/* The result a failed message gets in the output. */
static json_t *failure_json(const struct source_msg *m, const char *reason)
{
	return json_pack("{s:s, s:s, s:s, s:[]}", "source_ref", m->ref, "status", "failed",
			 "reason", reason ? reason : "unknown", "trips");
}

/* ---- one message ---- */

static uint64_t elapsed_us(uint64_t since_ns)
{
	return (clock_now_ns() - since_ns) / 1000;
}

/* The worker's JSON is printed as it came: decoding it only to print it
 * again would give the same bytes. */
static int dry_run_message(struct parse_run *run, const struct source_msg *m, const char *name)
{
	_cleanup_free_ char *why = NULL, *text = NULL;
	json_t *j;
	int r;

	r = ingest_extract_text(run->worker, m->data, m->len, m->full_size, &text, &why);
	if (r == -ENOMEM)
		return r;
	if (r >= 0)
		return write_output_text(run, name, text, strlen(text));
	run->n.failed++;
	log_warning("%s: %s", m->ref, why ? why : "cannot be parsed");
	j = failure_json(m, why);
	if (!j)
		return -ENOMEM;
	r = write_output(run, name, j);
	json_decref(j);
	return r;
}

/* Logs and counts the outcome of storing; 1 when it is new and should be parsed. */
static int account_stored(struct parse_run *run, const struct source_msg *m,
			  const struct store_result *res)
{
	switch (res->outcome) {
	case STORE_DUPLICATE:
		run->n.duplicates++;
		log_info("%s: already stored (message %llu), skipped", m->ref, res->message_id);
		return 0;
	case STORE_LIKELY_DUPLICATE:
		run->n.likely++;
		log_notice("%s: likely a duplicate of message %llu (same Message-ID and sender, "
			   "other bytes), not stored ([parser] store_likely_duplicates)",
			   m->ref, res->message_id);
		return 0;
	default:
		run->n.stored++;
		if (res->likely_duplicate_of)
			log_notice("%s: stored as message %llu, likely a duplicate of message %llu",
				   m->ref, res->message_id, res->likely_duplicate_of);
		if (res->content_rendered)
			log_info("%s: newsletter %lld holds a UTF-8 rendering of the message "
				 "(not valid UTF-8, or larger than newsletters.content)",
				 m->ref, res->newsletter_id);
		return 1;
	}
}

/* Stores the message; 1 when it is new and should be parsed. */
static int store_one(struct parse_run *run, const struct source_msg *m, struct store_result *res)
{
	int r = store_message_claimed(run->store, run->db, m, run->me, res);

	if (r < 0)
		return log_error_errno(r, "%s: cannot store the message: %s", m->ref,
				       db_error(run->db));
	return account_stored(run, m, res);
}

/* Nothing could be recorded for a message stored claimed: the claim handed
 * back when the database still takes that, else left to the backlog of
 * `serve` (the claim of a process that is gone); r returned. */
static int give_back(struct parse_run *run, const struct source_msg *m,
		     const struct store_result *res, int r)
{
	int k = res->claimed ? claim_release(run->db, run->me, res->message_id) : 0;

	if (k > 0)
		log_error("%s: stored as message %llu, but its outcome cannot be written: "
			  "stopping; it is left pending (serve's backlog or `reparse "
			  "--newsletter %lld` parses it)",
			  m->ref, res->message_id, res->newsletter_id);
	else
		log_error("%s: stored as message %llu, but its outcome cannot be written: "
			  "stopping; it stays claimed by this process, which serve hands back "
			  "when it starts",
			  m->ref, res->message_id);
	return r;
}

/* One message in transactions of its own. pre: the extraction it had in a
 * group that was rolled back (taken over), or NULL. */
static int store_and_parse(struct parse_run *run, const struct source_msg *m, const char *name,
			   struct pending *pre)
{
	_cleanup_free_ char *why = NULL;
	struct store_result res;
	struct writer_stats st;
	uint64_t start = clock_now_ns(), duration;
	json_t *j = NULL;
	int r;

	r = store_one(run, m, &res);
	if (r <= 0)
		return r;
	if (pre && pre->extracted && pre->extract_r != -ENOMEM) {
		j = TAKE_PTR(pre->j);
		why = TAKE_PTR(pre->why);
		duration = pre->duration_us;
	} else {
		r = ingest_extract(run->worker, m->data, m->len, m->full_size, &j, &why);
		if (r == -ENOMEM)
			return give_back(run, m, &res, r);
		duration = elapsed_us(start);
	}
	r = ingest_write(&run->db, run->cfg, res.message_id, res.newsletter_id, j, why, duration,
			 &st);
	if (r < 0)
		r = give_back(run, m, &res, r);
	else if (!j)
		log_warning("%s: stored as message %llu, marked failed: %s", m->ref, res.message_id,
			    why ? why : "cannot be parsed");
	if (r >= 0 && streq(st.status, "failed"))
		run->n.failed++;
	if (r >= 0 && j && run->o.output_dir)
		r = write_output(run, name, j);
	json_decref(j);
	return r;
}

static void ack(struct source *s, const struct source_msg *m)
{
	int r = source_ack(s, m);

	if (r < 0)
		log_warning_errno(r, "%s: cannot mark the message as read: %m, ignoring", m->ref);
}

/* ---- commit groups ---- */

static void pending_free(struct pending *p)
{
	if (!p)
		return;
	free(p->data);
	free(p->kind);
	free(p->ref);
	free(p->account);
	free(p->mailbox);
	free(p->name);
	free(p->why);
	free(p->text);
	json_decref(p->j);
	free(p);
}

static char *strdup_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static int pending_new(const struct source_msg *m, const char *name, struct pending **ret)
{
	struct pending *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	p->m = *m;
	p->data = malloc(m->len ? m->len : 1);
	p->kind = strdup_null(m->kind);
	p->ref = strdup_null(m->ref);
	p->account = strdup_null(m->account);
	p->mailbox = strdup_null(m->mailbox);
	p->name = strdup_null(name);
	if (!p->data || (m->kind && !p->kind) || (m->ref && !p->ref) ||
	    (m->account && !p->account) || (m->mailbox && !p->mailbox) || (name && !p->name)) {
		pending_free(p);
		return -ENOMEM;
	}
	memcpy(p->data, m->data, m->len);
	p->m.data = p->data;
	p->m.kind = p->kind;
	p->m.ref = p->ref;
	p->m.account = p->account;
	p->m.mailbox = p->mailbox;
	*ret = p;
	return 0;
}

static void extract_into(struct worker *w, struct pending *p)
{
	uint64_t start = clock_now_ns();
	json_t *j = NULL;
	char *text = NULL, *why = NULL;
	int r = ingest_extract_both(w, p->m.data, p->m.len, p->m.full_size, &j, &text, &why);

	p->j = j;
	p->text = text;
	p->why = why;
	p->extract_r = r;
	p->duration_us = p->store_us + elapsed_us(start);
}

static void *extract_thread(void *userdata)
{
	struct group *g = userdata;

	pthread_mutex_lock(&g->lock);
	for (;;) {
		struct pending *p = g->head;

		if (!p) {
			if (g->stop)
				break;
			pthread_cond_wait(&g->cond, &g->lock);
			continue;
		}
		g->head = p->next;
		if (!g->head)
			g->tail = NULL;
		pthread_mutex_unlock(&g->lock);
		extract_into(g->worker, p);
		pthread_mutex_lock(&g->lock);
		p->extracted = true;
		g->in_flight--;
		pthread_cond_broadcast(&g->cond);
	}
	pthread_mutex_unlock(&g->lock);
	return NULL;
}

static void group_init(struct group *g, struct worker *w)
{
	g->worker = w;
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->cond, NULL);
	/* without the thread, messages are extracted as they are submitted */
	g->thread_on = pthread_create(&g->thread, NULL, extract_thread, g) == 0;
}

static void group_clear(struct group *g)
{
	for (size_t i = 0; i < g->n; i++)
		pending_free(g->items[i]);
	g->n = 0;
	g->bytes = 0;
	g->written = 0;
}

static void group_done(struct group *g)
{
	if (g->thread_on) {
		pthread_mutex_lock(&g->lock);
		g->stop = true;
		pthread_cond_broadcast(&g->cond);
		pthread_mutex_unlock(&g->lock);
		pthread_join(g->thread, NULL);
		g->thread_on = false;
	}
	if (g->worker) {
		pthread_mutex_destroy(&g->lock);
		pthread_cond_destroy(&g->cond);
	}
	group_clear(g);
	free(g->items);
}

static void submit(struct group *g, struct pending *p)
{
	p->submitted = true;
	if (!g->thread_on) {
		extract_into(g->worker, p);
		p->extracted = true;
		return;
	}
	pthread_mutex_lock(&g->lock);
	if (g->tail)
		g->tail->next = p;
	else
		g->head = p;
	g->tail = p;
	g->in_flight++;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
}

static bool is_extracted(struct group *g, struct pending *p)
{
	bool done;

	if (!g->thread_on)
		return p->extracted;
	pthread_mutex_lock(&g->lock);
	done = p->extracted;
	pthread_mutex_unlock(&g->lock);
	return done;
}

/* Waits until the thread has extracted everything submitted. */
static void drain(struct group *g)
{
	if (!g->thread_on)
		return;
	pthread_mutex_lock(&g->lock);
	while (g->in_flight > 0)
		pthread_cond_wait(&g->cond, &g->lock);
	pthread_mutex_unlock(&g->lock);
}

/* Something in the group failed: roll it back and record its messages one
 * transaction each, as if there had been no group. */
static int group_replay(struct parse_run *run, struct source *s, const char *why)
{
	struct group *g = &run->g;
	int r = 0;

	drain(g);
	if (g->open)
		(void)db_rollback(run->db);
	g->open = false;
	g->replays++;
	log_warning("a transaction of %zu messages failed (%s): rolled back, storing its messages "
		    "one by one",
		    g->n, why);
	for (size_t i = 0; i < g->n && r >= 0; i++) {
		struct pending *p = g->items[i];

		r = store_and_parse(run, &p->m, p->name, p);
		if (r >= 0)
			ack(s, &p->m);
	}
	group_clear(g);
	return r;
}

/* Writes, in order, the messages whose extraction is done; with wait, all of
 * them. -ENOMEM is fatal; another error replays the group. */
static int group_write(struct parse_run *run, struct source *s, bool wait)
{
	struct group *g = &run->g;
	char why[sizeof(g->items[0]->st.reason)];
	int r;

	if (wait)
		drain(g);
	for (; g->written < g->n; g->written++) {
		struct pending *p = g->items[g->written];

		if (!p->submitted)
			continue;
		if (!is_extracted(g, p))
			return 0;
		if (p->extract_r == -ENOMEM)
			return -ENOMEM;
		r = ingest_write_in_transaction(run->db, p->res.message_id, p->res.newsletter_id,
						p->j, p->text, p->why, p->duration_us, &g->cache,
						&p->st);
		if (r < 0) {
			snprintf(why, sizeof(why), "%s", p->st.reason);
			return group_replay(run, s, why);
		}
	}
	return 0;
}

/* A message of the committed group: logged, counted, its file written, acked. */
static int group_finish(struct parse_run *run, struct source *s, struct pending *p)
{
	struct writer_input in = {
	    .message_id = p->res.message_id, .newsletter_id = p->res.newsletter_id, .result = p->j};
	int r = 0;

	if (account_stored(run, &p->m, &p->res) > 0) {
		if (!p->j)
			log_warning("%s: stored as message %llu, marked failed: %s", p->m.ref,
				    p->res.message_id, p->why ? p->why : "cannot be parsed");
		writer_log_outcome(&in, &p->st);
		if (streq(p->st.status, "failed"))
			run->n.failed++;
		if (p->j && run->o.output_dir)
			r = write_output(run, p->name, p->j);
	}
	ack(s, &p->m);
	return r;
}

static int group_commit(struct parse_run *run, struct source *s)
{
	struct group *g = &run->g;
	int r, ret = 0;

	if (!g->open)
		return 0;
	r = group_write(run, s, true);
	if (r < 0 || !g->open) /* fatal, or replayed */
		return r;
	r = db_commit(run->db);
	if (r < 0)
		return group_replay(run, s, db_error(run->db));
	g->open = false;
	g->commits++;
	for (size_t i = 0; i < g->n; i++) {
		r = group_finish(run, s, g->items[i]);
		if (r < 0 && ret == 0)
			ret = r;
	}
	group_clear(g);
	return ret;
}

/* Stores the message in the open group (opened when none is) and hands it
 * to the extraction thread; writes what has been extracted; commits the
 * group when it is full or old enough. */
static int group_add(struct parse_run *run, struct source *s, const struct source_msg *m,
		     const char *name)
{
	struct group *g = &run->g;
	struct pending *p;
	uint64_t start = clock_now_ns();
	int r;

	if (g->n == g->cap) {
		size_t cap = g->cap ? 2 * g->cap : 16;
		struct pending **items = reallocarray(g->items, cap, sizeof(*items));
		if (!items)
			return -ENOMEM;
		g->items = items;
		g->cap = cap;
	}
	r = pending_new(m, name, &p);
	if (r < 0)
		return r;
	g->items[g->n++] = p;
	g->bytes += m->len;
	if (!g->open) {
		r = db_begin(run->db);
		if (r < 0)
			return group_replay(run, s, db_error(run->db));
		g->open = true;
		g->start_ns = start;
		g->cache = (struct writer_cache){0};
	}
	r = store_message_in_transaction(run->store, run->db, &p->m, &p->res);
	if (r < 0)
		return group_replay(run, s, db_error(run->db));
	p->store_us = elapsed_us(start);
	if (p->res.outcome == STORE_STORED)
		submit(g, p);
	r = group_write(run, s, false);
	if (r < 0 || !g->open)
		return r;
	if (g->n >= run->o.commit_every || g->bytes >= GROUP_MAX_BYTES ||
	    clock_now_ns() - g->start_ns >= (uint64_t)run->o.commit_ms * 1000000u)
		return group_commit(run, s);
	return 0;
}

static int handle_message(struct parse_run *run, struct source *s, const char *path,
			  const struct source_msg *m, unsigned index)
{
	_cleanup_free_ char *name = output_name(path, m, index);
	int r;

	if (!name)
		return -ENOMEM;
	run->n.messages++;
	run->p.done += m->full_size ? m->full_size : m->len;
	if (run->o.dry_run)
		return dry_run_message(run, m, name);
	if (run->o.commit_every > 1)
		return group_add(run, s, m, name);
	r = store_and_parse(run, m, name, NULL);
	/* stored (or known already): a maildir moves it to cur/ */
	if (r >= 0)
		ack(s, m);
	return r;
}

/* Every message of one file; a fatal error (database gone) returns < 0. */
static int parse_file(struct parse_run *run, const char *path)
{
	_cleanup_(source_closep) struct source *s = NULL;
	_cleanup_free_ char *why = NULL;
	struct source_msg m;
	unsigned index = 0;
	int r;

	r = source_open_path(path, run->max_message_size, &s, &why);
	if (r < 0) {
		run->input_error = true;
		log_error_errno(r, "%s", why ? why : "cannot open the input: %m");
		return 0;
	}
	for (;;) {
		r = source_fetch(s, &m);
		if (r == 0)
			break;
		if (r == -EBADMSG) {
			run->n.messages++;
			run->n.failed++;
			continue;
		}
		if (r < 0) {
			run->input_error = true;
			log_error_errno(r, "cannot read '%s': %m", path);
			break;
		}
		r = handle_message(run, s, path, &m, ++index);
		if (r < 0)
			return r;
		progress_show(&run->p, &run->n, false);
	}
	/* the source acks the group's messages: committed before it closes */
	return group_commit(run, s);
}

/* ---- set-up ---- */

/* --output-dir: made when it does not exist (its parent must). */
static int open_output_dir(const char *dir)
{
	struct stat st;

	if (!dir)
		return 0;
	if (mkdir(dir, 0777) < 0 && errno != EEXIST)
		return log_error_errno(errno, "cannot create '%s': %m", dir), EX_CANTCREAT;
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return log_error("--output-dir: '%s' is not a directory", dir), EX_CANTCREAT;
	return 0;
}

static int open_database(struct parse_run *run)
{
	_cleanup_free_ char *why = NULL;
	int r;

	if (run->o.no_db)
		return 0;
	if (run->o.dry_run) {
		/* a quick answer: no retries for a look at what would be parsed */
		r = db_open_once(run->cfg, &run->db, &why);
		if (r < 0) {
			log_error_errno(r,
					"cannot reach the database: %s; use --no-db to parse "
					"without it (sites and centers then stay unresolved)",
					why ? why : "unknown error");
			return exit_code_from_errno(r);
		}
		return 0;
	}
	r = db_open(run->cfg, &run->db); /* logs why */
	if (r < 0)
		return exit_code_from_errno(r);
	r = migrate_ensure(run->db, run->cfg);
	if (r < 0)
		return exit_code_from_errno(r);
	r = store_new(run->db, run->cfg, &run->store);
	if (r < 0) {
		log_error_errno(r, "cannot read the newsletters table's limits: %s",
				db_error(run->db));
		return exit_code_from_errno(r);
	}
	run->max_message_size = store_max_message_size(run->store);
	if (run->max_message_size < run->cfg->parser.max_message_size)
		log_notice("the server's max_allowed_packet lowers the message size bound to %zu "
			   "bytes ([parser] max_message_size is %llu)",
			   run->max_message_size,
			   (unsigned long long)run->cfg->parser.max_message_size);
	return 0;
}

/* Starts the worker (its rules are checked before any message is read) and
 * hands it the database's names, or none with --no-db. */
static int start_worker(struct parse_run *run)
{
	static const char no_names[] = "{\"sites\": [], \"aliases\": [], \"centers\": []}";
	_cleanup_free_ char *names = NULL;
	size_t len = strlen(no_names);
	int r;

	/* the worker starts now and says what is wrong (rules, sandbox) itself */
	r = worker_new_from_config(run->cfg, run->max_message_size, &run->worker);
	if (r < 0)
		return r == -EINVAL || r == -ENOENT ? EX_CONFIG : EX_OSERR;
	if (run->db) {
		r = names_load(run->db, &names, &len);
		if (r < 0)
			return log_error_errno(r, "cannot read dive sites and centers: %s",
					       db_error(run->db)),
			       exit_code_from_errno(r);
	}
	r = worker_set_names(run->worker, names ? names : no_names, len);
	if (r < 0)
		return r == -EINVAL || r == -ENOENT ? EX_CONFIG : EX_SOFTWARE;
	return 0;
}

static int finish(struct parse_run *run, int r)
{
	progress_show(&run->p, &run->n, true);
	progress_end(&run->p);
	if (fflush(stdout) != 0 && r >= 0)
		r = log_error_errno(errno, "cannot write the output: %m");
	if (run->g.replays)
		log_notice("%llu of %llu transactions of several messages failed: their messages "
			   "were stored one by one",
			   run->g.replays, run->g.replays + run->g.commits);
	if (run->n.likely)
		log_notice("%llu messages, %llu stored, %llu duplicates (%llu likely), %llu failed",
			   run->n.messages, run->n.stored, run->n.duplicates + run->n.likely,
			   run->n.likely, run->n.failed);
	else
		log_notice("%llu messages, %llu stored, %llu duplicates, %llu failed",
			   run->n.messages, run->n.stored, run->n.duplicates, run->n.failed);
	if (r < 0)
		return exit_code_from_errno(r);
	if (run->input_error)
		return EX_NOINPUT;
	return run->n.failed ? EX_DATAERR : EX_OK;
}

static int run(int argc, char **argv, struct cli *cli)
{
	struct parse_run run = {0};
	int r;

	r = parse_args(argc, argv, &run.o);
	r = r ?: cli_config(cli, &run.cfg);
	if (r != 0)
		return r;
	run.max_message_size = run.cfg->parser.max_message_size;
	claim_me(run.me, sizeof(run.me));
	r = open_output_dir(run.o.output_dir);
	r = r ?: open_database(&run);
	r = r ?: start_worker(&run);
	if (r == 0 && !run.o.dry_run && run.o.commit_every > 1)
		group_init(&run.g, run.worker);
	if (r == 0) {
		progress_init(&run.p, argv + optind, argc - optind);
		for (int i = optind; i < argc && r >= 0; i++)
			r = parse_file(&run, argv[i]);
		r = finish(&run, r);
	}
	group_done(&run.g);
	worker_free(run.worker);
	store_free(run.store);
	db_free(run.db);
	return r;
}

const struct command command_parse = {
    .name = "parse",
    .summary = "store and parse mailbox or message files (--dry-run: print, write nothing)",
    .run = run,
};

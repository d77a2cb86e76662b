/* daemon.c: the `serve` event loop, see daemon.h. Reads as timesyncd's run():
 * daemon_run() lists the steps; each handler below is one of them. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <systemd/sd-event.h>

#include "config.h"
#include "daemon.h"
#include "log.h"
#include "notify.h"
#include "source.h"
#include "strutil.h"

#define BACKOFF_MIN_US    (1ull * 1000000u)
#define BACKOFF_MAX_US    (300ull * 1000000u)
#define DB_BACKOFF_MAX_US (30ull * 1000000u)              /* a database that refuses writes */
#define PRIORITY_WORK     (SD_EVENT_PRIORITY_NORMAL + 10) /* after signals and I/O */

struct daemon;

struct dsource {
	struct daemon *d;
	const struct config_source *cs;
	struct source *s;
	bool pending; /* fetch() may have something */
	bool ok_once; /* fetched without error since opened */
	int error;    /* the failure last logged, 0 when fine */
	unsigned failures;
	sd_event_source *retry;
};

struct daemon {
	sd_event *event;
	const char *config_path;
	const struct config *cfg;
	struct config *own_cfg; /* after a reload */
	const struct daemon_sink *sink;
	void *userdata;
	bool connected, ready, reloading;
	bool started; /* READY=1 was sent once: later failures are waited out */
	unsigned db_attempt;
	unsigned db_failures; /* the database refused a message: tries since */
	time_t db_failing_since;
	char db_error[96]; /* its reason, for STATUS= */
	bool backlog;      /* the sink may hold messages left unparsed */
	unsigned long long n_backlog;
	sd_event_source *connect_timer, *work;
	struct dsource *src;
	size_t n_src, next; /* next: the turn, n_src meaning the backlog */
	unsigned long long n_newsletters;
	time_t last_at;
	char last_from[128];
	char last_status[256];
};

static uint64_t jitter(uint64_t us)
{
	unsigned r = 0;

	(void)getrandom(&r, sizeof(r), GRND_NONBLOCK);
	return us / 2 + (us / 2) * (r % 1000) / 1000; /* 50-100 % */
}

static bool error_is_permanent(int r)
{
	return r == -EPERM || r == -EACCES || r == -EINVAL || r == -ENOENT || r == -ENOTDIR;
}

/* ---- status ---- */

static void thousands(unsigned long long n, char *out, size_t size)
{
	char digits[32];
	size_t len = (size_t)snprintf(digits, sizeof(digits), "%llu", n), o = 0;

	for (size_t i = 0; i < len && o + 2 < size; i++) {
		if (i > 0 && (len - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = digits[i];
	}
	out[o] = '\0';
}

static void status_line(struct daemon *d, const char *state, char *out, size_t size)
{
	char n[32], when[16] = "";
	size_t o;
	struct tm tm;

	thousands(d->n_newsletters, n, sizeof(n));
	o = (size_t)snprintf(out, size, "%s; %s newsletter%s", state, n,
			     d->n_newsletters == 1 ? "" : "s");
	if (d->last_at && o < size && localtime_r(&d->last_at, &tm)) {
		strftime(when, sizeof(when), "%H:%M", &tm);
		o += (size_t)snprintf(out + o, size - o, "; last %s%s%s", when,
				      d->last_from[0] ? " from " : "", d->last_from);
	}
	for (size_t i = 0; i < d->n_src && o < size; i++)
		if (d->src[i].error)
			o += (size_t)snprintf(out + o, size - o, "; %s: retrying",
					      d->src[i].cs->name);
	if (d->db_failures && o < size)
		snprintf(out + o, size - o, "; database refuses (%s): retrying (try %u)",
			 d->db_error, d->db_failures);
}

/* Sends STATUS= when it changed: a busy loop must not flood the manager. */
static void update_status(struct daemon *d, const char *state)
{
	char line[256];

	status_line(d, state, line, sizeof(line));
	if (streq(line, d->last_status))
		return;
	snprintf(d->last_status, sizeof(d->last_status), "%s", line);
	(void)notify_status("%s", line);
}

static void check_ready(struct daemon *d)
{
	char line[256];
	size_t n_ok = 0;

	if (d->ready || !d->connected)
		return;
	/* at start-up every source must have worked once; a reload is done when
	 * the database is back and the sources are open (or being retried) */
	for (size_t i = 0; i < d->n_src && !d->started; i++)
		if (!d->src[i].ok_once)
			return;
	d->ready = true;
	d->started = true;
	status_line(d, "idle", line, sizeof(line));
	(void)notify_ready(line);
	for (size_t i = 0; i < d->n_src; i++)
		n_ok += d->src[i].s && !d->src[i].error;
	/* a reconnect while the database refuses is one of its tries: not news */
	log_full(d->db_failures ? LOG_DEBUG : LOG_INFO, 0, NULL, "%s: %zu of %zu source%s open",
		 d->reloading ? "reloaded" : "ready", n_ok, d->n_src, d->n_src == 1 ? "" : "s");
	d->reloading = false;
}

/* ---- sources ---- */

static void close_sources(struct daemon *d)
{
	for (size_t i = 0; i < d->n_src; i++) {
		sd_event_source_disable_unref(d->src[i].retry);
		source_close(d->src[i].s);
	}
	free(d->src);
	d->src = NULL;
	d->n_src = d->next = 0;
}

static void work_on(struct daemon *d)
{
	(void)sd_event_source_set_enabled(d->work, SD_EVENT_ON);
}

static void on_wake(struct source *s, void *userdata)
{
	struct dsource *ds = userdata;

	ds->pending = true;
	work_on(ds->d);
}

static int on_retry(sd_event_source *es, uint64_t usec, void *userdata)
{
	struct dsource *ds = userdata;

	ds->retry = sd_event_source_disable_unref(ds->retry);
	ds->pending = true;
	work_on(ds->d);
	return 0;
}

static size_t max_message_size(struct daemon *d)
{
	size_t max = d->sink->max_message_size ? d->sink->max_message_size(d->userdata) : 0;

	return max ? max : (size_t)d->cfg->parser.max_message_size;
}

/* Opens, prepares and watches one configured source; 0 or -errno (logged). */
static int dsource_open(struct dsource *ds)
{
	struct daemon *d = ds->d;
	_cleanup_free_ char *why = NULL;
	int r;

	r = source_open_config(ds->cs, max_message_size(d), &ds->s, &why);
	if (r < 0)
		return log_error_errno(r, "source %s: %s", ds->cs->name,
				       why ? why : "cannot open: %m");
	if (d->sink->source_opened)
		r = d->sink->source_opened(d->userdata, ds->s);
	if (r >= 0 && ds->s->driver->watch) {
		r = ds->s->driver->watch(ds->s, d->event, on_wake, ds);
		if (r < 0)
			log_error_errno(r, "source %s: cannot watch it: %m", ds->cs->name);
	}
	if (r < 0)
		ds->s = source_close(ds->s);
	return r;
}

static void source_failed(struct dsource *ds, int r);

/* At start-up a source that cannot be opened is fatal; after a reload it is
 * retried like a lost connection. */
static int open_sources(struct daemon *d)
{
	int r;

	d->src = calloc(d->cfg->n_sources, sizeof(*d->src));
	if (!d->src && d->cfg->n_sources > 0)
		return -ENOMEM;
	d->n_src = d->cfg->n_sources;
	for (size_t i = 0; i < d->n_src; i++)
		d->src[i] = (struct dsource){.d = d, .cs = &d->cfg->sources[i], .pending = true};
	for (size_t i = 0; i < d->n_src; i++) {
		r = dsource_open(&d->src[i]);
		if (r < 0 && !d->started)
			return r;
		if (r < 0)
			source_failed(&d->src[i], r);
	}
	return 0;
}

/* A fetch failed on the connection: back off, log only a change of state. */
static void source_failed(struct dsource *ds, int r)
{
	uint64_t delay = BACKOFF_MIN_US << (ds->failures < 16 ? ds->failures : 16);
	int k;

	if (!ds->d->started && error_is_permanent(r)) {
		/* refused login, untrusted certificate, no such mailbox: at start-up
		 * that is a configuration to fix, and the service fails now */
		log_error_errno(r, "source %s: %m; giving up", ds->cs->name);
		(void)sd_event_exit(ds->d->event, r);
		return;
	}
	if (delay > BACKOFF_MAX_US || error_is_permanent(r))
		delay = BACKOFF_MAX_US;
	delay = jitter(delay);
	if (ds->error == 0) /* a change of state: fine -> failing */
		log_full(error_is_permanent(r) ? LOG_ERR : LOG_WARNING, r,
			 LOG_FIELDS({"SOURCE", ds->cs->name}, {"SOURCE_STATE", "failing"}),
			 "source %s: %m; retrying with back-off (now %.1f s)", ds->cs->name,
			 (double)delay / 1e6);
	else
		log_debug("source %s: still failing (%d), next try in %.1f s", ds->cs->name, r,
			  (double)delay / 1e6);
	ds->error = r;
	ds->failures++;
	ds->pending = false;
	ds->retry = sd_event_source_disable_unref(ds->retry);
	k = sd_event_add_time_relative(ds->d->event, &ds->retry, CLOCK_MONOTONIC, delay, 100000,
				       on_retry, ds);
	if (k < 0)
		log_error_errno(k, "source %s: cannot arm the retry timer: %m", ds->cs->name);
}

static void source_fine(struct dsource *ds)
{
	if (ds->error)
		log_full(LOG_INFO, 0,
			 LOG_FIELDS({"SOURCE", ds->cs->name}, {"SOURCE_STATE", "working"}),
			 "source %s: working again after %u failed tr%s", ds->cs->name,
			 ds->failures, ds->failures == 1 ? "y" : "ies");
	ds->error = 0;
	ds->failures = 0;
	ds->ok_once = true;
}

static void start_connecting(struct daemon *d, uint64_t delay_us);

/* The database took no message (lost, read-only, a privilege missing): the
 * message stays at its source; connect again after a back-off. Logged when
 * it starts, not per try. */
static void database_failed(struct daemon *d, int r, const char *ref, const char *why)
{
	uint64_t delay = BACKOFF_MIN_US << (d->db_failures < 8 ? d->db_failures : 8);
	char reason[300];

	delay = jitter(delay > DB_BACKOFF_MAX_US ? DB_BACKOFF_MAX_US : delay);
	/* connected with every source working: that is ready (a service manager
	 * waiting for READY=1 must not time out on a read-only database) */
	if (d->connected && d->db_failures == 0)
		check_ready(d);
	if (d->db_failures == 0) {
		d->db_failing_since = time(NULL);
		/* the server's words, else the errno's */
		errno = -r;
		if (why && *why)
			snprintf(reason, sizeof(reason), "%s", why);
		else
			snprintf(reason, sizeof(reason), "%m");
		log_full(LOG_ERR, r, LOG_FIELDS({"DATABASE_STATE", "failing"}),
			 "database: %s could not be written (%s): it stays for the next try; "
			 "reconnecting and retrying with back-off (now %.1f s, at most %.0f s)",
			 ref && *ref ? ref : "a message", reason, (double)delay / 1e6,
			 (double)DB_BACKOFF_MAX_US / 1e6);
	} else
		log_debug("database: still refusing (%d), try %u, next in %.1f s", r,
			  d->db_failures + 1, (double)delay / 1e6);
	snprintf(d->db_error, sizeof(d->db_error), "%s",
		 why && *why        ? why
		 : r == -ECONNRESET ? "connection lost"
				    : "error");
	d->db_failures++;
	start_connecting(d, delay);
}

/* A message was written: the database works (again). */
static void database_fine(struct daemon *d)
{
	if (d->db_failures)
		log_full(LOG_INFO, 0, LOG_FIELDS({"DATABASE_STATE", "working"}),
			 "database: writing again after %u failed tr%s (%lld s)", d->db_failures,
			 d->db_failures == 1 ? "y" : "ies",
			 (long long)(time(NULL) - d->db_failing_since));
	d->db_failures = 0;
}

/* One message of one source. */
static void fetch_one(struct daemon *d, struct dsource *ds)
{
	struct daemon_msg_info info = {0};
	struct source_msg m;
	int r;

	if (!ds->s) {
		r = dsource_open(ds);
		if (r < 0) {
			source_failed(ds, r);
			return;
		}
	}
	r = source_fetch(ds->s, &m);
	if (r == 0) {
		ds->pending = false;
		source_fine(ds);
		return;
	}
	if (r == -EBADMSG || r == -ESTALE) { /* this message, or a rescan: go on */
		source_fine(ds);
		return;
	}
	if (r < 0) {
		source_failed(ds, r);
		return;
	}
	source_fine(ds);
	update_status(d, "working");
	r = d->sink->handle(d->userdata, ds->s, &m, &info);
	if (r == -EBADMSG)
		return; /* the sink logged it; the message stays for another run */
	if (r < 0) {
		database_failed(d, r, m.ref, info.error);
		return;
	}
	if (info.counted) {
		database_fine(d);
		d->n_newsletters++;
		d->last_at = time(NULL);
		snprintf(d->last_from, sizeof(d->last_from), "%s", info.from);
	}
}

/* One message an earlier run left unparsed. */
static void backlog_one(struct daemon *d)
{
	struct daemon_msg_info info = {0};
	int r;

	update_status(d, "working");
	r = d->sink->backlog(d->userdata, &info);
	if (r < 0) {
		database_failed(d, r, NULL, info.error);
		return;
	}
	if (r == 0) {
		d->backlog = false;
		if (d->n_backlog)
			log_info("%llu message%s left unparsed by an earlier run: parsed",
				 d->n_backlog, d->n_backlog == 1 ? "" : "s");
		return;
	}
	database_fine(d);
	d->n_backlog++;
}

/* Takes turns: each source with something to fetch, then the backlog. */
static int on_work(sd_event_source *es, void *userdata)
{
	struct daemon *d = userdata;
	const size_t turns = d->n_src + 1;

	for (size_t k = 0; k < turns; k++) {
		size_t i = (d->next + k) % turns;

		if (i == d->n_src ? !d->backlog : !d->src[i].pending)
			continue;
		d->next = (i + 1) % turns;
		if (i == d->n_src)
			backlog_one(d);
		else
			fetch_one(d, &d->src[i]);
		if (d->connected)
			check_ready(d);
		return 0;
	}
	(void)sd_event_source_set_enabled(es, SD_EVENT_OFF);
	update_status(d, "idle");
	return 0;
}

/* ---- the database (through the sink) ---- */

static int on_connect_timer(sd_event_source *es, uint64_t usec, void *userdata)
{
	struct daemon *d = userdata;
	const unsigned attempts = d->cfg->database.connect_attempts ?: 1;
	_cleanup_free_ char *why = NULL;
	uint64_t lo, hi, delay;
	int r;

	d->db_attempt++;
	if (d->db_failures)
		(void)notify_status("waiting for database: it refused (%s), retrying (try %u)",
				    d->db_error, d->db_failures);
	else
		(void)notify_status("waiting for database (attempt %u)", d->db_attempt);
	r = d->sink->connect(d->userdata, d->cfg, &why);
	if (r < 0) {
		if (why)
			log_warning("database: attempt %u of %u failed: %s", d->db_attempt,
				    attempts, why);
		else
			log_warning_errno(r, "database: attempt %u of %u failed: %m", d->db_attempt,
					  attempts);
		if (error_is_permanent(r) || d->db_attempt >= attempts) {
			log_error("database: giving up after %u attempt%s", d->db_attempt,
				  d->db_attempt == 1 ? "" : "s");
			return sd_event_exit(d->event, r);
		}
		lo = (uint64_t)d->cfg->database.connect_retry_min_ms * 1000u;
		hi = (uint64_t)d->cfg->database.connect_retry_max_ms * 1000u;
		delay = lo + (hi > lo ? jitter(2 * (hi - lo)) - (hi - lo) : 0);
		(void)sd_event_source_set_time_relative(es, delay);
		return sd_event_source_set_enabled(es, SD_EVENT_ONESHOT);
	}
	d->connected = true;
	if (d->db_failures) /* the line that matters was logged when it began */
		log_debug("database: connected again, try %u", d->db_failures + 1);
	else
		log_info("database: connected%s", d->db_attempt > 1 ? " after waiting" : "");
	d->backlog = d->sink->backlog != NULL;
	d->n_backlog = 0;
	r = open_sources(d);
	if (r < 0)
		return sd_event_exit(d->event, r);
	if (d->n_src == 0)
		log_warning("no [imap] or [maildir] source is configured: nothing to do");
	check_ready(d);
	work_on(d);
	return 0;
}

static void start_connecting(struct daemon *d, uint64_t delay_us)
{
	close_sources(d);
	if (d->connected && d->sink->disconnect)
		d->sink->disconnect(d->userdata);
	d->connected = false;
	d->ready = false;
	d->db_attempt = 0;
	(void)sd_event_source_set_enabled(d->work, SD_EVENT_OFF);
	d->backlog = false;
	(void)sd_event_source_set_time_relative(d->connect_timer, delay_us);
	(void)sd_event_source_set_enabled(d->connect_timer, SD_EVENT_ONESHOT);
}

/* ---- signals ---- */

static int on_stop(sd_event_source *es, const struct signalfd_siginfo *si, void *userdata)
{
	struct daemon *d = userdata;

	(void)notify_stopping("stopping");
	log_info("signal %s: stopping", strsignal((int)si->ssi_signo));
	return sd_event_exit(d->event, 0);
}

static int on_reload(sd_event_source *es, const struct signalfd_siginfo *si, void *userdata)
{
	struct daemon *d = userdata;
	_cleanup_free_ char *why = NULL;
	struct config *c = NULL;
	int r, level;

	(void)notify_reloading();
	r = config_load(d->config_path, &c, &why);
	if (r < 0) {
		if (why)
			log_error("reload: the new configuration is invalid, keeping the old one: "
				  "%s",
				  why);
		else
			log_error_errno(r, "reload: cannot read the configuration, keeping the old "
					   "one: %m");
		if (d->ready) {
			char line[256];
			status_line(d, "idle", line, sizeof(line));
			(void)notify_ready(line);
		}
		return 0;
	}
	/* the new [log] level, keeping the shift of -v/-q */
	level = c->log.level + (log_get_max_level() - d->cfg->log.level);
	log_set_max_level(level < LOG_ERR ? LOG_ERR : level > LOG_DEBUG ? LOG_DEBUG : level);
	log_info("reload: configuration '%s' read", c->path ? c->path : "(defaults)");
	start_connecting(d, 0); /* closes the sources that point into the old configuration */
	config_free(d->own_cfg);
	d->own_cfg = c;
	d->cfg = c;
	d->reloading = true;
	return 0;
}

/* ---- the loop ---- */

static int setup_event(struct daemon *d)
{
	static const int stop_signals[] = {SIGTERM, SIGINT};
	int r;

	r = sd_event_default(&d->event);
	if (r < 0)
		return log_error_errno(r, "cannot make the event loop: %m");
	for (size_t i = 0; i < ELEMENTSOF(stop_signals); i++) {
		r = sd_event_add_signal(d->event, NULL, stop_signals[i] | SD_EVENT_SIGNAL_PROCMASK,
					on_stop, d);
		if (r < 0)
			return log_error_errno(r, "cannot watch signal %d: %m", stop_signals[i]);
	}
	r = sd_event_add_signal(d->event, NULL, SIGHUP | SD_EVENT_SIGNAL_PROCMASK, on_reload, d);
	if (r < 0)
		return log_error_errno(r, "cannot watch SIGHUP: %m");
	r = sd_event_set_watchdog(d->event, true);
	if (r < 0)
		return log_error_errno(r, "cannot set up the watchdog: %m");
	if (r > 0)
		log_debug("watchdog enabled");
	r = sd_event_add_time_relative(d->event, &d->connect_timer, CLOCK_MONOTONIC, 0, 0,
				       on_connect_timer, d);
	if (r >= 0)
		r = sd_event_add_defer(d->event, &d->work, on_work, d);
	if (r >= 0)
		r = sd_event_source_set_priority(d->work, PRIORITY_WORK);
	if (r < 0)
		return log_error_errno(r, "cannot set up the event loop: %m");
	(void)sd_event_source_set_description(d->connect_timer, "connect");
	(void)sd_event_source_set_description(d->work, "work");
	(void)sd_event_source_set_enabled(d->work, SD_EVENT_OFF);
	return 0;
}

int daemon_run(const char *config_path, const struct config *cfg, const struct daemon_sink *sink,
	       void *userdata)
{
	struct daemon d = {
	    .config_path = config_path,
	    .cfg = cfg,
	    .sink = sink,
	    .userdata = userdata,
	};
	int r;

	r = setup_event(&d);
	if (r >= 0) {
		(void)notify_status("starting");
		r = sd_event_loop(d.event);
		if (r < 0)
			log_full(LOG_DEBUG, r, NULL, "event loop ended: %m");
	}
	close_sources(&d);
	if (d.connected && sink->disconnect)
		sink->disconnect(userdata);
	sd_event_source_disable_unref(d.connect_timer);
	sd_event_source_disable_unref(d.work);
	sd_event_unref(d.event);
	config_free(d.own_cfg);
	return r;
}

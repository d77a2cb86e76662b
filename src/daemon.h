/* daemon.h: the `serve` loop: one sd-event loop over the configured sources.
 *
 * Start-up, as a list of steps (each retried in the loop, never blocking it):
 * the sink connects (database, migrations: bounded attempts with random
 * back-off, STATUS="waiting for database (attempt N)"), every source is
 * opened, watched and fetched once; READY=1 when all of that holds.
 * Then a woken source is drained one message per loop turn, so signals and
 * the watchdog are served between messages. A source whose connection drops
 * is retried with exponential back-off and jitter (one log line per change
 * of state, not per try); a message the sink cannot store because the
 * database went away (or refuses to write: read-only, no privilege) sends
 * the daemon back to connecting after an exponential back-off, and reopens
 * the sources from their checkpoints; one log line when that starts, one
 * when writes work again, STATUS="...; database: retrying (N)" meanwhile.
 * After every connect the sink's backlog (messages an earlier run stored
 * but did not parse) is worked off one message per loop turn, taking turns
 * with the sources.
 * SIGHUP: RELOADING=1, the configuration is read again (an invalid one is
 * logged and the old one kept), sink and sources are reopened, READY=1.
 * SIGTERM/SIGINT: STOPPING=1, the message in hand is finished, exit 0.
 * What happens to a message is the sink's business (store -> worker ->
 * writer -> ack, for `serve`); tests plug in their own. */
#ifndef DIVEMAP_DAEMON_H
#define DIVEMAP_DAEMON_H

#include <stdbool.h>
#include <stddef.h>

struct config;
struct source;
struct source_msg;

/* What the sink tells about one message, for the status line. */
struct daemon_msg_info {
	bool counted;    /* a new newsletter */
	char from[128];  /* its sender's name or address, "" when unknown */
	char error[256]; /* the database's refusal when the sink returns -errno */
};

struct daemon_sink {
	/* Connects for CFG; 0, or -errno with *reterr_reason (retried up to
	 * [database] connect_attempts; -EPERM/-EINVAL/-EACCES are not retried). */
	int (*connect)(void *userdata, const struct config *cfg, char **reterr_reason);
	void (*disconnect)(void *userdata);
	/* The largest message the sink can take whole (0: the configured bound). */
	size_t (*max_message_size)(void *userdata);
	/* A source was just opened: load its checkpoint (may be NULL). */
	int (*source_opened)(void *userdata, struct source *s);
	/* Handles one message, acks it after the commit. 0; -EBADMSG (this message
	 * failed, go on); another -errno: the sink lost its database. */
	int (*handle)(void *userdata, struct source *s, const struct source_msg *m,
		      struct daemon_msg_info *ret_info);
	/* Parses one message an earlier run left stored but unparsed (claimed
	 * as reparse claims, claim.h). 1: one done, call again; 0: none left;
	 * -errno: the sink lost its database (as handle). May be NULL. */
	int (*backlog)(void *userdata, struct daemon_msg_info *ret_info);
};

/* Runs until SIGTERM/SIGINT (0) or a fatal start-up error (-errno).
 * CONFIG_PATH is read again on SIGHUP (NULL: the default path); CFG is the
 * configuration already loaded from it (borrowed). */
int daemon_run(const char *config_path, const struct config *cfg, const struct daemon_sink *sink,
	       void *userdata);

#endif

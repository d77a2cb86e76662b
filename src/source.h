/* source.h: where raw messages come from, behind one driver interface
 * (after isync's struct driver). The one-shot `parse` and the daemon use the
 * same drivers: mbox, eml (a single file or standard input), maildir, imap.
 *
 * Life of a source: source_open_*() -> fetch() until it returns 0 ->
 * [daemon: watch() and fetch() again when woken] -> close().
 * Every message fetched is acked once after its commit, or left alone (a
 * message that is not acked is fetched again by the next run). */
#ifndef DIVEMAP_SOURCE_H
#define DIVEMAP_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "cleanup.h"

struct config_source;
struct source;

/* One raw message. data and ref are owned by the source and stay valid
 * until the next fetch() or close(). */
struct source_msg {
	const char *data;
	size_t len;
	const char *kind; /* "mbox", "eml", "stdin", "maildir", "imap": ingest_messages.source */
	const char
	    *ref; /* "FILE:OFFSET", "FILE", maildir file name, "ACCOUNT/MAILBOX/UIDVALIDITY/UID" */
	/* IMAP only: the checkpoint to advance in the same transaction that stores the message */
	const char *account, *mailbox;
	uint32_t uidvalidity, uid;
	/* set when the message is over the size bound: data holds only the first
	 * bytes, len the bytes kept, full_size the real size */
	size_t full_size;
};

typedef void (*source_wake_fn)(struct source *s, void *userdata);

struct source_driver {
	const char *name;
	/* 1 with *ret filled, 0 when nothing is left (or pending, for a watched
	 * source), or: -EBADMSG this message is unreadable (skip it, go on),
	 * -ESTALE the mailbox changed identity (UIDVALIDITY: rescan),
	 * -ECONNRESET / -ETIMEDOUT the source is gone (reconnect with back-off),
	 * -ECANCELED shut down. */
	int (*fetch)(struct source *s, struct source_msg *ret);
	/* After the commit: maildir moves new/X to cur/X:2,S; IMAP sets \Seen or
	 * moves as configured. NULL when there is nothing to do. */
	int (*ack)(struct source *s, const struct source_msg *m);
	/* Daemon: call wake() when fetch() may have something new. NULL when the
	 * source cannot be watched (files). */
	int (*watch)(struct source *s, sd_event *e, source_wake_fn wake, void *userdata);
	void (*close)(struct source *s);
};

/* Every source embeds this first. */
struct source {
	const struct source_driver *driver;
	char *name;
	size_t max_message_size; /* larger messages come with full_size set */
};

/* A file given on the command line: "-" is standard input, a directory with
 * cur/ and new/ a maildir, a file starting "From " an mbox, else one .eml. */
int source_open_path(const char *path, size_t max_message_size, struct source **ret,
		     char **reterr_reason);
/* A source of the configuration (imap or maildir). */
int source_open_config(const struct config_source *cs, size_t max_message_size, struct source **ret,
		       char **reterr_reason);

static inline int source_fetch(struct source *s, struct source_msg *ret)
{
	return s->driver->fetch(s, ret);
}

static inline int source_ack(struct source *s, const struct source_msg *m)
{
	return s->driver->ack ? s->driver->ack(s, m) : 0;
}

struct source *source_close(struct source *s);
DEFINE_CLEANUP_FUNC(struct source, source_close)

#endif

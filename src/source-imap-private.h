/* source-imap-private.h: what the IMAP driver's two files share.
 * source-imap.c is the driver (fetch, ack, watch); source-imap-session.c
 * connects a session (TCP, TLS and its verification, LOGIN, SELECT). */
#ifndef DIVEMAP_SOURCE_IMAP_PRIVATE_H
#define DIVEMAP_SOURCE_IMAP_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libetpan/libetpan.h>

#include "config.h"
#include "source.h"

struct imap_msg {
	uint32_t uid;
	char *data;
	size_t len, full_size;
};

struct imap_source {
	struct source base;
	/* settings */
	char *host, *user, *password, *mailbox, *ca_file, *move_to, *account;
	char *mailbox_utf7, *move_to_utf7; /* as the server spells them */
	unsigned port, idle_interval_s, poll_interval_s, timeout_s, batch_size;
	enum imap_tls tls;
	enum imap_after after;
	bool allow_plaintext;
	/* session: imap is NULL when not connected */
	mailimap *imap;
	bool has_idle, has_move, has_uidplus;
	/* IDLE that failed in a row (libetpan 1.9.4 breaks on an untagged line
	 * before "+ idling"); at IMAP_IDLE_MAX_FAILURES the source polls instead */
	unsigned idle_failures;
	uint32_t sel_uidvalidity;
	/* checkpoint: the last UID handed out under cp_uidvalidity (0: none) */
	uint32_t cp_uidvalidity, last_uid;
	bool stale; /* report -ESTALE once */
	/* work: UIDs found, and the fetched batch */
	uint32_t *uids;
	size_t n_uids, next_uid;
	struct imap_msg *batch;
	size_t n_batch, next_msg;
	struct imap_msg cur; /* in hand */
	char *ref;
	/* watch */
	sd_event *event;
	sd_event_source *idle_io, *timer;
	bool idling;
	source_wake_fn wake;
	void *userdata;
};

#define IMAP_IDLE_MAX_FAILURES 3

/* libetpan results after which the session cannot be used any more. */
bool imap_code_is_fatal(int code);
/* Connects, verifies, logs in and selects; notes a UIDVALIDITY change (stale).
 * 0, or -errno (logged when it is no mere connection failure). */
int imap_session_connect(struct imap_source *is);
/* Drops a session without the LOGOUT that mailimap_free would wait for. */
void imap_disconnect(struct imap_source *is);
/* password_file, else the systemd credential imap-password-NAME. */
int imap_read_password(const struct config_source *cs, char **ret, char **reterr_reason);

#endif

/* source-imap.h: an IMAP mailbox as a message source (libetpan).
 *
 * Connection: implicit TLS (our own socket; the certificate is verified,
 * see tls-stream.h, before libetpan parses the greeting), STARTTLS
 * (verified before CAPABILITY and LOGIN; capabilities are refreshed after
 * it) or, only with allow_plaintext, none. SNI is always sent. LOGIN with
 * the password from password_file or $CREDENTIALS_DIRECTORY/imap-password-NAME
 * (never logged), then SELECT.
 *
 * fetch() connects when needed, lists UIDs above the checkpoint (UID SEARCH,
 * filtered: `N:*` always matches the last message) and fetches them
 * batch_size at a time with BODY.PEEK[] (never setting \Seen itself). Each
 * message carries account (user@host), mailbox, UIDVALIDITY and UID: the
 * store advances ingest_checkpoints in the transaction that stores it.
 * Errors: -ECONNRESET/-ETIMEDOUT the connection is gone (the next fetch
 * reconnects), -ESTALE once when UIDVALIDITY differs from the checkpoint
 * (the source then starts again from UID 1), -EACCES login refused, -EPERM
 * certificate refused or plaintext not allowed.
 * While watched, fetch() returning 0 leaves the session in IDLE (re-issued
 * every idle_interval, so a silent drop is noticed), or polls every
 * poll_interval when the server has no IDLE; wake() means "fetch again".
 * ack() sets \Seen, or moves the message (MOVE, else COPY + \Deleted + UID
 * EXPUNGE), as `after` says. */
#ifndef DIVEMAP_SOURCE_IMAP_H
#define DIVEMAP_SOURCE_IMAP_H

#include <stddef.h>
#include <stdint.h>

struct config_source;
struct db;
struct source;

int source_imap_open(const struct config_source *cs, size_t max_message_size, struct source **ret,
		     char **reterr_reason);
/* Reads this source's row of ingest_checkpoints (none: start at UID 1). */
int source_imap_load_checkpoint(struct source *s, struct db *db);
/* Sets the checkpoint by hand (tests, `parse`). */
void source_imap_set_checkpoint(struct source *s, uint32_t uidvalidity, uint32_t last_uid);
/* Connects now (the daemon's start-up check). 0 or a fetch() error. */
int source_imap_connect(struct source *s);
/* True for a source made by source_imap_open(). */
int source_is_imap(const struct source *s);

#endif

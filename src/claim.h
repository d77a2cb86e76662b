/* claim.h: a stored message claimed for parsing, so that no two processes
 * (several `serve`, `reparse`) parse one message at once.
 *
 * A claim is ingest_messages.claimed_by = "host:pid" and status 'parsing',
 * taken in one transaction with SELECT ... FOR UPDATE SKIP LOCKED (claim_next)
 * or, for a new message, in the transaction that stores it
 * (store_message_claimed(), store.h); the writer's commit (writer.h)
 * releases it. A claim older than CLAIM_STALE_S may be taken over;
 * claim_release_dead() hands back at once the claims of processes of this
 * host that are gone (a kill -9). Every function returns -errno on a
 * database error (db_error() says more) and logs nothing. */
#ifndef DIVEMAP_CLAIM_H
#define DIVEMAP_CLAIM_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#define CLAIM_STALE_S 900

struct db;
struct worker;

/* Which messages: all given conditions must hold. */
struct claim_filter {
	const char *not_parsed_since; /* server time: skip those parsed since (NULL: no test) */
	bool failed;                  /* status failed */
	bool unparsed;                /* status pending, or parsing with a claim to take */
	const char *since;            /* sent on or after (YYYY-MM-DD) */
	const long long *newsletters; /* newsletters.id IN (...) when n_newsletters > 0 */
	size_t n_newsletters;
};

struct claimed {
	unsigned long long id; /* ingest_messages.id */
	long long newsletter_id;
	unsigned long long size, stored; /* the message's size, the bytes stored of it */
};

/* "host:pid" of this process, the value of claimed_by. */
void claim_me(char *out, size_t size);

/* 1 with *ret: the next message (lowest id) is ours; 0: none is left.
 * Retries deadlocks and lock wait timeouts a few times. */
int claim_next(struct db *db, const char *me, const struct claim_filter *f, struct claimed *ret);

/* Our claim on message id handed back unparsed: status 'pending' again, so
 * that a later run parses it (a write the database refused). 1 it was ours,
 * 0 it was not (nothing changed). */
int claim_release(struct db *db, const char *me, unsigned long long id);

/* Messages claimed by processes of this host that no longer run go back to
 * pending; *ret_n (may be NULL) how many. */
int claim_release_dead(struct db *db, const char *me, unsigned long long *ret_n);

/* The claimed message's stored bytes through the worker (ingest_extract):
 * 0 with *ret; -EBADMSG with *ret_why (the message cannot be parsed); -ENOMEM
 * or a database error. */
int claim_extract(struct db *db, struct worker *w, const struct claimed *c, json_t **ret,
		  char **ret_why);

#endif

/* worker.h: decoding and extraction of untrusted mail in a sandboxed child.
 *
 * The parent (which holds the database and the sources) never parses mail
 * itself: it hands the raw bytes to a worker process and gets back a JSON
 * result. The worker is a program of its own, `divemap-ingest-worker
 * worker` (libexec.h; $DIVEMAP_WORKER_EXE another), executed with the
 * socket on fd 3, no credentials, rlimits, no_new_privs. A worker that crashes, hangs past the
 * timeout or exceeds its memory costs that one message a failed mark: the
 * next call starts a fresh worker. One worker is reused across messages. */
#ifndef DIVEMAP_WORKER_H
#define DIVEMAP_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include "cleanup.h"

struct config;
struct worker;

struct worker_settings {
	const char *rules_dir;          /* NULL: the installed rules */
	const char *rules_override_dir; /* NULL: none */
	unsigned timeout_s;             /* per message; 0 = 30 */
	uint64_t max_memory;            /* address space of the child; 0 = 1 GiB */
	size_t max_message_size;        /* 0 = 25 MiB */
};

int worker_new(const struct worker_settings *s, struct worker **ret);
/* A worker with the [parser] settings of cfg (rules, override, timeout) and
 * the given message size bound (the store's, which the server may lower). */
int worker_new_from_config(const struct config *cfg, size_t max_message_size, struct worker **ret);
struct worker *worker_free(struct worker *w);
DEFINE_CLEANUP_FUNC(struct worker, worker_free)

/* The names the matcher resolves against, as JSON:
 * {"sites": [[id, "name"], ...], "aliases": [[site_id, "alias"], ...],
 *  "centers": [[id, "name", "email"], ...]}. Kept and re-sent to a
 * restarted worker. */
int worker_set_names(struct worker *w, const char *names_json, size_t len);

/* Decodes and extracts one raw message. 0 with *ret_json (malloc'd): the
 * result object (see parsers/result.h); -EBADMSG with *reterr_reason: the
 * message could not be decoded; -ECHILD with *reterr_reason ("worker killed
 * by signal 11", "worker exceeded 30 s"): the worker died on it. */
int worker_process(struct worker *w, const char *raw, size_t len, char **ret_json,
		   char **reterr_reason);

/* The child's side (worker-child.c): src/worker-main.c runs this on fd 3. */
int worker_child_main(int fd);

#endif

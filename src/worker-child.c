/* worker-child.c: the child's side of worker.h, `divemap-ingest-worker
 * worker` on fd 3: the protocol of worker.c, served by a pipeline (pipeline.h).
 * The only part of the daemon's processes that links the parsers. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "frame.h"
#include "pipeline.h"
#include "strutil.h"
#include "worker-private.h"
#include "worker-sandbox.h"
#include "worker.h"

struct child {
	int fd;
	struct pipeline *pipeline;
	size_t max_message_size;
};

static int child_send(struct child *c, struct frame *f)
{
	int r = frame_send(c->fd, f, -1);

	frame_done(f);
	return r;
}

static int child_error(struct child *c, uint32_t id, int error, const char *reason)
{
	struct frame f;
	int r;

	frame_begin(&f, WORKER_ERROR, id);
	r = frame_add_u32(&f, (uint32_t)abs(error));
	if (r >= 0)
		r = frame_add_str(&f, reason ? reason : strerrorname_np(abs(error)));
	if (r == -ENOMEM)
		_exit(WORKER_EXIT_NOMEM);
	if (r < 0) {
		frame_done(&f);
		return r;
	}
	return child_send(c, &f);
}

static int child_hello(struct child *c, struct frame *req)
{
	_cleanup_free_ char *why = NULL;
	const char *rules_dir, *override;
	char what[128];
	uint32_t protocol, sandbox;
	uint64_t max;
	struct frame f;
	int r;

	if (frame_get_u32(req, &protocol) < 0 || frame_get_str(req, &rules_dir) < 0 ||
	    frame_get_str(req, &override) < 0 || frame_get_u64(req, &max) < 0 ||
	    frame_get_end(req) < 0 || c->pipeline)
		return -EBADMSG;
	if (protocol != WORKER_PROTOCOL)
		return child_error(c, req->id, -EPROTO, "protocol version mismatch");
	c->max_message_size = max > SIZE_MAX ? SIZE_MAX : (size_t)max;
	struct pipeline_settings s = {
	    .rules_dir = rules_dir,
	    .rules_override_dir = *override ? override : NULL,
	    .max_message_size = c->max_message_size,
	};
	r = pipeline_new(&s, &c->pipeline, &why);
	if (r < 0)
		return child_error(c, req->id, r, why);
	sandbox = worker_sandbox_apply(what, sizeof(what));
	frame_begin(&f, WORKER_READY, req->id);
	r = frame_add_str(&f, pipeline_rules_version(c->pipeline));
	if (r >= 0)
		r = frame_add_u32(&f, sandbox);
	if (r >= 0)
		r = frame_add_str(&f, what);
	return r < 0 ? child_error(c, req->id, r, NULL) : child_send(c, &f);
}

/* Maps the request's memfd (at most max bytes) and hands it to fn. */
static int child_with_memfd(struct child *c, struct frame *req, size_t max,
			    int (*fn)(struct child *c, uint32_t id, const char *p, size_t n))
{
	_cleanup_close_ int fd = -1;
	const void *p;
	size_t n;
	int r;

	if (frame_get_end(req) < 0 || !c->pipeline)
		return -EBADMSG;
	fd = frame_take_fd(req);
	if (fd < 0)
		return fd;
	r = frame_memfd_map(fd, max, &p, &n);
	if (r == -ERANGE)
		return child_error(c, req->id, -EBADMSG, "message over the maximum size");
	if (r < 0)
		return r;
	r = fn(c, req->id, p ? p : "", n);
	if (p)
		munmap((void *)p, n);
	return r;
}

static int child_names(struct child *c, uint32_t id, const char *p, size_t n)
{
	_cleanup_free_ char *why = NULL;
	struct frame f;
	int r;

	r = pipeline_set_names(c->pipeline, p, n, &why);
	if (r < 0)
		return child_error(c, id, r, why);
	frame_begin(&f, WORKER_NAMES_OK, id);
	return child_send(c, &f);
}

static int child_message(struct child *c, uint32_t id, const char *p, size_t n)
{
	_cleanup_free_ char *json = NULL, *why = NULL;
	struct frame f;
	int r;

	r = pipeline_run(c->pipeline, p, n, &json, &why);
	if (r < 0)
		return child_error(c, id, r, why);
	if (strlen(json) >= FRAME_MAX_RESULT)
		return child_error(c, id, -EBADMSG, "the result exceeds the maximum frame size");
	frame_begin(&f, WORKER_RESULT, id);
	r = frame_add_str(&f, json);
	return r < 0 ? child_error(c, id, r, NULL) : child_send(c, &f);
}

static int child_dispatch(struct child *c, struct frame *req)
{
	switch (req->type) {
	case WORKER_HELLO:
		return child_hello(c, req);
	case WORKER_NAMES:
		return child_with_memfd(c, req, WORKER_MAX_NAMES, child_names);
	case WORKER_MESSAGE:
		return child_with_memfd(c, req, c->max_message_size, child_message);
	default:
		return -EBADMSG;
	}
}

/* Limits that need no setting; the rest were set before exec. */
static void child_limit_self(int fd)
{
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	(void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	worker_lower_limit(RLIMIT_CORE, 0);
	worker_lower_limit(RLIMIT_FSIZE, 0);
	worker_lower_limit(RLIMIT_NOFILE, WORKER_MAX_FILES);
	if (close_range((unsigned)fd + 1, ~0u, 0) < 0)
		for (int i = fd + 1; i < WORKER_MAX_FILES; i++)
			close(i);
}

int worker_child_main(int fd)
{
	struct child c = {.fd = fd};
	struct stat st;
	int r;

	if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
		return -ENOTSOCK;
	child_limit_self(fd);
	for (;;) {
		struct frame req;

		r = frame_recv(fd, FRAME_MAX_CONTROL, /* deadline_us= */ 0, &req);
		if (r < 0)
			break;
		r = child_dispatch(&c, &req);
		frame_done(&req);
		if (r < 0)
			break;
	}
	pipeline_free(c.pipeline);
	return r == -ECONNRESET ? 0 : r;
}

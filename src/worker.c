/* worker.c: the sandboxed worker of worker.h, the parent's side (the
 * child's is worker-child.c, in its own program: see worker.h).
 *
 * The protocol (frames of frame.h on a SOCK_STREAM socketpair, the child's
 * end on fd 3); every request gets exactly one reply, ERROR or the named one:
 *   HELLO   parent: u32 protocol, str rules_dir, str override ("" none),
 *           u64 max_message_size      -> READY: str rules_version,
 *           u32 WORKER_SANDBOX_* bits, str what the sandbox could apply
 *           (the child locks itself in once its rules are loaded)
 *   NAMES   parent, fd: sealed memfd of the names JSON    -> NAMES_OK: empty
 *   MESSAGE parent, fd: sealed memfd of the raw message   -> RESULT: str json
 *   ERROR   child: u32 errno, str reason (EBADMSG: this message is bad;
 *           ENOMEM: the worker ran out of memory and is replaced)
 * The id of a reply is the id of its request. The child exits on end of
 * stream, on a bad frame and on a type it does not know; the parent takes
 * end of stream, a bad frame or the timeout as "the worker died": SIGKILL,
 * reap, describe, and start a fresh worker on the next call. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "frame.h"
#include "libexec.h"
#include "log.h"
#include "strutil.h"
#include "worker-private.h"
#include "worker-sandbox.h"
#include "worker.h"

#define WORKER_EXE_FD           4 /* in the child between fork and exec */
#define WORKER_DEFAULT_TIMEOUT  30
#define WORKER_DEFAULT_MEMORY   (1ull << 30)
#define WORKER_DEFAULT_MESSAGE  (25u << 20)
#define WORKER_MAX_USES         2000 /* messages, then a fresh worker */
#define WORKER_CPU_LIMIT_S      3600 /* over its WORKER_MAX_USES messages */
#define WORKER_EXE_ENV          "DIVEMAP_WORKER_EXE"
#define WORKER_DEFAULT_RULESDIR PKGDATADIR "/rules"

struct worker {
	char *rules_dir;
	char *rules_override_dir;
	unsigned timeout_s;
	uint64_t max_memory;
	size_t max_message_size;
	char *names; /* the last accepted names, re-sent to a new worker */
	size_t names_len;
	int exe_fd; /* the worker's executable, opened once: survives an upgrade */
	int sock;
	pid_t pid; /* 0: no worker running */
	uint32_t seq;
	unsigned uses;
	bool sandbox_told; /* logged what the first worker's sandbox holds */
};

/* ---- the parent: start, stop, describe ---- */

/* Between fork and exec: async-signal-safe calls only. */
static _Noreturn void child_exec(const struct worker *w, int sock, pid_t parent, char **argv,
				 char **envp)
{
	sigset_t none;

	struct sigaction ign = {.sa_handler = SIG_IGN};

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	sigaction(SIGXFSZ, &ign, NULL); /* a stray write to a file fails, does not kill */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(127);
	sock = fcntl(sock, F_DUPFD_CLOEXEC, WORKER_EXE_FD + 1);
	int exe = fcntl(w->exe_fd, F_DUPFD_CLOEXEC, WORKER_EXE_FD + 1);
	if (sock < 0 || exe < 0 || dup2(sock, WORKER_FD) < 0 ||
	    dup3(exe, WORKER_EXE_FD, O_CLOEXEC) < 0)
		_exit(127);
	if (close_range(WORKER_EXE_FD + 1, ~0u, 0) < 0)
		for (int fd = WORKER_EXE_FD + 1; fd < 65536; fd++)
			close(fd);
#ifndef __SANITIZE_ADDRESS__ /* AddressSanitizer reserves terabytes of address space */
	worker_lower_limit(RLIMIT_AS, w->max_memory);
#endif
	worker_lower_limit(RLIMIT_CPU, WORKER_CPU_LIMIT_S);
	worker_lower_limit(RLIMIT_NOFILE, WORKER_MAX_FILES);
	worker_lower_limit(RLIMIT_FSIZE, 0);
	worker_lower_limit(RLIMIT_CORE, 0);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		_exit(127);
	fexecve(WORKER_EXE_FD, argv, envp);
	_exit(127);
}

/* The environment the worker gets: no DATABASE_URL, no secret. */
static void worker_env(char **envp, size_t n)
{
	static const char *const keep[] = {
	    "LANG=",         "LC_ALL=",        "LC_CTYPE=",     "TZ=",
	    "ASAN_OPTIONS=", "UBSAN_OPTIONS=", "LSAN_OPTIONS=", "JOURNAL_STREAM="};
	extern char **environ;
	size_t k = 0;

	for (char **e = environ; e && *e && k + 1 < n; e++)
		for (size_t i = 0; i < ELEMENTSOF(keep); i++)
			if (startswith(*e, keep[i]))
				envp[k++] = *e;
	envp[k] = NULL;
}

static int worker_spawn(struct worker *w)
{
	char *argv[] = {(char *)LIBEXEC_WORKER, (char *)"worker", NULL};
	char *envp[16];
	int sv[2];
	pid_t parent = getpid(), pid;

	worker_env(envp, ELEMENTSOF(envp));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		int r = -errno;

		close(sv[0]);
		close(sv[1]);
		return r;
	}
	if (pid == 0)
		child_exec(w, sv[1], parent, argv, envp);
	close(sv[1]);
	w->sock = sv[0];
	w->pid = pid;
	w->uses = 0;
	return 0;
}

static const char *signal_name(int sig)
{
	const char *s = sigabbrev_np(sig);

	return s ? s : "?";
}

/* What became of the worker, from its wait status and resource usage. */
static char *describe_death(const struct worker *w, int status, const struct rusage *ru)
{
	_cleanup_buf_ struct buf b = BUF_INIT(BUF_MAX_SMALL);
	uint64_t used = (uint64_t)ru->ru_maxrss * 1024u;
	int r;

	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGXCPU)
		r = buf_printf(&b, "worker exceeded its CPU time limit of %d s",
			       WORKER_CPU_LIMIT_S);
	else if (WIFSIGNALED(status))
		r = buf_printf(&b, "worker killed by signal %d (SIG%s)", WTERMSIG(status),
			       signal_name(WTERMSIG(status)));
	else if (WIFEXITED(status) && WEXITSTATUS(status) == WORKER_EXIT_NOMEM)
		r = buf_printf(&b, "worker ran out of memory (limit %" PRIu64 " MiB)",
			       w->max_memory >> 20);
	else
		r = buf_printf(&b, "worker exited with status %d", WEXITSTATUS(status));
	if (r >= 0 && WIFSIGNALED(status) && used >= w->max_memory / 4 * 3)
		r = buf_printf(
		    &b, ", likely out of memory (it used %" PRIu64 " of its %" PRIu64 " MiB)",
		    used >> 20, w->max_memory >> 20);
	return r < 0 ? strdup("worker died") : buf_take(&b, NULL);
}

/* Kills and reaps the worker; *reterr_reason (if given) says why it is gone:
 * `why` if set, else what its wait status tells. */
static void worker_stop(struct worker *w, const char *why, char **reterr_reason)
{
	struct rusage ru = {0};
	int status = 0;
	pid_t r;

	if (w->sock >= 0)
		close(w->sock);
	w->sock = -1;
	if (w->pid <= 0)
		return;
	(void)kill(w->pid, SIGKILL);
	do
		r = wait4(w->pid, &status, 0, &ru);
	while (r < 0 && errno == EINTR);
	w->pid = 0;
	if (!reterr_reason)
		return;
	*reterr_reason = why     ? strdup(why)
			 : r < 0 ? strdup("worker vanished")
				 : describe_death(w, status, &ru);
}

/* Reads the reply to request `id`. 0 with *ret of type `type`; -errno with
 * the child's reason on an ERROR reply (the worker lives on); -ECHILD when
 * the worker died, hung or misbehaved (it is stopped). */
static int worker_reply(struct worker *w, uint32_t type, uint32_t id, struct frame *ret,
			char **reterr_reason)
{
	struct frame f = FRAME_INIT;
	uint64_t deadline = frame_now_us() + (uint64_t)w->timeout_s * 1000000u;
	_cleanup_free_ char *why = NULL;
	uint32_t err;
	const char *reason;
	int r;

	r = frame_recv(w->sock, FRAME_MAX_RESULT, deadline, &f);
	if (r == -ETIMEDOUT && asprintf(&why, "worker exceeded %u s", w->timeout_s) < 0)
		why = NULL;
	if (r < 0 && r != -ETIMEDOUT && r != -ECONNRESET &&
	    asprintf(&why, "worker sent a bad frame: %s", strerrorname_np(-r)) < 0)
		why = NULL;
	if (r >= 0 && f.id == id && f.type == type) {
		*ret = f;
		return 0;
	}
	if (r >= 0 && f.id == id && f.type == WORKER_ERROR && frame_get_u32(&f, &err) >= 0 &&
	    frame_get_str(&f, &reason) >= 0 && frame_get_end(&f) >= 0 && err > 0 && err < 4096) {
		*reterr_reason = strdup(reason);
		frame_done(&f);
		return -(int)err;
	}
	if (r >= 0 &&
	    asprintf(&why, "worker sent an unexpected frame (type %" PRIu32 ")", f.type) < 0)
		why = NULL;
	frame_done(&f);
	worker_stop(w, why, reterr_reason);
	return -ECHILD;
}

/* Sends a request, with the sealed memfd of p[0..n) if p is given. */
static int worker_request(struct worker *w, struct frame *f, const void *p, size_t n,
			  char **reterr_reason)
{
	_cleanup_close_ int fd = -1;
	int r;

	if (p) {
		r = frame_memfd_new("divemap-worker", p, n, &fd);
		if (r < 0)
			goto fail;
	}
	r = frame_send(w->sock, f, fd);
	if (r == -EPIPE || r == -ECONNRESET) {
		worker_stop(w, NULL, reterr_reason);
		return -ECHILD;
	}
	if (r >= 0)
		return r;
fail:
	errno = -r;
	return set_reason(reterr_reason, r, "cannot pass data to the worker: %m");
}

static int worker_send_names(struct worker *w, const char *names, size_t len, char **reterr_reason)
{
	struct frame f;
	uint32_t id = ++w->seq;
	int r;

	frame_begin(&f, WORKER_NAMES, id);
	r = worker_request(w, &f, names, len, reterr_reason);
	frame_done(&f);
	if (r < 0)
		return r;
	r = worker_reply(w, WORKER_NAMES_OK, id, &f, reterr_reason);
	if (r < 0)
		return r;
	r = frame_get_end(&f);
	frame_done(&f);
	return r;
}

static int worker_hello(struct worker *w, char **reterr_reason)
{
	struct frame f;
	uint32_t id = ++w->seq, sandbox;
	const char *version, *what;
	int r;

	frame_begin(&f, WORKER_HELLO, id);
	r = frame_add_u32(&f, WORKER_PROTOCOL);
	if (r >= 0)
		r = frame_add_str(&f, w->rules_dir);
	if (r >= 0)
		r = frame_add_str(&f, w->rules_override_dir);
	if (r >= 0)
		r = frame_add_u64(&f, w->max_message_size);
	if (r >= 0)
		r = worker_request(w, &f, NULL, 0, reterr_reason);
	frame_done(&f);
	if (r < 0)
		return r;
	r = worker_reply(w, WORKER_READY, id, &f, reterr_reason);
	if (r < 0)
		return r;
	r = frame_get_str(&f, &version);
	if (r >= 0)
		r = frame_get_u32(&f, &sandbox);
	if (r >= 0)
		r = frame_get_str(&f, &what);
	if (r >= 0)
		r = frame_get_end(&f);
	if (r >= 0 && !w->sandbox_told &&
	    sandbox != (WORKER_SANDBOX_LANDLOCK | WORKER_SANDBOX_SECCOMP))
		log_warning("The worker's sandbox is incomplete: %s", what);
	if (r >= 0)
		log_debug("worker %d ready, rules %s, %s", (int)w->pid, version, what);
	w->sandbox_told = true;
	frame_done(&f);
	return r;
}

/* Starts a worker and brings it up to date: settings, then names. On
 * failure no worker runs and *reterr_reason says why. */
static int worker_start(struct worker *w, char **reterr_reason)
{
	int r;

	r = worker_spawn(w);
	if (r < 0)
		return r;
	r = worker_hello(w, reterr_reason);
	if (r >= 0 && w->names)
		r = worker_send_names(w, w->names, w->names_len, reterr_reason);
	if (r < 0)
		worker_stop(w, NULL, NULL);
	return r;
}

int worker_new(const struct worker_settings *s, struct worker **ret)
{
	_cleanup_(worker_freep) struct worker *w = NULL;
	_cleanup_free_ char *why = NULL;
	int r;

	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->sock = w->exe_fd = -1;
	w->rules_dir = strdup(s->rules_dir ? s->rules_dir : WORKER_DEFAULT_RULESDIR);
	w->rules_override_dir = strdup(s->rules_override_dir ? s->rules_override_dir : "");
	if (!w->rules_dir || !w->rules_override_dir)
		return -ENOMEM;
	w->timeout_s = s->timeout_s ? s->timeout_s : WORKER_DEFAULT_TIMEOUT;
	w->max_memory = s->max_memory ? s->max_memory : WORKER_DEFAULT_MEMORY;
	w->max_message_size = s->max_message_size ? s->max_message_size : WORKER_DEFAULT_MESSAGE;
	/* The worker runs as our user: we hold the database password (in memory,
	 * maybe in DATABASE_URL), so a compromised worker must not be able to read
	 * our memory or /proc/self/environ. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return log_error_errno(-errno, "Cannot make this process non-dumpable: %m");
	w->exe_fd = libexec_open(LIBEXEC_WORKER, WORKER_EXE_ENV);
	if (w->exe_fd < 0)
		return log_error_errno(w->exe_fd,
				       "Cannot open the worker's program (" LIBEXEC_WORKER
				       " beside this program, or in " PKGLIBEXECDIR "): %m");
	r = worker_start(w, &why);
	if (r < 0)
		return log_error_errno(r, "Cannot start the worker: %s", why ? why : "%m");
	*ret = TAKE_PTR(w);
	return 0;
}

int worker_new_from_config(const struct config *cfg, size_t max_message_size, struct worker **ret)
{
	const struct worker_settings ws = {
	    .rules_dir = cfg->parser.rules_dir,
	    .rules_override_dir = cfg->parser.rules_override_dir,
	    .timeout_s = cfg->parser.worker_timeout_s,
	    .max_message_size = max_message_size,
	};

	return worker_new(&ws, ret);
}

struct worker *worker_free(struct worker *w)
{
	if (!w)
		return NULL;
	worker_stop(w, NULL, NULL);
	if (w->exe_fd >= 0)
		close(w->exe_fd);
	free(w->rules_dir);
	free(w->rules_override_dir);
	free(w->names);
	free(w);
	return NULL;
}

int worker_set_names(struct worker *w, const char *names_json, size_t len)
{
	_cleanup_free_ char *copy = NULL, *why = NULL;
	int r;

	if (len > WORKER_MAX_NAMES)
		return log_error_errno(-E2BIG, "The names (%zu bytes) exceed the worker's maximum",
				       len);
	copy = malloc(len + 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, names_json, len);
	copy[len] = '\0';
	if (w->pid <= 0) {
		r = worker_start(w, &why);
		if (r < 0)
			return log_error_errno(r, "Cannot start the worker: %s", why ? why : "%m");
	}
	r = worker_send_names(w, copy, len, &why);
	if (r < 0)
		return log_error_errno(r, "The worker refused the names: %s", why ? why : "%m");
	free(w->names);
	w->names = TAKE_PTR(copy);
	w->names_len = len;
	return 0;
}

/* A worker that wrote or hung up while idle is not trusted with a message. */
static bool worker_idle_ok(struct worker *w)
{
	struct pollfd pfd = {.fd = w->sock, .events = POLLIN};

	return poll(&pfd, 1, 0) == 0;
}

static int worker_result(struct worker *w, struct frame *f, char **ret_json, char **reterr_reason)
{
	const char *json;
	char *s;

	if (frame_get_str(f, &json) < 0 || frame_get_end(f) < 0) {
		worker_stop(w, "worker sent a malformed result", reterr_reason);
		return -ECHILD;
	}
	s = strdup(json);
	if (!s)
		return -ENOMEM;
	*ret_json = s;
	if (++w->uses >= WORKER_MAX_USES)
		worker_stop(w, NULL, NULL);
	return 0;
}

int worker_process(struct worker *w, const char *raw, size_t len, char **ret_json,
		   char **reterr_reason)
{
	_cleanup_free_ char *why = NULL;
	struct frame f;
	uint32_t id;
	int r;

	if (len > w->max_message_size)
		return asprintf(reterr_reason, "message of %zu bytes exceeds the maximum of %zu",
				len, w->max_message_size) < 0
			   ? -ENOMEM
			   : -EBADMSG;
	if (w->pid > 0 && !worker_idle_ok(w))
		worker_stop(w, NULL, NULL);
	if (w->pid <= 0) {
		r = worker_start(w, &why);
		if (r < 0) {
			*reterr_reason = why ? TAKE_PTR(why) : strdup("worker could not start");
			return -ECHILD;
		}
	}
	id = ++w->seq;
	frame_begin(&f, WORKER_MESSAGE, id);
	r = worker_request(w, &f, raw ? raw : "", len, reterr_reason);
	frame_done(&f);
	if (r < 0)
		return r;
	r = worker_reply(w, WORKER_RESULT, id, &f, &why);
	if (r == -ENOMEM) {
		worker_stop(w, NULL, NULL);
		r = asprintf(reterr_reason, "worker ran out of memory (limit %" PRIu64 " MiB): %s",
			     w->max_memory >> 20, why);
		return r < 0 ? -ENOMEM : -ECHILD;
	}
	if (r < 0) {
		*reterr_reason = TAKE_PTR(why);
		return r == -ECHILD ? r : -EBADMSG;
	}
	r = worker_result(w, &f, ret_json, reterr_reason);
	frame_done(&f);
	return r;
}

/* pipeline-fake.c: a test double of parsers/pipeline.h for tests/test-worker,
 * linked only into that test. It answers {"length": N, "names": M,
 * "rules_version": "fake"} and misbehaves on request, as hostile input might
 * make the real pipeline do: "CRASH-ME" dies of SIGSEGV, "HANG-ME" loops
 * forever, "EAT-MEMORY" allocates until malloc fails (then frees and returns
 * -ENOMEM), "BAD-MIME" is -EBADMSG, and "TRY-ESCAPE" attempts what the
 * sandbox forbids or the parent must not leak (DATABASE_URL, fds) and answers
 * {"escaped": "what succeeded", "landlock": ABI}.
 * A rules_dir containing "MISSING" fails pipeline_new. */
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pipeline.h"

struct pipeline {
	size_t names_len;
};

int pipeline_new(const struct pipeline_settings *s, struct pipeline **ret, char **reterr_reason)
{
	if (!s->rules_dir || strstr(s->rules_dir, "MISSING")) {
		*reterr_reason = strdup("no rules in the rules folder");
		return -ENOENT;
	}
	*ret = calloc(1, sizeof(**ret));
	return *ret ? 0 : -ENOMEM;
}

struct pipeline *pipeline_free(struct pipeline *p)
{
	free(p);
	return NULL;
}

int pipeline_set_names(struct pipeline *p, const char *names_json, size_t len, char **reterr_reason)
{
	if (len == 0 || names_json[0] != '{') {
		*reterr_reason = strdup("the names are not a JSON object");
		return -EINVAL;
	}
	p->names_len = len;
	return 0;
}

const char *pipeline_rules_version(const struct pipeline *p)
{
	return "fake";
}

struct chunk {
	struct chunk *next;
	char fill[(1u << 20) - sizeof(struct chunk *)];
};

static int eat_memory(char **reterr_reason)
{
	struct chunk *all = NULL, *c;

	while ((c = malloc(sizeof(*c)))) {
		memset(c->fill, 'x', sizeof(c->fill));
		c->next = all;
		all = c;
	}
	while (all) {
		c = all->next;
		free(all);
		all = c;
	}
	*reterr_reason = strdup("out of memory");
	return -ENOMEM;
}

static int has(const char *raw, size_t len, const char *what)
{
	return memmem(raw, len, what, strlen(what)) != NULL;
}

static void probe(char *out, size_t size, const char *what, int succeeded)
{
	if (succeeded)
		snprintf(out + strlen(out), size - strlen(out), "%s%s", *out ? "," : "", what);
}

/* Whether this process may read its parent's memory: with permission, an
 * unmapped address gives EFAULT; without, EPERM. Nothing is attached to or
 * stopped. */
static int can_read_parent(void)
{
	char c;
	struct iovec local = {.iov_base = &c, .iov_len = 1};
	struct iovec remote = {.iov_base = (void *)16, .iov_len = 1};

	if (process_vm_readv(getppid(), &local, 1, &remote, 1, 0) >= 0)
		return 1;
	return errno != EPERM && errno != EACCES;
}

static int escape_json(char **ret_json)
{
	char out[256] = "", path[64];
	int fd, abi, n_fds;
	pid_t pid;

	abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	probe(out, sizeof(out), "secret-in-environment", getenv("DATABASE_URL") != NULL);
	/* above the socket (3), only the message's memfd may be open */
	n_fds = 0;
	for (fd = 4; fd < 1024; fd++)
		n_fds += fcntl(fd, F_GETFD) >= 0;
	probe(out, sizeof(out), "inherited-fds", n_fds > 1);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	probe(out, sizeof(out), "socket", fd >= 0);
	fd = open("worker-escape-probe", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	probe(out, sizeof(out), "create-file", fd >= 0);
	if (fd >= 0)
		unlink("worker-escape-probe");
	probe(out, sizeof(out), "kill-parent", kill(getppid(), 0) == 0);
	probe(out, sizeof(out), "read-parent-memory", can_read_parent());
	pid = fork();
	if (pid == 0)
		_exit(0);
	probe(out, sizeof(out), "fork", pid > 0);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	if (abi > 0) {
		snprintf(path, sizeof(path), "/proc/%d/environ", (int)getppid());
		probe(out, sizeof(out), "read-parent-environ",
		      open(path, O_RDONLY | O_CLOEXEC) >= 0);
		probe(out, sizeof(out), "read-etc", open("/etc/passwd", O_RDONLY | O_CLOEXEC) >= 0);
	}
	return asprintf(ret_json, "{\"escaped\": \"%s\", \"landlock\": %d}", out, abi) < 0 ? -ENOMEM
											   : 0;
}

int pipeline_run(struct pipeline *p, const char *raw, size_t len, char **ret_json,
		 char **reterr_reason)
{
	if (has(raw, len, "CRASH-ME"))
		raise(SIGSEGV);
	if (has(raw, len, "HANG-ME"))
		for (volatile unsigned long i = 0;; i++)
			;
	if (has(raw, len, "EAT-MEMORY"))
		return eat_memory(reterr_reason);
	if (has(raw, len, "TRY-ESCAPE"))
		return escape_json(ret_json);
	if (has(raw, len, "BAD-MIME")) {
		*reterr_reason = strdup("broken MIME structure");
		return -EBADMSG;
	}
	if (asprintf(ret_json, "{\"length\": %zu, \"names\": %zu, \"rules_version\": \"fake\"}",
		     len, p->names_len) < 0)
		return -ENOMEM;
	return 0;
}

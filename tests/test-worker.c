/* Tests of the sandboxed worker (src/worker.c) against the test double of
 * the pipeline (tests/pipeline-fake.c): the parent re-executes this program
 * (DIVEMAP_WORKER_EXE) as "divemap-ingest-worker worker", which runs
 * worker_child_main(3) below. And how src/libexec.c finds the helpers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include "frame.h"
#include "libexec.h"
#include "strutil.h"
#include "worker.h"

/* AddressSanitizer catches the SIGSEGV, reports and exits with 1 */
#ifdef __SANITIZE_ADDRESS__
#define CRASH_REASON "worker exited with status 1"
#else
#define CRASH_REASON "worker killed by signal 11 (SIGSEGV)"
#endif

static const char plain[] = "From: a@b.example\r\nSubject: trip\r\n\r\nSaturday 09:00\r\n";

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the one opendir holds */
}

static struct worker *new_worker(unsigned timeout_s, uint64_t max_memory)
{
	struct worker_settings s = {.rules_dir = "rules",
				    .timeout_s = timeout_s,
				    .max_memory = max_memory,
				    .max_message_size = 1u << 20};
	struct worker *w = NULL;

	assert_int_equal(worker_new(&s, &w), 0);
	return w;
}

/* Runs one message; returns the error and leaves the JSON or reason in *out. */
static int run(struct worker *w, const char *raw, char **out)
{
	char *json = NULL, *reason = NULL;
	int r = worker_process(w, raw, strlen(raw), &json, &reason);

	if (r == 0) {
		assert_non_null(json);
		assert_null(reason);
		*out = json;
	} else {
		assert_null(json);
		assert_non_null(reason);
		*out = reason;
	}
	return r;
}

static void expect_ok(struct worker *w, const char *raw, const char *json)
{
	_cleanup_free_ char *out = NULL;

	assert_int_equal(run(w, raw, &out), 0);
	assert_string_equal(out, json);
}

static void expect_death(struct worker *w, const char *raw, const char *reason_part)
{
	_cleanup_free_ char *out = NULL;

	assert_int_equal(run(w, raw, &out), -ECHILD);
	if (!strstr(out, reason_part))
		fail_msg("reason '%s' does not say '%s'", out, reason_part);
}

static void test_worker_round_trip(void **state)
{
	_cleanup_(worker_freep) struct worker *w = new_worker(5, 0);

	expect_ok(w, plain, "{\"length\": 52, \"names\": 0, \"rules_version\": \"fake\"}");
	expect_ok(w, "", "{\"length\": 0, \"names\": 0, \"rules_version\": \"fake\"}");
	/* the process that holds the secrets is no longer readable by its worker */
	assert_int_equal(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
}

static void test_worker_bad_message_is_ebadmsg_and_worker_lives(void **state)
{
	_cleanup_(worker_freep) struct worker *w = new_worker(5, 0);
	_cleanup_free_ char *out = NULL;

	assert_int_equal(run(w, "BAD-MIME", &out), -EBADMSG);
	assert_string_equal(out, "broken MIME structure");
	expect_ok(w, "x", "{\"length\": 1, \"names\": 0, \"rules_version\": \"fake\"}");
}

static void test_worker_message_over_maximum(void **state)
{
	_cleanup_(worker_freep) struct worker *w = new_worker(5, 0);
	_cleanup_free_ char *big = calloc(1, (1u << 20) + 2);
	_cleanup_free_ char *out = NULL;

	assert_non_null(big);
	memset(big, 'a', (1u << 20) + 1);
	assert_int_equal(run(w, big, &out), -EBADMSG);
	assert_non_null(strstr(out, "exceeds the maximum"));
}

static void test_worker_crash_then_next_message_works(void **state)
{
	_cleanup_(worker_freep) struct worker *w = new_worker(5, 0);

	expect_death(w, "Subject: CRASH-ME\r\n\r\n", CRASH_REASON);
	expect_ok(w, plain, "{\"length\": 52, \"names\": 0, \"rules_version\": \"fake\"}");
}

static void test_worker_hang_is_killed_after_timeout(void **state)
{
	_cleanup_(worker_freep) struct worker *w = new_worker(1, 0);
	uint64_t start = frame_now_us(), took;

	expect_death(w, "HANG-ME", "worker exceeded 1 s");
	took = frame_now_us() - start;
	assert_true(took >= 1000000);
	assert_true(took < 2000000);
	expect_ok(w, "y", "{\"length\": 1, \"names\": 0, \"rules_version\": \"fake\"}");
}

static void test_worker_out_of_memory(void **state)
{
#ifdef __SANITIZE_ADDRESS__
	skip(); /* the worker gets no address-space limit under AddressSanitizer */
#endif
	_cleanup_(worker_freep) struct worker *w = new_worker(20, 256u << 20);

	expect_death(w, "EAT-MEMORY", "worker ran out of memory (limit 256 MiB)");
	expect_ok(w, "z", "{\"length\": 1, \"names\": 0, \"rules_version\": \"fake\"}");
}

static void test_worker_names_resent_after_restart(void **state)
{
	_cleanup_(worker_freep) struct worker *w = new_worker(5, 0);
	static const char names[] = "{\"sites\": [[1, \"Pothitos\"]]}";
	char want[128];

	snprintf(want, sizeof(want), "{\"length\": 1, \"names\": %zu, \"rules_version\": \"fake\"}",
		 strlen(names));
	assert_int_equal(worker_set_names(w, names, strlen(names)), 0);
	expect_ok(w, "a", want);
	expect_death(w, "CRASH-ME", CRASH_REASON);
	expect_ok(w, "a", want);
	/* refused names leave the accepted ones in place */
	assert_int_equal(worker_set_names(w, "[]", 2), -EINVAL);
	expect_death(w, "CRASH-ME", CRASH_REASON);
	expect_ok(w, "a", want);
	/* names set while no worker runs start one */
	expect_death(w, "CRASH-ME", CRASH_REASON);
	assert_int_equal(worker_set_names(w, "{}", 2), 0);
	expect_ok(w, "a", "{\"length\": 1, \"names\": 2, \"rules_version\": \"fake\"}");
}

static void test_worker_sandbox_holds(void **state)
{
#ifdef __SANITIZE_ADDRESS__
	skip(); /* no seccomp under the sanitizers */
#endif
	_cleanup_(worker_freep) struct worker *w = NULL;
	_cleanup_free_ char *out = NULL;
	int inheritable = open("/dev/null", O_RDONLY); /* no O_CLOEXEC, on purpose */

	assert_true(inheritable >= 0);
	assert_int_equal(setenv("DATABASE_URL", "mysql://u:secret@db.example/divemap", 1), 0);
	w = new_worker(5, 0);
	unsetenv("DATABASE_URL");
	close(inheritable);
	assert_int_equal(run(w, "TRY-ESCAPE", &out), 0);
	if (!startswith(out, "{\"escaped\": \"\""))
		fail_msg("the worker got out: %s", out);
}

/* The child's side on a socketpair, re-executed as the worker would be. */
enum { T_HELLO = 1, T_READY = 2, T_MESSAGE = 5 }; /* worker.c's numbering */

static pid_t start_child(int sv[2])
{
	pid_t pid;

	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	assert_true(n > 0);
	exe[n] = '\0';
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* fd 3 without close-on-exec */
		if (sv[1] == 3 ? fcntl(3, F_SETFD, 0) == 0 : dup2(sv[1], 3) == 3)
			execl(exe, "divemap-ingest", "worker", (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	return pid;
}

static int child_status(pid_t pid)
{
	int status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void send_hello(int sock)
{
	struct frame f;

	frame_begin(&f, T_HELLO, 1);
	assert_int_equal(frame_add_u32(&f, 1), 0);
	assert_int_equal(frame_add_str(&f, "rules"), 0);
	assert_int_equal(frame_add_str(&f, ""), 0);
	assert_int_equal(frame_add_u64(&f, 1000), 0);
	assert_int_equal(frame_send(sock, &f, -1), 0);
	frame_done(&f);
	assert_int_equal(frame_recv(sock, FRAME_MAX_CONTROL, 0, &f), 0);
	assert_int_equal(f.type, T_READY);
	frame_done(&f);
}

static void test_worker_child_ends_on_end_of_stream(void **state)
{
	int sv[2];
	pid_t pid = start_child(sv);

	close(sv[0]);
	assert_int_equal(child_status(pid), 0);
}

static void test_worker_child_exits_on_unknown_frame(void **state)
{
	struct frame f;
	int sv[2];
	pid_t pid = start_child(sv);

	send_hello(sv[0]);
	frame_begin(&f, 99, 2);
	assert_int_equal(frame_send(sv[0], &f, -1), 0);
	frame_done(&f);
	assert_int_equal(frame_recv(sv[0], FRAME_MAX_CONTROL, 0, &f), -ECONNRESET);
	close(sv[0]);
	assert_int_equal(child_status(pid), 1);
}

static void test_worker_child_wants_hello_first(void **state)
{
	struct frame f;
	int sv[2], fd;
	pid_t pid = start_child(sv);

	assert_int_equal(frame_memfd_new("m", "x", 1, &fd), 0);
	frame_begin(&f, T_MESSAGE, 1);
	assert_int_equal(frame_send(sv[0], &f, fd), 0);
	frame_done(&f);
	close(fd);
	assert_int_equal(frame_recv(sv[0], FRAME_MAX_CONTROL, 0, &f), -ECONNRESET);
	close(sv[0]);
	assert_int_equal(child_status(pid), 1);
}

static void test_worker_child_refuses_unsealed_message(void **state)
{
	struct frame f;
	int sv[2], fd = memfd_create("unsealed", MFD_CLOEXEC);
	pid_t pid = start_child(sv);

	send_hello(sv[0]);
	assert_int_equal(write(fd, "x", 1), 1);
	frame_begin(&f, T_MESSAGE, 2);
	assert_int_equal(frame_send(sv[0], &f, fd), 0);
	frame_done(&f);
	close(fd);
	assert_int_equal(frame_recv(sv[0], FRAME_MAX_CONTROL, 0, &f), -ECONNRESET);
	close(sv[0]);
	assert_int_equal(child_status(pid), 1);
}

/* The pids of this process's children. */
static size_t children(pid_t *pids, size_t max)
{
	char path[64];
	unsigned long long pid;
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/children", (int)getpid());
	f = fopen(path, "re");
	assert_non_null(f);
	while (n < max && fscanf(f, "%llu", &pid) == 1)
		pids[n++] = (pid_t)pid;
	fclose(f);
	return n;
}

static void test_worker_dead_while_idle_is_replaced_silently(void **state)
{
	_cleanup_(worker_freep) struct worker *w = new_worker(5, 0);
	pid_t pids[4];

	assert_int_equal(children(pids, ELEMENTSOF(pids)), 1);
	assert_int_equal(kill(pids[0], SIGKILL), 0);
	usleep(100000);
	expect_ok(w, "b", "{\"length\": 1, \"names\": 0, \"rules_version\": \"fake\"}");
}

static void test_worker_bad_rules_fail_worker_new(void **state)
{
	struct worker_settings s = {.rules_dir = "MISSING"};
	struct worker *w = NULL;
	int before = count_fds();

	assert_int_equal(worker_new(&s, &w), -ENOENT);
	assert_null(w);
	assert_int_equal(count_fds(), before);
}

static void test_worker_thousand_messages_no_fd_leak(void **state)
{
	int before = count_fds(), during;
	struct worker *w = new_worker(5, 0);

	during = count_fds();
	for (unsigned i = 0; i < 1000; i++) {
		_cleanup_free_ char *out = NULL;

		assert_int_equal(run(w, plain, &out), 0);
	}
	assert_int_equal(count_fds(), during);
	worker_free(w);
	assert_int_equal(count_fds(), before);
}

static void assert_same_file(int fd, const char *path)
{
	struct stat a, b;

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &a), 0);
	assert_int_equal(stat(path, &b), 0);
	assert_true(a.st_dev == b.st_dev && a.st_ino == b.st_ino);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
}

static void test_libexec_open_finds_env_then_beside_then_nothing(void **state)
{
	char self[4096], *name;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	assert_true(n > 0);
	self[n] = '\0';
	name = strrchr(self, '/') + 1;
	/* the environment's choice first */
	assert_int_equal(setenv("TEST_LIBEXEC_EXE", "/bin/sh", 1), 0);
	assert_same_file(libexec_open(name, "TEST_LIBEXEC_EXE"), "/bin/sh");
	assert_int_equal(setenv("TEST_LIBEXEC_EXE", "/nonexistent/x", 1), 0);
	assert_int_equal(libexec_open(name, "TEST_LIBEXEC_EXE"), -ENOENT);
	/* beside the running program (no variable, or an unset one): itself */
	assert_same_file(libexec_open(name, NULL), self);
	assert_same_file(libexec_open(name, "TEST_LIBEXEC_EXE_UNSET"), self);
	/* neither beside it nor installed */
	assert_int_equal(libexec_open("divemap-ingest-no-such-helper", NULL), -ENOENT);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_worker_round_trip),
	    cmocka_unit_test(test_worker_bad_message_is_ebadmsg_and_worker_lives),
	    cmocka_unit_test(test_worker_message_over_maximum),
	    cmocka_unit_test(test_worker_crash_then_next_message_works),
	    cmocka_unit_test(test_worker_hang_is_killed_after_timeout),
	    cmocka_unit_test(test_worker_out_of_memory),
	    cmocka_unit_test(test_worker_names_resent_after_restart),
	    cmocka_unit_test(test_worker_dead_while_idle_is_replaced_silently),
	    cmocka_unit_test(test_worker_sandbox_holds),
	    cmocka_unit_test(test_worker_bad_rules_fail_worker_new),
	    cmocka_unit_test(test_worker_child_ends_on_end_of_stream),
	    cmocka_unit_test(test_worker_child_exits_on_unknown_frame),
	    cmocka_unit_test(test_worker_child_wants_hello_first),
	    cmocka_unit_test(test_worker_child_refuses_unsealed_message),
	    cmocka_unit_test(test_worker_thousand_messages_no_fd_leak),
	    cmocka_unit_test(test_libexec_open_finds_env_then_beside_then_nothing),
	};

	/* the worker re-executes this program, not divemap-ingest-worker */
	if (argc == 2 && streq(argv[1], "worker"))
		return worker_child_main(3) < 0 ? 1 : 0;
	if (setenv("DIVEMAP_WORKER_EXE", "/proc/self/exe", 1) < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The daemon's systemd protocol (src/daemon.c, src/notify.c) on a real
 * NOTIFY_SOCKET: the daemon runs in a child with a maildir source and a fake
 * sink (no database); the test reads the datagrams it sends. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "daemon.h"
#include "source.h"

struct fixture {
	char dir[64], conf[128], sock[128];
	int fd;
	pid_t pid;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- the child: a daemon with a fake sink ---- */

static int fake_connect_calls;

static int fake_connect(void *userdata, const struct config *cfg, char **reterr_reason)
{
	if (++fake_connect_calls <= 2) {
		*reterr_reason = strdup("fake database: connection refused");
		return -ECONNREFUSED;
	}
	return 0;
}

static int fake_handle(void *userdata, struct source *s, const struct source_msg *m,
		       struct daemon_msg_info *ret_info)
{
	ret_info->counted = true;
	snprintf(ret_info->from, sizeof(ret_info->from), "Aqua Lavrio");
	return source_ack(s, m);
}

static const struct daemon_sink fake_sink = {
    .connect = fake_connect,
    .handle = fake_handle,
};

static void write_config(const struct fixture *fx, const char *extra)
{
	FILE *f = fopen(fx->conf, "w");

	assert_non_null(f);
	fprintf(f,
		"[database]\nconnect_attempts = 5\nconnect_retry_min = 10ms\n"
		"connect_retry_max = 20ms\n[maildir drop]\npath = %s/md\n%s",
		fx->dir, extra);
	assert_int_equal(fclose(f), 0);
}

static void run_child(const struct fixture *fx)
{
	struct config *cfg = NULL;
	char *why = NULL;
	int r;

	unsetenv("DATABASE_URL");
	setenv("NOTIFY_SOCKET", fx->sock, 1);
	setenv("WATCHDOG_USEC", "400000", 1);
	if (config_load(fx->conf, &cfg, &why) < 0) {
		fprintf(stderr, "child: %s\n", why);
		_exit(2);
	}
	r = daemon_run(fx->conf, cfg, &fake_sink, NULL);
	config_free(cfg);
	_exit(r == 0 ? 0 : 1);
}

/* ---- the test's side ---- */

/* Waits up to TIMEOUT_MS for a datagram containing WHAT; returns it (static). */
static const char *expect(struct fixture *fx, const char *what, unsigned timeout_ms)
{
	static char msg[1024];
	uint64_t end = now_ms() + timeout_ms;

	while (now_ms() < end) {
		struct pollfd p = {.fd = fx->fd, .events = POLLIN};
		ssize_t n;

		if (poll(&p, 1, (int)(end - now_ms())) <= 0)
			continue;
		n = recv(fx->fd, msg, sizeof(msg) - 1, 0);
		if (n < 0)
			continue;
		msg[n] = '\0';
		if (strstr(msg, what))
			return msg;
	}
	fail_msg("no notification with '%s' within %u ms", what, timeout_ms);
	return NULL;
}

static void put_message(struct fixture *fx, const char *name)
{
	char tmp[256], new[256];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s/md/tmp/%s", fx->dir, name);
	snprintf(new, sizeof(new), "%s/md/new/%s", fx->dir, name);
	f = fopen(tmp, "w");
	assert_non_null(f);
	fputs("From: Aqua Lavrio <info@aqua.example>\r\nSubject: trips\r\n\r\nSunday.\r\n", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(rename(tmp, new), 0);
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	static const char *const sub[] = {"md", "md/cur", "md/new", "md/tmp"};
	char p[256];

	snprintf(fx->dir, sizeof(fx->dir), "/tmp/test-notify-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	for (size_t i = 0; i < 4; i++) {
		snprintf(p, sizeof(p), "%s/%s", fx->dir, sub[i]);
		assert_int_equal(mkdir(p, 0700), 0);
	}
	snprintf(fx->conf, sizeof(fx->conf), "%s/test.conf", fx->dir);
	snprintf(fx->sock, sizeof(fx->sock), "%s/notify.sock", fx->dir);
	write_config(fx, "");
	fx->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fx->fd >= 0);
	assert_true(strlen(fx->sock) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, fx->sock, strlen(fx->sock) + 1);
	assert_int_equal(bind(fx->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[128];

	if (fx->pid > 0 && kill(fx->pid, SIGKILL) == 0)
		waitpid(fx->pid, NULL, 0);
	close(fx->fd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	assert_int_equal(system(cmd), 0);
	free(fx);
	return 0;
}

static void test_notify_protocol_of_the_daemon(void **state)
{
	struct fixture *fx = *state;
	uint64_t t0, last, gap_max = 0;
	unsigned pings = 0;
	int status;
	char p[256];

	fx->pid = fork();
	assert_true(fx->pid >= 0);
	if (fx->pid == 0)
		run_child(fx);

	/* start-up: the database is waited for, and only then READY=1 */
	expect(fx, "STATUS=waiting for database (attempt 2)", 3000);
	expect(fx, "STATUS=waiting for database (attempt 3)", 3000);
	assert_non_null(strstr(expect(fx, "READY=1", 3000), "STATUS=idle; 0 newsletters"));

	/* a message: fetched, handed to the sink, acked, counted in STATUS= */
	put_message(fx, "100.M1.test");
	assert_non_null(strstr(expect(fx, "1 newsletter;", 3000), "from Aqua Lavrio"));
	snprintf(p, sizeof(p), "%s/md/cur/100.M1.test:2,S", fx->dir);
	assert_int_equal(access(p, F_OK), 0);

	/* the watchdog: WATCHDOG=1 at least every WATCHDOG_USEC/2 .. 3/4 */
	t0 = last = now_ms();
	while (now_ms() - t0 < 1300) {
		expect(fx, "WATCHDOG=1", 1000);
		if (now_ms() - last > gap_max)
			gap_max = now_ms() - last;
		last = now_ms();
		pings++;
	}
	print_message("%u watchdog pings in 1.3 s, longest gap %llu ms\n", pings,
		      (unsigned long long)gap_max);
	assert_true(pings >= 3);
	assert_true(gap_max <= 400);

	/* SIGHUP: RELOADING=1 with MONOTONIC_USEC, then READY=1 */
	kill(fx->pid, SIGHUP);
	assert_non_null(strstr(expect(fx, "RELOADING=1", 2000), "MONOTONIC_USEC="));
	expect(fx, "READY=1", 3000);
	put_message(fx, "101.M2.test");
	expect(fx, "2 newsletters;", 3000);

	/* an invalid new configuration: kept the old one, READY=1 again, still serving */
	write_config(fx, "[bogus]\nkey = 1\n");
	kill(fx->pid, SIGHUP);
	expect(fx, "RELOADING=1", 2000);
	expect(fx, "READY=1", 2000);
	put_message(fx, "102.M3.test");
	expect(fx, "3 newsletters;", 3000);

	/* a valid configuration whose maildir is gone: the reload completes, the
	 * source is retried in the background, the daemon stays */
	write_config(fx, "[maildir gone]\npath = /nonexistent/maildir\n");
	kill(fx->pid, SIGHUP);
	expect(fx, "RELOADING=1", 2000);
	assert_non_null(strstr(expect(fx, "READY=1", 3000), "gone: retrying"));
	put_message(fx, "103.M4.test");
	expect(fx, "4 newsletters;", 3000);

	/* SIGTERM: STOPPING=1 and exit 0 */
	kill(fx->pid, SIGTERM);
	expect(fx, "STOPPING=1", 2000);
	assert_int_equal(waitpid(fx->pid, &status, 0), fx->pid);
	fx->pid = 0;
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_notify_database_never_reachable_fails_start(void **state)
{
	struct fixture *fx = *state;
	int status;

	write_config(fx, "");
	/* 2 attempts only: the fake refuses twice */
	{
		FILE *f = fopen(fx->conf, "w");
		assert_non_null(f);
		fprintf(f, "[database]\nconnect_attempts = 2\nconnect_retry_min = 10ms\n"
			   "connect_retry_max = 20ms\n");
		assert_int_equal(fclose(f), 0);
	}
	fx->pid = fork();
	assert_true(fx->pid >= 0);
	if (fx->pid == 0)
		run_child(fx);
	expect(fx, "STATUS=waiting for database (attempt 2)", 3000);
	assert_int_equal(waitpid(fx->pid, &status, 0), fx->pid);
	fx->pid = 0;
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1); /* no READY=1 was ever sent */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_notify_protocol_of_the_daemon, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_notify_database_never_reachable_fails_start, setup,
					    teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* `divemap-ingest serve` end to end, against the private Dovecot and MariaDB
 * that tests/run-test starts: READY=1 only once the database is migrated and
 * the IMAP source connected; each APPENDed newsletter becomes a committed,
 * parsed ingest_messages row and is marked \Seen; STOPPING=1 and exit 0 on
 * SIGTERM. Measures APPEND -> committed row latency over 50 messages and the
 * idle daemon's RSS and CPU (DIVEMAP_IDLE_SECONDS, default 5). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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

#include <libetpan/libetpan.h>

#include "buf.h"
#include "config.h"
#include "db.h"
#include "strutil.h"

#define N_MESSAGES 50

struct fixture {
	char dir[64], conf[128], sock[128], pw[128], log[128];
	int fd;
	pid_t pid;
	struct db *db;
};

static const char *env(const char *name)
{
	const char *v = getenv(name);

	if (!v)
		fail_msg("%s is not set: run this test through tests/run-test", name);
	return v;
}

/* A decimal number, or 0 ("12 kB" gives 12). */
static unsigned number(const char *s)
{
	unsigned v = 0;
	char digits[16];
	size_t n = strspn(s, "0123456789");

	if (n == 0 || n >= sizeof(digits))
		return 0;
	memcpy(digits, s, n);
	digits[n] = '\0';
	return parse_uint32(digits, &v) == 0 ? v : 0;
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static const char *expect(struct fixture *fx, const char *what, unsigned timeout_ms)
{
	static char msg[1024];
	uint64_t end = now_us() + (uint64_t)timeout_ms * 1000u;

	while (now_us() < end) {
		struct pollfd p = {.fd = fx->fd, .events = POLLIN};
		ssize_t n;

		if (poll(&p, 1, (int)((end - now_us()) / 1000u) + 1) <= 0)
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

static char *read_file(const char *path, size_t *ret_len)
{
	struct buf b = BUF_INIT(BUF_MAX_MESSAGE);
	FILE *f = fopen(path, "rb");
	char chunk[65536];
	size_t n;

	assert_non_null(f);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		assert_int_equal(buf_append(&b, chunk, n), 0);
	fclose(f);
	return buf_take(&b, ret_len);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The corpus messages, sorted by name. */
static size_t corpus(char ***ret)
{
	char dir[512], **names = NULL;
	size_t n = 0;
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/tests/corpus/messages", getenv("top_srcdir") ?: ".");
	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d)))
		if (strstr(de->d_name, ".eml")) {
			char **grown = reallocarray(names, n + 1, sizeof(*names));
			assert_non_null(grown);
			names = grown;
			assert_true(asprintf(&names[n++], "%s/%s", dir, de->d_name) > 0);
		}
	closedir(d);
	assert_non_null(names);
	qsort(names, n, sizeof(*names), cmp_names);
	*ret = names;
	return n;
}

static mailimap *helper(void)
{
	mailimap *h = mailimap_new(0, NULL);

	mailimap_set_timeout(h, 5);
	assert_int_equal(
	    mailimap_socket_connect(h, env("IMAP_HOST"), (uint16_t)number(env("IMAP_PORT"))),
	    MAILIMAP_NO_ERROR_NON_AUTHENTICATED);
	assert_int_equal(mailimap_login(h, env("IMAP_USER"), env("IMAP_PASSWORD")), 0);
	return h;
}

/* The raw message with a probe header first, and its Message-ID made unique. */
static char *probe_message(const char *raw, size_t len, unsigned seq, size_t *ret_len)
{
	struct buf b = BUF_INIT(BUF_MAX_MESSAGE);
	const char *mid = strcasestr(raw, "\nMessage-ID: <");

	assert_int_equal(buf_printf(&b, "X-Latency-Probe: %u\r\n", seq), 0);
	if (mid && (size_t)(mid - raw) < len) {
		size_t head = (size_t)(mid - raw) + strlen("\nMessage-ID: <");
		assert_int_equal(buf_append(&b, raw, head), 0);
		assert_int_equal(buf_printf(&b, "probe%u.", seq), 0);
		assert_int_equal(buf_append(&b, raw + head, len - head), 0);
	} else
		assert_int_equal(buf_append(&b, raw, len), 0);
	return buf_take(&b, ret_len);
}

/* Status of the ingest_messages row of IMAP UID uid, or NULL. */
static char *row_status(struct fixture *fx, unsigned uid)
{
	struct db_rows *rows = NULL;
	char buf[64], *ref = buf;
	char *st = NULL;

	snprintf(buf, sizeof(buf), "%%/INBOX/%%/%u", uid);
	assert_int_equal(db_query(fx->db,
				  "SELECT status FROM ingest_messages WHERE source = 'imap' AND "
				  "source_ref LIKE ?",
				  (struct db_value[]){DB_TEXT(ref)}, 1, &rows),
			 0);
	if (rows->n_rows > 0)
		st = strdup(db_cell(rows, 0, 0));
	db_rows_free(rows);
	return st;
}

static void write_config(struct fixture *fx)
{
	FILE *f;

	f = fopen(fx->pw, "w");
	assert_non_null(f);
	fprintf(f, "%s\n", env("IMAP_PASSWORD"));
	fclose(f);
	f = fopen(fx->conf, "w");
	assert_non_null(f);
	fprintf(f,
		"[database]\nurl = %s\nconnect_attempts = 20\nconnect_retry_min = 100ms\n"
		"connect_retry_max = 300ms\nmigrations_dir = %s/migrations\n"
		"[parser]\nrules_dir = %s/rules\n"
		"[imap test]\nhost = %s\nport = %s\ntls = implicit\nuser = %s\n"
		"password_file = %s\nca_file = %s\ntimeout = 10s\nafter = seen\n"
		"[maildir drop]\npath = %s/md\n",
		env("DATABASE_URL"), getenv("top_srcdir") ?: ".", getenv("top_srcdir") ?: ".",
		env("IMAP_HOST"), env("IMAPS_PORT"), env("IMAP_USER"), fx->pw, env("IMAP_CA"),
		fx->dir);
	fclose(f);
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct config cfg = {.database = {.url = (char *)env("DATABASE_URL"),
					  .connect_attempts = 3,
					  .connect_retry_min_ms = 10,
					  .connect_retry_max_ms = 20,
					  .connect_timeout_s = 5}};

	snprintf(fx->dir, sizeof(fx->dir), "/tmp/itest-serve-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->conf, sizeof(fx->conf), "%s/serve.conf", fx->dir);
	snprintf(fx->sock, sizeof(fx->sock), "%s/notify.sock", fx->dir);
	snprintf(fx->pw, sizeof(fx->pw), "%s/imap-password", fx->dir);
	snprintf(fx->log, sizeof(fx->log), "%s/serve.log", fx->dir);
	for (size_t i = 0; i < 4; i++) {
		static const char *const sub[] = {"md", "md/cur", "md/new", "md/tmp"};
		char p[256];
		snprintf(p, sizeof(p), "%s/%s", fx->dir, sub[i]);
		assert_int_equal(mkdir(p, 0700), 0);
	}
	write_config(fx);
	fx->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fx->fd >= 0);
	memcpy(sa.sun_path, fx->sock, strlen(fx->sock) + 1);
	assert_int_equal(bind(fx->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(db_open(&cfg, &fx->db), 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[256];

	if (fx->pid > 0 && kill(fx->pid, SIGKILL) == 0)
		waitpid(fx->pid, NULL, 0);
	db_free(fx->db);
	close(fx->fd);
	snprintf(cmd, sizeof(cmd), "tail -40 '%s'; rm -rf '%s'", fx->log, fx->dir);
	(void)system(cmd);
	free(fx);
	return 0;
}

static void start_serve(struct fixture *fx)
{
	char bin[512];

	snprintf(bin, sizeof(bin), "%s/divemap-ingest", getenv("top_builddir") ?: ".");
	fx->pid = fork();
	assert_true(fx->pid >= 0);
	if (fx->pid == 0) {
		int log = open(fx->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		dup2(log, STDERR_FILENO);
		setenv("NOTIFY_SOCKET", fx->sock, 1);
		setenv("WATCHDOG_USEC", "10000000", 1);
		if (getenv("DIVEMAP_TEST_VALGRIND")) /* leaks and errors fail the exit status */
			execlp("valgrind", "valgrind", "-q", "--leak-check=full",
			       "--error-exitcode=99", bin, "-v", "-c", fx->conf,
			       "--log-target=stderr", "serve", (char *)NULL);
		execl(bin, bin, "-v", "-c", fx->conf, "--log-target=stderr", "serve", (char *)NULL);
		_exit(127);
	}
}

static long proc_field(pid_t pid, const char *file, const char *key)
{
	char path[64], line[256];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, strlen(key)) == 0)
			v = (long)number(strstrip(line + strlen(key)));
	fclose(f);
	return v;
}

/* utime + stime in clock ticks */
static long cpu_ticks(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut = 0, st = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	p = strrchr(buf, ')');
	assert_non_null(p);
	/* fields after ")": state(3) ... utime(14) stime(15) */
	assert_int_equal(
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st), 2);
	return (long)(ut + st);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static unsigned count_in_log(struct fixture *fx, const char *what)
{
	size_t len;
	char *text = read_file(fx->log, &len);
	unsigned n = 0;

	for (const char *p = text; (p = strstr(p, what)); p++)
		n++;
	free(text);
	return n;
}

static void dovecot(const char *args)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "bash '%s/tests/dovecot.sh' %s >/dev/null",
		 getenv("top_srcdir") ?: ".", args);
	assert_int_equal(system(cmd), 0);
}

/* Dovecot goes away for 3 s: one log line, retries with back-off, and the
 * next message after its return is ingested. */
static void reconnect_after_restart(struct fixture *fx)
{
	char args[512], drain[1024], *st = NULL;
	uint32_t uidvalidity = 0, uid = 0;
	uint64_t t0;
	mailimap *h;

	snprintf(args, sizeof(args), "stop '%s'", env("IMAP_DIR"));
	dovecot(args);
	sleep(3);
	snprintf(args, sizeof(args), "start '%s' %s %s", env("IMAP_DIR"), env("IMAP_PORT"),
		 env("IMAPS_PORT"));
	dovecot(args);
	h = helper();
	assert_int_equal(mailimap_uidplus_append(h, "INBOX", NULL, NULL,
						 "Subject: after the restart\r\n\r\nx\r\n", 33,
						 &uidvalidity, &uid),
			 0);
	mailimap_logout(h);
	mailimap_free(h);
	t0 = now_us();
	while (!st && now_us() - t0 < 30000000u) {
		while (recv(fx->fd, drain, sizeof(drain), MSG_DONTWAIT) > 0)
			;
		st = row_status(fx, uid);
		usleep(20000);
	}
	assert_non_null(st);
	free(st);
	print_message("after a 3 s outage: ingested %.1f s after the restart's APPEND\n",
		      (double)(now_us() - t0) / 1e6);
	assert_int_equal(count_in_log(fx, "retrying with back-off"), 1);
	assert_int_equal(count_in_log(fx, "working again"), 1);
}

/* The maildir source of the same daemon: a delivery (tmp/ then new/) is
 * stored and parsed, then moved to cur/ with the S flag. */
static void maildir_drop(struct fixture *fx, const char *file)
{
	char tmp[256], new[256], cur[256], cmd[1024], drain[1024];
	const char *st;
	struct db_rows *rows = NULL;
	uint64_t t0 = now_us();

	snprintf(tmp, sizeof(tmp), "%s/md/tmp/1700000000.M1P1.test", fx->dir);
	snprintf(new, sizeof(new), "%s/md/new/1700000000.M1P1.test", fx->dir);
	snprintf(cur, sizeof(cur), "%s/md/cur/1700000000.M1P1.test:2,S", fx->dir);
	snprintf(cmd, sizeof(cmd), "sed '1s/^/X-Maildir-Probe: 1\\n/' '%s' >'%s'", file, tmp);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(rename(tmp, new), 0);
	while (now_us() - t0 < 30000000u) {
		while (recv(fx->fd, drain, sizeof(drain), MSG_DONTWAIT) > 0)
			;
		if (access(cur, F_OK) == 0)
			break;
		usleep(5000);
	}
	print_message("maildir drop -> acked: %.0f ms\n", (double)(now_us() - t0) / 1000.0);
	assert_int_equal(access(cur, F_OK), 0);
	assert_int_equal(access(new, F_OK), -1);
	assert_int_equal(db_query(fx->db,
				  "SELECT status FROM ingest_messages WHERE source = 'maildir' AND "
				  "source_ref = '1700000000.M1P1.test'",
				  NULL, 0, &rows),
			 0);
	assert_int_equal(rows->n_rows, 1);
	st = db_cell(rows, 0, 0);
	assert_true(strcmp(st, "pending") != 0 && strcmp(st, "parsing") != 0);
	db_rows_free(rows);
}

static void test_serve_imap_end_to_end(void **state)
{
	struct fixture *fx = *state;
	uint64_t lat[N_MESSAGES];
	char **files = NULL;
	size_t n_files = corpus(&files);
	const char *idle_env = getenv("DIVEMAP_IDLE_SECONDS");
	unsigned idle_s = idle_env ? number(idle_env) : 5;
	long ticks0, rss;
	int status;
	mailimap *h;

	assert_true(n_files > 0);
	start_serve(fx);
	assert_non_null(strstr(expect(fx, "READY=1", 60000), "STATUS=idle; 0 newsletters"));

	h = helper();
	for (unsigned i = 0; i < N_MESSAGES; i++) {
		size_t len, plen;
		char *raw = read_file(files[i % n_files], &len);
		char *msg = probe_message(raw, len, i, &plen), *st = NULL;
		uint32_t uidvalidity = 0, uid = 0;
		uint64_t t0;

		t0 = now_us();
		assert_int_equal(
		    mailimap_uidplus_append(h, "INBOX", NULL, NULL, msg, plen, &uidvalidity, &uid),
		    0);
		assert_true(uid > 0);
		while (now_us() - t0 < 30000000u) {
			char drain[1024];
			while (recv(fx->fd, drain, sizeof(drain), MSG_DONTWAIT) > 0)
				; /* a full notify socket would block the daemon */
			st = row_status(fx, uid);
			if (st && strcmp(st, "pending") != 0 && strcmp(st, "parsing") != 0)
				break;
			free(st);
			st = NULL;
			usleep(2000);
		}
		if (!st && getenv("DIVEMAP_DEBUG_STUCK")) {
			char cmd[256];
			snprintf(cmd, sizeof(cmd),
				 "gdb -p %d -batch -ex 'bt' 2>/dev/null | grep '^#'", (int)fx->pid);
			(void)system(cmd);
		}
		assert_non_null(st);
		lat[i] = now_us() - t0;
		free(st);
		free(msg);
		free(raw);
	}
	mailimap_logout(h);
	mailimap_free(h);
	qsort(lat, N_MESSAGES, sizeof(lat[0]), cmp_u64);
	print_message("APPEND -> committed row over %d messages: median %.0f ms, p90 %.0f ms, "
		      "max %.0f ms\n",
		      N_MESSAGES, lat[N_MESSAGES / 2] / 1000.0, lat[N_MESSAGES * 9 / 10] / 1000.0,
		      lat[N_MESSAGES - 1] / 1000.0);
	/* every message stored and parsed once, and marked \\Seen at the server */
	{
		struct db_rows *rows = NULL;
		clist *seen = NULL;
		struct mailimap_search_key *key;

		assert_int_equal(db_query(fx->db,
					  "SELECT COUNT(*), SUM(status IN ('pending', 'parsing')) "
					  "FROM ingest_messages",
					  NULL, 0, &rows),
				 0);
		assert_string_equal(db_cell(rows, 0, 0), "50"); /* before the maildir drop */
		assert_string_equal(db_cell(rows, 0, 1), "0");
		db_rows_free(rows);
		h = helper();
		assert_int_equal(mailimap_examine(h, "INBOX"), 0);
		key = mailimap_search_key_new(MAILIMAP_SEARCH_KEY_SEEN, NULL, NULL, NULL, NULL,
					      NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
					      NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL,
					      NULL, NULL);
		assert_int_equal(mailimap_uid_search(h, NULL, key, &seen), 0);
		assert_int_equal(clist_count(seen), N_MESSAGES);
		mailimap_search_result_free(seen);
		mailimap_search_key_free(key);
		mailimap_logout(h);
		mailimap_free(h);
	}

	/* idle: RSS and CPU */
	usleep(500000);
	ticks0 = cpu_ticks(fx->pid);
	sleep(idle_s);
	rss = proc_field(fx->pid, "status", "VmRSS:");
	{ /* the worker child, kept for the next message */
		DIR *d = opendir("/proc");
		struct dirent *de;
		while (d && (de = readdir(d)))
			if (parse_uint32(de->d_name, &(unsigned){0}) == 0 &&
			    proc_field((pid_t)number(de->d_name), "status", "PPid:") == fx->pid)
				print_message(
				    "worker %s: RSS %ld kB\n", de->d_name,
				    proc_field((pid_t)number(de->d_name), "status", "VmRSS:"));
		if (d)
			closedir(d);
	}
	print_message("idle %u s: RSS %ld kB, CPU %.2f s (%ld ticks of %ld/s)\n", idle_s, rss,
		      (double)(cpu_ticks(fx->pid) - ticks0) / (double)sysconf(_SC_CLK_TCK),
		      cpu_ticks(fx->pid) - ticks0, sysconf(_SC_CLK_TCK));

	maildir_drop(fx, files[0]);
	reconnect_after_restart(fx);

	kill(fx->pid, SIGTERM);
	expect(fx, "STOPPING=1", 5000);
	assert_int_equal(waitpid(fx->pid, &status, 0), fx->pid);
	fx->pid = 0;
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	for (size_t i = 0; i < n_files; i++)
		free(files[i]);
	free(files);
}

static void test_serve_refused_login_fails_start(void **state)
{
	struct fixture *fx = *state;
	int status;
	FILE *f = fopen(fx->pw, "w");

	assert_non_null(f);
	fputs("not-the-password\n", f);
	fclose(f);
	start_serve(fx);
	assert_int_equal(waitpid(fx->pid, &status, 0), fx->pid);
	fx->pid = 0;
	assert_true(WIFEXITED(status));
	assert_int_not_equal(WEXITSTATUS(status), 0);
	assert_true(count_in_log(fx, "refused the login") >= 1);
	assert_int_equal(count_in_log(fx, "ready:"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_serve_refused_login_fails_start, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_serve_imap_end_to_end, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

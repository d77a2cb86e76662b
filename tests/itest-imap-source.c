/* Integration tests of the IMAP source (src/source-imap.c) against the
 * private Dovecot (and MariaDB) that tests/run-test starts: IMAP_* and
 * MARIADB_* in the environment. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <libetpan/libetpan.h>

#include "buf.h"
#include "config.h"
#include "db.h"
#include "source-imap.h"
#include "source.h"
#include "strutil.h"

static char pwfile[] = "/tmp/itest-imap-pw-XXXXXX";

static const char *env(const char *name)
{
	const char *v = getenv(name);

	if (!v)
		fail_msg("%s is not set: run this test through tests/run-test", name);
	return v;
}

static unsigned env_port(const char *name)
{
	unsigned v = 0;

	assert_int_equal(parse_uint32(env(name), &v), 0);
	return v;
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* A source config for the test server; the caller adjusts it. */
static struct config_source base_config(enum imap_tls tls, const char *mailbox)
{
	return (struct config_source){
	    .kind = SOURCE_IMAP,
	    .name = "test",
	    .host = (char *)env("IMAP_HOST"),
	    .port = tls == IMAP_TLS_IMPLICIT ? env_port("IMAPS_PORT") : env_port("IMAP_PORT"),
	    .tls = tls,
	    .user = (char *)env("IMAP_USER"),
	    .password_file = pwfile,
	    .mailbox = (char *)mailbox,
	    .ca_file = (char *)env("IMAP_CA"),
	    .idle_interval_s = 600,
	    .poll_interval_s = 60,
	    .timeout_s = 5,
	    .batch_size = 2,
	};
}

/* ---- a second session, to put mail in ---- */

static mailimap *helper(void)
{
	mailimap *h = mailimap_new(0, NULL);

	mailimap_set_timeout(h, 5);
	assert_int_equal(
	    mailimap_socket_connect(h, env("IMAP_HOST"), (uint16_t)env_port("IMAP_PORT")),
	    MAILIMAP_NO_ERROR_NON_AUTHENTICATED);
	assert_int_equal(mailimap_login(h, env("IMAP_USER"), env("IMAP_PASSWORD")), 0);
	return h;
}

static void append(const char *mailbox, const char *subject)
{
	mailimap *h = helper();
	char msg[512];
	int n = snprintf(
	    msg, sizeof(msg),
	    "From: Aqua Lavrio <info@aqua.example>\r\nTo: divemap@example.org\r\n"
	    "Subject: %s\r\nMessage-ID: <%s.%d@test>\r\n\r\nSaturday 10:00 wreck dive.\r\n",
	    subject, subject, (int)getpid());

	assert_int_equal(mailimap_append(h, mailbox, NULL, NULL, msg, (size_t)n), 0);
	mailimap_logout(h);
	mailimap_free(h);
}

static void create_mailbox(const char *mailbox)
{
	mailimap *h = helper();

	(void)mailimap_create(h, mailbox);
	mailimap_logout(h);
	mailimap_free(h);
}

static void delete_mailbox(const char *mailbox)
{
	mailimap *h = helper();

	(void)mailimap_delete(h, mailbox);
	mailimap_logout(h);
	mailimap_free(h);
}

/* Messages in MAILBOX, and how many of them are \Seen. */
static void count(const char *mailbox, unsigned *ret_total, unsigned *ret_seen)
{
	mailimap *h = helper();
	clist *res = NULL;
	struct mailimap_search_key *key;

	assert_int_equal(mailimap_examine(h, mailbox), 0);
	*ret_total = h->imap_selection_info->sel_exists;
	key = mailimap_search_key_new(MAILIMAP_SEARCH_KEY_SEEN, NULL, NULL, NULL, NULL, NULL, NULL,
				      NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL,
				      NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL);
	assert_int_equal(mailimap_uid_search(h, NULL, key, &res), 0);
	*ret_seen = (unsigned)clist_count(res);
	mailimap_search_result_free(res);
	mailimap_search_key_free(key);
	mailimap_logout(h);
	mailimap_free(h);
}

/* Runs the source's fetch() with stderr captured; returns its result. */
static int fetch_capturing(struct source *s, struct source_msg *m, char **ret_text)
{
	char path[] = "/tmp/itest-imap-err-XXXXXX";
	int fd = mkstemp(path), saved = dup(STDERR_FILENO), r;
	char text[4096];
	ssize_t n;

	fflush(stderr);
	dup2(fd, STDERR_FILENO);
	r = source_fetch(s, m);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	n = pread(fd, text, sizeof(text) - 1, 0);
	text[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(path);
	*ret_text = strdup(text);
	return r;
}

static int open_source(const struct config_source *cs, struct source **ret)
{
	char *why = NULL;
	int r = source_open_config(cs, 1 << 20, ret, &why);

	if (why)
		print_message("open: %s\n", why);
	free(why);
	return r;
}

/* ---- TLS ---- */

static void test_imap_tls_untrusted_self_signed_is_refused(void **state)
{
	struct config_source cs = base_config(IMAP_TLS_IMPLICIT, "INBOX");
	struct source *s = NULL;
	struct source_msg m;
	char *text = NULL;

	cs.ca_file = NULL; /* the system store does not know the test CA */
	assert_int_equal(open_source(&cs, &s), 0);
	assert_int_equal(fetch_capturing(s, &m, &text), -EPERM);
	assert_non_null(strstr(text, "not trusted"));
	assert_non_null(strstr(text, "self-signed certificate"));
	free(text);
	source_close(s);
}

static void test_imap_tls_trusted_by_ca_file(void **state)
{
	struct config_source cs = base_config(IMAP_TLS_IMPLICIT, "INBOX");
	struct source *s = NULL;

	assert_int_equal(open_source(&cs, &s), 0);
	assert_int_equal(source_imap_connect(s), 0);
	source_close(s);
}

static void test_imap_starttls_works(void **state)
{
	struct config_source cs = base_config(IMAP_TLS_STARTTLS, "INBOX");
	struct source *s = NULL;

	assert_int_equal(open_source(&cs, &s), 0);
	assert_int_equal(source_imap_connect(s), 0);
	source_close(s);
	/* and an untrusted certificate is refused after STARTTLS too */
	cs.ca_file = NULL;
	assert_int_equal(open_source(&cs, &s), 0);
	assert_int_equal(source_imap_connect(s), -EPERM);
	source_close(s);
}

static void test_imap_plaintext_refused_unless_allowed(void **state)
{
	struct config_source cs = base_config(IMAP_TLS_NONE, "INBOX");
	struct source *s = NULL;
	char *why = NULL;

	assert_int_equal(source_open_config(&cs, 0, &s, &why), -EPERM);
	assert_non_null(strstr(why, "allow_plaintext"));
	free(why);
	cs.allow_plaintext = true;
	assert_int_equal(open_source(&cs, &s), 0);
	assert_int_equal(source_imap_connect(s), 0);
	source_close(s);
}

/* A TLS server (openssl s_server) whose certificate is trusted (it is the
 * CA file) but names other.test, not the address connected to: refused
 * before any IMAP byte. */
static void test_imap_tls_host_name_mismatch_is_refused(void **state)
{
	char dir[] = "/tmp/itest-imap-tls-XXXXXX", cmd[1024], cert[128];
	struct config_source cs = base_config(IMAP_TLS_IMPLICIT, "INBOX");
	struct source *s = NULL;
	struct source_msg m;
	char *text = NULL;
	unsigned port = 20000 + (unsigned)getpid() % 12000;
	pid_t pid;

	assert_non_null(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd),
		 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
		 "-days 2 -subj /CN=other.test -addext subjectAltName=DNS:other.test "
		 "-keyout %s/key.pem -out %s/cert.pem >/dev/null 2>&1",
		 dir, dir);
	assert_int_equal(system(cmd), 0);
	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char portarg[16], key[128];
		int devnull = open("/dev/null", O_RDWR);
		snprintf(portarg, sizeof(portarg), "%u", port);
		snprintf(key, sizeof(key), "%s/key.pem", dir);
		dup2(devnull, 0);
		dup2(devnull, 1);
		dup2(devnull, 2);
		execlp("openssl", "openssl", "s_server", "-quiet", "-accept", portarg, "-cert",
		       cert, "-key", key, "-naccept", "1", (char *)NULL);
		_exit(127);
	}
	usleep(500000);
	cs.port = port;
	cs.ca_file = cert;
	assert_int_equal(open_source(&cs, &s), 0);
	assert_int_equal(fetch_capturing(s, &m, &text), -EPERM);
	print_message("refused with: %s", text);
	assert_non_null(strstr(text, "not trusted"));
	assert_non_null(strstr(text, "IP address mismatch"));
	free(text);
	source_close(s);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* ---- fetching ---- */

static void test_imap_fetch_appended_with_checkpoints(void **state)
{
	struct config_source cs = base_config(IMAP_TLS_IMPLICIT, "Fetch");
	struct source *s = NULL;
	struct source_msg m;
	uint32_t v, first;

	create_mailbox("Fetch");
	append("Fetch", "one");
	append("Fetch", "two");
	append("Fetch", "three");
	assert_int_equal(open_source(&cs, &s), 0);
	/* batch_size 2: two batches */
	assert_int_equal(source_fetch(s, &m), 1);
	assert_string_equal(m.kind, "imap");
	assert_non_null(strstr(m.data, "Subject: one"));
	assert_string_equal(m.account, "divemap@127.0.0.1");
	assert_string_equal(m.mailbox, "Fetch");
	v = m.uidvalidity;
	first = m.uid;
	assert_true(v != 0);
	assert_int_equal(source_fetch(s, &m), 1);
	assert_non_null(strstr(m.data, "Subject: two"));
	assert_int_equal(source_fetch(s, &m), 1);
	assert_non_null(strstr(m.data, "Subject: three"));
	assert_int_equal(m.uid, first + 2);
	assert_int_equal(m.len, strlen(m.data));
	assert_int_equal(source_fetch(s, &m), 0);
	source_close(s);

	/* from a checkpoint: only what follows it (and not UID N:*'s last message) */
	assert_int_equal(open_source(&cs, &s), 0);
	source_imap_set_checkpoint(s, v, first + 2);
	assert_int_equal(source_fetch(s, &m), 0);
	source_imap_set_checkpoint(s, v, first + 1);
	assert_int_equal(source_fetch(s, &m), 1);
	assert_int_equal(m.uid, first + 2);
	assert_int_equal(source_fetch(s, &m), 0);
	source_close(s);
}

/* Over max_message_size: only the first bytes are fetched, full_size says more. */
static void test_imap_oversize_message_is_cut(void **state)
{
	struct config_source cs = base_config(IMAP_TLS_IMPLICIT, "Fetch");
	struct source *s = NULL;
	struct source_msg m;
	char *why = NULL;

	assert_int_equal(source_open_config(&cs, 64, &s, &why), 0);
	assert_int_equal(source_fetch(s, &m), 1);
	assert_int_equal(m.len, 64);
	assert_true(m.full_size > 64);
	assert_memory_equal(m.data, "From: Aqua Lavrio", 17);
	source_close(s);
}

static void test_imap_checkpoint_from_database(void **state)
{
	struct config cfg = {.database = {.url = (char *)env("DATABASE_URL"),
					  .connect_attempts = 3,
					  .connect_retry_min_ms = 10,
					  .connect_retry_max_ms = 20,
					  .connect_timeout_s = 5}};
	struct config_source cs = base_config(IMAP_TLS_IMPLICIT, "Fetch");
	struct source *s = NULL;
	struct source_msg m;
	struct db *db = NULL;
	const char *account = "divemap@127.0.0.1", *mailbox = "Fetch";
	uint32_t v;

	assert_int_equal(db_open(&cfg, &db), 0);
	assert_int_equal(db_exec_raw(db, "CREATE TABLE IF NOT EXISTS ingest_checkpoints ("
					 "id INT NOT NULL AUTO_INCREMENT, account VARCHAR(255) "
					 "NOT NULL, mailbox VARCHAR(255) NOT NULL, uidvalidity INT "
					 "UNSIGNED NOT NULL, last_uid INT UNSIGNED NOT NULL, "
					 "PRIMARY KEY (id), UNIQUE KEY (account, mailbox))"),
			 0);
	assert_int_equal(open_source(&cs, &s), 0);
	assert_int_equal(source_imap_load_checkpoint(s, db), 0); /* no row: from UID 1 */
	assert_int_equal(source_fetch(s, &m), 1);
	assert_non_null(strstr(m.data, "Subject: one"));
	v = m.uidvalidity;
	source_close(s);
	assert_int_equal(
	    db_exec(db,
		    "INSERT INTO ingest_checkpoints (account, mailbox, uidvalidity, "
		    "last_uid) VALUES (?, ?, ?, ?)",
		    (struct db_value[]){DB_TEXT(account), DB_TEXT(mailbox), DB_INT(v), DB_INT(2)},
		    4, NULL, NULL),
	    0);
	assert_int_equal(open_source(&cs, &s), 0);
	assert_int_equal(source_imap_load_checkpoint(s, db), 0);
	assert_int_equal(source_fetch(s, &m), 1);
	assert_int_equal(m.uid, 3);
	assert_int_equal(source_fetch(s, &m), 0);
	source_close(s);
	db_free(db);
}

static void test_imap_uidvalidity_change_is_estale(void **state)
{
	struct config_source cs = base_config(IMAP_TLS_IMPLICIT, "Renewed");
	struct source *s = NULL;
	struct source_msg m;
	uint32_t v;

	create_mailbox("Renewed");
	append("Renewed", "before");
	assert_int_equal(open_source(&cs, &s), 0);
	assert_int_equal(source_fetch(s, &m), 1);
	v = m.uidvalidity;
	source_close(s);
	delete_mailbox("Renewed");
	sleep(1); /* Dovecot's UIDVALIDITY is a time stamp */
	create_mailbox("Renewed");
	append("Renewed", "after");
	assert_int_equal(open_source(&cs, &s), 0);
	source_imap_set_checkpoint(s, v, 1);
	assert_int_equal(source_fetch(s, &m), -ESTALE);
	/* the source starts again from UID 1 */
	assert_int_equal(source_fetch(s, &m), 1);
	assert_int_equal(m.uid, 1);
	assert_true(m.uidvalidity != v);
	assert_non_null(strstr(m.data, "Subject: after"));
	source_close(s);
}

static void test_imap_ack_seen_and_move(void **state)
{
	struct config_source cs = base_config(IMAP_TLS_STARTTLS, "Acks");
	struct source *s = NULL;
	struct source_msg m;
	unsigned total, seen;

	create_mailbox("Acks");
	create_mailbox("Done");
	append("Acks", "ack-one");
	append("Acks", "ack-two");
	cs.after = IMAP_AFTER_SEEN;
	assert_int_equal(open_source(&cs, &s), 0);
	assert_int_equal(source_fetch(s, &m), 1);
	count("Acks", &total, &seen);
	assert_int_equal(seen, 0); /* BODY.PEEK[] did not mark it */
	assert_int_equal(source_ack(s, &m), 0);
	count("Acks", &total, &seen);
	assert_int_equal(total, 2);
	assert_int_equal(seen, 1);
	source_close(s);

	cs.after = IMAP_AFTER_MOVE;
	cs.move_to = "Done";
	assert_int_equal(open_source(&cs, &s), 0);
	source_imap_set_checkpoint(s, 0, 1);
	assert_int_equal(source_fetch(s, &m), 1);
	assert_non_null(strstr(m.data, "ack-two"));
	assert_int_equal(source_ack(s, &m), 0);
	count("Acks", &total, &seen);
	assert_int_equal(total, 1);
	count("Done", &total, &seen);
	assert_int_equal(total, 1);
	source_close(s);
}

/* Greek mailbox names in the configuration, modified UTF-7 on the wire. */
static void test_imap_utf8_mailbox_names(void **state)
{
	struct config_source cs = base_config(IMAP_TLS_IMPLICIT, "Ενημερωτικά");
	struct source *s = NULL;
	struct source_msg m;
	unsigned total, seen;

	create_mailbox("&A5UDvQO3A7wDtQPBA8kDxAO5A7oDrA-"); /* Ενημερωτικά */
	create_mailbox("&A50DsQPFA6wDswO5A7E- &- &A6MDwAOuA7sDsQO5A7E-"); /* Ναυάγια & Σπήλαια */
	append("&A5UDvQO3A7wDtQPBA8kDxAO5A7oDrA-", "greek");
	cs.after = IMAP_AFTER_MOVE;
	cs.move_to = "Ναυάγια & Σπήλαια";
	assert_int_equal(open_source(&cs, &s), 0);
	assert_int_equal(source_fetch(s, &m), 1);
	assert_string_equal(m.mailbox, "Ενημερωτικά"); /* the checkpoint's key stays readable */
	assert_non_null(strstr(m.data, "Subject: greek"));
	assert_int_equal(source_ack(s, &m), 0);
	source_close(s);
	count("&A50DsQPFA6wDswO5A7E- &- &A6MDwAOuA7sDsQO5A7E-", &total, &seen);
	assert_int_equal(total, 1);
	count("&A5UDvQO3A7wDtQPBA8kDxAO5A7oDrA-", &total, &seen);
	assert_int_equal(total, 0);
}

/* ---- watching ---- */

static void on_wake(struct source *s, void *userdata)
{
	(*(int *)userdata)++;
}

/* Runs the loop until woken or TIMEOUT_US; returns the time it took. */
static uint64_t wait_woken(sd_event *e, int *woken, uint64_t timeout_us)
{
	uint64_t t0 = now_us();

	while (*woken == 0 && now_us() - t0 < timeout_us)
		assert_true(sd_event_run(e, 100000) >= 0);
	return now_us() - t0;
}

static void test_imap_idle_wakes_on_append(void **state)
{
	struct config_source cs = base_config(IMAP_TLS_IMPLICIT, "Idle");
	struct source *s = NULL;
	struct source_msg m;
	sd_event *e = NULL;
	int woken = 0;
	uint64_t t0, waited;

	create_mailbox("Idle");
	assert_int_equal(sd_event_new(&e), 0);
	assert_int_equal(open_source(&cs, &s), 0);
	assert_int_equal(s->driver->watch(s, e, on_wake, &woken), 0);
	assert_int_equal(source_fetch(s, &m), 0); /* now in IDLE */
	waited = wait_woken(e, &woken, 300000);
	assert_int_equal(woken, 0); /* nothing arrived: no wake */
	(void)waited;
	t0 = now_us();
	append("Idle", "idle-one");
	waited = wait_woken(e, &woken, 3000000);
	assert_true(woken > 0);
	assert_int_equal(source_fetch(s, &m), 1);
	print_message("APPEND -> fetched through IDLE: %.0f ms\n",
		      (double)(now_us() - t0) / 1000.0);
	assert_non_null(strstr(m.data, "idle-one"));
	assert_int_equal(source_fetch(s, &m), 0);
	source_close(s);
	sd_event_unref(e);
}

static void run_script(const char *args)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "bash '%s/tests/dovecot.sh' %s >/dev/null",
		 getenv("top_srcdir") ? getenv("top_srcdir") : ".", args);
	assert_int_equal(system(cmd), 0);
}

static void test_imap_reconnects_after_server_restart(void **state)
{
	struct config_source cs = base_config(IMAP_TLS_IMPLICIT, "Restart");
	struct source *s = NULL;
	struct source_msg m;
	sd_event *e = NULL;
	char args[512];
	int woken = 0, r;

	create_mailbox("Restart");
	assert_int_equal(sd_event_new(&e), 0);
	assert_int_equal(open_source(&cs, &s), 0);
	assert_int_equal(s->driver->watch(s, e, on_wake, &woken), 0);
	assert_int_equal(source_fetch(s, &m), 0); /* in IDLE */

	snprintf(args, sizeof(args), "stop '%s'", env("IMAP_DIR"));
	run_script(args);
	wait_woken(e, &woken, 5000000);
	assert_true(woken > 0); /* the closed connection wakes the source */
	r = source_fetch(s, &m);
	print_message("after the stop: %d\n", r);
	assert_true(r == -ECONNRESET || r == -ETIMEDOUT);
	/* down: connecting fails, quickly */
	r = source_fetch(s, &m);
	assert_true(r == -ECONNREFUSED || r == -ECONNRESET);

	snprintf(args, sizeof(args), "start '%s' %s %s", env("IMAP_DIR"), env("IMAP_PORT"),
		 env("IMAPS_PORT"));
	run_script(args);
	append("Restart", "after-restart");
	assert_int_equal(source_fetch(s, &m), 1);
	assert_non_null(strstr(m.data, "after-restart"));
	source_close(s);
	sd_event_unref(e);
}

/* A server without IDLE and MOVE (Dovecot told to advertise neither): the
 * source polls every poll_interval, and after = move copies, flags \\Deleted
 * and expunges that UID only. Last: it reconfigures the server. */
static void test_imap_polls_without_idle(void **state)
{
	struct config_source cs = base_config(IMAP_TLS_IMPLICIT, "Poll");
	struct source *s = NULL;
	struct source_msg m;
	sd_event *e = NULL;
	char cmd[1024];
	int woken = 0;
	uint64_t waited;
	unsigned total, seen;

	snprintf(cmd, sizeof(cmd),
		 "printf 'protocol imap {\\n  imap_capability = IMAP4rev1 LITERAL+ UIDPLUS\\n}\\n' "
		 ">>'%s' && kill -HUP $(cat '%s/server.pid') && sleep 1",
		 env("IMAP_CONF"), env("IMAP_DIR"));
	assert_int_equal(system(cmd), 0);
	create_mailbox("Poll");
	create_mailbox("Polled");
	append("Poll", "stays");
	cs.poll_interval_s = 1;
	cs.after = IMAP_AFTER_MOVE;
	cs.move_to = "Polled";
	assert_int_equal(sd_event_new(&e), 0);
	assert_int_equal(open_source(&cs, &s), 0);
	assert_int_equal(s->driver->watch(s, e, on_wake, &woken), 0);
	assert_int_equal(source_fetch(s, &m), 1);
	assert_int_equal(source_fetch(s, &m), 0); /* a poll timer, no IDLE */
	append("Poll", "polled");
	waited = wait_woken(e, &woken, 3000000);
	assert_true(woken > 0);
	assert_true(waited > 300000); /* the timer, not an IDLE wake-up */
	assert_int_equal(source_fetch(s, &m), 1);
	assert_non_null(strstr(m.data, "Subject: polled"));
	assert_int_equal(source_ack(s, &m), 0);
	count("Poll", &total, &seen);
	assert_int_equal(total, 1); /* "stays" was not acked: not expunged */
	count("Polled", &total, &seen);
	assert_int_equal(total, 1);
	source_close(s);
	sd_event_unref(e);
}

/* ---- a silent drop: a proxy that stops forwarding, sockets left open ---- */

static volatile sig_atomic_t proxy_mute;

static void on_usr1(int sig)
{
	proxy_mute = 1;
}

static _Noreturn void proxy_run(int listener, unsigned target_port)
{
	struct sockaddr_in to = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)target_port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int c = accept(listener, NULL, NULL), t = socket(AF_INET, SOCK_STREAM, 0);
	char buf[16384];

	signal(SIGUSR1, on_usr1);
	if (c < 0 || t < 0 || connect(t, (struct sockaddr *)&to, sizeof(to)) < 0)
		_exit(1);
	for (;;) {
		struct pollfd p[2] = {{.fd = c, .events = POLLIN}, {.fd = t, .events = POLLIN}};

		if (proxy_mute) { /* a dead link: nothing passes, nothing closes */
			pause();
			continue;
		}
		if (poll(p, 2, 100) <= 0)
			continue;
		for (int i = 0; i < 2; i++)
			if (p[i].revents) {
				ssize_t n = read(p[i].fd, buf, sizeof(buf));
				if (n <= 0 || write(p[1 - i].fd, buf, (size_t)n) != n)
					_exit(0);
			}
	}
}

static void test_imap_idle_notices_a_silent_drop(void **state)
{
	struct config_source cs = base_config(IMAP_TLS_IMPLICIT, "INBOX");
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a);
	int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), woken = 0, r;
	struct source *s = NULL;
	struct source_msg m;
	sd_event *e = NULL;
	uint64_t t0;
	pid_t pid;

	assert_int_equal(bind(listener, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(listener, 1), 0);
	assert_int_equal(getsockname(listener, (struct sockaddr *)&a, &alen), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		proxy_run(listener, env_port("IMAPS_PORT"));
	close(listener);

	cs.port = ntohs(a.sin_port);
	cs.idle_interval_s = 2;
	cs.timeout_s = 2;
	assert_int_equal(sd_event_new(&e), 0);
	assert_int_equal(open_source(&cs, &s), 0);
	assert_int_equal(s->driver->watch(s, e, on_wake, &woken), 0);
	while ((r = source_fetch(s, &m)) > 0)
		;
	assert_int_equal(r, 0); /* in IDLE, through the proxy */
	kill(pid, SIGUSR1);
	t0 = now_us();
	wait_woken(e, &woken, 5000000); /* the IDLE re-issue timer */
	assert_true(woken > 0);
	r = source_fetch(s, &m); /* DONE gets no answer within timeout */
	print_message("silent drop noticed after %.1f s (idle_interval 2 s, timeout 2 s)\n",
		      (double)(now_us() - t0) / 1e6);
	assert_int_equal(r, -ECONNRESET);
	assert_true(now_us() - t0 < 6000000u);
	source_close(s);
	sd_event_unref(e);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static int group_setup(void **state)
{
	int fd = mkstemp(pwfile);

	if (fd < 0)
		return -1;
	if (write(fd, env("IMAP_PASSWORD"), strlen(env("IMAP_PASSWORD"))) < 0 ||
	    write(fd, "\n", 1) != 1)
		return -1;
	close(fd);
	return 0;
}

static int group_teardown(void **state)
{
	unlink(pwfile);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_imap_tls_untrusted_self_signed_is_refused),
	    cmocka_unit_test(test_imap_tls_trusted_by_ca_file),
	    cmocka_unit_test(test_imap_starttls_works),
	    cmocka_unit_test(test_imap_plaintext_refused_unless_allowed),
	    cmocka_unit_test(test_imap_tls_host_name_mismatch_is_refused),
	    cmocka_unit_test(test_imap_fetch_appended_with_checkpoints),
	    cmocka_unit_test(test_imap_oversize_message_is_cut),
	    cmocka_unit_test(test_imap_checkpoint_from_database),
	    cmocka_unit_test(test_imap_uidvalidity_change_is_estale),
	    cmocka_unit_test(test_imap_ack_seen_and_move),
	    cmocka_unit_test(test_imap_utf8_mailbox_names),
	    cmocka_unit_test(test_imap_idle_wakes_on_append),
	    cmocka_unit_test(test_imap_idle_notices_a_silent_drop),
	    cmocka_unit_test(test_imap_reconnects_after_server_restart),
	    cmocka_unit_test(test_imap_polls_without_idle),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

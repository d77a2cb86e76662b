/* Unit tests of the TLS stream under libetpan (src/tls-stream.c), against
 * an OpenSSL server in a child process at the other end of a socketpair,
 * with a certificate the openssl command makes for mail.test. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/ssl.h>

#include "tls-stream.h"

static char dir[] = "/tmp/test-tls-stream-XXXXXX";
static char cert[128], key[128], empty_store[128];

enum server_does { SERVER_TWO_RECORDS, SERVER_SILENT };

/* The child: a TLS server on FD that sends "hello " and "world\n" as two
 * records and waits for the client to close, or one that never answers. */
static void run_server(int fd, enum server_does what)
{
	SSL_CTX *ctx;
	SSL *ssl;
	char buf[64];
	int ok;

	if (what == SERVER_SILENT) {
		while (read(fd, buf, sizeof(buf)) > 0)
			;
		_exit(0);
	}
	ctx = SSL_CTX_new(TLS_server_method());
	ok = ctx && SSL_CTX_use_certificate_file(ctx, cert, SSL_FILETYPE_PEM) == 1 &&
	     SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) == 1;
	ssl = ok ? SSL_new(ctx) : NULL;
	if (ssl && SSL_set_fd(ssl, fd) == 1 && SSL_accept(ssl) == 1 &&
	    SSL_write(ssl, "hello ", 6) == 6 && SSL_write(ssl, "world\n", 6) == 6)
		while (SSL_read(ssl, buf, sizeof(buf)) > 0)
			;
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	_exit(0);
}

/* A connected pair: *ret_fd is ours, the child serves the other end. */
static pid_t start_server(enum server_does what, int *ret_fd)
{
	int sv[2];
	pid_t pid;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sv[0]);
		run_server(sv[1], what);
	}
	close(sv[1]);
	*ret_fd = sv[0];
	return pid;
}

static void stop_server(pid_t pid)
{
	int status;

	kill(pid, SIGTERM);
	assert_int_equal(waitpid(pid, &status, 0), pid);
}

static int setup(void **state)
{
	char cmd[1024];

	if (!mkdtemp(dir))
		return -1;
	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	snprintf(empty_store, sizeof(empty_store), "%s/store", dir);
	snprintf(cmd, sizeof(cmd),
		 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
		 "-days 2 -subj /CN=mail.test -addext subjectAltName=DNS:mail.test "
		 "-keyout %s -out %s >/dev/null 2>&1 && mkdir %s",
		 key, cert, empty_store);
	return system(cmd) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Verified against the CA file; bytes OpenSSL has decrypted but libetpan
 * has not read yet are reported (poll() on the fd cannot see them). */
static void test_tls_stream_reads_and_reports_pending(void **state)
{
	mailstream_low *low = NULL;
	char *why = NULL, buf[16] = "";
	int fd;
	pid_t pid = start_server(SERVER_TWO_RECORDS, &fd);

	assert_int_equal(tls_stream_open(fd, "mail.test", cert, 5, &low, &why), 0);
	assert_null(why);
	assert_int_equal(mailstream_low_get_fd(low), fd);
	assert_int_equal(low->driver->mailstream_read(low, buf, 3), 3);
	assert_memory_equal(buf, "hel", 3);
	assert_true(tls_stream_has_pending(low)); /* "lo " of the first record */
	assert_int_equal(low->driver->mailstream_read(low, buf, 3), 3);
	assert_memory_equal(buf, "lo ", 3);
	assert_int_equal(low->driver->mailstream_write(low, "x", 1), 1);
	mailstream_low_close(low); /* closes fd */
	mailstream_low_free(low);
	stop_server(pid);
}

/* A handshake that must fail with R, its reason holding WANT; the fd stays
 * the caller's. */
static void expect_refused(enum server_does what, const char *host, const char *ca_file,
			   unsigned timeout_s, int r, const char *want)
{
	mailstream_low *low = NULL;
	char *why = NULL;
	int fd;
	pid_t pid = start_server(what, &fd);

	assert_int_equal(tls_stream_open(fd, host, ca_file, timeout_s, &low, &why), r);
	assert_null(low);
	if (!why || !strstr(why, want))
		fail_msg("reason '%s', want '%s' in it", why ? why : "(none)", want);
	free(why);
	close(fd);
	stop_server(pid);
}

static void test_tls_stream_refuses_other_name(void **state)
{
	expect_refused(SERVER_TWO_RECORDS, "other.test", cert, 5, -EPERM,
		       "the certificate of 'other.test' is not trusted: hostname mismatch");
}

static void test_tls_stream_refuses_unknown_issuer(void **state)
{
	/* the system store, made an empty folder: the server's CA is unknown */
	assert_int_equal(setenv("SSL_CERT_DIR", empty_store, 1), 0);
	expect_refused(SERVER_TWO_RECORDS, "mail.test", NULL, 5, -EPERM,
		       "not trusted: self-signed certificate");
	unsetenv("SSL_CERT_DIR");
}

static void test_tls_stream_handshake_times_out(void **state)
{
	expect_refused(SERVER_SILENT, "mail.test", cert, 1, -ETIMEDOUT, "timed out");
}

static void test_tls_stream_unreadable_ca_file(void **state)
{
	expect_refused(SERVER_SILENT, "mail.test", "/nonexistent/ca.pem", 1, -ENOENT,
		       "ca_file '/nonexistent/ca.pem'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tls_stream_reads_and_reports_pending),
	    cmocka_unit_test(test_tls_stream_refuses_other_name),
	    cmocka_unit_test(test_tls_stream_refuses_unknown_issuer),
	    cmocka_unit_test(test_tls_stream_handshake_times_out),
	    cmocka_unit_test(test_tls_stream_unreadable_ca_file),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup, teardown);
}

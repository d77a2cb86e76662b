/* tls-stream.c: libetpan's stream over an OpenSSL session, see tls-stream.h.
 *
 * The socket is non-blocking under OpenSSL: each call is repeated after a
 * poll() for what it wants (read or write), bounded by the timeout, as
 * libetpan's own streams bound their waits. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "strutil.h"
#include "tls-stream.h"

struct tls_stream {
	SSL *ssl;
	int fd;
	unsigned timeout_s;
};

enum tls_op { TLS_HANDSHAKE, TLS_READ, TLS_WRITE };

static int wait_ready(int fd, int ssl_error, unsigned timeout_s)
{
	struct pollfd p = {.fd = fd,
			   .events = ssl_error == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN};
	int r;

	do
		r = poll(&p, 1, (int)timeout_s * 1000);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return -ETIMEDOUT;
	return r < 0 ? -errno : 0;
}

/* One OpenSSL call, repeated until the socket lets it finish. 1: done,
 * 0: the peer closed the TLS session, -errno otherwise. */
static int tls_call(struct tls_stream *t, enum tls_op op, void *buf, size_t len, size_t *done)
{
	for (;;) {
		int ok = 0, e, r;

		ERR_clear_error();
		switch (op) {
		case TLS_HANDSHAKE:
			ok = SSL_connect(t->ssl) == 1;
			break;
		case TLS_READ:
			ok = SSL_read_ex(t->ssl, buf, len, done);
			break;
		case TLS_WRITE:
			ok = SSL_write_ex(t->ssl, buf, len, done);
			break;
		}
		if (ok)
			return 1;
		e = SSL_get_error(t->ssl, 0);
		if (e == SSL_ERROR_ZERO_RETURN)
			return 0;
		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
			return -ECONNRESET;
		r = wait_ready(t->fd, e, t->timeout_s);
		if (r < 0)
			return r;
	}
}

/* ---- the libetpan driver ---- */

static ssize_t stream_read(mailstream_low *s, void *buf, size_t count)
{
	size_t n = 0;
	int r = tls_call(s->data, TLS_READ, buf, count, &n);

	return r < 0 ? -1 : (ssize_t)n;
}

static ssize_t stream_write(mailstream_low *s, const void *buf, size_t count)
{
	size_t n = 0;

	/* SSL_write_ex() takes a const buffer; tls_call() passes it on untouched */
	return tls_call(s->data, TLS_WRITE, (void *)buf, count, &n) > 0 ? (ssize_t)n : -1;
}

static int stream_close(mailstream_low *s)
{
	struct tls_stream *t = s->data;

	if (t->fd >= 0) {
		(void)SSL_shutdown(t->ssl); /* a close_notify if it fits; not awaited */
		close(t->fd);
		t->fd = -1;
	}
	return 0;
}

static int stream_get_fd(mailstream_low *s)
{
	return ((struct tls_stream *)s->data)->fd;
}

static void tls_stream_free(struct tls_stream *t)
{
	SSL_free(t->ssl);
	free(t);
}

static void stream_free(mailstream_low *s)
{
	tls_stream_free(s->data);
	free(s);
}

static mailstream_low_driver tls_stream_driver = {
    .mailstream_read = stream_read,
    .mailstream_write = stream_write,
    .mailstream_close = stream_close,
    .mailstream_get_fd = stream_get_fd,
    .mailstream_free = stream_free,
};

bool tls_stream_has_pending(mailstream_low *low)
{
	struct tls_stream *t;

	if (!low || low->driver != &tls_stream_driver)
		return false;
	t = low->data;
	return SSL_pending(t->ssl) > 0 || SSL_has_pending(t->ssl);
}

/* ---- set-up and the handshake ---- */

/* The system store is read as a folder of hashed names, one certificate
 * read when a chain needs it, not the whole bundle held for the session. */
static int load_trust(SSL_CTX *ctx, const char *ca_file, char **reterr_reason)
{
	const char *dir;

	if (ca_file) {
		if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1)
			return set_reason(reterr_reason, -ENOENT,
					  "no CA certificate could be read from ca_file '%s'",
					  ca_file);
		return 0;
	}
	dir = secure_getenv(X509_get_default_cert_dir_env());
	if (!dir)
		dir = X509_get_default_cert_dir();
	if (access(dir, R_OK | X_OK) < 0 || SSL_CTX_load_verify_locations(ctx, NULL, dir) != 1)
		return set_reason(
		    reterr_reason, -ENOENT,
		    "the system trust store '%s' is unreadable (install ca-certificates, "
		    "or set ca_file)",
		    dir);
	return 0;
}

/* An IP address is checked against the certificate's IP entries and is no
 * server name (RFC 6066 3); a name is both. */
static int expect_peer(SSL *ssl, const char *host)
{
	unsigned char addr[16];

	if (inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1)
		return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) == 1 ? 0 : -ENOMEM;
	SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (SSL_set_tlsext_host_name(ssl, host) != 1 || SSL_set1_host(ssl, host) != 1)
		return -ENOMEM;
	return 0;
}

static int new_session(int fd, const char *host, const char *ca_file, struct tls_stream *t,
		       char **reterr_reason)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	int r;

	if (!ctx)
		return -ENOMEM;
	(void)SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	r = load_trust(ctx, ca_file, reterr_reason);
	if (r >= 0) {
		t->ssl = SSL_new(ctx);
		r = t->ssl ? 0 : -ENOMEM;
	}
	SSL_CTX_free(ctx); /* the session holds its own reference */
	if (r >= 0)
		r = SSL_set_fd(t->ssl, fd) == 1 ? expect_peer(t->ssl, host) : -ENOMEM;
	return r;
}

static int handshake(struct tls_stream *t, const char *host, char **reterr_reason)
{
	size_t none;
	long v;
	int r = tls_call(t, TLS_HANDSHAKE, NULL, 0, &none);

	if (r > 0)
		return 0;
	v = SSL_get_verify_result(t->ssl);
	if (v != X509_V_OK)
		return set_reason(reterr_reason, -EPERM,
				  "the certificate of '%s' is not trusted: %s", host,
				  X509_verify_cert_error_string(v));
	if (r == -ETIMEDOUT)
		return set_reason(reterr_reason, r, "the TLS handshake with %s timed out", host);
	if (ERR_peek_last_error() == 0)
		return set_reason(reterr_reason, -ECONNRESET,
				  "%s closed the connection during the TLS handshake", host);
	/* error strings are not loaded (src/main.c): `openssl errstr` reads the code */
	return set_reason(reterr_reason, -ECONNRESET,
			  "the TLS handshake with %s failed (OpenSSL error %lx)", host,
			  ERR_peek_last_error());
}

int tls_stream_open(int fd, const char *host, const char *ca_file, unsigned timeout_s,
		    mailstream_low **ret, char **reterr_reason)
{
	struct tls_stream *t = calloc(1, sizeof(*t));
	int flags = fcntl(fd, F_GETFL), r;

	*reterr_reason = NULL;
	if (!t)
		return -ENOMEM;
	*t = (struct tls_stream){.fd = fd, .timeout_s = timeout_s};
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
		free(t);
		return -errno;
	}
	r = new_session(fd, host, ca_file, t, reterr_reason);
	if (r >= 0)
		r = handshake(t, host, reterr_reason);
	if (r >= 0) {
		*ret = mailstream_low_new(t, &tls_stream_driver);
		r = *ret ? 0 : -ENOMEM;
	}
	if (r < 0)
		tls_stream_free(t);
	return r;
}

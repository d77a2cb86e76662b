/* tls-stream.h: TLS under libetpan's IMAP, with OpenSSL, verified.
 *
 * Debian's libetpan does TLS with GnuTLS and verifies nothing (it sends no
 * SNI either unless asked). This is a libetpan stream (a mailstream_low)
 * of our own over an OpenSSL session instead. Its handshake sends SNI and
 * fails unless the server's chain leads to CA_FILE (or, without one, to
 * the system trust store: OpenSSL's certificate folder, SSL_CERT_DIR), the
 * leaf names HOST (a DNS name or an IP address) and may serve TLS; so no
 * IMAP byte is read and no password sent before the server is verified.
 *
 * OpenSSL rather than GnuTLS because the database client (libmariadb)
 * loads and starts OpenSSL in any case: one TLS library in the daemon. */
#ifndef DIVEMAP_TLS_STREAM_H
#define DIVEMAP_TLS_STREAM_H

#include <stdbool.h>

#include <libetpan/libetpan.h>

/* Runs a client handshake on the connected socket FD, every wait bounded by
 * TIMEOUT_S, as every read and write of the stream will be. On success
 * *ret owns FD (it is closed with the stream). On failure FD stays the
 * caller's, and the result is -EPERM (not verified), -ENOENT (no trust
 * store or CA file), -ETIMEDOUT, -ECONNRESET or -ENOMEM, with
 * *reterr_reason saying what happened ("the certificate of 'HOST' is not
 * trusted: hostname mismatch"). */
int tls_stream_open(int fd, const char *host, const char *ca_file, unsigned timeout_s,
		    mailstream_low **ret, char **reterr_reason);

/* Does LOW hold decrypted bytes not read yet? poll() on its fd cannot
 * see them. False for a stream that is not ours. */
bool tls_stream_has_pending(mailstream_low *low);

#endif

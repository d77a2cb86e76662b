/* tls-verify.h: the server certificate check that libetpan does not do.
 *
 * Debian's libetpan (GnuTLS build) completes any TLS handshake without
 * looking at the certificate. This module checks the chain the server sent
 * against the system trust store, or only against CA_FILE when one is
 * given, and checks that the leaf names HOST (a DNS name or an IP address)
 * and may serve TLS (key purpose), with GnuTLS. Callers run it right after
 * the handshake, before any IMAP byte is trusted or a password is sent. */
#ifndef DIVEMAP_TLS_VERIFY_H
#define DIVEMAP_TLS_VERIFY_H

#include <stddef.h>

struct tls_der {
	const unsigned char *data;
	size_t len;
};

/* CHAIN: the DER certificates, leaf first. Returns 0 when trusted, else
 * -EPERM (untrusted, wrong name, expired...) or another -errno, with
 * *reterr_reason saying what GnuTLS found ("certificate signer not found",
 * "certificate owner unexpected", ...). */
int tls_verify_chain(const struct tls_der *chain, size_t n, const char *host, const char *ca_file,
		     char **reterr_reason);

#endif

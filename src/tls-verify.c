/* tls-verify.c: chain and host name verification with GnuTLS, see tls-verify.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "cleanup.h"
#include "tls-verify.h"

#define TLS_MAX_CHAIN 16

_printf_(3, 4) static int reason(char **reterr_reason, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(reterr_reason, fmt, ap) < 0)
		*reterr_reason = NULL;
	va_end(ap);
	return r;
}

static int load_trust(gnutls_x509_trust_list_t tl, const char *ca_file, char **reterr_reason)
{
	int r;

	if (ca_file) {
		r = gnutls_x509_trust_list_add_trust_file(tl, ca_file, /* crl_file= */ NULL,
							  GNUTLS_X509_FMT_PEM, 0, 0);
		if (r <= 0)
			return reason(reterr_reason, -ENOENT,
				      "no CA certificate could be read from ca_file '%s'%s%s",
				      ca_file, r < 0 ? ": " : "", r < 0 ? gnutls_strerror(r) : "");
		return 0;
	}
	r = gnutls_x509_trust_list_add_system_trust(tl, 0, 0);
	if (r <= 0)
		return reason(reterr_reason, -ENOENT,
			      "the system trust store is empty or unreadable%s%s (install "
			      "ca-certificates, or set ca_file)",
			      r < 0 ? ": " : "", r < 0 ? gnutls_strerror(r) : "");
	return 0;
}

static int verify(gnutls_x509_trust_list_t tl, gnutls_x509_crt_t *crts, size_t n, const char *host,
		  char **reterr_reason)
{
	gnutls_typed_vdata_st vdata[] = {
	    {.type = GNUTLS_DT_DNS_HOSTNAME, .data = (unsigned char *)host},
	    {.type = GNUTLS_DT_KEY_PURPOSE_OID, .data = (unsigned char *)GNUTLS_KP_TLS_WWW_SERVER},
	};
	gnutls_datum_t text = {NULL, 0};
	unsigned status = 0;
	int r;

	r = gnutls_x509_trust_list_verify_crt2(tl, crts, (unsigned)n, vdata, ELEMENTSOF(vdata), 0,
					       &status, /* func= */ NULL);
	if (r < 0)
		return reason(reterr_reason, -EPERM, "certificate verification failed: %s",
			      gnutls_strerror(r));
	if (status == 0)
		return 0;
	if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &text, 0) < 0)
		return reason(reterr_reason, -EPERM,
			      "the certificate of '%s' is not trusted (status 0x%x)", host, status);
	while (text.size > 0 &&
	       (text.data[text.size - 1] == ' ' || text.data[text.size - 1] == '\0'))
		text.data[--text.size] = '\0';
	r = reason(reterr_reason, -EPERM, "the certificate of '%s' is not trusted: %s", host,
		   (const char *)text.data);
	gnutls_free(text.data);
	return r;
}

int tls_verify_chain(const struct tls_der *chain, size_t n, const char *host, const char *ca_file,
		     char **reterr_reason)
{
	gnutls_x509_crt_t crts[TLS_MAX_CHAIN];
	gnutls_x509_trust_list_t tl = NULL;
	size_t k = 0;
	int r;

	*reterr_reason = NULL;
	if (n == 0)
		return reason(reterr_reason, -EPERM, "the server sent no certificate");
	if (n > TLS_MAX_CHAIN)
		n = TLS_MAX_CHAIN; /* the rest cannot be needed for a sane chain */
	for (; k < n; k++) {
		gnutls_datum_t d = {(unsigned char *)chain[k].data, (unsigned)chain[k].len};

		if (gnutls_x509_crt_init(&crts[k]) < 0) {
			r = -ENOMEM;
			goto done;
		}
		r = gnutls_x509_crt_import(crts[k], &d, GNUTLS_X509_FMT_DER);
		if (r < 0) {
			gnutls_x509_crt_deinit(crts[k]);
			r = reason(reterr_reason, -EPERM,
				   "the server's certificate %zu is unreadable: %s", k,
				   gnutls_strerror(r));
			goto done;
		}
	}
	if (gnutls_x509_trust_list_init(&tl, 0) < 0) {
		tl = NULL;
		r = -ENOMEM;
		goto done;
	}
	r = load_trust(tl, ca_file, reterr_reason);
	if (r >= 0)
		r = verify(tl, crts, n, host, reterr_reason);
done:
	if (tl)
		gnutls_x509_trust_list_deinit(tl, 1);
	while (k > 0)
		gnutls_x509_crt_deinit(crts[--k]);
	return r;
}

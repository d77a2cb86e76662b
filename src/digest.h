/* digest.h: SHA-256 as 64 lower-case hex digits (nettle).
 *
 * The keys of stored messages (newsletters.sha256), migration checksums and
 * the rules' version. Nettle needs no set-up and cannot fail here. */
#ifndef DIVEMAP_DIGEST_H
#define DIVEMAP_DIGEST_H

#include <stddef.h>

#define SHA256_HEX_SIZE 65 /* 64 digits and the NUL */

/* Of the N bytes at P. */
void sha256_hex(const void *p, size_t n, char out[SHA256_HEX_SIZE]);
/* Of the NA bytes at A followed by the NB bytes at B. */
void sha256_hex2(const void *a, size_t na, const void *b, size_t nb, char out[SHA256_HEX_SIZE]);

#endif

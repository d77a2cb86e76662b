/* digest.c: SHA-256 with nettle, see digest.h. */
#include <nettle/sha2.h>

#include "digest.h"

void sha256_hex2(const void *a, size_t na, const void *b, size_t nb, char out[SHA256_HEX_SIZE])
{
	static const char hex[] = "0123456789abcdef";
	struct sha256_ctx ctx;
	unsigned char d[SHA256_DIGEST_SIZE];

	sha256_init(&ctx);
	sha256_update(&ctx, na, a);
	if (nb > 0)
		sha256_update(&ctx, nb, b);
	sha256_digest(&ctx, sizeof(d), d);
	for (size_t i = 0; i < sizeof(d); i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 0xf];
	}
	out[2 * sizeof(d)] = '\0';
}

void sha256_hex(const void *p, size_t n, char out[SHA256_HEX_SIZE])
{
	sha256_hex2(p, n, NULL, 0, out);
}

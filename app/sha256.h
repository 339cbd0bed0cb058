/*
 * sha256.h -- SHA-256 (FIPS 180-4), only for token digests.
 */
#ifndef MDAUTH_SHA256_H
#define MDAUTH_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_LEN 32

struct sha256_ctx {
	uint32_t	state[8];
	uint64_t	bits;
	uint8_t		block[64];
	size_t		used;
};

void	sha256_init(struct sha256_ctx *ctx);
void	sha256_update(struct sha256_ctx *ctx, const void *data, size_t len);
void	sha256_final(struct sha256_ctx *ctx, uint8_t out[SHA256_DIGEST_LEN]);
void	sha256(const void *data, size_t len, uint8_t out[SHA256_DIGEST_LEN]);

#endif

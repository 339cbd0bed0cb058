/*
 * token.h -- bearer tokens: "mda_" + base64url(32 random bytes).
 *
 * The token text is shown to the client once; the database keeps only
 * the SHA-256 digest of the text.
 */
#ifndef MDAUTH_TOKEN_H
#define MDAUTH_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sha256.h"

#define TOKEN_PREFIX		"mda_"
#define TOKEN_PREFIX_LEN	4
#define TOKEN_RANDOM_LEN	32
#define TOKEN_TEXT_LEN		(TOKEN_PREFIX_LEN + 43)	/* 43 = 32 bytes in base64url */
#define TOKEN_DIGEST_LEN	SHA256_DIGEST_LEN

struct token {
	char	text[TOKEN_TEXT_LEN + 1];
	uint8_t	digest[TOKEN_DIGEST_LEN];
};

/* Fill buf with len bytes from getrandom(2).  Returns 1 on success, 0 on failure. */
int	random_bytes(void *buf, size_t len) __attribute__((warn_unused_result));

/*
 * base64url without padding (RFC 4648 section 5).  out must hold
 * base64url_len(len) + 1 bytes; it is NUL-terminated.  Returns the length.
 */
size_t	base64url_len(size_t len);
size_t	base64url_encode(const uint8_t *in, size_t len, char *out);

/* A fresh token and its digest.  Returns 1 on success, 0 on failure. */
int	token_new(struct token *tok) __attribute__((warn_unused_result));

/* Is text exactly "mda_" followed by 43 base64url characters? */
bool	token_well_formed(const char *text, size_t len);

/* The digest stored for a token text. */
void	token_digest(const char *text, size_t len, uint8_t out[TOKEN_DIGEST_LEN]);

/* Wipe a token from memory. */
void	token_wipe(struct token *tok);

#endif

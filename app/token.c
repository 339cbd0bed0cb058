/*
 * token.c -- bearer tokens.
 *
 *	random_bytes		getrandom(2), the only source of randomness
 *	base64url_len		encoded length
 *	base64url_encode	RFC 4648 section 5, no padding
 *	token_new		a fresh token and its digest
 *	token_well_formed	shape check before any database work
 *	token_digest		what the database stores
 *	token_wipe		forget a token
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "log.h"
#include "token.h"

static const char base64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int
random_bytes(void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len > 0) {
		/* Blocks only until the pool is initialised at boot. */
		ssize_t got = getrandom(p, len, 0);

		if (got == -1) {
			if (errno == EINTR)
				continue;
			log_error("getrandom: %m");
			return 0;
		}
		p += got;
		len -= (size_t)got;
	}
	return 1;
}

size_t
base64url_len(size_t len)
{
	return len / 3 * 4 + (len % 3 == 0 ? 0 : len % 3 + 1);
}

size_t
base64url_encode(const uint8_t *in, size_t len, char *out)
{
	size_t i, o = 0;

	for (i = 0; i + 3 <= len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
		    in[i + 2];
		out[o++] = base64url_alphabet[v >> 18 & 63];
		out[o++] = base64url_alphabet[v >> 12 & 63];
		out[o++] = base64url_alphabet[v >> 6 & 63];
		out[o++] = base64url_alphabet[v & 63];
	}
	if (len - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;
		out[o++] = base64url_alphabet[v >> 18 & 63];
		out[o++] = base64url_alphabet[v >> 12 & 63];
	} else if (len - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = base64url_alphabet[v >> 18 & 63];
		out[o++] = base64url_alphabet[v >> 12 & 63];
		out[o++] = base64url_alphabet[v >> 6 & 63];
	}
	out[o] = '\0';
	return o;
}

int
token_new(struct token *tok)
{
	uint8_t raw[TOKEN_RANDOM_LEN];

	if (!random_bytes(raw, sizeof(raw)))
		return 0;
	memcpy(tok->text, TOKEN_PREFIX, TOKEN_PREFIX_LEN);
	base64url_encode(raw, sizeof(raw), tok->text + TOKEN_PREFIX_LEN);
	explicit_bzero(raw, sizeof(raw));
	token_digest(tok->text, TOKEN_TEXT_LEN, tok->digest);
	return 1;
}

bool
token_well_formed(const char *text, size_t len)
{
	size_t i;

	if (len != TOKEN_TEXT_LEN ||
	    memcmp(text, TOKEN_PREFIX, TOKEN_PREFIX_LEN) != 0)
		return false;
	for (i = TOKEN_PREFIX_LEN; i < len; i++)
		if (strchr(base64url_alphabet, text[i]) == NULL ||
		    text[i] == '\0')
			return false;
	/* 32 bytes leave 4 unused bits in the last character: they are zero. */
	return strchr("AEIMQUYcgkosw048", text[len - 1]) != NULL;
}

void
token_digest(const char *text, size_t len, uint8_t out[TOKEN_DIGEST_LEN])
{
	sha256(text, len, out);
}

void
token_wipe(struct token *tok)
{
	explicit_bzero(tok, sizeof(*tok));
}

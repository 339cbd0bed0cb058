/*
 * test-sha256.c -- SHA-256 against the FIPS 180-4 / NIST example vectors.
 */
#include "config.h"

#include <string.h>

#include "sha256.h"
#include "tap.h"

static void
hex(const uint8_t *d, char *out)
{
	int i;

	for (i = 0; i < SHA256_DIGEST_LEN; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

static int
digest_is(const char *msg, size_t len, const char *want)
{
	uint8_t d[SHA256_DIGEST_LEN];
	char h[65];

	sha256(msg, len, d);
	hex(d, h);
	return strcmp(h, want) == 0;
}

int
main(void)
{
	struct sha256_ctx ctx;
	uint8_t d[SHA256_DIGEST_LEN];
	char h[65], million[1000];
	int i;

	ok(digest_is("", 0,
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
	    "empty message");
	ok(digest_is("abc", 3,
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
	    "\"abc\" (one block)");
	ok(digest_is("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
	    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
	    "448-bit message (padding spills into a second block)");

	memset(million, 'a', sizeof(million));
	sha256_init(&ctx);
	for (i = 0; i < 1000; i++)
		sha256_update(&ctx, million, sizeof(million));
	sha256_final(&ctx, d);
	hex(d, h);
	ok(strcmp(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0") == 0,
	    "one million 'a' fed in 1000-byte pieces");

	sha256_init(&ctx);
	for (i = 0; i < 3; i++)
		sha256_update(&ctx, &"abc"[i], 1);
	sha256_final(&ctx, d);
	hex(d, h);
	ok(strcmp(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0,
	    "byte-by-byte updates give the one-shot digest");
	return tap_done();
}

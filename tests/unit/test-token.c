/*
 * test-token.c -- base64url (RFC 4648 sections 5 and 10, no padding),
 * fresh tokens ("mda_" + base64url of 32 random bytes) and their digest,
 * the shape check made before any database work, and wiping.
 */
#include "config.h"

#include <string.h>

#include "tap.h"
#include "token.h"

/* Is base64url of the first len bytes of in exactly want? */
static int
encodes_to(const char *in, size_t len, const char *want)
{
	char out[64];
	size_t n;

	memset(out, 'X', sizeof(out));
	n = base64url_encode((const uint8_t *)in, len, out);
	return n == strlen(want) && strcmp(out, want) == 0 &&
	    base64url_len(len) == n;
}

static int
only_base64url(const char *s)
{
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_") == strlen(s);
}

/* A well-formed token text to alter: "mda_" + 42 'A' + 'E'. */
static void
sample(char *t)
{
	memcpy(t, "mda_", 4);
	memset(t + 4, 'A', 42);
	t[46] = 'E';
	t[47] = '\0';
}

static void
test_base64url(void)
{
	static const uint8_t fb[] = { 0xfb, 0xff };
	static const uint8_t zeros[32];
	char out[64];

	ok(encodes_to("", 0, ""), "base64url(\"\") is \"\"");
	ok(encodes_to("f", 1, "Zg"), "base64url(\"f\") is \"Zg\"");
	ok(encodes_to("fo", 2, "Zm8"), "base64url(\"fo\") is \"Zm8\"");
	ok(encodes_to("foo", 3, "Zm9v"), "base64url(\"foo\") is \"Zm9v\"");
	ok(encodes_to("foob", 4, "Zm9vYg"),
	    "base64url(\"foob\") is \"Zm9vYg\"");
	ok(encodes_to("fooba", 5, "Zm9vYmE"),
	    "base64url(\"fooba\") is \"Zm9vYmE\"");
	ok(encodes_to("foobar", 6, "Zm9vYmFy"),
	    "base64url(\"foobar\") is \"Zm9vYmFy\"");
	ok(base64url_encode(fb, sizeof(fb), out) == 3 &&
	    strcmp(out, "-_8") == 0,
	    "bytes FB FF use the URL alphabet: \"-_8\" (not \"+/8\")");
	ok(base64url_encode(zeros, sizeof(zeros), out) == 43 &&
	    strcmp(out, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA") == 0,
	    "32 zero bytes are 43 'A's, without padding");
	ok(base64url_len(0) == 0 && base64url_len(1) == 2 &&
	    base64url_len(2) == 3 && base64url_len(3) == 4,
	    "base64url_len of 0..3 bytes is 0, 2, 3, 4");
	ok(base64url_len(32) == 43, "base64url_len(32) is 43");
}

static void
test_token_new(void)
{
	struct token a, b;
	uint8_t digest[TOKEN_DIGEST_LEN];
	int rc;

	rc = token_new(&a);
	ok(rc == 1, "token_new succeeds");
	ok(strncmp(a.text, "mda_", 4) == 0, "a token starts with \"mda_\"");
	ok(strlen(a.text) == 47 && TOKEN_TEXT_LEN == 47,
	    "a token is 47 characters");
	ok(only_base64url(a.text + 4),
	    "after the prefix a token has only base64url characters");
	ok(token_well_formed(a.text, strlen(a.text)),
	    "a new token is well-formed");
	sha256(a.text, strlen(a.text), digest);
	ok(memcmp(a.digest, digest, sizeof(digest)) == 0,
	    "the digest is the SHA-256 of the token text");
	token_digest(a.text, strlen(a.text), digest);
	ok(memcmp(a.digest, digest, sizeof(digest)) == 0,
	    "token_digest gives the stored digest");
	ok(token_new(&b) == 1 && strcmp(a.text, b.text) != 0 &&
	    memcmp(a.digest, b.digest, sizeof(a.digest)) != 0,
	    "two new tokens differ, and so do their digests");
	token_wipe(&b);

	token_wipe(&a);
	memset(digest, 0, sizeof(digest));
	{
		static const char zero[TOKEN_TEXT_LEN + 1];

		ok(memcmp(a.text, zero, sizeof(zero)) == 0 &&
		    memcmp(a.digest, digest, sizeof(digest)) == 0,
		    "token_wipe zeroes the text and the digest");
	}
}

static void
test_well_formed(void)
{
	char t[48];
	size_t i;
	int all;

	sample(t);
	ok(token_well_formed(t, 47), "\"mda_\" + 42 'A' + 'E' is well-formed");
	ok(!token_well_formed(t, 46), "46 characters are not well-formed");
	ok(!token_well_formed("mda_", 4),
	    "the prefix alone is not well-formed");
	ok(!token_well_formed("", 0), "the empty string is not well-formed");
	t[46] = 'A';
	t[47] = 'A';
	ok(!token_well_formed(t, 48), "48 characters are not well-formed");

	sample(t);
	t[0] = 'M';
	ok(!token_well_formed(t, 47), "\"Mda_\" is not the prefix");
	sample(t);
	memcpy(t, "mdb_", 4);
	ok(!token_well_formed(t, 47), "\"mdb_\" is not the prefix");
	sample(t);
	t[10] = '+';
	ok(!token_well_formed(t, 47),
	    "a '+' (base64, not base64url) is rejected");
	sample(t);
	t[10] = '/';
	ok(!token_well_formed(t, 47),
	    "a '/' (base64, not base64url) is rejected");
	sample(t);
	t[46] = '=';
	ok(!token_well_formed(t, 47), "a '=' pad character is rejected");
	sample(t);
	t[10] = '.';
	ok(!token_well_formed(t, 47), "a '.' is rejected");
	sample(t);
	t[10] = '\0';
	ok(!token_well_formed(t, 47), "a NUL inside the token is rejected");
	sample(t);
	t[10] = '-';
	t[11] = '_';
	ok(token_well_formed(t, 47), "'-' and '_' are accepted");

	sample(t);
	t[46] = 'B';
	ok(!token_well_formed(t, 47),
	    "a last character with non-zero unused bits ('B') is rejected");
	sample(t);
	t[46] = '_';
	ok(!token_well_formed(t, 47),
	    "a last character with non-zero unused bits ('_') is rejected");
	all = 1;
	for (i = 0; i < 16; i++) {
		sample(t);
		t[46] = "AEIMQUYcgkosw048"[i];
		all &= token_well_formed(t, 47);
	}
	ok(all, "every last character with zero unused bits is accepted");
}

int
main(void)
{
	test_base64url();
	test_token_new();
	test_well_formed();
	return tap_done();
}

/*
 * test-password.c -- argon2id PHC strings: hash and verify, salts,
 * re-hash detection, stored strings that are not usable (never a match),
 * the dummy hash of unknown users, long passwords and NUL bytes; the
 * split of PHC strings by hand (the same verdict as libargon2's own
 * decoder, for every variant of a string) and the work area (reused,
 * zeros between hashes).  Small parameters (256 KiB, t=1, p=1) keep it fast.
 */
#include "config.h"

#include <argon2.h>
#include <stdio.h>
#include <string.h>

#include "password.h"
#include "tap.h"

#define PREFIX	"$argon2id$v=19$m=256,t=1,p=1$"

static const struct password_params small = { 256, 1, 1 };

#define S(lit)	lit, sizeof(lit) - 1

static void
test_hash_verify(void)
{
	char h1[PASSWORD_HASH_MAX], h2[PASSWORD_HASH_MAX];
	enum password_result r;

	r = password_hash(&small, S("correct horse"), h1, sizeof(h1));
	ok(r == PASSWORD_MATCH, "password_hash succeeds (PASSWORD_MATCH)");
	ok(strncmp(h1, PREFIX, strlen(PREFIX)) == 0,
	    "the PHC string starts with " PREFIX);
	ok(password_verify(h1, S("correct horse")) == PASSWORD_MATCH,
	    "the right password verifies: PASSWORD_MATCH");
	ok(password_verify(h1, S("correct horsf")) == PASSWORD_MISMATCH,
	    "a wrong password: PASSWORD_MISMATCH");
	ok(password_verify(h1, S("Correct horse")) == PASSWORD_MISMATCH,
	    "passwords are case-sensitive");
	ok(password_verify(h1, S("correct hors")) == PASSWORD_MISMATCH,
	    "a prefix of the password does not match");
	ok(password_verify(h1, "", 0) == PASSWORD_MISMATCH,
	    "an empty password does not match");
	ok(password_hash(&small, S("correct horse"), h2, sizeof(h2)) ==
	    PASSWORD_MATCH && strcmp(h1, h2) != 0,
	    "two hashes of one password differ (fresh salt)");
	ok(password_verify(h2, S("correct horse")) == PASSWORD_MATCH,
	    "the second hash verifies too");
}

static void
test_rehash(void)
{
	char h[PASSWORD_HASH_MAX];
	struct password_params p;

	if (password_hash(&small, S("some password"), h, sizeof(h)) !=
	    PASSWORD_MATCH) {
		ok(0, "a hash to test re-hashing with");
		return;
	}
	ok(!password_needs_rehash(h, &small),
	    "no re-hash with the same parameters");
	p = small;
	p.memory_kib = 512;
	ok(password_needs_rehash(h, &p), "re-hash when the memory differs");
	p = small;
	p.iterations = 2;
	ok(password_needs_rehash(h, &p), "re-hash when the iterations differ");
	p = small;
	p.parallelism = 2;
	ok(password_needs_rehash(h, &p),
	    "re-hash when the parallelism differs");
	ok(password_needs_rehash("$argon2i$v=19$m=256,t=1,p=1$"
	    "c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaA", &small),
	    "re-hash an argon2i string");
	ok(password_needs_rehash("$argon2id$v=16$m=256,t=1,p=1$"
	    "c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaA", &small),
	    "re-hash an argon2id string of version 16");
	ok(password_needs_rehash("garbage", &small), "re-hash garbage");
	ok(password_needs_rehash("", &small), "re-hash an empty string");
	ok(password_needs_rehash("$argon2id$v=19$m=256,t=1,p=1", &small),
	    "re-hash a PHC string cut after its parameters");
}

static void
test_unusable_stored(void)
{
	char h[PASSWORD_HASH_MAX], cut[PASSWORD_HASH_MAX];
	char i_hash[PASSWORD_HASH_MAX];
	static const char salt[] = "saltsaltsaltsalt";
	size_t n;

	if (password_hash(&small, S("secret123"), h, sizeof(h)) !=
	    PASSWORD_MATCH) {
		ok(0, "a hash to corrupt");
		return;
	}
	n = strlen(h);
	memcpy(cut, h, n - 10);
	cut[n - 10] = '\0';

	ok(password_verify("garbage", S("secret123")) == PASSWORD_MISMATCH,
	    "a garbage stored string is a MISMATCH (before the dummy exists)");
	ok(password_verify(cut, S("secret123")) == PASSWORD_MISMATCH,
	    "a truncated PHC string is a MISMATCH, even with the "
	    "right password");
	ok(password_verify("", S("secret123")) == PASSWORD_MISMATCH,
	    "an empty stored string is a MISMATCH");
	ok(argon2i_hash_encoded(1, 256, 1, "secret123", 9, salt, 16, 32, i_hash,
	    sizeof(i_hash)) == ARGON2_OK &&
	    password_verify(i_hash, S("secret123")) == PASSWORD_MISMATCH,
	    "an argon2i hash of the right password is a MISMATCH "
	    "(argon2id only)");

	ok(strcmp(password_dummy(), "") == 0,
	    "there is no dummy hash before password_dummy_init");
	ok(password_dummy_init(&small) == 1, "password_dummy_init succeeds");
	ok(strncmp(password_dummy(), PREFIX, strlen(PREFIX)) == 0,
	    "the dummy hash is argon2id with the given parameters");
	ok(password_verify("garbage", S("secret123")) == PASSWORD_MISMATCH,
	    "with the dummy, a garbage stored string is still a MISMATCH");
	ok(password_verify(cut, S("secret123")) == PASSWORD_MISMATCH,
	    "with the dummy, a truncated PHC string is still a MISMATCH");
}

static void
test_lengths(void)
{
	char h[PASSWORD_HASH_MAX], big[PASSWORD_MAX];
	static const char nul[] = "ab\0cd\0ef";

	memset(big, 'x', sizeof(big));
	ok(password_hash(&small, big, sizeof(big), h, sizeof(h)) ==
	    PASSWORD_MATCH && password_verify(h, big, sizeof(big)) ==
	    PASSWORD_MATCH,
	    "a password of 1024 bytes hashes and verifies");
	ok(password_verify(h, big, sizeof(big) - 1) == PASSWORD_MISMATCH,
	    "its first 1023 bytes do not match (never truncated)");

	ok(password_hash(&small, nul, sizeof(nul) - 1, h, sizeof(h)) ==
	    PASSWORD_MATCH && password_verify(h, nul, sizeof(nul) - 1) ==
	    PASSWORD_MATCH,
	    "a password with NUL bytes verifies with its full length");
	ok(password_verify(h, "ab", 2) == PASSWORD_MISMATCH,
	    "the bytes after a NUL are part of the password");
	ok(password_verify(h, "ab\0cd\0eX", 8) == PASSWORD_MISMATCH,
	    "a difference after a NUL byte is a MISMATCH");

	ok(password_length(S("twelve chars")) == 12,
	    "an ASCII password's length is its bytes");
	ok(password_length(S("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80")) == 3,
	    "a 2-, a 3- and a 4-byte character are 3 characters");
	ok(password_length(S("\xff\xfe" "ab")) == 4,
	    "bytes that are not UTF-8 count one each");
	ok(password_length(S("\x80\x80\x80")) == 0,
	    "stray continuation bytes count for nothing");
}

/* password_pad brings a failure up to the dummy's memory times passes. */
static void
test_pad(void)
{
	static const struct password_params two = { 256, 2, 1 };
	char h[PASSWORD_HASH_MAX];
	unsigned long long b;
	unsigned long n;

	ok(password_dummy_init(&two), "a dummy with m=256, t=2 is made");
	b = password_work_blocks();
	ok(password_verify(password_dummy(), S("x")) == PASSWORD_MISMATCH &&
	    password_work_blocks() - b == 512,
	    "a verify of the dummy goes through 256 KiB twice");
	ok(password_hash(&small, S("secret123"), h, sizeof(h)) ==
	    PASSWORD_MATCH, "a hash with m=256, t=1 is made");
	b = password_work_blocks();
	n = password_work_count();
	ok(password_verify(h, S("wrong")) == PASSWORD_MISMATCH &&
	    password_work_blocks() - b == 256,
	    "its verify goes through 256 KiB once");
	ok(password_pad(password_work_blocks() - b) == PASSWORD_MATCH &&
	    password_work_blocks() - b == 512 && password_work_count() - n == 2,
	    "password_pad makes up the other 256 KiB with one computation");
	b = password_work_blocks();
	ok(password_pad(512) == PASSWORD_MATCH && password_pad(4096) ==
	    PASSWORD_MATCH && password_work_blocks() == b,
	    "password_pad does nothing after a whole dummy's work or more");
	/* 412 to make up: two passes (no more than 256 KiB each) of 204. */
	ok(password_pad(100) == PASSWORD_MATCH &&
	    password_work_blocks() - b == 408,
	    "password_pad after 100 KiB adds 2 x 204 (412 rounded down to "
	    "whole groups of 4 KiB a pass)");
	b = password_work_blocks();
	ok(password_pad(0) == PASSWORD_MATCH && password_work_blocks() - b == 512,
	    "password_pad after no work computes a whole dummy's work, with "
	    "no more memory than the dummy (two passes)");
}

static void
test_bad_params(void)
{
	struct password_params p = { 256, 0, 1 };
	char h[PASSWORD_HASH_MAX];

	ok(password_hash(&p, S("password"), h, sizeof(h)) == PASSWORD_FAILED,
	    "hashing with 0 iterations is PASSWORD_FAILED");
	ok(password_hash(&small, S("password"), h, 20) == PASSWORD_FAILED,
	    "hashing into a buffer too small is PASSWORD_FAILED");
}

/*
 * password_verify splits canonical PHC strings itself and leaves every
 * other string to libargon2: whatever the string, a match must be exactly
 * what argon2id_verify says.
 */
static void
test_split(void)
{
	static const struct {
		const char *from, *to;	/* replace the first from by to */
	} edits[] = {
		{ "", "" },			/* the string itself */
		{ "v=19", "v=019" },
		{ "v=19", "v=16" },
		{ "v=19$", "" },
		{ "m=256", "m=0256" },
		{ "m=256", "m=+256" },
		{ "m=256", "m= 256" },
		{ "m=256", "m=4294967552" },
		{ "m=256", "m=512" },
		{ "t=1", "t=01" },
		{ "t=1", "t=2" },
		{ "p=1", "p=1,x=1" },
		{ "$argon2id$", "$argon2i$" },
		{ "$argon2id$", "$ARGON2ID$" },
	};
	char h[PASSWORD_HASH_MAX], s[PASSWORD_HASH_MAX + 16], name[160];
	const char *pw = "split me";
	size_t i, n;
	char *at, *salt, *tag;

	if (password_hash(&small, pw, strlen(pw), h, sizeof(h)) !=
	    PASSWORD_MATCH) {
		ok(0, "a hash to split");
		return;
	}
	for (i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		at = strstr(h, edits[i].from);
		n = (size_t)(at - h);
		snprintf(s, sizeof(s), "%.*s%s%s", (int)n, h, edits[i].to,
		    at + strlen(edits[i].from));
		snprintf(name, sizeof(name), "'%s' -> '%s': password_verify "
		    "matches exactly when argon2id_verify does", edits[i].from,
		    edits[i].to);
		ok((password_verify(s, pw, strlen(pw)) == PASSWORD_MATCH) ==
		    (argon2id_verify(s, pw, strlen(pw)) == ARGON2_OK), "%s",
		    name);
	}
	/* Edits of the base64: padding, bits past the end, a bad letter. */
	salt = strrchr(h, '$');
	tag = salt + 1;
	for (i = 0; i < 5; i++) {
		snprintf(s, sizeof(s), "%s", h);
		switch (i) {
		case 0: strcat(s, "="); break;
		case 1: strcat(s, "=="); break;
		case 2: s[strlen(s) - 1] ^= 1; break;
		case 3: s[(size_t)(tag - h)] = '*'; break;
		case 4: s[(size_t)(tag - h) - 3] = '-'; break;
		}
		ok((password_verify(s, pw, strlen(pw)) == PASSWORD_MATCH) ==
		    (argon2id_verify(s, pw, strlen(pw)) == ARGON2_OK),
		    "base64 edit %zu: password_verify matches exactly when "
		    "argon2id_verify does", i);
	}
	ok(password_verify(h, pw, strlen(pw)) == PASSWORD_MATCH &&
	    argon2id_verify(h, pw, strlen(pw)) == ARGON2_OK,
	    "the string itself matches both ways");
}

/* The work area: mapped zeros, used and wiped by every verify and pad. */
static void
test_area(void)
{
	static const struct password_params bigger = { 512, 1, 1 };
	char h[PASSWORD_HASH_MAX], hb[PASSWORD_HASH_MAX];
	unsigned long long before;
	unsigned long uses;

	ok(!password_area_clear(), "no area before password_area_init");
	if (password_hash(&small, S("area password"), h, sizeof(h)) !=
	    PASSWORD_MATCH ||
	    password_hash(&bigger, S("area password"), hb, sizeof(hb)) !=
	    PASSWORD_MATCH) {
		ok(0, "hashes to verify in the area");
		return;
	}
	ok(password_area_init(&small), "password_area_init maps 256 KiB");
	ok(password_area_clear(), "the area starts as zeros");
	uses = password_area_uses();
	ok(password_verify(h, S("area password")) == PASSWORD_MATCH &&
	    password_area_uses() == uses + 1,
	    "a verify in the area: the right password matches");
	ok(password_area_clear(), "after it the area is zeros again (wiped)");
	ok(password_verify(h, S("area passwore")) == PASSWORD_MISMATCH &&
	    password_area_uses() == uses + 2,
	    "a verify in the area: a wrong password does not match");
	ok(password_area_clear(), "after it too");
	ok(password_verify(hb, S("area password")) == PASSWORD_MATCH &&
	    password_area_uses() == uses + 2,
	    "a stored hash with more memory than the area still verifies, "
	    "in memory from malloc");
	before = password_work_blocks();
	ok(password_pad(0) == PASSWORD_MATCH &&
	    password_work_blocks() > before && password_area_uses() == uses + 3,
	    "password_pad works in the area");
	ok(password_area_clear(), "and leaves it zeros");
}

int
main(void)
{
	test_hash_verify();
	test_rehash();
	test_unusable_stored();
	test_lengths();
	test_pad();
	test_bad_params();
	test_split();
	test_area();
	return tap_done();
}

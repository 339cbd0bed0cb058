/*
 * password.c -- argon2id password hashes.
 *
 *	password_hash		new PHC string with a fresh salt
 *	password_verify		check a password against a PHC string
 *	password_dummy_init	the hash unknown users are checked against
 *	password_dummy		that hash
 *	password_pad		make a failed login cost what the dummy costs
 *	password_length		characters, for min_password_length
 *	password_needs_rehash	are the stored parameters the current ones?
 *	password_work_count	argon2id computations run so far
 *	password_work_blocks	and the KiB blocks they went through
 */
#include "config.h"

#include <argon2.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "password.h"
#include "secmem.h"
#include "token.h"

#define PASSWORD_SALT_LEN	16
#define PASSWORD_TAG_LEN	32

static char password_dummy_hash[PASSWORD_HASH_MAX];
static struct password_params password_dummy_params;
static unsigned long password_work;
static unsigned long long password_blocks_done;

/* Did argon2 get as far as computing (rather than failing to decode)? */
static bool
password_worked(int rc)
{
	return rc == ARGON2_OK || rc == ARGON2_VERIFY_MISMATCH;
}

unsigned long
password_work_count(void)
{
	return password_work;
}

unsigned long long
password_work_blocks(void)
{
	return password_blocks_done;
}

/*
 * The 1 KiB blocks argon2id goes through for these parameters: its memory
 * rounded as libargon2 does (at least 8 blocks a lane, a whole number of
 * 4 blocks a lane), times the passes.
 */
static unsigned long long
password_blocks(uint32_t m, uint32_t t, uint32_t p)
{
	unsigned long long blocks = m;

	if (p == 0)
		return 0;
	if (blocks < 8ULL * p)
		blocks = 8ULL * p;
	return blocks / (4ULL * p) * (4ULL * p) * t;
}

/* The same for the parameters of a PHC string (0 when it has none). */
static unsigned long long
password_encoded_blocks(const char *encoded)
{
	unsigned version, m, t, p;

	if (sscanf(encoded, "$argon2id$v=%u$m=%u,t=%u,p=%u$", &version, &m,
	    &t, &p) == 4 ||
	    sscanf(encoded, "$argon2id$m=%u,t=%u,p=%u$", &m, &t, &p) == 3)
		return password_blocks(m, t, p);
	return 0;
}

static enum password_result
password_from_argon2(int rc)
{
	switch (rc) {
	case ARGON2_OK:
		return PASSWORD_MATCH;
	case ARGON2_VERIFY_MISMATCH:
		return PASSWORD_MISMATCH;
	case ARGON2_MEMORY_ALLOCATION_ERROR:
		return PASSWORD_NOMEM;
	default:
		return PASSWORD_FAILED;
	}
}

enum password_result
password_hash(const struct password_params *params, const char *password,
    size_t len, char *out, size_t outlen)
{
	uint8_t salt[PASSWORD_SALT_LEN];
	int rc;

	if (!random_bytes(salt, sizeof(salt)))
		return PASSWORD_FAILED;
	secmem_fill_pause(true);
	rc = argon2id_hash_encoded(params->iterations, params->memory_kib,
	    params->parallelism, password, len, salt, sizeof(salt),
	    PASSWORD_TAG_LEN, out, outlen);
	secmem_fill_pause(false);
	password_work += rc == ARGON2_OK;
	if (rc == ARGON2_OK)
		password_blocks_done += password_blocks(params->memory_kib,
		    params->iterations, params->parallelism);
	if (rc != ARGON2_OK)
		log_error("argon2id_hash_encoded: %s", argon2_error_message(rc));
	return password_from_argon2(rc);
}

enum password_result
password_verify(const char *encoded, const char *password, size_t len)
{
	enum password_result r;
	int rc;

	secmem_fill_pause(true);
	rc = argon2id_verify(encoded, password, len);
	secmem_fill_pause(false);
	password_work += password_worked(rc);
	if (password_worked(rc))
		password_blocks_done += password_encoded_blocks(encoded);
	r = password_from_argon2(rc);
	if (r != PASSWORD_FAILED)
		return r;
	/*
	 * A corrupt or foreign stored string fails to decode at once; spend
	 * the work of a real verify so that it looks like a wrong password.
	 */
	log_warn("password: stored hash is not usable: %s",
	    argon2_error_message(rc));
	if (password_dummy_hash[0] != '\0' && encoded != password_dummy_hash) {
		secmem_fill_pause(true);
		rc = argon2id_verify(password_dummy_hash, password, len);
		secmem_fill_pause(false);
		password_work += password_worked(rc);
		if (password_worked(rc))
			password_blocks_done +=
			    password_encoded_blocks(password_dummy_hash);
		if (rc == ARGON2_MEMORY_ALLOCATION_ERROR)
			return PASSWORD_NOMEM;
	}
	return PASSWORD_MISMATCH;
}

int
password_dummy_init(const struct password_params *params)
{
	uint8_t secret[24];
	char text[33];

	/* A password nobody knows, so the dummy never matches anything. */
	if (!random_bytes(secret, sizeof(secret)))
		return 0;
	base64url_encode(secret, sizeof(secret), text);
	explicit_bzero(secret, sizeof(secret));
	if (password_hash(params, text, strlen(text), password_dummy_hash,
	    sizeof(password_dummy_hash)) != PASSWORD_MATCH) {
		explicit_bzero(text, sizeof(text));
		password_dummy_hash[0] = '\0';
		return 0;
	}
	explicit_bzero(text, sizeof(text));
	password_dummy_params = *params;
	return 1;
}

/*
 * Why pad rather than keep a dummy per parameter set: an unknown name has
 * no parameters to imitate, so whatever the dummy costs, a known name
 * whose stored hash has other parameters would cost something else, and
 * a prober who times a login for it sees that the name exists (a user who
 * has not logged in since argon2_memory or argon2_iterations was raised).
 * The verify of the stored hash cannot be skipped, so every failed login
 * is brought up to the one measure there is, a verify at the current
 * parameters: the same memory times passes, computed with at most the
 * same memory (so the hashing budget holds) and the same lanes.  It is
 * done after the verify, on failure only: a successful login is told
 * apart by its answer anyway, and re-hashes instead.  What it cannot
 * cover: a stored hash costlier than the current parameters (they were
 * lowered) still costs more until its user logs in again; and time is
 * matched as far as argon2id's time follows memory times passes (the
 * page faults of a first pass, and caches, make small differences).
 */
enum password_result
password_pad(unsigned long long spent)
{
	const struct password_params *ref = &password_dummy_params;
	static const uint8_t salt[PASSWORD_SALT_LEN];
	unsigned long long want, lane4, per_pass, m;
	uint8_t out[PASSWORD_TAG_LEN];
	uint32_t t;
	int rc;

	if (ref->parallelism == 0)
		return PASSWORD_MATCH;		/* no dummy made: no measure */
	want = password_blocks(ref->memory_kib, ref->iterations,
	    ref->parallelism);
	if (spent >= want)
		return PASSWORD_MATCH;
	want -= spent;
	/* Passes of at most the current memory, whole groups of 4 a lane. */
	per_pass = password_blocks(ref->memory_kib, 1, ref->parallelism);
	lane4 = 4ULL * ref->parallelism;
	t = (uint32_t)((want + per_pass - 1) / per_pass);
	m = want / t / lane4 * lane4;
	if (m < 2 * lane4)
		m = 2 * lane4;
	secmem_fill_pause(true);
	rc = argon2id_hash_raw(t, (uint32_t)m, ref->parallelism, "", 0, salt,
	    sizeof(salt), out, sizeof(out));
	secmem_fill_pause(false);
	if (rc == ARGON2_OK) {
		password_work++;
		password_blocks_done += password_blocks((uint32_t)m, t,
		    ref->parallelism);
	} else
		log_error("argon2id_hash_raw: %s", argon2_error_message(rc));
	explicit_bzero(out, sizeof(out));
	return password_from_argon2(rc);
}

const char *
password_dummy(void)
{
	return password_dummy_hash;
}

size_t
password_length(const char *password, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		n += ((unsigned char)password[i] & 0xc0) != 0x80;
	return n;
}

bool
password_needs_rehash(const char *encoded, const struct password_params *params)
{
	unsigned version, m, t, p;
	int used = 0;

	if (sscanf(encoded, "$argon2id$v=%u$m=%u,t=%u,p=%u$%n", &version, &m,
	    &t, &p, &used) != 4 || used == 0)
		return true;
	return version != ARGON2_VERSION_NUMBER || m != params->memory_kib ||
	    t != params->iterations || p != params->parallelism;
}

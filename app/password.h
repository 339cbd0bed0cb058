/*
 * password.h -- argon2id password hashes in PHC string form.
 */
#ifndef MDAUTH_PASSWORD_H
#define MDAUTH_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * min_password_length (characters) may be set from PASSWORD_MIN to
 * PASSWORD_MAX: never below NIST SP 800-63B's floor of 8, whatever the
 * configuration says.
 */
#define PASSWORD_MIN		8
#define PASSWORD_MAX		1024	/* bytes; never truncated */
#define PASSWORD_HASH_MAX	192	/* room for any PHC string we produce */

struct password_params {
	uint32_t	memory_kib;
	uint32_t	iterations;
	uint32_t	parallelism;
};

enum password_result {
	PASSWORD_MATCH,
	PASSWORD_MISMATCH,
	PASSWORD_NOMEM,		/* argon2 could not allocate: 503, never 401 */
	PASSWORD_FAILED,	/* any other failure of the library */
};

/*
 * Hash a password with a fresh 16-byte salt into out (PASSWORD_HASH_MAX).
 * Returns PASSWORD_MATCH on success, PASSWORD_NOMEM or PASSWORD_FAILED.
 */
enum password_result password_hash(const struct password_params *params,
	    const char *password, size_t len, char *out, size_t outlen)
	    __attribute__((warn_unused_result));

/*
 * Verify a password against a stored PHC string.  A stored string that
 * is not a valid argon2id hash costs one verify against the dummy hash all
 * the same and never matches, so that it cannot be told apart by timing.
 */
enum password_result password_verify(const char *encoded, const char *password,
	    size_t len) __attribute__((warn_unused_result));

/*
 * Make the dummy hash that unknown users are verified against, with the
 * given parameters, so every failed login costs the same.  Its parameters
 * are also the measure password_pad brings a failed login up to.  Returns
 * 1 on success, 0 on failure.
 */
int	password_dummy_init(const struct password_params *params)
	    __attribute__((warn_unused_result));
const char *password_dummy(void);

/*
 * A failed login that has been through spent KiB blocks of argon2id work
 * (password_work_blocks' difference) computes the rest of one verify at
 * the dummy's parameters, with no more memory than they take: a stored
 * hash with cheaper parameters then costs what an unknown user's dummy
 * verify costs.  Nothing when spent is already that much or more.
 * Returns PASSWORD_MATCH (done), PASSWORD_NOMEM or PASSWORD_FAILED.
 */
enum password_result password_pad(unsigned long long spent)
	    __attribute__((warn_unused_result));

/*
 * Map the memory argon2id works in for this process (a worker), at
 * params' memory, touched at once and reused by every verify and padding
 * (password.c says why).  Returns false, having logged why, when it
 * cannot: each hash then gets its own memory.
 */
bool	password_area_init(const struct password_params *params);

/* Is the area mapped and all zeros?  (Between hashes it must be.) */
bool	password_area_clear(void);

/* How many hashes have worked in the area. */
unsigned long password_area_uses(void);

/*
 * How many argon2id computations (hash or verify) this process has run.
 * Lets the tests see that every login failure costs the same work without
 * timing anything.
 */
unsigned long password_work_count(void);

/*
 * And how much work they were: the memory blocks (KiB) each one filled
 * times its passes, from the parameters of the string verified or hashed
 * (argon2id's time grows with this, whatever m and t make it up).
 */
unsigned long long password_work_blocks(void);

/*
 * How many characters a new password has: Unicode code points (NIST SP
 * 800-63B 5.1.1.2, ASVS 4.0.3 V2.1.1 count characters), that is every
 * byte but UTF-8 continuation bytes, so that bytes that are not UTF-8
 * never count for more than they would as characters.
 */
size_t	password_length(const char *password, size_t len);

/* Was encoded made with other parameters than params (or is it not argon2id)? */
bool	password_needs_rehash(const char *encoded,
	    const struct password_params *params);

#endif

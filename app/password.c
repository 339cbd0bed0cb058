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
 *	password_area_init	map the memory a worker's argon2id works in
 *	password_area_clear	is it all zeros (between two hashes)?
 *	password_area_uses	hashes it served
 *
 * The work area: argon2id fills argon2_memory KiB for each hash.  Left to
 * libargon2, that memory is allocated and freed with each hash, and mapped
 * afresh each time (secmem.c keeps it from staying on the heap): the
 * kernel then zeroes and maps its pages one by one as argon2id first
 * touches them, which made a verify at the default parameters about 60 %
 * slower than the same verify in memory already mapped.  So a worker maps
 * its area once (password_area_init: in huge pages where the kernel
 * allows, and touched at once) and
 * gives it to libargon2 through the allocation callbacks of an
 * argon2_context, for the verify of a stored hash and for the padding of
 * a failed login.  libargon2 wipes the memory before it hands it back
 * (clear_internal_memory, on unless the library was built otherwise), so
 * between two hashes the area holds zeros; password_area_give checks the
 * first and last 1 KiB block argon2id filled and wipes the whole area
 * itself if they are not zero (a library that does not wipe), and the
 * area is left out of core dumps all the same.  A hash that needs more than
 * the area (a stored hash with more memory than argon2_memory), or a
 * worker without one, gets memory from malloc as libargon2 would.
 *
 * The verify through a context needs the PHC string split by hand
 * (libargon2 has no public decoder): password_split accepts only the
 * shape password_hash writes, "$argon2id$v=N$m=N,t=N,p=N$salt$hash" with
 * decimal numbers and unpadded base64; any other string is left to
 * argon2id_verify, whose decoder decides as before.
 */
#include "config.h"

#include <sys/mman.h>

#include <argon2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "password.h"
#include "secmem.h"
#include "token.h"

#define PASSWORD_SALT_LEN	16
#define PASSWORD_TAG_LEN	32
#define PASSWORD_SPLIT_MAX	64	/* bytes of salt or hash split by hand */
#define PASSWORD_HUGE_PAGE	((size_t)2 << 20)	/* x86-64; arm64 with 4 KiB pages */

static char password_dummy_hash[PASSWORD_HASH_MAX];
static struct password_params password_dummy_params;
static unsigned long password_work;
static unsigned long long password_blocks_done;

static uint8_t *password_area;		/* MAP_FAILED-free: NULL for none */
static size_t password_area_len;
static bool password_area_busy;
static unsigned long password_area_taken;

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

/* Is this block all zeros? */
static bool
password_zeros(const uint8_t *p, size_t len)
{
	uint8_t acc = 0;
	size_t i;

	for (i = 0; i < len; i++)
		acc |= p[i];
	return acc == 0;
}

bool
password_area_init(const struct password_params *params)
{
	size_t len = (size_t)params->memory_kib * 1024, head, tail, page;
	uint8_t *p;

	/* Whole pages, so that the slack after it can be unmapped. */
	page = (size_t)sysconf(_SC_PAGESIZE);
	len = (len + page - 1) / page * page;
	/* Room to start on a huge page boundary; the slack is unmapped. */
	p = mmap(NULL, len + PASSWORD_HUGE_PAGE, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		log_warn("password: cannot map %zu bytes for argon2id: %m; "
		    "each hash maps its own", len);
		return false;
	}
	head = (PASSWORD_HUGE_PAGE - (uintptr_t)p % PASSWORD_HUGE_PAGE) %
	    PASSWORD_HUGE_PAGE;
	tail = PASSWORD_HUGE_PAGE - head;
	if (head > 0)
		(void)munmap(p, head);
	if (tail > 0)
		(void)munmap(p + head + len, tail);
	p += head;
	/*
	 * Transparent huge pages where the kernel allows them ("madvise" or
	 * "always" in /sys/kernel/mm/transparent_hugepage/enabled): argon2id
	 * jumps around its memory, and 2 MiB pages cut its TLB misses (about
	 * 9 % of a verify at the default parameters).  Then touch it all now.
	 */
	(void)madvise(p, len, MADV_HUGEPAGE);
	(void)madvise(p, len, MADV_DONTDUMP);
	memset(p, 0, len);
	password_area = p;
	password_area_len = len;
	return true;
}

bool
password_area_clear(void)
{
	return password_area != NULL &&
	    password_zeros(password_area, password_area_len);
}

unsigned long
password_area_uses(void)
{
	return password_area_taken;
}

/* libargon2's allocation callbacks: the area when it is free and fits. */
static int
password_area_take(uint8_t **memory, size_t bytes)
{
	if (password_area != NULL && !password_area_busy &&
	    bytes <= password_area_len) {
		password_area_busy = true;
		password_area_taken++;
		*memory = password_area;
		return ARGON2_OK;
	}
	*memory = malloc(bytes);
	return *memory != NULL ? ARGON2_OK : ARGON2_MEMORY_ALLOCATION_ERROR;
}

static void
password_area_give(uint8_t *memory, size_t bytes)
{
	size_t block = bytes < 1024 ? bytes : 1024;

	if (memory == NULL)
		return;
	/* libargon2 has wiped it (see the top), or this does. */
	if (!password_zeros(memory, block) ||
	    !password_zeros(memory + bytes - block, block))
		explicit_bzero(memory, bytes);
	if (memory == password_area)
		password_area_busy = false;
	else
		free(memory);
}

/* A decimal number without sign, space or leading zero, at most 2^32-1. */
static bool
password_split_number(const char **s, uint32_t *out)
{
	const char *p = *s;
	uint64_t v = 0;

	if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] >= '0' && p[1] <= '9'))
		return false;
	for (; *p >= '0' && *p <= '9'; p++)
		if ((v = v * 10 + (uint64_t)(*p - '0')) > UINT32_MAX)
			return false;
	*out = (uint32_t)v;
	*s = p;
	return true;
}

static bool
password_split_literal(const char **s, const char *text)
{
	size_t n = strlen(text);

	if (strncmp(*s, text, n) != 0)
		return false;
	*s += n;
	return true;
}

/*
 * Unpadded standard base64 (RFC 4648 section 4, as the PHC format has it)
 * up to the next '$' or the end, canonical (unused bits zero), into at
 * most PASSWORD_SPLIT_MAX bytes.  Returns the length, 0 on any fault.
 */
static size_t
password_split_base64(const char **s, uint8_t *out)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = *s, *c;
	uint32_t acc = 0;
	size_t n = 0;
	int bits = 0;

	for (; *p != '\0' && *p != '$'; p++) {
		if ((c = strchr(alphabet, *p)) == NULL)
			return 0;
		acc = (acc << 6) | (uint32_t)(c - alphabet);
		if ((bits += 6) >= 8) {
			bits -= 8;
			if (n == PASSWORD_SPLIT_MAX)
				return 0;
			out[n++] = (uint8_t)(acc >> bits);
		}
		acc &= (1U << bits) - 1;
	}
	/* 6 bits left over cannot end a string; the others must be zero. */
	if (bits >= 6 || acc != 0)
		return 0;
	*s = p;
	return n;
}

struct password_split {
	uint32_t	version, m, t, p;
	uint8_t		salt[PASSWORD_SPLIT_MAX], hash[PASSWORD_SPLIT_MAX];
	size_t		saltlen, hashlen;
};

static bool
password_split(const char *encoded, struct password_split *ps)
{
	const char *s = encoded;

	return password_split_literal(&s, "$argon2id$v=") &&
	    password_split_number(&s, &ps->version) &&
	    password_split_literal(&s, "$m=") &&
	    password_split_number(&s, &ps->m) &&
	    password_split_literal(&s, ",t=") &&
	    password_split_number(&s, &ps->t) &&
	    password_split_literal(&s, ",p=") &&
	    password_split_number(&s, &ps->p) &&
	    password_split_literal(&s, "$") &&
	    (ps->saltlen = password_split_base64(&s, ps->salt)) >=
	    ARGON2_MIN_SALT_LENGTH &&
	    password_split_literal(&s, "$") &&
	    (ps->hashlen = password_split_base64(&s, ps->hash)) >=
	    ARGON2_MIN_OUTLEN &&
	    *s == '\0';
}

/*
 * After a computation in the area: libargon2 gives it back through
 * password_area_give, but not when it fails before (a thread it could not
 * start, with lanes > 1), leaving blocks of the hash in it.
 */
static void
password_area_check(void)
{
	if (password_area_busy) {
		explicit_bzero(password_area, password_area_len);
		password_area_busy = false;
	}
}

/*
 * argon2id_verify, in the work area, into *rc; false (nothing done) for
 * a string left to libargon2.
 */
static bool
password_verify_split(const char *encoded, const char *password, size_t len,
    int *rc)
{
	struct password_split ps;
	uint8_t out[PASSWORD_SPLIT_MAX];
	argon2_context ctx;

	if (len > UINT32_MAX || !password_split(encoded, &ps))
		return false;
	memset(&ctx, 0, sizeof(ctx));
	ctx.out = out;
	ctx.outlen = (uint32_t)ps.hashlen;
	ctx.pwd = (uint8_t *)(uintptr_t)password;  /* read only: no CLEAR flag */
	ctx.pwdlen = (uint32_t)len;
	ctx.salt = ps.salt;
	ctx.saltlen = (uint32_t)ps.saltlen;
	ctx.t_cost = ps.t;
	ctx.m_cost = ps.m;
	ctx.lanes = ctx.threads = ps.p;
	ctx.version = ps.version;
	ctx.allocate_cbk = password_area_take;
	ctx.free_cbk = password_area_give;
	ctx.flags = ARGON2_DEFAULT_FLAGS;
	*rc = argon2id_verify_ctx(&ctx, (const char *)ps.hash);
	password_area_check();
	explicit_bzero(out, sizeof(out));
	return true;
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
	if (!password_verify_split(encoded, password, len, &rc))
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
		if (!password_verify_split(password_dummy_hash, password, len,
		    &rc))
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
 * page faults of a first pass, and caches, make small differences); and
 * a stored hash of a shape password_split leaves to libargon2 (no v=, a
 * salt over 64 bytes: never one password_hash writes) is verified in
 * memory mapped for it, slower than in the work area.
 */
enum password_result
password_pad(unsigned long long spent)
{
	const struct password_params *ref = &password_dummy_params;
	static const uint8_t salt[PASSWORD_SALT_LEN];
	unsigned long long want, lane4, per_pass, m;
	uint8_t out[PASSWORD_TAG_LEN];
	argon2_context ctx;
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
	memset(&ctx, 0, sizeof(ctx));
	ctx.out = out;
	ctx.outlen = sizeof(out);
	ctx.pwd = (uint8_t *)(uintptr_t)"";
	ctx.salt = (uint8_t *)(uintptr_t)salt;
	ctx.saltlen = sizeof(salt);
	ctx.t_cost = t;
	ctx.m_cost = (uint32_t)m;
	ctx.lanes = ctx.threads = ref->parallelism;
	ctx.version = ARGON2_VERSION_NUMBER;
	ctx.allocate_cbk = password_area_take;
	ctx.free_cbk = password_area_give;
	ctx.flags = ARGON2_DEFAULT_FLAGS;
	secmem_fill_pause(true);
	rc = argon2id_ctx(&ctx);
	password_area_check();
	secmem_fill_pause(false);
	if (rc == ARGON2_OK) {
		password_work++;
		password_blocks_done += password_blocks((uint32_t)m, t,
		    ref->parallelism);
	} else
		log_error("argon2id_ctx: %s", argon2_error_message(rc));
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

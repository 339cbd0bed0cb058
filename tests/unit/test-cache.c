/*
 * test-cache.c -- the validate cache: what is stored is what a hit
 * returns, nothing answers once it may be wrong, a stale ticket drops its
 * insert, the size is fixed, one worker claims a touch, and processes
 * killed inside the cache neither block nor corrupt it.
 *
 * Every entry stored here is derived from its digest (the digests are
 * SHA-256 of a counter, as random as a token's) and a version, so a hit
 * whose fields do not all match its digest and one version is a torn or
 * misplaced write.  The kill -9 test runs 1000 rounds: a cache that did
 * not throw away what a dead process's lock guarded shows a torn entry
 * in about one round of 150 (a kill inside the copy of an entry), so
 * fewer rounds would often miss it.  It takes under 2 seconds.
 */
#include "config.h"

#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "sha256.h"
#include "tap.h"

#define MAX_AGE		60.0

static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
digest_of(unsigned i, uint8_t d[TOKEN_DIGEST_LEN])
{
	char buf[32];
	int len = snprintf(buf, sizeof(buf), "token %u", i);

	sha256(buf, (size_t)len, d);
}

/*
 * Version v of the entry stored for digest d: every field derived from
 * both, v recoverable from expires_at, so that a copy torn between two
 * versions of one digest's entry shows too.
 */
static void
entry_version(const uint8_t d[TOKEN_DIGEST_LEN], unsigned v,
    struct cache_entry *e)
{
	static const char hex[] = "0123456789abcdef";
	uint64_t x;
	size_t i, ulen;

	memset(e, 0, sizeof(*e));
	memcpy(e->digest, d, TOKEN_DIGEST_LEN);
	for (i = 0; i < 36; i++)
		e->session_id[i] = hex[(d[i / 2] >> (i % 2 ? 0 : 4)) & 15];
	memcpy(&x, d + 16, sizeof(x));
	e->user_id = (int64_t)(x >> 40) + 1;
	/* 1 to USERNAME_MAX bytes: a torn copy changes its end. */
	ulen = 1 + (d[24] + v) % USERNAME_MAX;
	for (i = 0; i < ulen; i++)
		e->username[i] = (char)('a' + (d[(i + 25) % 32] + i + v) % 26);
	memcpy(&x, d + 20, sizeof(x));
	e->expires_at = 1700000000LL + (long long)(x % 100000) + v;
	e->absolute_expires_at = e->expires_at + d[30] * 7LL + v;
	e->touched_at = e->expires_at - 3600 - d[31] - v;
}

static void
entry_of(const uint8_t d[TOKEN_DIGEST_LEN], struct cache_entry *e)
{
	entry_version(d, 0, e);
}

/* Is e exactly a version of what entry_version makes of its digest? */
static bool
entry_consistent(const struct cache_entry *e)
{
	struct cache_entry want;
	long long v;

	entry_of(e->digest, &want);
	v = e->expires_at - want.expires_at;
	if (v < 0 || v > 1000)
		return false;
	entry_version(e->digest, (unsigned)v, &want);
	return memcmp(e->session_id, want.session_id,
		   sizeof(want.session_id)) == 0 &&
	    e->user_id == want.user_id &&
	    memcmp(e->username, want.username, sizeof(want.username)) == 0 &&
	    e->expires_at == want.expires_at &&
	    e->absolute_expires_at == want.absolute_expires_at &&
	    e->touched_at == want.touched_at;
}

static bool
entry_equal(const struct cache_entry *a, const struct cache_entry *b)
{
	return memcmp(a->digest, b->digest, TOKEN_DIGEST_LEN) == 0 &&
	    strcmp(a->session_id, b->session_id) == 0 &&
	    a->user_id == b->user_id &&
	    strcmp(a->username, b->username) == 0 &&
	    a->expires_at == b->expires_at &&
	    a->absolute_expires_at == b->absolute_expires_at &&
	    a->touched_at == b->touched_at;
}

/* An enabled cache of n entries with a fresh heartbeat. */
static struct cache *
usable_cache(size_t n)
{
	struct cache *c = cache_create(n);

	if (c == NULL) {
		printf("Bail out! cache_create(%zu) failed\n", n);
		exit(1);
	}
	cache_heartbeat(c, mono());
	cache_enable(c);
	return c;
}

/* Store the entry of digest i with a fresh ticket. */
static void
put(struct cache *c, unsigned i)
{
	struct cache_ticket t;
	struct cache_entry e;
	uint8_t d[TOKEN_DIGEST_LEN];

	digest_of(i, d);
	entry_of(d, &e);
	cache_ticket(c, d, &t);
	cache_insert(c, &t, &e, mono());
}

/* Is digest i a hit, with its own entry? */
static bool
hit(struct cache *c, unsigned i)
{
	struct cache_entry e;
	uint8_t d[TOKEN_DIGEST_LEN];

	digest_of(i, d);
	return cache_lookup(c, d, mono(), MAX_AGE, &e) &&
	    memcmp(e.digest, d, TOKEN_DIGEST_LEN) == 0 && entry_consistent(&e);
}

static void
test_sizes(void)
{
	struct cache_stats st;
	struct cache *c;

	ok(cache_bytes(0) == 0 && cache_bytes(CACHE_ENTRIES_MAX + 1) == 0,
	    "cache_bytes is 0 for 0 entries and above CACHE_ENTRIES_MAX");
	ok(cache_create(0) == NULL, "cache_create(0) fails");
	ok(cache_bytes(1000) < cache_bytes(2000) &&
	    cache_bytes(2000) - cache_bytes(1000) < 1000 * 300,
	    "cache_bytes grows with n, by less than 300 bytes an entry");
	c = cache_create(1000);
	cache_stats(c, &st);
	ok(st.entries >= 1000 && st.entries < 1008 &&
	    st.bytes == cache_bytes(1000) && st.used == 0 && !st.enabled,
	    "a new cache holds at least n entries, none used, disabled, in "
	    "cache_bytes(n) bytes");
	printf("# %zu entries in %zu bytes: %.1f bytes an entry\n",
	    st.entries, st.bytes, (double)st.bytes / (double)st.entries);
	cache_destroy(c);
}

static void
test_hit(void)
{
	struct cache *c = usable_cache(100);
	struct cache_entry in, out;
	struct cache_ticket t;
	struct cache_stats st;
	uint8_t d[TOKEN_DIGEST_LEN], other[TOKEN_DIGEST_LEN];

	digest_of(1, d);
	digest_of(2, other);
	entry_of(d, &in);
	ok(!cache_lookup(c, d, mono(), MAX_AGE, &out),
	    "an empty cache misses");
	cache_ticket(c, d, &t);
	cache_insert(c, &t, &in, mono());
	memset(&out, 0x5a, sizeof(out));
	ok(cache_lookup(c, d, mono(), MAX_AGE, &out) && entry_equal(&in, &out),
	    "a hit returns exactly the entry inserted");
	ok(!cache_lookup(c, other, mono(), MAX_AGE, &out),
	    "another digest misses");
	cache_stats(c, &st);
	ok(st.hits == 1 && st.misses == 2 && st.inserts == 1 && st.used == 1 &&
	    st.enabled, "the counters say 1 hit, 2 misses, 1 insert, 1 used");
	cache_destroy(c);
}

static void
test_usable(void)
{
	struct cache *c = cache_create(100);
	struct cache_stats st;
	double now = mono();

	put(c, 1);
	ok(!hit(c, 1), "a cache never enabled stores and answers nothing");
	cache_heartbeat(c, now);
	cache_enable(c);
	put(c, 1);
	ok(hit(c, 1), "enabled with a heartbeat, it answers");
	cache_disable(c);
	ok(!hit(c, 1), "disabled, it misses");
	cache_enable(c);
	ok(cache_usable(c, now + CACHE_HEARTBEAT_MAX - 0.1) &&
	    !cache_usable(c, now + CACHE_HEARTBEAT_MAX + 0.1),
	    "a heartbeat older than CACHE_HEARTBEAT_MAX makes it unusable");
	cache_heartbeat(c, now - CACHE_HEARTBEAT_MAX - 0.5);
	ok(!hit(c, 1), "with a stale heartbeat, it misses");
	put(c, 2);
	cache_heartbeat(c, mono());
	ok(!hit(c, 2), "with a stale heartbeat, an insert is dropped");
	cache_stats(c, &st);
	ok(st.dropped_inserts == 2,
	    "the inserts into an unusable cache count as dropped");
	cache_destroy(c);
}

static void
test_flush(void)
{
	struct cache *c = usable_cache(100);
	struct cache_ticket t;
	struct cache_entry e;
	struct cache_stats st;
	uint8_t d[TOKEN_DIGEST_LEN];

	put(c, 1);
	put(c, 2);
	cache_flush(c);
	ok(!hit(c, 1) && !hit(c, 2), "after a flush every entry misses");
	cache_stats(c, &st);
	ok(st.used == 0 && st.flushes == 1,
	    "after a flush no entry is used, 1 flush counted");

	digest_of(3, d);
	entry_of(d, &e);
	cache_ticket(c, d, &t);
	cache_flush(c);
	cache_insert(c, &t, &e, mono());
	ok(!hit(c, 3),
	    "an insert with a ticket from before a flush is dropped");
	cache_stats(c, &st);
	ok(st.dropped_inserts == 1, "and counted as dropped");
	put(c, 3);
	ok(hit(c, 3), "a fresh ticket inserts");
	cache_destroy(c);
}

static void
test_max_age(void)
{
	struct cache *c = usable_cache(100);
	struct cache_ticket t;
	struct cache_entry e, out;
	uint8_t d[TOKEN_DIGEST_LEN];
	double now = mono();

	digest_of(1, d);
	entry_of(d, &e);
	cache_ticket(c, d, &t);
	cache_insert(c, &t, &e, now);
	cache_heartbeat(c, now + 10.1);
	ok(cache_lookup(c, d, now + 9.9, 10.0, &out),
	    "an entry younger than max_age hits");
	ok(!cache_lookup(c, d, now + 10.1, 10.0, &out),
	    "an entry older than max_age misses");
	cache_destroy(c);
}

static void
test_invalidate(void)
{
	struct cache *c = usable_cache(100);
	struct cache_entry e;
	uint8_t d[TOKEN_DIGEST_LEN];
	unsigned i;

	for (i = 1; i <= 4; i++)
		put(c, i);
	digest_of(1, d);
	cache_invalidate_token(c, d);
	ok(!hit(c, 1) && hit(c, 2) && hit(c, 3) && hit(c, 4),
	    "cache_invalidate_token drops that token's entry, only");
	digest_of(2, d);
	entry_of(d, &e);
	cache_invalidate_session(c, e.session_id);
	ok(!hit(c, 2) && hit(c, 3) && hit(c, 4),
	    "cache_invalidate_session drops that session's entry, only");
	digest_of(3, d);
	entry_of(d, &e);
	cache_invalidate_user(c, e.user_id);
	ok(!hit(c, 3) && hit(c, 4),
	    "cache_invalidate_user drops that user's entry, only");
	cache_destroy(c);
}

/*
 * Take a ticket for digest 1, run what(), insert: is digest 1 a hit?
 * (The entry of digest 1 is not in the cache before.)
 */
static bool
insert_after(struct cache *c, void (*what)(struct cache *, unsigned),
    unsigned arg)
{
	struct cache_ticket t;
	struct cache_entry e;
	uint8_t d[TOKEN_DIGEST_LEN];
	bool stored;

	digest_of(1, d);
	entry_of(d, &e);
	cache_ticket(c, d, &t);
	what(c, arg);
	cache_insert(c, &t, &e, mono());
	stored = hit(c, 1);
	cache_invalidate_token(c, d);
	return stored;
}

static void
do_token(struct cache *c, unsigned i)
{
	uint8_t d[TOKEN_DIGEST_LEN];

	digest_of(i, d);
	cache_invalidate_token(c, d);
}

static void
do_session(struct cache *c, unsigned i)
{
	struct cache_entry e;
	uint8_t d[TOKEN_DIGEST_LEN];

	digest_of(i, d);
	entry_of(d, &e);
	cache_invalidate_session(c, e.session_id);
}

static void
do_user(struct cache *c, unsigned i)
{
	struct cache_entry e;
	uint8_t d[TOKEN_DIGEST_LEN];

	digest_of(i, d);
	entry_of(d, &e);
	cache_invalidate_user(c, e.user_id);
}

static void
do_flush(struct cache *c, unsigned i)
{
	cache_flush(c);
}

static void
do_nothing(struct cache *c, unsigned i)
{
}

static void
test_tickets(void)
{
	struct cache *c = usable_cache(1024);	/* 128 sets */
	struct cache_stats before, after;
	unsigned i, kept = 0;

	ok(insert_after(c, do_nothing, 0), "an insert with its ticket stores");
	cache_stats(c, &before);
	ok(!insert_after(c, do_token, 1),
	    "an insert is dropped when its token was invalidated since its "
	    "ticket");
	ok(!insert_after(c, do_session, 1),
	    "an insert is dropped when its session was invalidated since its "
	    "ticket");
	ok(!insert_after(c, do_user, 1),
	    "an insert is dropped when its user was invalidated since its "
	    "ticket");
	ok(!insert_after(c, do_session, 2) && !insert_after(c, do_user, 2),
	    "an insert is dropped when any session or user was invalidated "
	    "since its ticket");
	ok(!insert_after(c, do_flush, 0),
	    "an insert is dropped when the cache was flushed since its ticket");
	cache_stats(c, &after);
	ok(after.dropped_inserts - before.dropped_inserts == 6,
	    "each of the 6 drops is counted");
	/* 1 chance in 128 for each to share the set of digest 1. */
	for (i = 100; i < 116; i++)
		kept += insert_after(c, do_token, i);
	ok(kept >= 14,
	    "an invalidated token of another set leaves a ticket good "
	    "(%u of 16)", kept);
	cache_destroy(c);
}

/* Is the mapping at p exactly bytes long (rounded to pages)? */
static bool
mapped_size(const void *p, size_t bytes)
{
	unsigned long lo, hi;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	char line[512];
	bool found = false;
	FILE *f = fopen("/proc/self/maps", "r");

	if (f == NULL)
		return false;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 &&
		    lo == (unsigned long)(uintptr_t)p)
			found = hi - lo == (bytes + page - 1) / page * page;
	fclose(f);
	return found;
}

static void
test_eviction(void)
{
	const unsigned n = 256;
	struct cache *c = usable_cache(n);
	struct cache_stats st0, st;
	unsigned i, j, recent_miss = 0, hits = 0;
	bool steady = true;

	cache_stats(c, &st0);
	ok(mapped_size(c, cache_bytes(n)),
	    "the mapping is cache_bytes(n) bytes long");
	for (i = 0; i < 2 * n; i++) {
		put(c, 1000 + i);
		/* The newest entry of each set stays: the last one does. */
		if (!hit(c, 1000 + i))
			recent_miss++;
		cache_stats(c, &st);
		if (st.entries != st0.entries || st.bytes != st0.bytes ||
		    st.used > st.entries)
			steady = false;
	}
	ok(recent_miss == 0, "each entry just inserted hits (%u missed)",
	    recent_miss);
	ok(steady, "entries and bytes never change, used never exceeds "
	    "entries");
	for (j = 0; j < 2 * n; j++)
		hits += hit(c, 1000 + j);
	cache_stats(c, &st);
	ok(hits <= st.entries && hits == st.used && st.evictions > 0 &&
	    st.inserts == 2 * n,
	    "after 2n inserts, %u hit, as many as used, within %zu entries, "
	    "with %" PRIu64 " evictions", hits, st.entries, st.evictions);
	for (j = 2 * n - 8; j < 2 * n; j++)
		if (!hit(c, 1000 + j))
			recent_miss++;
	ok(recent_miss == 0, "the 8 last inserted all hit");
	cache_destroy(c);
}

static void
test_lru(void)
{
	struct cache *c = usable_cache(8);	/* one set of 8 ways */
	struct cache_stats st;
	unsigned i;

	for (i = 0; i < 8; i++)
		put(c, i);
	ok(hit(c, 0), "a full set of 8 holds its 8 entries");
	put(c, 8);
	cache_stats(c, &st);
	ok(hit(c, 8) && hit(c, 0) && !hit(c, 1) && st.evictions == 1,
	    "a 9th entry evicts the least recently used (not the oldest "
	    "looked up since)");
	cache_destroy(c);
}

/* A page shared with the children, to start them at once. */
static volatile int *start_flag;

static void
test_claim_touch(void)
{
	struct cache *c = usable_cache(100);
	struct cache_entry e, out;
	struct cache_ticket t;
	uint8_t d[TOKEN_DIGEST_LEN], other[TOKEN_DIGEST_LEN];
	pid_t pids[4];
	int i, status, claims = 0, round, exact_one = 0;

	digest_of(1, d);
	digest_of(2, other);
	entry_of(d, &e);
	e.touched_at = 1000;
	cache_ticket(c, d, &t);
	cache_insert(c, &t, &e, mono());
	start_flag = mmap(NULL, sizeof(int), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (start_flag == MAP_FAILED) {
		printf("Bail out! mmap\n");
		exit(1);
	}
	/* Rounds: the touch is due again every 100 s of db time. */
	for (round = 0; round < 20; round++) {
		*start_flag = 0;
		for (i = 0; i < 4; i++) {
			pids[i] = fork();
			if (pids[i] == 0) {
				while (*start_flag == 0)
					;
				_exit(cache_claim_touch(c, d,
				    1100 + 100 * round, 60) ? 1 : 0);
			}
		}
		usleep(2000);
		*start_flag = 1;
		claims = 0;
		for (i = 0; i < 4; i++)
			if (pids[i] > 0 && waitpid(pids[i], &status, 0) ==
			    pids[i] && WIFEXITED(status))
				claims += WEXITSTATUS(status);
		exact_one += claims == 1;
	}
	ok(exact_one == 20,
	    "of 4 workers claiming a due touch at once, exactly one gets it "
	    "(%d of 20 rounds)", exact_one);
	ok(cache_lookup(c, d, mono(), MAX_AGE, &out) &&
	    out.touched_at == 1100 + 100 * 19,
	    "the claim sets the entry's touched_at to db_now");
	ok(!cache_claim_touch(c, d, 1100 + 100 * 19 + 59, 60),
	    "a touch not due yet is not claimed");
	ok(cache_claim_touch(c, d, 1100 + 100 * 19 + 60, 60),
	    "a touch due by exactly the interval is claimed");
	ok(!cache_claim_touch(c, other, 5000, 60),
	    "a touch of a digest not cached is not claimed");
	munmap((void *)start_flag, sizeof(int));
	cache_destroy(c);
}

/* The pool of digests the robustness test stores. */
#define POOL		128
#define ROUNDS		1000
#define VERSIONS	4

/*
 * Random work in the cache until killed, with the digests and entries
 * made beforehand, so that most of the time goes in the cache's calls.
 */
static void __attribute__((noreturn))
churn(struct cache *c, unsigned seed)
{
	static uint8_t d[POOL][TOKEN_DIGEST_LEN];
	static struct cache_entry e[POOL][VERSIONS];
	struct cache_ticket t;
	struct cache_entry out;
	unsigned r, i, v;

	for (i = 0; i < POOL; i++) {
		digest_of(i, d[i]);
		for (v = 0; v < VERSIONS; v++)
			entry_version(d[i], v * 37, &e[i][v]);
	}
	srandom(seed);
	for (;;) {
		r = (unsigned)random();
		i = r % POOL;
		switch ((r >> 8) % 16) {
		case 0:
			cache_invalidate_token(c, d[i]);
			break;
		case 1:
			cache_invalidate_user(c, e[i][0].user_id);
			break;
		case 2:
			cache_invalidate_session(c, e[i][0].session_id);
			break;
		case 3:
		case 4:
		case 5:
			(void)cache_lookup(c, d[i], mono(), MAX_AGE, &out);
			break;
		default:
			/* The same digest with other fields: a torn copy
			 * would mix two versions (see entry_version). */
			cache_ticket(c, d[i], &t);
			cache_insert(c, &t, &e[i][(r >> 12) % VERSIONS],
			    mono());
			break;
		}
	}
}

static void
watchdog(int sig)
{
	static const char msg[] =
	    "not ok - a call into the cache blocked after a kill -9\n";

	(void)sig;
	if (write(STDOUT_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(2);
	_exit(1);
}

static void
test_robust(void)
{
	struct cache *c = usable_cache(64);	/* 8 sets, 8 stripes */
	struct cache_entry e;
	struct cache_stats st;
	uint8_t d[TOKEN_DIGEST_LEN];
	unsigned round, i, torn = 0, lost = 0, done = 0;
	pid_t pid;

	signal(SIGALRM, watchdog);
	srandom(1313);
	for (round = 0; round < ROUNDS; round++) {
		cache_heartbeat(c, mono());
		pid = fork();
		if (pid == 0)
			churn(c, round + 1);
		if (pid < 0)
			break;
		usleep(100 + (unsigned)random() % 1000);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);

		/* 128 digests over 8 sets: every stripe is visited. */
		alarm(5);
		for (i = 0; i < POOL; i++) {
			digest_of(i, d);
			if (cache_lookup(c, d, mono(), MAX_AGE, &e) &&
			    (memcmp(e.digest, d, TOKEN_DIGEST_LEN) != 0 ||
			    !entry_consistent(&e)))
				torn++;
		}
		for (i = 0; i < POOL; i++) {
			put(c, i);
			if (!hit(c, i))
				lost++;
		}
		do_user(c, round % POOL);
		do_session(c, (round + 1) % POOL);
		for (i = 0; i < POOL; i += 3) {
			digest_of(i, d);
			cache_invalidate_token(c, d);
		}
		cache_stats(c, &st);
		alarm(0);
		done++;
	}
	ok(done == ROUNDS, "after each of %u kill -9 of a process working in "
	    "the cache, every stripe answers without blocking", done);
	ok(torn == 0, "every hit after a kill returns one whole version of "
	    "its digest's entry (%u did not)", torn);
	ok(lost == 0, "an insert after a kill stores (%u did not)", lost);
	cache_stats(c, &st);
	ok(st.lock_recoveries > 0, "locks of dead processes were recovered "
	    "(%" PRIu64 " times)", st.lock_recoveries);
	cache_destroy(c);
}

/* Not an assertion: what a hit costs here. */
static void
report_lookup_cost(void)
{
	struct cache *c = usable_cache(10000);
	uint8_t d[64][TOKEN_DIGEST_LEN];
	struct cache_entry e;
	unsigned i, hits = 0, n = 1000000;
	double t0, t1;

	for (i = 0; i < 64; i++) {
		digest_of(i, d[i]);
		put(c, i);
	}
	t0 = mono();
	for (i = 0; i < n; i++)
		hits += cache_lookup(c, d[i % 64], t0, MAX_AGE, &e);
	t1 = mono();
	printf("# lookup: %.1f ns (%u hits of %u)\n", (t1 - t0) * 1e9 / n,
	    hits, n);
	cache_destroy(c);
}

int
main(void)
{
	test_sizes();
	test_hit();
	test_usable();
	test_flush();
	test_max_age();
	test_invalidate();
	test_tickets();
	test_eviction();
	test_lru();
	test_claim_touch();
	test_robust();
	report_lookup_cost();
	return tap_done();
}

/*
 * cache.c -- the validate cache in shared memory (cache.h is the contract).
 *
 *	cache_bytes		the size of the mapping for n entries
 *	cache_create		master: map it, disabled
 *	cache_destroy		unmap it
 *	cache_enable		listener: answers may be given
 *	cache_disable		listener or master: no answer any more
 *	cache_heartbeat		listener: still alive at monotonic time now
 *	cache_usable		enabled, with a fresh heartbeat
 *	cache_flush		every entry stale, in O(1)
 *	cache_lookup		the entry of a digest, when valid
 *	cache_ticket		what an insert must find unchanged
 *	cache_insert		store an entry unless its ticket is stale
 *	cache_claim_touch	exactly one worker records a due touch
 *	cache_invalidate_token	drop the entry of a digest
 *	cache_invalidate_session drop the entry of a session id
 *	cache_invalidate_user	drop the entries of a user
 *	cache_stats		counters and figures
 *
 * THE LAYOUT.  One MAP_SHARED|MAP_ANONYMOUS mapping, made by the master
 * before it forks, so every process sees it at the same address and
 * pointers into it are the same in all of them:
 *
 *	struct cache		the header: sizes, the enabled flag, the
 *				heartbeat, the flush generation, user_seq,
 *				the counters not kept per stripe
 *	stripes[nstripes]	one robust process-shared mutex each, with
 *				the LRU clock and the counters of its sets
 *				(128 bytes each: no two share a cache line)
 *	seqs[nsets]		invalidations of each set (8 bytes)
 *	tags[nsets][8]		the first 8 bytes of each way's digest, so
 *				that a lookup reads one cache line to find
 *				its way (64 bytes a set)
 *	slots[nsets][8]		the entries with their generation, time of
 *				insert and last use (264 bytes each)
 *
 * The table is set-associative: bytes 8 to 11 of the digest (a SHA-256
 * of 32 random bytes: uniform, and not chosen by a client, who can only
 * make a token's digest be looked up, never stored) pick one of nsets
 * sets of CACHE_WAYS ways.  A lookup scans its set; an insert replaces
 * the same digest, else takes a free way (empty, or of an older flush
 * generation), else evicts the set's least recently used way.  Set s is
 * guarded by stripe s % nstripes; there are min(nsets, 64) stripes.
 *
 * MEMORY PER ENTRY: 264 bytes of slot (a 240-byte struct cache_entry,
 * 24 of bookkeeping), 8 of tag and 1 of set counter (8 per set of 8):
 * 273 bytes; plus 128 bytes a stripe (8 KiB for 64) and a 192-byte
 * header: cache_bytes(10000) = 2 738 432 bytes (2.6 MiB).  n is rounded
 * up to a multiple of 8.
 *
 * LOCKS.  Every access to a slot or a tag is made under its stripe's
 * mutex; the header fields and the set counters, read without it, are
 * C11 atomics.  A lookup takes one uncontended mutex (an atomic exchange,
 * no system call unless another process holds it) for a scan of 8 tags
 * and a copy of 240 bytes.  The mutexes are PTHREAD_MUTEX_ROBUST: when a
 * process dies holding one (kill -9 at any instruction), the next locker
 * gets EOWNERDEAD and, since the dead process may have left a slot half
 * written or an invalidation half done, empties every set of that stripe
 * and bumps their counters (so that in-flight inserts to them are
 * dropped) before it marks the mutex consistent and goes on.  A process
 * killed during that recovery leaves the mutex in the same state, and the
 * next locker starts it again.  A lock that is not recoverable (which
 * only a process that unlocks without pthread_mutex_consistent could
 * cause) makes every call on its stripe a miss, a dropped insert or a
 * skipped invalidation; no call ever waits for it.
 *
 * TICKETS.  An answer read from the database before a revocation's commit
 * must not be stored after that revocation's invalidation.  So a worker
 * takes a ticket before it asks the database -- the flush generation, its
 * set's counter, user_seq -- and cache_insert, under the stripe lock,
 * drops the entry when any of them moved: cache_invalidate_token bumps
 * the set's counter under the lock that the insert takes;
 * cache_invalidate_session and cache_invalidate_user bump user_seq before
 * they walk the stripes, so an insert either comes before the walk
 * reaches its stripe (and the walk removes it) or sees user_seq moved;
 * cache_flush bumps the generation, which also makes every stored entry
 * stale.  An invalidation by session or user cut short by the death of
 * its process leaves the stripes it had not reached; the database's
 * notification of the same change is done again by the listener, whose
 * own death disables the cache until its successor has flushed it.
 *
 * Nothing here allocates or makes a system call after cache_create.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>

#include "cache.h"
#include "log.h"

#define CACHE_WAYS		8
#define CACHE_STRIPES_MAX	64
#define CACHE_LINE		64

_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2,
    "the shared counters need lock-free 64-bit atomics");
_Static_assert(TOKEN_DIGEST_LEN >= 12, "a digest gives a tag and a set");

/* One stripe: the lock of its sets, their LRU clock and counters. */
struct cache_stripe {
	pthread_mutex_t		 lock;
	uint64_t		 tick;		/* LRU clock, under the lock */
	/* Written under the lock, read by cache_stats without it. */
	_Atomic uint64_t	 hits, misses, inserts, dropped, evictions;
} __attribute__((aligned(CACHE_LINE)));

struct cache_slot {
	uint64_t		 gen;		/* 0: empty */
	double			 stored_at;	/* monotonic seconds */
	uint64_t		 used;		/* stripe tick, last use */
	struct cache_entry	 e;
};

struct cache_set_tags {
	uint64_t		 tag[CACHE_WAYS];
} __attribute__((aligned(CACHE_LINE)));

struct cache {
	/* Fixed at creation. */
	size_t			 bytes, nsets, nstripes;
	struct cache_stripe	*stripes;
	_Atomic uint64_t	*seqs;
	struct cache_set_tags	*tags;
	struct cache_slot	*slots;

	/* Read by every lookup, written seldom. */
	_Atomic bool		 enabled __attribute__((aligned(CACHE_LINE)));
	_Atomic uint64_t	 heartbeat;	/* bits of a double */
	_Atomic uint64_t	 gen;		/* flush generation, from 1 */
	_Atomic uint64_t	 user_seq;

	/* Counters of what happens without a stripe lock. */
	_Atomic uint64_t	 misses __attribute__((aligned(CACHE_LINE)));
	_Atomic uint64_t	 dropped, invalidations, flushes;
	_Atomic uint64_t	 lock_recoveries;
};

/* Where each part of the mapping starts, for n entries. */
struct cache_layout {
	size_t	nsets, nstripes;
	size_t	stripes, seqs, tags, slots, bytes;
};

static size_t
cache_align(size_t off)
{
	return (off + CACHE_LINE - 1) & ~(size_t)(CACHE_LINE - 1);
}

/* Returns 0 when n is out of bounds, else 1 with *l filled. */
static int
cache_layout(size_t n, struct cache_layout *l)
{
	size_t off;

	if (n == 0 || n > CACHE_ENTRIES_MAX)
		return 0;
	l->nsets = (n + CACHE_WAYS - 1) / CACHE_WAYS;
	l->nstripes = l->nsets < CACHE_STRIPES_MAX ? l->nsets :
	    CACHE_STRIPES_MAX;
	off = cache_align(sizeof(struct cache));
	l->stripes = off;
	off = cache_align(off + l->nstripes * sizeof(struct cache_stripe));
	l->seqs = off;
	off = cache_align(off + l->nsets * sizeof(uint64_t));
	l->tags = off;
	off = cache_align(off + l->nsets * sizeof(struct cache_set_tags));
	l->slots = off;
	off += l->nsets * CACHE_WAYS * sizeof(struct cache_slot);
	l->bytes = off;
	return 1;
}

size_t
cache_bytes(size_t n)
{
	struct cache_layout l;

	return cache_layout(n, &l) ? l.bytes : 0;
}

/* Count one more under the stripe lock: only the holder writes. */
static void
cache_count(_Atomic uint64_t *counter)
{
	atomic_store_explicit(counter,
	    atomic_load_explicit(counter, memory_order_relaxed) + 1,
	    memory_order_relaxed);
}

static uint64_t
cache_load64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* The set of a digest: bytes 8 to 11 scaled to nsets (no division). */
static size_t
cache_set_of(const struct cache *c, const uint8_t digest[TOKEN_DIGEST_LEN])
{
	uint32_t h;

	memcpy(&h, digest + 8, sizeof(h));
	return (size_t)(((uint64_t)h * c->nsets) >> 32);
}

/* Empty every set of stripe k (its lock held) and bump their counters. */
static void
cache_stripe_clear(struct cache *c, size_t k)
{
	size_t set;

	for (set = k; set < c->nsets; set += c->nstripes) {
		memset(&c->tags[set], 0, sizeof(c->tags[set]));
		memset(&c->slots[set * CACHE_WAYS], 0,
		    CACHE_WAYS * sizeof(struct cache_slot));
		atomic_fetch_add_explicit(&c->seqs[set], 1,
		    memory_order_release);
	}
}

/*
 * Take the lock of stripe k, recovering it from a dead owner (see the
 * top).  Returns 1 with the lock held, 0 when it cannot be had.
 */
static int
cache_lock(struct cache *c, size_t k)
{
	pthread_mutex_t *m = &c->stripes[k].lock;
	int rc;

	rc = pthread_mutex_lock(m);
	if (rc == 0)
		return 1;
	if (rc != EOWNERDEAD)
		return 0;
	cache_stripe_clear(c, k);
	if (pthread_mutex_consistent(m) != 0) {
		pthread_mutex_unlock(m);
		return 0;
	}
	atomic_fetch_add_explicit(&c->lock_recoveries, 1,
	    memory_order_relaxed);
	return 1;
}

static void
cache_unlock(struct cache *c, size_t k)
{
	pthread_mutex_unlock(&c->stripes[k].lock);
}

static void
cache_slot_clear(struct cache *c, size_t set, size_t way)
{
	c->tags[set].tag[way] = 0;
	memset(&c->slots[set * CACHE_WAYS + way], 0, sizeof(struct cache_slot));
}

/*
 * The way of set that holds digest in generation gen, or CACHE_WAYS.
 * The stripe lock is held.
 */
static size_t
cache_find(const struct cache *c, size_t set,
    const uint8_t digest[TOKEN_DIGEST_LEN], uint64_t gen)
{
	const struct cache_slot *slot = &c->slots[set * CACHE_WAYS];
	uint64_t tag = cache_load64(digest);
	size_t way;

	/*
	 * memcmp, not a constant-time compare: a digest is not a secret
	 * (knowing one gives no token), and the database's index compares
	 * the same way.
	 */
	for (way = 0; way < CACHE_WAYS; way++)
		if (c->tags[set].tag[way] == tag && slot[way].gen == gen &&
		    memcmp(slot[way].e.digest, digest, TOKEN_DIGEST_LEN) == 0)
			return way;
	return CACHE_WAYS;
}

struct cache *
cache_create(size_t n)
{
	struct cache_layout l;
	pthread_mutexattr_t attr;
	struct cache *c;
	size_t k;
	int rc;

	if (!cache_layout(n, &l)) {
		log_error("cache: %zu entries: not between 1 and %d", n,
		    CACHE_ENTRIES_MAX);
		return NULL;
	}
	c = mmap(NULL, l.bytes, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (c == MAP_FAILED) {
		log_error("cache: mmap of %zu bytes: %m", l.bytes);
		return NULL;
	}
	/* Usernames and session ids have no business in a core dump. */
	(void)madvise(c, l.bytes, MADV_DONTDUMP);
	/* The mapping is zero: every slot empty, every counter 0. */
	c->bytes = l.bytes;
	c->nsets = l.nsets;
	c->nstripes = l.nstripes;
	c->stripes = (struct cache_stripe *)((char *)c + l.stripes);
	c->seqs = (_Atomic uint64_t *)((char *)c + l.seqs);
	c->tags = (struct cache_set_tags *)((char *)c + l.tags);
	c->slots = (struct cache_slot *)((char *)c + l.slots);
	atomic_init(&c->enabled, false);
	atomic_init(&c->gen, 1);

	if ((rc = pthread_mutexattr_init(&attr)) != 0) {
		errno = rc;
		log_error("cache: pthread_mutexattr_init: %m");
		goto fail;
	}
	if ((rc = pthread_mutexattr_setpshared(&attr,
	    PTHREAD_PROCESS_SHARED)) != 0 ||
	    (rc = pthread_mutexattr_setrobust(&attr,
	    PTHREAD_MUTEX_ROBUST)) != 0) {
		errno = rc;
		log_error("cache: a robust process-shared mutex: %m");
		pthread_mutexattr_destroy(&attr);
		goto fail;
	}
	for (k = 0; k < c->nstripes; k++)
		if ((rc = pthread_mutex_init(&c->stripes[k].lock,
		    &attr)) != 0) {
			errno = rc;
			log_error("cache: pthread_mutex_init: %m");
			pthread_mutexattr_destroy(&attr);
			goto fail;
		}
	pthread_mutexattr_destroy(&attr);
	return c;
fail:
	munmap(c, l.bytes);
	return NULL;
}

void
cache_destroy(struct cache *c)
{
	if (c != NULL)
		munmap(c, c->bytes);
}

void
cache_enable(struct cache *c)
{
	atomic_store(&c->enabled, true);
}

void
cache_disable(struct cache *c)
{
	atomic_store(&c->enabled, false);
}

void
cache_heartbeat(struct cache *c, double now)
{
	uint64_t bits;

	memcpy(&bits, &now, sizeof(bits));
	atomic_store_explicit(&c->heartbeat, bits, memory_order_release);
}

bool
cache_usable(const struct cache *c, double now)
{
	uint64_t bits;
	double beat;

	if (!atomic_load_explicit(&c->enabled, memory_order_acquire))
		return false;
	bits = atomic_load_explicit(&c->heartbeat, memory_order_acquire);
	memcpy(&beat, &bits, sizeof(beat));
	return now - beat <= CACHE_HEARTBEAT_MAX;
}

void
cache_flush(struct cache *c)
{
	atomic_fetch_add(&c->gen, 1);
	atomic_fetch_add_explicit(&c->flushes, 1, memory_order_relaxed);
}

bool
cache_lookup(struct cache *c, const uint8_t digest[TOKEN_DIGEST_LEN],
    double now, double max_age, struct cache_entry *out)
{
	size_t set = cache_set_of(c, digest), k = set % c->nstripes, way;
	struct cache_stripe *st = &c->stripes[k];
	struct cache_slot *slot;
	bool hit = false;

	if (!cache_usable(c, now) || !cache_lock(c, k)) {
		atomic_fetch_add_explicit(&c->misses, 1, memory_order_relaxed);
		return false;
	}
	way = cache_find(c, set, digest, atomic_load(&c->gen));
	if (way < CACHE_WAYS) {
		slot = &c->slots[set * CACHE_WAYS + way];
		if (now - slot->stored_at < max_age) {
			*out = slot->e;
			slot->used = ++st->tick;
			hit = true;
		} else
			cache_slot_clear(c, set, way);	/* a free way now */
	}
	cache_count(hit ? &st->hits : &st->misses);
	cache_unlock(c, k);
	return hit;
}

void
cache_ticket(struct cache *c, const uint8_t digest[TOKEN_DIGEST_LEN],
    struct cache_ticket *t)
{
	t->gen = atomic_load(&c->gen);
	t->seq = atomic_load(&c->seqs[cache_set_of(c, digest)]);
	t->user_seq = atomic_load(&c->user_seq);
}

/* The way an insert into set takes (the lock held); counts an eviction. */
static size_t
cache_way_for(struct cache *c, struct cache_stripe *st, size_t set,
    const uint8_t digest[TOKEN_DIGEST_LEN], uint64_t gen)
{
	const struct cache_slot *slot = &c->slots[set * CACHE_WAYS];
	size_t way, lru = 0;

	if ((way = cache_find(c, set, digest, gen)) < CACHE_WAYS)
		return way;
	for (way = 0; way < CACHE_WAYS; way++) {
		if (slot[way].gen != gen)
			return way;
		if (slot[way].used < slot[lru].used)
			lru = way;
	}
	cache_count(&st->evictions);
	return lru;
}

void
cache_insert(struct cache *c, const struct cache_ticket *t,
    const struct cache_entry *e, double now)
{
	size_t set = cache_set_of(c, e->digest), k = set % c->nstripes, way;
	struct cache_stripe *st = &c->stripes[k];
	struct cache_slot *slot;

	if (!cache_usable(c, now) || !cache_lock(c, k)) {
		atomic_fetch_add_explicit(&c->dropped, 1, memory_order_relaxed);
		return;
	}
	if (t->gen != atomic_load(&c->gen) ||
	    t->seq != atomic_load(&c->seqs[set]) ||
	    t->user_seq != atomic_load(&c->user_seq)) {
		cache_count(&st->dropped);
		cache_unlock(c, k);
		return;
	}
	way = cache_way_for(c, st, set, e->digest, t->gen);
	slot = &c->slots[set * CACHE_WAYS + way];
	slot->e = *e;
	/* A caller's unterminated string must not make a lookup overread. */
	slot->e.session_id[sizeof(slot->e.session_id) - 1] = '\0';
	slot->e.username[sizeof(slot->e.username) - 1] = '\0';
	slot->stored_at = now;
	slot->used = ++st->tick;
	slot->gen = t->gen;
	c->tags[set].tag[way] = cache_load64(e->digest);
	cache_count(&st->inserts);
	cache_unlock(c, k);
}

bool
cache_claim_touch(struct cache *c, const uint8_t digest[TOKEN_DIGEST_LEN],
    long long db_now, long long interval)
{
	size_t set = cache_set_of(c, digest), k = set % c->nstripes, way;
	struct cache_slot *slot;
	bool claimed = false;

	if (!cache_lock(c, k))
		return false;
	way = cache_find(c, set, digest, atomic_load(&c->gen));
	if (way < CACHE_WAYS) {
		slot = &c->slots[set * CACHE_WAYS + way];
		if (db_now - slot->e.touched_at >= interval) {
			slot->e.touched_at = db_now;
			claimed = true;
		}
	}
	cache_unlock(c, k);
	return claimed;
}

void
cache_invalidate_token(struct cache *c,
    const uint8_t digest[TOKEN_DIGEST_LEN])
{
	size_t set = cache_set_of(c, digest), k = set % c->nstripes, way;

	atomic_fetch_add_explicit(&c->invalidations, 1, memory_order_relaxed);
	if (!cache_lock(c, k))
		return;
	atomic_fetch_add(&c->seqs[set], 1);
	/* Any generation: an old one is stale already, and this is cheap. */
	for (way = 0; way < CACHE_WAYS; way++)
		if (memcmp(c->slots[set * CACHE_WAYS + way].e.digest, digest,
		    TOKEN_DIGEST_LEN) == 0)
			cache_slot_clear(c, set, way);
	cache_unlock(c, k);
}

/* Does slot match what an invalidation by session or user names? */
typedef bool cache_match_fn(const struct cache_slot *, const void *);

static bool
cache_match_session(const struct cache_slot *slot, const void *arg)
{
	return strcmp(slot->e.session_id, arg) == 0;
}

static bool
cache_match_user(const struct cache_slot *slot, const void *arg)
{
	return slot->e.user_id == *(const int64_t *)arg;
}

/* Bump user_seq, then clear every slot that matches (see the top). */
static void
cache_invalidate_walk(struct cache *c, cache_match_fn *match, const void *arg)
{
	size_t k, set, way;
	struct cache_slot *slot;

	atomic_fetch_add_explicit(&c->invalidations, 1, memory_order_relaxed);
	atomic_fetch_add(&c->user_seq, 1);
	for (k = 0; k < c->nstripes; k++) {
		if (!cache_lock(c, k))
			continue;
		for (set = k; set < c->nsets; set += c->nstripes)
			for (way = 0; way < CACHE_WAYS; way++) {
				slot = &c->slots[set * CACHE_WAYS + way];
				if (slot->gen != 0 && match(slot, arg))
					cache_slot_clear(c, set, way);
			}
		cache_unlock(c, k);
	}
}

void
cache_invalidate_session(struct cache *c, const char *session_id)
{
	cache_invalidate_walk(c, cache_match_session, session_id);
}

void
cache_invalidate_user(struct cache *c, int64_t user_id)
{
	cache_invalidate_walk(c, cache_match_user, &user_id);
}

/*
 * The counters, and the entries of the current generation (a walk under
 * each stripe's lock: for the health report, not for the hot path).
 */
void
cache_stats(const struct cache *cc, struct cache_stats *out)
{
	/* The mapping is writable: the locks are taken through it. */
	struct cache *c = (struct cache *)cc;
	const struct cache_stripe *st;
	uint64_t gen = atomic_load(&c->gen);
	size_t k, set, way;

	memset(out, 0, sizeof(*out));
	out->misses = atomic_load(&c->misses);
	out->dropped_inserts = atomic_load(&c->dropped);
	out->invalidations = atomic_load(&c->invalidations);
	out->flushes = atomic_load(&c->flushes);
	out->enabled = atomic_load(&c->enabled);
	out->entries = c->nsets * CACHE_WAYS;
	out->bytes = c->bytes;
	for (k = 0; k < c->nstripes; k++) {
		st = &c->stripes[k];
		out->hits += atomic_load_explicit(&st->hits,
		    memory_order_relaxed);
		out->misses += atomic_load_explicit(&st->misses,
		    memory_order_relaxed);
		out->inserts += atomic_load_explicit(&st->inserts,
		    memory_order_relaxed);
		out->dropped_inserts += atomic_load_explicit(&st->dropped,
		    memory_order_relaxed);
		out->evictions += atomic_load_explicit(&st->evictions,
		    memory_order_relaxed);
		if (!cache_lock(c, k))
			continue;
		for (set = k; set < c->nsets; set += c->nstripes)
			for (way = 0; way < CACHE_WAYS; way++)
				if (c->slots[set * CACHE_WAYS + way].gen == gen)
					out->used++;
		cache_unlock(c, k);
	}
	/* Last: a recovery above counts. */
	out->lock_recoveries = atomic_load(&c->lock_recoveries);
}

/*
 * cache.h -- the validate cache: what a validate answers for a token,
 * shared by the workers of one mdauthd and invalidated by PostgreSQL.
 *
 * The master creates it before it forks (shared anonymous memory, fixed
 * size: cache_bytes(entries)); workers and the listener inherit it, so it
 * survives worker restarts and reloads.  Every function is safe to call
 * from any of these processes at once, and a process killed at any point
 * (kill -9 inside any function) neither corrupts the cache nor leaves it
 * locked: the locks are robust process-shared mutexes, and the process
 * that finds a lock whose owner died throws away what that lock guards
 * before it goes on.
 *
 * Validity.  An entry answers only while all of these hold:
 *   - the cache is enabled (cache_enable: the listener is connected and
 *     LISTENing; cache_disable: it is not) and the listener's heartbeat is
 *     younger than CACHE_HEARTBEAT_MAX seconds;
 *   - it was stored under the current flush generation (cache_flush makes
 *     every entry stale at once, in O(1));
 *   - it is younger than the max_age given to cache_lookup (monotonic
 *     clock, system-wide);
 *   - it was not invalidated (by token, session id or user id).
 * An insert is dropped when anything that could concern it was invalidated
 * or flushed since its ticket was taken (before the database was asked),
 * so an answer read before a revocation's commit can never be stored
 * after that revocation's invalidation.
 */
#ifndef MDAUTH_CACHE_H
#define MDAUTH_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"		/* USERNAME_MAX (via text.h) */
#include "token.h"	/* TOKEN_DIGEST_LEN */

#define CACHE_HEARTBEAT_MAX	3.0	/* seconds */
#define CACHE_ENTRIES_MAX	(1 << 24)	/* cache_create's bound on n */

struct cache;

/* What a validate answers, as the database last said it. */
struct cache_entry {
	uint8_t		 digest[TOKEN_DIGEST_LEN];	/* the key */
	char		 session_id[37];
	int64_t		 user_id;
	char		 username[USERNAME_MAX + 1];
	long long	 expires_at;		/* idle expiry, db clock, Unix s */
	long long	 absolute_expires_at;	/* db clock, Unix s */
	long long	 touched_at;		/* last recorded use, db clock, ms */
};

/* Taken before the database is asked; given back to cache_insert. */
struct cache_ticket {
	uint64_t	 gen;		/* flush generation */
	uint64_t	 seq;		/* invalidations of the digest's set */
	uint64_t	 user_seq;	/* invalidations by session id or user */
};

struct cache_stats {
	uint64_t	 hits, misses, inserts, dropped_inserts, evictions;
	uint64_t	 invalidations, flushes, lock_recoveries;
	bool		 enabled;
	size_t		 entries, bytes;	/* capacity, mapped size */
	size_t		 used;		/* entries of the current generation */
};

/*
 * Bytes of shared memory for n entries (what cache_create maps): about
 * 273 per entry and 8.4 KiB more (cache.c says how); 0 when n is 0 or
 * above CACHE_ENTRIES_MAX.
 */
size_t	cache_bytes(size_t n);

/*
 * Master, before forking: map a cache of at least n entries (rounded as
 * the implementation needs; cache_stats says the real figure), disabled.
 * NULL when it cannot (logged with the reason).
 */
struct cache *cache_create(size_t n);
void	cache_destroy(struct cache *c);

/* Listener: enabled after (re)connecting, LISTEN and cache_flush. */
void	cache_enable(struct cache *c);
/* Listener on losing its connection; master when the listener died. */
void	cache_disable(struct cache *c);
/* Listener, at least once a second while enabled (monotonic seconds). */
void	cache_heartbeat(struct cache *c, double now);
/* Enabled with a fresh heartbeat at monotonic time now. */
bool	cache_usable(const struct cache *c, double now);

/* Every entry stale at once; in-flight inserts dropped. */
void	cache_flush(struct cache *c);

/*
 * The entry of digest into *out when one is valid (see the top), stored
 * less than max_age seconds before now (monotonic).  Returns true on a
 * hit.  Counts a hit or a miss.  Never blocks longer than a copy.
 */
bool	cache_lookup(struct cache *c, const uint8_t digest[TOKEN_DIGEST_LEN],
	    double now, double max_age, struct cache_entry *out);

/* Before asking the database about digest. */
void	cache_ticket(struct cache *c, const uint8_t digest[TOKEN_DIGEST_LEN],
	    struct cache_ticket *t);

/*
 * Store e (stamped with now, monotonic) unless the cache is not usable or
 * something was invalidated or flushed since t: then it is dropped and
 * counted.  Replaces an entry of the same digest; else takes a free way
 * of the digest's set, else evicts that set's least recently used entry.
 */
void	cache_insert(struct cache *c, const struct cache_ticket *t,
	    const struct cache_entry *e, double now);

/*
 * The touch of a cached session is due (db_now - touched_at >= interval):
 * of the workers that find it due at once, exactly one gets true and
 * must ask the database (which records the use); the entry's touched_at
 * becomes db_now, so that the others go on answering from the cache.
 * False when the entry is gone or another worker claimed it.  db_now,
 * interval and touched_at are in one unit (the daemon's: milliseconds).
 */
bool	cache_claim_touch(struct cache *c,
	    const uint8_t digest[TOKEN_DIGEST_LEN], long long db_now,
	    long long interval);

/* Drop what might be wrong now. Each bumps the counters tickets read. */
void	cache_invalidate_token(struct cache *c,
	    const uint8_t digest[TOKEN_DIGEST_LEN]);
void	cache_invalidate_session(struct cache *c, const char *session_id);
void	cache_invalidate_user(struct cache *c, int64_t user_id);

void	cache_stats(const struct cache *c, struct cache_stats *out);

#endif

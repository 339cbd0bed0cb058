/*
 * listener.c -- the validate cache's listener: one process, supervised
 * by the master, that holds a LISTEN connection to the primary and
 * applies every notification to the shared cache.
 *
 *	listener_main		the process: connect, LISTEN, flush, apply
 *
 * The triggers of sql/011_cache_notify.sql notify the channel
 * mdauth_cache in the transaction of every change that could make a kept
 * answer wrong (a revocation, an earlier expiry, a rotated token, a
 * deleted or disabled user...), whoever makes it: the daemon, mdauthctl,
 * an operator's raw SQL.  PostgreSQL delivers a notification only to
 * sessions that were listening when its transaction committed, so the
 * cache is trusted only while this process is connected and listening:
 *
 *  1. it connects and LISTENs, then flushes the whole cache (what was
 *     kept before may have missed a notification), then enables it;
 *  2. it applies each notification as it comes, and makes a round trip
 *     every LISTENER_PING seconds; each success renews the heartbeat the
 *     workers check (cache_usable), so a listener that hangs, or whose
 *     connection died without a word, stops the cache within
 *     CACHE_HEARTBEAT_MAX seconds;
 *  3. the moment the connection fails it disables the cache (every
 *     validate goes to PostgreSQL again), and starts over at 1.
 * When it dies, the master disables the cache and starts another.
 *
 * Its process name (comm) is mdauthd-cache.  It ends with its master:
 * the kernel sends it SIGTERM when the master dies (PR_SET_PDEATHSIG),
 * and it checks its parent once a second too; a listener without its
 * daemon would hold a connection for nobody.  It takes SIGTERM with the
 * default action: it holds nothing that needs a tidy end (the cache is
 * disabled by the master when it reaps it).
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "db.h"
#include "listener.h"
#include "log.h"

#define LISTENER_CHANNEL	"mdauth_cache"
#define LISTENER_PING		1.0	/* seconds between round trips */
#define LISTENER_RETRY		1.0	/* seconds between connect attempts */

struct listener {
	struct cache	*cache;
	pid_t		 master;
	uint64_t	 applied;	/* notifications applied */
	uint64_t	 unknown;	/* payloads not understood: flushed */
};

static double
listener_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One hex digit's value, or -1. */
static int
listener_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * Apply one payload: "t:<64 hex>" a token, "u:<id>" a user, "flush" all.
 * Anything else (a newer schema's payload, an operator's own NOTIFY on
 * the channel) flushes: never a stale answer for a message not understood.
 */
static void
listener_apply(void *arg, const char *payload)
{
	struct listener *l = arg;
	uint8_t digest[TOKEN_DIGEST_LEN];
	char *end;
	long long id;
	size_t i;

	l->applied++;
	if (strncmp(payload, "t:", 2) == 0 &&
	    strlen(payload + 2) == 2 * TOKEN_DIGEST_LEN) {
		for (i = 0; i < TOKEN_DIGEST_LEN; i++) {
			int hi = listener_hex(payload[2 + 2 * i]);
			int lo = listener_hex(payload[3 + 2 * i]);

			if (hi < 0 || lo < 0)
				break;
			digest[i] = (uint8_t)(hi << 4 | lo);
		}
		if (i == TOKEN_DIGEST_LEN) {
			cache_invalidate_token(l->cache, digest);
			return;
		}
	} else if (strncmp(payload, "u:", 2) == 0 && payload[2] >= '0' &&
	    payload[2] <= '9') {
		errno = 0;
		id = strtoll(payload + 2, &end, 10);
		if (errno == 0 && *end == '\0') {
			cache_invalidate_user(l->cache, (int64_t)id);
			return;
		}
	} else if (strcmp(payload, "flush") == 0) {
		cache_flush(l->cache);
		return;
	}
	if (l->unknown++ == 0)
		log_warn("cache: a notification on %s not understood (%.16s"
		    "...); the cache was flushed", LISTENER_CHANNEL, payload);
	cache_flush(l->cache);
}

/* The master is gone: nothing to listen for. */
static void
listener_orphaned(const struct listener *l)
{
	if (getppid() != l->master)
		_exit(0);
}

/* Connected and listening: apply notifications until the connection fails. */
static void
listener_serve(struct listener *l, struct db *db)
{
	double next_ping = listener_clock() + LISTENER_PING, now;
	struct pollfd pfd;
	int ms;

	for (;;) {
		now = listener_clock();
		if (now >= next_ping) {
			listener_orphaned(l);
			if (!db_listen_ping(db, listener_apply, l))
				return;
			now = listener_clock();
			cache_heartbeat(l->cache, now);
			next_ping = now + LISTENER_PING;
		}
		pfd.fd = db_listen_fd(db);
		pfd.events = POLLIN;
		pfd.revents = 0;
		ms = (int)((next_ping - now) * 1000) + 1;
		if (poll(&pfd, 1, ms) == -1) {
			if (errno == EINTR)
				continue;
			log_error("cache: listener: poll: %m");
			return;
		}
		if (pfd.revents != 0 && !db_listen_read(db, listener_apply, l))
			return;
	}
}

void
listener_main(const struct conf *conf, struct cache *cache, pid_t master)
{
	struct listener l = { .cache = cache, .master = master };
	const char *where = conf->notify_database != NULL ?
	    conf->notify_database : conf->database;
	sigset_t all;
	struct db *db;
	bool lost = false;

	/* The master's blocked signals: SIGTERM ends us, SIGHUP is its own. */
	/* ps and pgrep tell it from the workers by this name. */
	(void)prctl(PR_SET_NAME, "mdauthd-cache", 0, 0, 0);
	(void)prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
	listener_orphaned(&l);		/* it may have died before the prctl */
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);

	cache_disable(cache);
	if ((db = db_new(where, conf->db_timeout)) == NULL) {
		log_error("cache: listener: out of memory");
		_exit(1);
	}
	for (;;) {
		listener_orphaned(&l);
		if (!db_listen(db, LISTENER_CHANNEL)) {
			struct timespec ts = { 0, (long)(LISTENER_RETRY * 1e9) %
			    1000000000L };

			ts.tv_sec = (time_t)LISTENER_RETRY;
			nanosleep(&ts, NULL);
			continue;
		}
		/* Listening: what the cache held may have missed a change. */
		cache_flush(cache);
		cache_heartbeat(cache, listener_clock());
		cache_enable(cache);
		log_info("cache: listening for changes on %s; the cache is %s",
		    LISTENER_CHANNEL, lost ? "back in use (flushed)" :
		    "in use");
		listener_serve(&l, db);
		cache_disable(cache);
		lost = true;
		log_warn("cache: the listener lost its connection; every "
		    "validate asks the database until it is back");
	}
}

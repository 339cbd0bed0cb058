/*
 * db.h -- the database layer of the daemon: one libpq connection per
 * worker, opened after fork, with prepared statements.  The daemon's
 * statements are in db.c, each a call of a function of the schema
 * (sql/009_session_functions.sql); the admin command's are in db_admin.c.
 */
#ifndef MDAUTH_DB_H
#define MDAUTH_DB_H

#include <stdbool.h>
#include <stdint.h>

#include "text.h"
#include "token.h"

enum db_status {
	DB_OK,
	DB_NOT_FOUND,
	DB_UNAVAILABLE,		/* cannot reach PostgreSQL: 503 */
	DB_ERROR,		/* the statement failed: a bug, 500 */
	DB_REFUSED,		/* a function of the schema said no (SQLSTATE MDA01) */
};

enum session_state {
	SESSION_LIVE,
	SESSION_EXPIRED,
	SESSION_REVOKED,	/* revoked, or its user disabled */
	SESSION_REUSED,		/* a token a refresh replaced: revoked just now */
	SESSION_STATE__MAX
};

extern const char *const session_state_names[SESSION_STATE__MAX];

struct db;

struct db_user {
	int64_t		 id;
	char		 username[USERNAME_MAX + 1];
	char		*password_hash;		/* malloc'd */
	bool		 disabled;
};

/* A session as seen through its token. */
struct db_session {
	char		 id[37];		/* uuid text */
	int64_t		 user_id;
	char		 username[USERNAME_MAX + 1];
	enum session_state state;
	long long	 expires_at;		/* Unix time, after any renewal */
	long long	 absolute_expires_at;	/* db_session_lookup only */
	long long	 touched_at;		/* db_session_lookup: last use, ms */
	long long	 now;			/* the database's clock */
};

/* Where a request came from, recorded with sessions and events. */
struct db_client {
	const char	*ip;
	const char	*user_agent;
};

struct db_session_params {
	long		 ttl;
	long		 max_lifetime;
	long		 touch_interval;
	bool		 sliding;
	int		 cap;			/* max_sessions_per_user */
	const char	*policy;		/* "evict_oldest" or "reject" */
};

/* One row of a user's device list. */
struct db_session_row {
	char		 id[37];
	char		*device;		/* NULL when none */
	char		*ip;
	char		*user_agent;
	long long	 created_at;
	long long	 last_used_at;
	long long	 expires_at;
	bool		 current;
};

struct db_session_list {
	struct db_session_row *rows;
	size_t		 n;
};

/* Set up (but do not connect) a handle.  Returns NULL when out of memory. */
struct db	*db_new(const char *conninfo, int timeout);
void		 db_free(struct db *db);

/* Is the connection up?  Reconnects (and re-prepares) if needed. */
enum db_status	 db_ping(struct db *db);

/* Why the last connect (or prepare) failed, on one line; "" if none did. */
const char	*db_connect_error(const struct db *db);

/*
 * The server's clock minus ours, in seconds, as measured when the
 * connection was made (0 before the first).
 */
double		 db_clock_offset(const struct db *db);

/*
 * The validate cache's listener connection (listener.c), whose
 * application_name is "mdauthd listener".  db_listen connects when
 * needed and LISTENs on channel: 1 when listening, 0
 * (logged, disconnected) when not; a caller that was not listening must
 * take every notification of that time as lost.  db_listen_fd is the
 * socket to wait on (-1: none).  db_listen_read takes what the server
 * sent and gives each notification's payload to fn; db_listen_ping makes
 * a round trip within db_timeout, notifications that came meanwhile to
 * fn.  Both return 1 while the connection is up, 0 when it broke (then
 * disconnected).
 */
int		 db_listen(struct db *db, const char *channel);
int		 db_listen_fd(const struct db *db);
int		 db_listen_read(struct db *db,
		    void (*fn)(void *, const char *), void *arg);
int		 db_listen_ping(struct db *db,
		    void (*fn)(void *, const char *), void *arg);

/* Login throttling (login_max_failures, ...): sql/006_throttle_keys.sql. */
struct db_throttle_params {
	long		 window;
	int		 user_max;
	int		 ip_max;
	long		 lockout;
	long		 max_delay;
	int		 prefix6;	/* IPv6 addresses are keyed by this prefix */
};

/*
 * A login has two statements (sql/012_login_commit.sql): db_login_begin
 * before the password hash, then db_login_commit after a match or
 * db_login_failed after anything else; whatever a login writes commits
 * once.
 */

/*
 * Before the hash: is a login for this name (as typed) from this address
 * throttled, and if not, its user (looked up case-insensitively).  addr
 * is the address's throttling key (text_addr_key).  *wait is the seconds
 * until it may run (0: now); a throttled attempt is counted on the
 * throttle rows that refused it, and the first one of each lock writes a
 * login_throttled event.  DB_OK with *wait > 0: throttled (no user);
 * DB_OK: the user (free with db_user_free); DB_NOT_FOUND: no such user.
 */
enum db_status	 db_login_begin(struct db *db, const char *username,
		    const char *addr, const struct db_client *client,
		    long *wait, struct db_user *user);
void		 db_user_free(struct db_user *user);

/*
 * After a match, in one transaction: a session of user for a token
 * digest under the per-user cap (fills id and expiry), new_hash stored in
 * place of user->password_hash if that is still the stored one (new_hash
 * NULL: no re-hash; *rehashed says whether it was stored), and, when a
 * session opened, the name's throttle counts from addr cleared; *evicted
 * says whether the cap ended older sessions of the user to make room.
 * DB_NOT_FOUND: the cap is reached and the policy is reject.  DB_REFUSED:
 * the user was disabled (or deleted) since db_login_begin; nothing was
 * written.
 */
enum db_status	 db_login_commit(struct db *db, const struct db_user *user,
		    const char *username, const char *addr,
		    const uint8_t digest[TOKEN_DIGEST_LEN], const char *device,
		    const struct db_client *client,
		    const struct db_session_params *params,
		    const char *new_hash, struct db_session *out,
		    bool *rehashed, bool *evicted);

/*
 * After anything but a match: record a failed login (user_id 0 for an
 * unknown user) and count it against the name from this address, the
 * address, and the name.
 */
enum db_status	 db_login_failed(struct db *db, int64_t user_id,
		    const char *username, const char *addr,
		    const struct db_client *client, const char *reason,
		    const struct db_throttle_params *throttle);

/*
 * Find the session of a token digest and, when it is live and its last
 * use is older than touch_interval, record the use and slide its expiry
 * (never past its absolute limit) in the same statement.
 *
 * A digest that is no session's current token but the one its last
 * refresh replaced revokes that session (a token_reuse event with the
 * client) in the same statement: the session comes back with state
 * SESSION_REUSED (id and user_id only), or SESSION_REVOKED when it was
 * revoked already.  The same holds for db_session_revoke and
 * db_session_refresh.
 */
enum db_status	 db_session_lookup(struct db *db,
		    const uint8_t digest[TOKEN_DIGEST_LEN],
		    const struct db_session_params *params,
		    const struct db_client *client, struct db_session *out);

/*
 * Revoke the session of a token digest (logout).  DB_OK: a session was
 * revoked, its id, user_id and state (SESSION_LIVE, or SESSION_REUSED for
 * a replaced token) in *out; DB_NOT_FOUND if none was live.
 */
enum db_status	 db_session_revoke(struct db *db,
		    const uint8_t digest[TOKEN_DIGEST_LEN], const char *reason,
		    const struct db_client *client, struct db_session *out);

/*
 * Give a live session a new token digest, in one statement that only one
 * of two concurrent refreshes can win.  DB_OK with state SESSION_LIVE:
 * refreshed; with SESSION_REUSED or SESSION_REVOKED: the old digest was a
 * token replaced before (see db_session_lookup), nothing refreshed.
 * DB_NOT_FOUND: the old token is not (or no longer) live.
 */
enum db_status	 db_session_refresh(struct db *db,
		    const uint8_t old_digest[TOKEN_DIGEST_LEN],
		    const uint8_t new_digest[TOKEN_DIGEST_LEN],
		    const struct db_client *client,
		    const struct db_session_params *params,
		    struct db_session *out);

/* The user's live sessions, most recently used first.  Free with db_session_list_free. */
enum db_status	 db_session_list(struct db *db, int64_t user_id,
		    const char *current_id, struct db_session_list *out);
void		 db_session_list_free(struct db_session_list *list);

/* Revoke one live session of a user by id.  DB_NOT_FOUND if it is not one. */
enum db_status	 db_session_revoke_id(struct db *db, int64_t user_id,
		    const char *session_id, const struct db_client *client);

/*
 * Revoke all live sessions of a user, or all but the current one when
 * keep_current is set; *count is how many.
 */
enum db_status	 db_session_revoke_all(struct db *db, int64_t user_id,
		    const char *current_id, bool keep_current,
		    const struct db_client *client, long long *count);

#endif

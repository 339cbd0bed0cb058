/*
 * db.c -- the daemon's database layer.
 *
 *	db_new			a handle, not yet connected
 *	db_free			close and free
 *	db_ping			readiness
 *	db_connect_error	why the last connect failed
 *	db_login_begin		before the hash: throttled?  its user
 *	db_user_free		free the user's hash
 *	db_login_commit		after a match: the session, a re-hash, the
 *				throttle's reset, in one transaction
 *	db_login_failed		after a failure: record it, count it
 *	db_session_lookup	a token's session, renewed when due
 *	db_session_revoke	logout
 *	db_session_refresh	rotate a session's token
 *	db_session_list		a user's live sessions (devices)
 *	db_session_list_free	free that list
 *	db_session_revoke_id	revoke one of a user's sessions
 *	db_session_revoke_all	logout everywhere
 *
 * Every statement is prepared once per connection and run as a prepared
 * statement, so values never become SQL text.  A connection that breaks
 * (PostgreSQL restarted, network gone) is reconnected and the statement
 * retried once; while PostgreSQL is unreachable, requests get
 * DB_UNAVAILABLE (see DB_RETRY_INTERVAL for how often we try again).
 * Statements are sent without blocking and waited for with poll(2) up to
 * db_timeout: a server that hangs (stopped, or a network that drops
 * packets) costs a request db_timeout at most, never a hung worker.
 * All times come from the database's clock, so an operator's UPDATE with
 * now() means the same thing as ours.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "log.h"

const char *const session_state_names[SESSION_STATE__MAX] = {
	"live", "expired", "revoked", "reused",
};

enum db_stmt {
	STMT_PING,
	STMT_LOGIN_BEGIN,
	STMT_LOGIN_COMMIT,
	STMT_LOGIN_FAILED,
	STMT_SESSION_LOOKUP,
	STMT_SESSION_REVOKE,
	STMT_SESSION_REFRESH,
	STMT_SESSION_LIST,
	STMT_SESSION_REVOKE_ID,
	STMT_SESSION_REVOKE_ALL,
	STMT__MAX
};

struct db_stmt_def {
	const char	*name;
	const char	*sql;
};

/*
 * Every statement calls a function of the schema (sql/009_session_functions.sql,
 * sql/006_throttle_keys.sql, sql/012_login_commit.sql): the SQL that reads
 * or changes a user, a session or the throttle is there, in one place for
 * the daemon, mdauthctl and operators alike, and the daemon's role holds
 * no table privilege.
 * The functions give times the daemon needs as Unix seconds, with the
 * database's now.
 */
static const struct db_stmt_def db_stmts[STMT__MAX] = {
	[STMT_PING] = { "ping", "SELECT 1" },

	/*
	 * $1 name, $2 address key, $3 ip, $4 agent.  wait > 0: throttled;
	 * else the user, or a NULL id for an unknown name.
	 */
	[STMT_LOGIN_BEGIN] = { "login_begin",
	    "SELECT wait, id, username, password_hash, disabled"
	    " FROM mdauth.login_begin($1, $2, $3, $4)" },

	/*
	 * $1 user, $2 name, $3 address key, $4 digest, $5 device, $6 ip, $7
	 * agent, $8 idle lifetime, $9 absolute lifetime (seconds), $10 cap,
	 * $11 policy, $12 the hash verified, $13 its replacement or NULL.  A
	 * NULL session_id: the cap is reached and the policy is reject.
	 * session_open, inside, locks the user's row until the commit, so
	 * parallel logins of one user cannot exceed the cap.
	 */
	[STMT_LOGIN_COMMIT] = { "login_commit",
	    "SELECT session_id, expires_at, now, rehashed, evicted"
	    " FROM mdauth.login_commit($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,"
	    " $11, $12, $13)" },

	[STMT_LOGIN_FAILED] = { "login_failed",
	    "SELECT mdauth.login_failed($1, $2, $3, $4, $5, $6, $7, $8, $9,"
	    " $10, $11)" },

	/*
	 * $1 digest, $2 touch_interval, $3 sliding, $4 idle lifetime, $5 ip,
	 * $6 agent.  state: 0 live, 1 expired, 2 revoked (or user disabled),
	 * 3 a replaced token, whose session the call revoked.  For a live
	 * one, also its absolute expiry and last use.  Why its few
	 * statements may each take their own snapshot: see
	 * sql/010_session_touch.sql.
	 */
	[STMT_SESSION_LOOKUP] = { "session_lookup",
	    "SELECT session_id, user_id, username, state, expires_at,"
	    " absolute_expires_at, touched_at, now"
	    " FROM mdauth.session_touch($1, $2, $3, $4, $5, $6)" },

	/* $1 digest, $2 reason (and event), $3 ip, $4 agent; state as above. */
	[STMT_SESSION_REVOKE] = { "session_revoke",
	    "SELECT session_id, user_id, state"
	    " FROM mdauth.session_logout($1, $2, $3, $4)" },

	/*
	 * $1 old digest, $2 new digest, $3 idle lifetime, $4 ip, $5 agent.
	 * state 0: refreshed; 2, 3: the old digest was a replaced token.
	 */
	[STMT_SESSION_REFRESH] = { "session_refresh",
	    "SELECT session_id, user_id, expires_at, now, state"
	    " FROM mdauth.session_refresh($1, $2, $3, $4, $5)" },

	/* $1 user, $2 the current session's id. */
	[STMT_SESSION_LIST] = { "session_list",
	    "SELECT session_id, device, ip, user_agent, created_at,"
	    " last_used_at, expires_at, current"
	    " FROM mdauth.user_sessions($1, $2)" },

	/* $1 session id, $2 its user (so nobody ends another's session). */
	[STMT_SESSION_REVOKE_ID] = { "session_revoke_id",
	    "SELECT session_id FROM mdauth.session_revoke($2, $1, $3, $4)" },

	/* $1 user, $2 keep the current session?, $3 its id. One event, with the count. */
	[STMT_SESSION_REVOKE_ALL] = { "session_revoke_all",
	    "SELECT mdauth.session_logout_all($1, $2, $3, $4, $5)" },
};

struct db {
	PGconn		*conn;
	char		*conninfo;
	int		 timeout;
	double		 next_attempt;	/* monotonic seconds */
	double		 last_logged;	/* last connect failure logged */
	long		 failures;	/* connect failures since the last success */
	long		 unlogged;	/* of those, not logged */
	char		 connect_error[1024];	/* the last failure (db_connect_error) */
	double		 clock_offset;	/* the server's clock minus ours, s */
	const char	*app_name;	/* application_name, unless conninfo's */
	const char	*who;		/* "db", or "cache listener": its log lines */
	bool		 listen_only;	/* the listener's: no statements prepared */
};

/*
 * In an outage every request of every worker tries to connect; each
 * worker logs a failed connect at most this often (the rest at debug),
 * and says how many failures there were once it is back.
 */
#define DB_LOG_INTERVAL		10.0	/* seconds */

/*
 * After a failure that cost time (a connect or statement that ran into
 * db_timeout), the next attempt waits this long, so that requests during
 * such an outage get 503 at once instead of each waiting db_timeout.  A
 * failure that cost nothing (connection refused: PostgreSQL is down) is
 * retried on the very next request, so that every worker is back as soon
 * as PostgreSQL is.
 */
#define DB_RETRY_INTERVAL	1.0
#define DB_SLOW_FAILURE		0.5	/* seconds */

/* The SQLSTATE of a refusal by design (sql/007_rotation.sql). */
#define DB_SQLSTATE_REFUSED	"MDA01"

static double
db_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

struct db *
db_new(const char *conninfo, int timeout)
{
	struct db *db;

	if ((db = calloc(1, sizeof(*db))) == NULL)
		return NULL;
	if ((db->conninfo = strdup(conninfo)) == NULL) {
		free(db);
		return NULL;
	}
	db->timeout = timeout;
	db->app_name = "mdauthd";
	db->who = "db";
	return db;
}

static void
db_disconnect(struct db *db)
{
	if (db->conn != NULL) {
		PQfinish(db->conn);
		db->conn = NULL;
	}
}

void
db_free(struct db *db)
{
	if (db == NULL)
		return;
	db_disconnect(db);
	explicit_bzero(db->conninfo, strlen(db->conninfo));
	free(db->conninfo);
	free(db);
}

/* libpq prints notices to stderr by default; send them to our log instead. */
static void
db_notice(void *arg, const char *message)
{
	(void)arg;
	log_debug("db: %.*s", (int)strcspn(message, "\n"), message);
}

/*
 * Connect, bound the statement time and prepare every statement.
 * Returns 1 on success, 0 (logged, disconnected) on failure.
 */
/*
 * Wait until the connection has a whole result to give, or the deadline
 * passes.  Returns 1 when PQgetResult will not block, 0 on timeout or a
 * broken connection.
 */
static int
db_wait(PGconn *conn, double deadline, bool *timed_out)
{
	struct pollfd pfd;
	int flushed, ms;

	for (;;) {
		if ((flushed = PQflush(conn)) == -1)
			return 0;
		if (flushed == 0 && !PQisBusy(conn))
			return 1;
		ms = (int)((deadline - db_clock()) * 1000);
		if (ms <= 0) {
			*timed_out = true;
			return 0;
		}
		pfd.fd = PQsocket(conn);
		pfd.events = POLLIN | (flushed == 1 ? POLLOUT : 0);
		pfd.revents = 0;
		if (poll(&pfd, 1, ms) == -1 && errno != EINTR)
			return 0;
		if ((pfd.revents & (POLLIN | POLLERR | POLLHUP)) != 0 &&
		    !PQconsumeInput(conn))
			return 0;
	}
}

/*
 * Collect the last result of what was sent, within the deadline.
 * Returns NULL on timeout (*timed_out) or when the connection broke.
 */
static PGresult *
db_collect(PGconn *conn, double deadline, bool *timed_out)
{
	PGresult *last = NULL, *res;

	for (;;) {
		if (!db_wait(conn, deadline, timed_out)) {
			PQclear(last);
			return NULL;
		}
		if ((res = PQgetResult(conn)) == NULL)
			return last;
		PQclear(last);
		last = res;
	}
}

/*
 * Send a prepared statement and collect its last result within
 * db_timeout.  Returns NULL when it could not be sent or did not finish:
 * the connection is then unusable and is dropped by the caller.
 */
static PGresult *
db_send(struct db *db, enum db_stmt stmt, int n, const char *const *values,
    const int *lengths, const int *formats, bool *timed_out)
{
	if (!PQsendQueryPrepared(db->conn, db_stmts[stmt].name, n, values,
	    lengths, formats, 0))
		return NULL;
	return db_collect(db->conn, db_clock() + db->timeout, timed_out);
}

/*
 * libpq's message on one line: with several hosts it has a line for each
 * (the stopped primary, then the standby that is read-only), and hints
 * on lines of their own.  Line breaks become "; ", other control
 * characters spaces.
 */
static const char *
db_message(const char *msg, char *buf, size_t size)
{
	size_t n = 0;

	for (; *msg != '\0' && n + 3 < size; msg++) {
		if (*msg == '\n') {
			while (msg[1] == '\t' || msg[1] == ' ')
				msg++;
			if (msg[1] != '\0') {
				buf[n++] = ';';
				buf[n++] = ' ';
			}
		} else
			buf[n++] = (unsigned char)*msg < 0x20 ? ' ' : *msg;
	}
	buf[n] = '\0';
	return buf;
}

/*
 * A failed connect (or prepare, its second half): logged, but not on every
 * request of an outage.  The message is printf-style; its libpq parts are
 * put on one line.
 */
static void	db_connect_failed(struct db *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static void
db_connect_failed(struct db *db, const char *fmt, ...)
{
	char raw[1024], buf[1024];
	double now = db_clock();
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	db_message(raw, buf, sizeof(buf));
	snprintf(db->connect_error, sizeof(db->connect_error), "%s", buf);
	db->failures++;
	if (db->failures > 1 && now - db->last_logged < DB_LOG_INTERVAL) {
		db->unlogged++;
		log_debug("%s: %s", db->who, buf);
		return;
	}
	db->last_logged = now;
	if (db->unlogged > 0)
		log_error("%s: %s (and %ld more failures since the last "
		    "message)", db->who, buf, db->unlogged);
	else
		log_error("%s: %s", db->who, buf);
	db->unlogged = 0;
}

static double
db_realtime(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Run one statement without parameters (not prepared: nothing of it
 * comes from a request) and collect its last result by the deadline.
 * Returns NULL, logged as a connect failure, when it fails.
 */
static PGresult *
db_simple(struct db *db, const char *sql, ExecStatusType want,
    double deadline)
{
	bool timed_out = false;
	PGresult *res;

	if (!PQsendQuery(db->conn, sql) ||
	    (res = db_collect(db->conn, deadline, &timed_out)) == NULL) {
		db_connect_failed(db, "%s: %s", sql, timed_out ?
		    "no answer within db_timeout" : "connection lost");
		return NULL;
	}
	if (PQresultStatus(res) != want) {
		db_connect_failed(db, "%s: %s", sql, PQresultErrorMessage(res));
		PQclear(res);
		return NULL;
	}
	return res;
}

/*
 * How far the server's clock is from ours, measured once per connection
 * (the validate cache judges expiry by the database's clock, as every
 * statement does): the server's time against the middle of the round
 * trip, so the error is at most half the round trip.
 */
static int
db_measure_clock(struct db *db, double deadline)
{
	double before = db_realtime(), after;
	PGresult *res;

	if ((res = db_simple(db, "SELECT extract(epoch FROM "
	    "clock_timestamp())::float8", PGRES_TUPLES_OK, deadline)) == NULL)
		return 0;
	after = db_realtime();
	db->clock_offset = strtod(PQgetvalue(res, 0, 0), NULL) -
	    (before + after) / 2;
	PQclear(res);
	return 1;
}

static int
db_connect(struct db *db)
{
	/*
	 * Our defaults first: values in the conninfo override them.  The
	 * statement timeout travels with the start-up packet, and TCP
	 * keepalives and tcp_user_timeout notice a peer that went silent.
	 */
	const char *keys[] = { "connect_timeout", "application_name",
	    "options", "keepalives", "keepalives_idle", "keepalives_interval",
	    "keepalives_count", "tcp_user_timeout", "dbname", NULL };
	const char *values[10];
	char timeout[16], options[64], user_timeout[24];
	double deadline;
	bool timed_out = false;
	PGresult *res;
	size_t i;

	snprintf(timeout, sizeof(timeout), "%d", db->timeout);
	snprintf(options, sizeof(options), "-c statement_timeout=%d",
	    db->timeout * 1000);
	snprintf(user_timeout, sizeof(user_timeout), "%d", db->timeout * 1000);
	values[0] = timeout;
	values[1] = db->app_name;
	values[2] = options;
	values[3] = "1";
	values[4] = "10";
	values[5] = "5";
	values[6] = "3";
	values[7] = user_timeout;
	values[8] = db->conninfo;
	values[9] = NULL;

	db->conn = PQconnectdbParams(keys, values, 1);
	if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK) {
		db_connect_failed(db, "connect: %s", db->conn == NULL ?
		    "out of memory" : PQerrorMessage(db->conn));
		goto fail;
	}
	PQsetNoticeProcessor(db->conn, db_notice, NULL);
	if (PQsetnonblocking(db->conn, 1) != 0) {
		log_error("db: cannot make the connection non-blocking");
		goto fail;
	}

	/*
	 * Prepared like every statement: sent, then waited for up to
	 * db_timeout.  The cache's listener runs none of them, and needs no
	 * clock: it only LISTENs.
	 */
	deadline = db_clock() + db->timeout;
	for (i = 0; !db->listen_only && i < STMT__MAX; i++) {
		if (!PQsendPrepare(db->conn, db_stmts[i].name, db_stmts[i].sql,
		    0, NULL) || (res = db_collect(db->conn, deadline,
		    &timed_out)) == NULL) {
			db_connect_failed(db, "prepare %s: %s",
			    db_stmts[i].name, timed_out ?
			    "no answer within db_timeout" : "connection lost");
			goto fail;
		}
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			db_connect_failed(db, "prepare %s: %s (is the schema "
			    "migrated, and the role granted mdauth_app?)",
			    db_stmts[i].name, PQresultErrorMessage(res));
			PQclear(res);
			goto fail;
		}
		PQclear(res);
	}
	if (!db->listen_only && !db_measure_clock(db, deadline))
		goto fail;
	if (db->failures > 0)
		log_info("%s: connected to %s as %s on %s, after %ld failed "
		    "attempts", db->who, PQdb(db->conn), PQuser(db->conn),
		    PQhost(db->conn), db->failures);
	else
		log_info("%s: connected to %s as %s on %s", db->who,
		    PQdb(db->conn), PQuser(db->conn), PQhost(db->conn));
	db->failures = db->unlogged = 0;
	return 1;
fail:
	db_disconnect(db);
	return 0;
}

/* Is this failure one of reaching the server rather than of the statement? */
static bool
db_unavailable(const PGresult *res)
{
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

	if (state == NULL)
		return true;		/* no server answer at all */
	/* 08: connection exception; 57: operator intervention (shutdown, timeout); 53: resources */
	return strncmp(state, "08", 2) == 0 || strncmp(state, "57", 2) == 0 ||
	    strncmp(state, "53", 2) == 0;
}

/*
 * Did a function of the schema refuse by design (RAISE ... ERRCODE
 * 'MDA01': session_open for a user disabled meanwhile)?  Not a bug.
 */
static bool
db_refused(const PGresult *res)
{
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

	return state != NULL && strcmp(state, DB_SQLSTATE_REFUSED) == 0;
}

/*
 * Run a prepared statement.  Returns the result (PQclear it) with DB_OK,
 * or NULL with DB_UNAVAILABLE, DB_REFUSED or DB_ERROR in *st.
 */
static PGresult *
db_exec(struct db *db, enum db_stmt stmt, int n, const char *const *values,
    const int *lengths, const int *formats, enum db_status *st)
{
	int attempt;

	for (attempt = 0; attempt < 2; attempt++) {
		bool fresh = false, timed_out = false;
		PGresult *res;

		if (db->conn == NULL) {
			double now = db_clock();

			if (now < db->next_attempt)
				break;
			if (!db_connect(db)) {
				if (db_clock() - now > DB_SLOW_FAILURE)
					db->next_attempt = db_clock() +
					    DB_RETRY_INTERVAL;
				break;
			}
			fresh = true;
		}
		res = db_send(db, stmt, n, values, lengths, formats, &timed_out);
		if (res == NULL) {
			log_warn("db: %s: %.*s", db_stmts[stmt].name,
			    timed_out ? 27 : (int)strcspn(PQerrorMessage(db->conn),
			    "\n"), timed_out ? "no answer within db_timeout" :
			    PQerrorMessage(db->conn));
			db_disconnect(db);
			if (timed_out) {
				/* Do not make the next requests wait as long. */
				db->next_attempt = db_clock() + DB_RETRY_INTERVAL;
				break;
			}
			if (!fresh)
				continue;	/* a stale connection: retry once */
			break;
		}
		switch (PQresultStatus(res)) {
		case PGRES_TUPLES_OK:
		case PGRES_COMMAND_OK:
			*st = DB_OK;
			return res;
		default:
			break;
		}
		if (PQstatus(db->conn) == CONNECTION_BAD || db_unavailable(res)) {
			log_warn("db: %s: %.*s", db_stmts[stmt].name,
			    (int)strcspn(PQerrorMessage(db->conn), "\n"),
			    PQerrorMessage(db->conn));
			PQclear(res);
			if (PQstatus(db->conn) == CONNECTION_BAD) {
				db_disconnect(db);
				if (!fresh)
					continue;	/* a stale connection: retry once */
			}
			break;
		}
		if (db_refused(res)) {
			log_debug("db: %s: %.*s", db_stmts[stmt].name,
			    (int)strcspn(PQresultErrorMessage(res), "\n"),
			    PQresultErrorMessage(res));
			PQclear(res);
			*st = DB_REFUSED;
			return NULL;
		}
		log_error("db: %s: %.*s", db_stmts[stmt].name,
		    (int)strcspn(PQresultErrorMessage(res), "\n"),
		    PQresultErrorMessage(res));
		PQclear(res);
		*st = DB_ERROR;
		return NULL;
	}
	*st = DB_UNAVAILABLE;
	return NULL;
}

/* Run a statement whose rows do not matter. */
static enum db_status
db_exec_only(struct db *db, enum db_stmt stmt, int n, const char *const *values,
    const int *lengths, const int *formats)
{
	enum db_status st;
	PGresult *res;

	if ((res = db_exec(db, stmt, n, values, lengths, formats, &st)) != NULL)
		PQclear(res);
	return st;
}

/* Run a statement: DB_OK if it returned a row, DB_NOT_FOUND if none. */
static enum db_status
db_exec_found(struct db *db, enum db_stmt stmt, int n,
    const char *const *values, const int *lengths, const int *formats)
{
	enum db_status st;
	PGresult *res;
	int rows;

	if ((res = db_exec(db, stmt, n, values, lengths, formats, &st)) == NULL)
		return st;
	rows = PQntuples(res);
	PQclear(res);
	return rows > 0 ? DB_OK : DB_NOT_FOUND;
}

enum db_status
db_ping(struct db *db)
{
	return db_exec_only(db, STMT_PING, 0, NULL, NULL, NULL);
}

const char *
db_connect_error(const struct db *db)
{
	return db->connect_error;
}

double
db_clock_offset(const struct db *db)
{
	return db->clock_offset;
}

/* Hand each notification libpq has read to fn. */
static void
db_notifies(struct db *db, void (*fn)(void *, const char *), void *arg)
{
	PGnotify *n;

	while ((n = PQnotifies(db->conn)) != NULL) {
		fn(arg, n->extra);
		PQfreemem(n);
	}
}

int
db_listen(struct db *db, const char *channel)
{
	char sql[96];
	PGresult *res;

	db->app_name = "mdauthd listener";
	db->who = "cache listener";
	db->listen_only = true;
	if (db->conn == NULL) {
		if (db_clock() < db->next_attempt)
			return 0;
		if (!db_connect(db)) {
			db->next_attempt = db_clock() + DB_RETRY_INTERVAL;
			return 0;
		}
	}
	/* channel is our constant, never a request's. */
	snprintf(sql, sizeof(sql), "LISTEN %s", channel);
	if ((res = db_simple(db, sql, PGRES_COMMAND_OK,
	    db_clock() + db->timeout)) == NULL) {
		db_disconnect(db);
		db->next_attempt = db_clock() + DB_RETRY_INTERVAL;
		return 0;
	}
	PQclear(res);
	return 1;
}

int
db_listen_fd(const struct db *db)
{
	return db->conn != NULL ? PQsocket(db->conn) : -1;
}

int
db_listen_read(struct db *db, void (*fn)(void *, const char *), void *arg)
{
	PGresult *res;

	if (db->conn == NULL)
		return 0;
	if (!PQconsumeInput(db->conn) || PQstatus(db->conn) == CONNECTION_BAD) {
		log_warn("%s: %.*s", db->who, (int)strcspn(
		    PQerrorMessage(db->conn), "\n"), PQerrorMessage(db->conn));
		db_disconnect(db);
		return 0;
	}
	/* Between statements, a result is the server's error (a FATAL). */
	while (!PQisBusy(db->conn) && (res = PQgetResult(db->conn)) != NULL)
		PQclear(res);
	db_notifies(db, fn, arg);
	if (PQstatus(db->conn) == CONNECTION_BAD) {
		db_disconnect(db);
		return 0;
	}
	return 1;
}

int
db_listen_ping(struct db *db, void (*fn)(void *, const char *), void *arg)
{
	PGresult *res;

	if (db->conn == NULL)
		return 0;
	if ((res = db_simple(db, "SELECT 1", PGRES_TUPLES_OK,
	    db_clock() + db->timeout)) == NULL) {
		db_disconnect(db);
		return 0;
	}
	PQclear(res);
	db_notifies(db, fn, arg);
	return 1;
}

enum db_status
db_login_begin(struct db *db, const char *username, const char *addr,
    const struct db_client *client, long *wait, struct db_user *user)
{
	const char *values[4] = { username, addr, client->ip,
	    client->user_agent };
	enum db_status st;
	PGresult *res;

	*wait = 0;
	memset(user, 0, sizeof(*user));
	if ((res = db_exec(db, STMT_LOGIN_BEGIN, 4, values, NULL, NULL,
	    &st)) == NULL)
		return st;
	if (PQntuples(res) != 1) {
		log_error("db: login_begin: %d rows", PQntuples(res));
		PQclear(res);
		return DB_ERROR;
	}
	*wait = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	if (*wait > 0 || PQgetisnull(res, 0, 1)) {
		PQclear(res);
		return *wait > 0 ? DB_OK : DB_NOT_FOUND;
	}
	user->id = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	snprintf(user->username, sizeof(user->username), "%s",
	    PQgetvalue(res, 0, 2));
	user->password_hash = strdup(PQgetvalue(res, 0, 3));
	user->disabled = PQgetvalue(res, 0, 4)[0] == 't';
	PQclear(res);
	if (user->password_hash == NULL) {
		log_error("db: login_begin: out of memory");
		return DB_ERROR;
	}
	return DB_OK;
}

void
db_user_free(struct db_user *user)
{
	if (user->password_hash != NULL) {
		explicit_bzero(user->password_hash, strlen(user->password_hash));
		free(user->password_hash);
	}
	memset(user, 0, sizeof(*user));
}

enum db_status
db_login_commit(struct db *db, const struct db_user *user,
    const char *username, const char *addr,
    const uint8_t digest[TOKEN_DIGEST_LEN], const char *device,
    const struct db_client *client, const struct db_session_params *params,
    const char *new_hash, struct db_session *out, bool *rehashed,
    bool *evicted)
{
	char idbuf[24], ttl[24], max[24], cap[16];
	const char *values[13] = { idbuf, username, addr, (const char *)digest,
	    device, client->ip, client->user_agent, ttl, max, cap,
	    params->policy, user->password_hash, new_hash };
	const int lengths[13] = { 0, 0, 0, TOKEN_DIGEST_LEN };
	const int formats[13] = { 0, 0, 0, 1 };
	enum db_status st;
	PGresult *res;

	snprintf(idbuf, sizeof(idbuf), "%" PRId64, user->id);
	snprintf(ttl, sizeof(ttl), "%ld", params->ttl);
	snprintf(max, sizeof(max), "%ld", params->max_lifetime);
	snprintf(cap, sizeof(cap), "%d", params->cap);
	memset(out, 0, sizeof(*out));
	*rehashed = *evicted = false;
	if ((res = db_exec(db, STMT_LOGIN_COMMIT, 13, values, lengths, formats,
	    &st)) == NULL)
		return st;
	if (PQntuples(res) != 1) {
		log_error("db: login_commit: %d rows", PQntuples(res));
		PQclear(res);
		return DB_ERROR;
	}
	*rehashed = PQgetvalue(res, 0, 3)[0] == 't';
	*evicted = PQgetvalue(res, 0, 4)[0] == 't';
	if (PQgetisnull(res, 0, 0)) {
		PQclear(res);
		return DB_NOT_FOUND;
	}
	snprintf(out->id, sizeof(out->id), "%s", PQgetvalue(res, 0, 0));
	out->user_id = user->id;
	out->state = SESSION_LIVE;
	out->expires_at = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	out->now = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
	PQclear(res);
	return DB_OK;
}

enum db_status
db_login_failed(struct db *db, int64_t user_id, const char *username,
    const char *addr, const struct db_client *client, const char *reason,
    const struct db_throttle_params *throttle)
{
	char idbuf[24], window[24], user_max[16], ip_max[16], lockout[24];
	char max_delay[24];
	const char *values[11] = { idbuf, username, addr, client->ip,
	    client->user_agent, reason, window, user_max, ip_max, lockout,
	    max_delay };

	snprintf(idbuf, sizeof(idbuf), "%" PRId64, user_id);
	snprintf(window, sizeof(window), "%ld", throttle->window);
	snprintf(user_max, sizeof(user_max), "%d", throttle->user_max);
	snprintf(ip_max, sizeof(ip_max), "%d", throttle->ip_max);
	snprintf(lockout, sizeof(lockout), "%ld", throttle->lockout);
	snprintf(max_delay, sizeof(max_delay), "%ld", throttle->max_delay);
	return db_exec_only(db, STMT_LOGIN_FAILED, 11, values, NULL, NULL);
}

/*
 * The row (id, user_id, expires_at, now) of a session that was just given
 * a token, into out; clears res.  DB_NOT_FOUND when there is no row.
 */
static enum db_status
db_session_opened(PGresult *res, struct db_session *out)
{
	if (PQntuples(res) != 1) {
		PQclear(res);
		return DB_NOT_FOUND;
	}
	snprintf(out->id, sizeof(out->id), "%s", PQgetvalue(res, 0, 0));
	out->user_id = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	out->state = SESSION_LIVE;
	out->expires_at = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
	out->now = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
	PQclear(res);
	return DB_OK;
}

/* A state column as the statements give it; anything else is revoked. */
static enum session_state
db_session_state(const PGresult *res, int col)
{
	int state = atoi(PQgetvalue(res, 0, col));

	return state >= 0 && state < SESSION_STATE__MAX ?
	    (enum session_state)state : SESSION_REVOKED;
}

enum db_status
db_session_lookup(struct db *db, const uint8_t digest[TOKEN_DIGEST_LEN],
    const struct db_session_params *params, const struct db_client *client,
    struct db_session *out)
{
	char touch[24], ttl[24];
	const char *values[6] = { (const char *)digest, touch,
	    params->sliding ? "true" : "false", ttl, client->ip,
	    client->user_agent };
	const int lengths[6] = { TOKEN_DIGEST_LEN, 0, 0, 0, 0, 0 };
	const int formats[6] = { 1, 0, 0, 0, 0, 0 };
	enum db_status st;
	PGresult *res;

	snprintf(touch, sizeof(touch), "%ld", params->touch_interval);
	snprintf(ttl, sizeof(ttl), "%ld", params->ttl);
	memset(out, 0, sizeof(*out));
	if ((res = db_exec(db, STMT_SESSION_LOOKUP, 6, values, lengths, formats,
	    &st)) == NULL)
		return st;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return DB_NOT_FOUND;
	}
	snprintf(out->id, sizeof(out->id), "%s", PQgetvalue(res, 0, 0));
	out->user_id = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	snprintf(out->username, sizeof(out->username), "%s",
	    PQgetvalue(res, 0, 2));
	out->state = db_session_state(res, 3);
	out->expires_at = strtoll(PQgetvalue(res, 0, 4), NULL, 10);
	out->absolute_expires_at = strtoll(PQgetvalue(res, 0, 5), NULL, 10);
	out->touched_at = strtoll(PQgetvalue(res, 0, 6), NULL, 10);
	out->now = strtoll(PQgetvalue(res, 0, 7), NULL, 10);
	PQclear(res);
	return DB_OK;
}

enum db_status
db_session_revoke(struct db *db, const uint8_t digest[TOKEN_DIGEST_LEN],
    const char *reason, const struct db_client *client, struct db_session *out)
{
	const char *values[4] = { (const char *)digest, reason, client->ip,
	    client->user_agent };
	const int lengths[4] = { TOKEN_DIGEST_LEN, 0, 0, 0 };
	const int formats[4] = { 1, 0, 0, 0 };
	enum db_status st;
	PGresult *res;

	memset(out, 0, sizeof(*out));
	if ((res = db_exec(db, STMT_SESSION_REVOKE, 4, values, lengths, formats,
	    &st)) == NULL)
		return st;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return DB_NOT_FOUND;
	}
	snprintf(out->id, sizeof(out->id), "%s", PQgetvalue(res, 0, 0));
	out->user_id = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	out->state = db_session_state(res, 2);
	PQclear(res);
	/* A replaced token of a session revoked before: nothing was revoked now. */
	return out->state == SESSION_REVOKED ? DB_NOT_FOUND : DB_OK;
}

enum db_status
db_session_refresh(struct db *db, const uint8_t old_digest[TOKEN_DIGEST_LEN],
    const uint8_t new_digest[TOKEN_DIGEST_LEN], const struct db_client *client,
    const struct db_session_params *params, struct db_session *out)
{
	char ttl[24];
	const char *values[5] = { (const char *)old_digest,
	    (const char *)new_digest, ttl, client->ip, client->user_agent };
	const int lengths[5] = { TOKEN_DIGEST_LEN, TOKEN_DIGEST_LEN, 0, 0, 0 };
	const int formats[5] = { 1, 1, 0, 0, 0 };
	enum session_state state;
	enum db_status st;
	PGresult *res;

	snprintf(ttl, sizeof(ttl), "%ld", params->ttl);
	memset(out, 0, sizeof(*out));
	if ((res = db_exec(db, STMT_SESSION_REFRESH, 5, values, lengths, formats,
	    &st)) == NULL)
		return st;
	if (PQntuples(res) == 1 && (state = db_session_state(res, 4)) !=
	    SESSION_LIVE) {
		/* A replaced token: the session's id and user, nothing opened. */
		snprintf(out->id, sizeof(out->id), "%s", PQgetvalue(res, 0, 0));
		out->user_id = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
		out->state = state;
		PQclear(res);
		return DB_OK;
	}
	return db_session_opened(res, out);
}

/* A copy of a text column, or NULL when it is NULL (or memory is short). */
static char *
db_strdup_value(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL :
	    strdup(PQgetvalue(res, row, col));
}

enum db_status
db_session_list(struct db *db, int64_t user_id, const char *current_id,
    struct db_session_list *out)
{
	char idbuf[24];
	const char *values[2] = { idbuf, current_id };
	enum db_status st;
	PGresult *res;
	int i, n;

	snprintf(idbuf, sizeof(idbuf), "%" PRId64, user_id);
	memset(out, 0, sizeof(*out));
	if ((res = db_exec(db, STMT_SESSION_LIST, 2, values, NULL, NULL,
	    &st)) == NULL)
		return st;
	n = PQntuples(res);
	if (n > 0 && (out->rows = calloc((size_t)n, sizeof(*out->rows))) == NULL) {
		PQclear(res);
		log_error("db: session_list: out of memory");
		return DB_ERROR;
	}
	for (i = 0; i < n; i++) {
		struct db_session_row *r = &out->rows[i];

		snprintf(r->id, sizeof(r->id), "%s", PQgetvalue(res, i, 0));
		r->device = db_strdup_value(res, i, 1);
		r->ip = db_strdup_value(res, i, 2);
		r->user_agent = db_strdup_value(res, i, 3);
		r->created_at = strtoll(PQgetvalue(res, i, 4), NULL, 10);
		r->last_used_at = strtoll(PQgetvalue(res, i, 5), NULL, 10);
		r->expires_at = strtoll(PQgetvalue(res, i, 6), NULL, 10);
		r->current = PQgetvalue(res, i, 7)[0] == 't';
	}
	out->n = (size_t)n;
	PQclear(res);
	return DB_OK;
}

void
db_session_list_free(struct db_session_list *list)
{
	size_t i;

	for (i = 0; i < list->n; i++) {
		free(list->rows[i].device);
		free(list->rows[i].ip);
		free(list->rows[i].user_agent);
	}
	free(list->rows);
	memset(list, 0, sizeof(*list));
}

enum db_status
db_session_revoke_id(struct db *db, int64_t user_id, const char *session_id,
    const struct db_client *client)
{
	char idbuf[24];
	const char *values[4] = { session_id, idbuf, client->ip,
	    client->user_agent };

	snprintf(idbuf, sizeof(idbuf), "%" PRId64, user_id);
	return db_exec_found(db, STMT_SESSION_REVOKE_ID, 4, values, NULL, NULL);
}

enum db_status
db_session_revoke_all(struct db *db, int64_t user_id, const char *current_id,
    bool keep_current, const struct db_client *client, long long *count)
{
	char idbuf[24];
	const char *values[5] = { idbuf, keep_current ? "true" : "false",
	    current_id, client->ip, client->user_agent };
	enum db_status st;
	PGresult *res;

	snprintf(idbuf, sizeof(idbuf), "%" PRId64, user_id);
	*count = 0;
	if ((res = db_exec(db, STMT_SESSION_REVOKE_ALL, 5, values, NULL, NULL,
	    &st)) == NULL)
		return st;
	if (PQntuples(res) == 1)
		*count = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return DB_OK;
}

/*
 * handler_login.c -- POST /login: username and password for a session.
 *
 *	handler_login		the handler
 *	login_verify		the throttle check and the hash work, in one
 *				hash slot
 *	login_failed		the 401 of every failure
 *
 * Every failure (unknown user, disabled user, wrong password, unusable
 * stored hash) runs exactly one argon2id verify and gets the same 401, so
 * neither the answer nor its timing tells whether a user exists.
 *
 * A login sends at most two statements (sql/012_login_commit.sql):
 * login_begin in the hash slot, then login_commit after a match (the
 * session, a re-hash, the throttle's reset: one commit) or login_failed
 * after anything else.  With every slot busy it sends none.
 */
#include "config.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "handler.h"
#include "hashslots.h"
#include "log.h"
#include "text.h"

/* 503 for a login that cannot hash now: the client should come back soon. */
static void
login_busy(struct response *resp)
{
	resp_error(resp, ERR_SERVICE_UNAVAILABLE,
	    "the server is busy; try again later");
	resp->retry_after = 1;
}

/*
 * A failed login (user NULL: unknown): logged, recorded and counted for
 * throttling, and answered 401 invalid_credentials whatever the reason.
 */
static void
login_failed(struct ctx *ctx, struct response *resp,
    const struct api_request *req, const char *addr,
    const struct db_user *user, const char *reason)
{
	log_info("login: failed for %s from %s: %s", user != NULL ?
	    user->username : "an unknown user", req->client.ip, reason);
	if (db_login_failed(ctx->db, user != NULL ? user->id : 0,
	    req->login.username, addr, &req->client, reason,
	    &ctx->throttle) == DB_UNAVAILABLE) {
		handler_db_failure(resp, DB_UNAVAILABLE, "login");
		return;
	}
	resp_error(resp, ERR_INVALID_CREDENTIALS,
	    "invalid username or password");
	resp->challenge = CHALLENGE_PLAIN;
}

/* What the hash work of a login found. */
enum login_outcome {
	LOGIN_MATCH,		/* the password of an enabled user */
	LOGIN_FAILED,		/* reason says why */
	LOGIN_THROTTLED,	/* wait says for how long; no hash ran */
	LOGIN_BUSY,		/* no hash slot, or no memory for argon2: 503 */
	LOGIN_DB_ERROR,		/* st says which */
};

/* What login_verify found, for the handler to answer and write. */
struct login_found {
	struct db_user	 user;		/* when st is DB_OK */
	enum db_status	 st;
	const char	*reason;	/* LOGIN_FAILED */
	long		 wait;		/* LOGIN_THROTTLED */
	bool		 rehash_made;	/* rehash holds the new hash */
	char		 rehash[PASSWORD_HASH_MAX];
};

/* login_verify's work, with the slot held. */
static enum login_outcome
login_verify_held(struct ctx *ctx, const struct api_request *req,
    const char *addr, unsigned long long blocks, struct login_found *f)
{
	const struct login_input *in = &req->login;
	enum password_result pw;

	/*
	 * Throttled by the address, by the name from this address, or (a
	 * short, growing delay) by the name from everywhere: no hash.
	 * Else the user, in the same statement.
	 */
	f->st = db_login_begin(ctx->db, in->username, addr, &req->client,
	    &f->wait, &f->user);
	if (f->st != DB_OK && f->st != DB_NOT_FOUND)
		return LOGIN_DB_ERROR;
	if (f->wait > 0)
		return LOGIN_THROTTLED;
	pw = password_verify(f->st == DB_OK ? f->user.password_hash :
	    password_dummy(), in->password, in->password_len);
	if (pw == PASSWORD_NOMEM)
		return LOGIN_BUSY;
	if (f->st == DB_NOT_FOUND)
		f->reason = "unknown user";
	else if (pw != PASSWORD_MATCH)
		f->reason = "wrong password";
	else if (f->user.disabled)
		f->reason = "user disabled";
	if (f->reason != NULL) {
		/*
		 * A stored hash with cheaper parameters than the dummy's: make
		 * up the difference, so that this failure costs what an
		 * unknown user's does (password.c says why padding).
		 */
		return password_pad(password_work_blocks() - blocks) ==
		    PASSWORD_NOMEM ? LOGIN_BUSY : LOGIN_FAILED;
	}
	/*
	 * A hash made with older parameters is replaced now that we know the
	 * password: made here, in the slot; stored with the session.
	 */
	f->rehash_made = password_needs_rehash(f->user.password_hash,
	    &ctx->password) && password_hash(&ctx->password, in->password,
	    in->password_len, f->rehash, sizeof(f->rehash)) == PASSWORD_MATCH;
	return LOGIN_MATCH;
}

/*
 * The work of a login up to its answer or its write, in one of the
 * pool's hash slots, taken first and given back here: the throttle check
 * and the user's row (one statement), exactly one verify (against the
 * dummy hash for an unknown user), the padding of a failure, the re-hash
 * of a match made with older parameters.  No free slot: 503 at once,
 * before any database statement, so that a flood costs validate as
 * little as possible (a throttled client then gets that 503, not its
 * 429).
 */
static enum login_outcome
login_verify(struct ctx *ctx, const struct api_request *req,
    const char *addr, unsigned long long blocks, struct login_found *f)
{
	enum login_outcome outcome;

	if (!hashslots_acquire()) {
		log_info("login: every hash slot is busy; 503");
		return LOGIN_BUSY;
	}
	outcome = login_verify_held(ctx, req, addr, blocks, f);
	hashslots_release();
	if (outcome == LOGIN_BUSY)
		log_warn("login: argon2 could not allocate %" PRIu32 " KiB",
		    ctx->password.memory_kib);
	return outcome;
}

void
handler_login(struct ctx *ctx, const struct api_request *req,
    const struct db_session *unused, struct response *resp)
{
	const struct login_input *in = &req->login;
	struct login_found f;
	struct db_session sess;
	struct token tok;
	enum db_status st;
	char addr[TEXT_ADDR_KEY_MIN > REMOTE_ADDR_MAX + 1 ? TEXT_ADDR_KEY_MIN :
	    REMOTE_ADDR_MAX + 1];
	unsigned long work = password_work_count();
	unsigned long long blocks = password_work_blocks();
	bool rehashed, evicted;

	(void)unused;
	memset(&f, 0, sizeof(f));
	memset(&tok, 0, sizeof(tok));
	/* An IPv6 client is counted by its prefix: it may own 2^64 addresses. */
	text_addr_key(req->client.ip, ctx->throttle.prefix6, addr, sizeof(addr));

	switch (login_verify(ctx, req, addr, blocks, &f)) {
	case LOGIN_MATCH:
		break;
	case LOGIN_THROTTLED:
		log_info("login: throttled from %s (%s) for %ld s",
		    req->client.ip, addr, f.wait);
		resp_error(resp, ERR_TOO_MANY_REQUESTS,
		    "too many failed logins; try again later");
		resp->retry_after = f.wait > INT32_MAX ? INT32_MAX : (int)f.wait;
		goto out;
	case LOGIN_FAILED:
		login_failed(ctx, resp, req, addr, f.st == DB_OK ? &f.user :
		    NULL, f.reason);
		goto out;
	case LOGIN_BUSY:
		login_busy(resp);
		goto out;
	case LOGIN_DB_ERROR:
		handler_db_failure(resp, f.st, "login");
		goto out;
	}

	if (!token_new(&tok)) {
		resp_error(resp, ERR_SERVER_ERROR, "internal error");
		goto out;
	}
	/* Every write of a successful login, in one transaction. */
	st = db_login_commit(ctx->db, &f.user, in->username, addr, tok.digest,
	    in->device, &req->client, &ctx->session, f.rehash_made ? f.rehash :
	    NULL, &sess, &rehashed, &evicted);
	/* The sessions the cap ended leave this host's cache now. */
	if (evicted)
		handler_forget_user(ctx, f.user.id);
	if (rehashed)
		log_info("login: user %" PRId64 ": password re-hashed with the "
		    "current parameters", f.user.id);
	if (st == DB_NOT_FOUND) {
		log_info("login: user %" PRId64 " is at max_sessions_per_user "
		    "(%d); refused", f.user.id, ctx->session.cap);
		resp_error(resp, ERR_SESSION_LIMIT_REACHED, "the maximum number "
		    "of sessions is reached; log out on another device first");
	} else if (st == DB_REFUSED) {
		/*
		 * Disabled (or deleted) since the password check: session_open
		 * rechecks under the user's row lock, and nothing of the
		 * commit was written.  The answer of a disabled user, after
		 * the same one hash.
		 */
		f.reason = "user disabled";
		login_failed(ctx, resp, req, addr, &f.user, f.reason);
	} else if (st != DB_OK)
		handler_db_failure(resp, st, "login");
	else {
		handler_token_reply(resp, &tok, &sess);
		handler_log_user(resp, f.user.id);
	}
out:
	/* For the tests: every outcome that reached the hash costs the same. */
	log_debug("login: status %d after %lu argon2id computations over "
	    "%llu KiB (%s)", resp->status, password_work_count() - work,
	    password_work_blocks() - blocks, f.reason != NULL ? f.reason : "-");
	token_wipe(&tok);
	explicit_bzero(f.rehash, sizeof(f.rehash));
	db_user_free(&f.user);
}

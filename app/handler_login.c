/*
 * handler_login.c -- POST /login: username and password for a session.
 *
 *	handler_login		the handler
 *	login_verify		the hash work, in one hash slot
 *	login_failed		the 401 of every failure
 *
 * Every failure (unknown user, disabled user, wrong password, unusable
 * stored hash) runs exactly one argon2id verify and gets the same 401, so
 * neither the answer nor its timing tells whether a user exists.
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
	LOGIN_FAILED,		/* *reason says why */
	LOGIN_BUSY,		/* no hash slot, or no memory for argon2: 503 */
	LOGIN_DB_ERROR,		/* *st says which */
};

/* login_verify's work, with the slot held. */
static enum login_outcome
login_verify_held(struct ctx *ctx, const struct login_input *in,
    unsigned long long blocks, struct db_user *user, enum db_status *st,
    const char **reason)
{
	char rehash[PASSWORD_HASH_MAX];
	enum password_result pw;

	*st = db_user_by_name(ctx->db, in->username, user);
	if (*st != DB_OK && *st != DB_NOT_FOUND)
		return LOGIN_DB_ERROR;
	pw = password_verify(*st == DB_OK ? user->password_hash :
	    password_dummy(), in->password, in->password_len);
	if (pw == PASSWORD_NOMEM)
		return LOGIN_BUSY;
	if (*st == DB_NOT_FOUND)
		*reason = "unknown user";
	else if (pw != PASSWORD_MATCH)
		*reason = "wrong password";
	else if (user->disabled)
		*reason = "user disabled";
	if (*reason != NULL) {
		/*
		 * A stored hash with cheaper parameters than the dummy's: make
		 * up the difference, so that this failure costs what an
		 * unknown user's does (password.c says why padding).
		 */
		return password_pad(password_work_blocks() - blocks) ==
		    PASSWORD_NOMEM ? LOGIN_BUSY : LOGIN_FAILED;
	}
	/* A hash made with older parameters is replaced now that we know the password. */
	if (password_needs_rehash(user->password_hash, &ctx->password) &&
	    password_hash(&ctx->password, in->password, in->password_len, rehash,
	    sizeof(rehash)) == PASSWORD_MATCH) {
		if (db_user_rehash(ctx->db, user->id, user->password_hash,
		    rehash) == DB_OK)
			log_info("login: user %" PRId64 ": password re-hashed "
			    "with the current parameters", user->id);
		explicit_bzero(rehash, sizeof(rehash));
	}
	return LOGIN_MATCH;
}

/*
 * The hash work of a login, in one of the pool's hash slots, taken and
 * given back here: the user's row, exactly one verify (against the dummy
 * hash for an unknown user), the padding of a failure, the re-hash of a
 * match made with older parameters.  No free slot: no waiting, so that
 * a flood costs validate as little as possible.
 */
static enum login_outcome
login_verify(struct ctx *ctx, const struct login_input *in,
    unsigned long long blocks, struct db_user *user, enum db_status *st,
    const char **reason)
{
	enum login_outcome outcome;

	if (!hashslots_acquire()) {
		log_info("login: every hash slot is busy; 503");
		return LOGIN_BUSY;
	}
	outcome = login_verify_held(ctx, in, blocks, user, st, reason);
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
	struct db_user user;
	struct db_session sess;
	struct token tok;
	enum db_status st;
	const char *reason = NULL;
	char addr[TEXT_ADDR_KEY_MIN > REMOTE_ADDR_MAX + 1 ? TEXT_ADDR_KEY_MIN :
	    REMOTE_ADDR_MAX + 1];
	unsigned long work = password_work_count();
	unsigned long long blocks = password_work_blocks();
	long wait;

	(void)unused;
	memset(&user, 0, sizeof(user));
	memset(&tok, 0, sizeof(tok));
	/* An IPv6 client is counted by its prefix: it may own 2^64 addresses. */
	text_addr_key(req->client.ip, ctx->throttle.prefix6, addr, sizeof(addr));

	/*
	 * Throttled by the address, by the name from this address, or (a
	 * short, growing delay) by the name from everywhere: no lookup, no
	 * hash.
	 */
	st = db_login_check(ctx->db, in->username, addr, &req->client, &wait);
	if (st != DB_OK) {
		handler_db_failure(resp, st, "login");
		goto out;
	}
	if (wait > 0) {
		log_info("login: throttled from %s (%s) for %ld s",
		    req->client.ip, addr, wait);
		resp_error(resp, ERR_TOO_MANY_REQUESTS,
		    "too many failed logins; try again later");
		resp->retry_after = wait > INT32_MAX ? INT32_MAX : (int)wait;
		goto out;
	}
	switch (login_verify(ctx, in, blocks, &user, &st, &reason)) {
	case LOGIN_MATCH:
		break;
	case LOGIN_FAILED:
		login_failed(ctx, resp, req, addr, st == DB_OK ? &user : NULL,
		    reason);
		goto out;
	case LOGIN_BUSY:
		login_busy(resp);
		goto out;
	case LOGIN_DB_ERROR:
		handler_db_failure(resp, st, "login");
		goto out;
	}

	if (!token_new(&tok)) {
		resp_error(resp, ERR_SERVER_ERROR, "internal error");
		goto out;
	}
	st = db_session_create(ctx->db, user.id, tok.digest, in->device,
	    &req->client, &ctx->session, &sess);
	if (st == DB_NOT_FOUND) {
		log_info("login: user %" PRId64 " is at max_sessions_per_user "
		    "(%d); refused", user.id, ctx->session.cap);
		resp_error(resp, ERR_SESSION_LIMIT_REACHED, "the maximum number "
		    "of sessions is reached; log out on another device first");
	} else if (st == DB_REFUSED) {
		/*
		 * Disabled (or deleted) since the password check: session_open
		 * rechecks under the user's row lock.  The answer of a disabled
		 * user, after the same one hash.
		 */
		reason = "user disabled";
		login_failed(ctx, resp, req, addr, &user, reason);
	} else if (st != DB_OK)
		handler_db_failure(resp, st, "login");
	else {
		(void)db_login_succeeded(ctx->db, in->username, addr);
		handler_token_reply(resp, &tok, &sess);
		handler_log_user(resp, user.id);
	}
out:
	/* For the tests: every outcome that reached the hash costs the same. */
	log_debug("login: status %d after %lu argon2id computations over "
	    "%llu KiB (%s)", resp->status, password_work_count() - work,
	    password_work_blocks() - blocks, reason != NULL ? reason : "-");
	token_wipe(&tok);
	db_user_free(&user);
}

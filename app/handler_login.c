/*
 * handler_login.c -- POST /login: username and password for a session.
 *
 *	handler_login		the handler
 *	handler_token_reply	the 200 body with the token (login, refresh)
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

void
handler_token_reply(struct response *resp, const struct token *tok,
    const struct db_session *sess)
{
	json_object *body = json_object_new_object();
	char when[32];

	if (body == NULL) {
		resp_error(resp, ERR_SERVER_ERROR, "out of memory");
		return;
	}
	json_object_object_add(body, "token",
	    json_object_new_string_len(tok->text, TOKEN_TEXT_LEN));
	json_object_object_add(body, "token_type",
	    json_object_new_string("Bearer"));
	json_object_object_add(body, "expires_in",
	    json_object_new_int64(sess->expires_at - sess->now));
	json_object_object_add(body, "expires_at", json_object_new_string(
	    resp_time(sess->expires_at, when, sizeof(when))));
	json_object_object_add(body, "session_id",
	    json_object_new_string(sess->id));
	resp_json(resp, 200, body);
	resp->secret = true;
}

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
    const struct login_input *in, const char *addr, const struct db_user *user,
    const struct db_client *client, const char *reason)
{
	log_info("login: failed for %s from %s: %s", user != NULL ?
	    user->username : "an unknown user", client->ip, reason);
	if (db_login_failed(ctx->db, user != NULL ? user->id : 0, in->username,
	    addr, client, reason, &ctx->throttle) == DB_UNAVAILABLE) {
		handler_db_failure(resp, DB_UNAVAILABLE, "login");
		return;
	}
	resp_error(resp, ERR_INVALID_CREDENTIALS,
	    "invalid username or password");
	resp->challenge = CHALLENGE_PLAIN;
}

void
handler_login(struct ctx *ctx, const struct request *req, struct response *resp)
{
	struct login_input in;
	struct db_user user;
	struct db_session sess;
	struct client_buf cbuf;
	struct db_client client;
	struct token tok;
	enum password_result pw;
	enum db_status st;
	const char *why, *hash, *reason = NULL;
	char rehash[PASSWORD_HASH_MAX];
	char addr[TEXT_ADDR_KEY_MIN > REMOTE_ADDR_MAX + 1 ? TEXT_ADDR_KEY_MIN :
	    REMOTE_ADDR_MAX + 1];
	unsigned long work = password_work_count();
	unsigned long long blocks = password_work_blocks();
	long wait;

	memset(&user, 0, sizeof(user));
	memset(&tok, 0, sizeof(tok));
	if (!request_parse_login(req->body, req->body_len, &in, &why)) {
		resp_error(resp, ERR_INVALID_REQUEST, why);
		return;
	}
	handler_client(req, &cbuf, &client);
	/* An IPv6 client is counted by its prefix: it may own 2^64 addresses. */
	text_addr_key(client.ip, ctx->throttle.prefix6, addr, sizeof(addr));

	/*
	 * Throttled by the address, by the name from this address, or (a
	 * short, growing delay) by the name from everywhere: no lookup, no
	 * hash.
	 */
	st = db_login_check(ctx->db, in.username, addr, &client, &wait);
	if (st != DB_OK) {
		handler_db_failure(resp, st, "login");
		goto out;
	}
	if (wait > 0) {
		log_info("login: throttled from %s (%s) for %ld s", client.ip,
		    addr, wait);
		resp_error(resp, ERR_TOO_MANY_REQUESTS,
		    "too many failed logins; try again later");
		resp->retry_after = wait > INT32_MAX ? INT32_MAX : (int)wait;
		goto out;
	}

	/*
	 * The pool-wide budget, before any more database work: no free slot,
	 * no waiting, so that a flood costs validate as little as possible.
	 */
	if (!hashslots_acquire()) {
		log_info("login: every hash slot is busy; 503");
		login_busy(resp);
		goto out;
	}
	st = db_user_by_name(ctx->db, in.username, &user);
	if (st != DB_OK && st != DB_NOT_FOUND) {
		hashslots_release();
		handler_db_failure(resp, st, "login");
		goto out;
	}
	hash = st == DB_OK ? user.password_hash : password_dummy();
	pw = password_verify(hash, in.password, in.password_len);
	if (pw == PASSWORD_NOMEM) {
		hashslots_release();
		log_warn("login: argon2 could not allocate %" PRIu32 " KiB",
		    ctx->password.memory_kib);
		login_busy(resp);
		goto out;
	}
	if (st == DB_NOT_FOUND)
		reason = "unknown user";
	else if (pw != PASSWORD_MATCH)
		reason = "wrong password";
	else if (user.disabled)
		reason = "user disabled";
	if (reason != NULL) {
		/*
		 * A stored hash with cheaper parameters than the dummy's: make
		 * up the difference, still holding the slot, so that this
		 * failure costs what an unknown user's does (password.c says
		 * why padding).
		 */
		if (password_pad(password_work_blocks() - blocks) ==
		    PASSWORD_NOMEM) {
			hashslots_release();
			log_warn("login: argon2 could not allocate %" PRIu32
			    " KiB", ctx->password.memory_kib);
			login_busy(resp);
			goto out;
		}
		hashslots_release();
		login_failed(ctx, resp, &in, addr, st == DB_OK ? &user : NULL,
		    &client, reason);
		goto out;
	}
	/* A hash made with older parameters is replaced now that we know the password. */
	if (password_needs_rehash(user.password_hash, &ctx->password) &&
	    password_hash(&ctx->password, in.password, in.password_len, rehash,
	    sizeof(rehash)) == PASSWORD_MATCH) {
		if (db_user_rehash(ctx->db, user.id, user.password_hash,
		    rehash) == DB_OK)
			log_info("login: user %" PRId64 ": password re-hashed "
			    "with the current parameters", user.id);
		explicit_bzero(rehash, sizeof(rehash));
	}
	hashslots_release();

	if (!token_new(&tok)) {
		resp_error(resp, ERR_SERVER_ERROR, "internal error");
		goto out;
	}
	st = db_session_create(ctx->db, user.id, tok.digest, in.device, &client,
	    &ctx->session, &sess);
	if (st == DB_NOT_FOUND) {
		log_info("login: user %" PRId64 " is at max_sessions_per_user "
		    "(%d); refused", user.id, ctx->session.cap);
		resp_error(resp, ERR_SESSION_LIMIT_REACHED, "the maximum number "
		    "of sessions is reached; log out on another device first");
		goto out;
	}
	if (st == DB_REFUSED) {
		/*
		 * Disabled (or deleted) since the password check: session_open
		 * rechecks under the user's row lock.  The answer of a disabled
		 * user, after the same one hash.
		 */
		reason = "user disabled";
		login_failed(ctx, resp, &in, addr, &user, &client, reason);
		goto out;
	}
	if (st != DB_OK) {
		handler_db_failure(resp, st, "login");
		goto out;
	}
	(void)db_login_succeeded(ctx->db, in.username, addr);
	handler_token_reply(resp, &tok, &sess);
	handler_log_user(resp, user.id);
out:
	/* For the tests: every outcome that reached the hash costs the same. */
	log_debug("login: status %d after %lu argon2id computations over "
	    "%llu KiB (%s)", resp->status, password_work_count() - work,
	    password_work_blocks() - blocks, reason != NULL ? reason : "-");
	token_wipe(&tok);
	db_user_free(&user);
	request_login_free(&in);
}

/*
 * auth.c -- Bearer authentication shared by the handlers.
 *
 *	handler_ctx_init	derived parameters
 *	handler_log_user	the user id of the request log line
 *	handler_db_failure	503 or 500 for a database failure
 *	handler_client		IP and User-Agent, made safe to store
 *	auth_bearer_digest	header -> digest, with the 400/401 of RFC 6750
 *	auth_bearer		digest -> live session, or 401/503
 *	auth_token		the same for a token given without a header
 *	auth_token_reused	the warning for a replaced token presented again
 *	auth_reused_reply	and its 401
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "authz.h"
#include "handler.h"
#include "log.h"
#include "text.h"

void
handler_ctx_init(struct ctx *ctx, const struct conf *conf, struct db *db)
{
	ctx->conf = conf;
	ctx->db = db;
	ctx->password.memory_kib = conf->argon2_memory;
	ctx->password.iterations = conf->argon2_iterations;
	ctx->password.parallelism = conf->argon2_parallelism;
	ctx->session.ttl = conf->token_ttl;
	ctx->session.max_lifetime = conf->token_max_lifetime;
	ctx->session.touch_interval = conf->touch_interval;
	ctx->session.sliding = conf->sliding_expiration;
	ctx->session.cap = conf->max_sessions_per_user;
	ctx->session.policy = session_policy_names[conf->session_limit_policy];
	ctx->throttle.window = conf->login_failure_window;
	ctx->throttle.user_max = conf->login_max_failures;
	ctx->throttle.ip_max = conf->ip_max_failures;
	ctx->throttle.lockout = conf->login_lockout;
	ctx->throttle.max_delay = conf->login_max_delay;
	ctx->throttle.prefix6 = conf->ip_throttle_prefix6;
}

void
handler_log_user(struct response *resp, int64_t user_id)
{
	snprintf(resp->log_user_buf, sizeof(resp->log_user_buf), "%" PRId64,
	    user_id);
	resp->log_user = resp->log_user_buf;
}

void
handler_db_failure(struct response *resp, enum db_status st, const char *what)
{
	if (st == DB_UNAVAILABLE) {
		resp_error(resp, ERR_SERVICE_UNAVAILABLE,
		    "the database is unreachable; try again later");
		resp->retry_after = RETRY_AFTER_DB;
	} else {
		log_error("%s: database error (see above)", what);
		resp_error(resp, ERR_SERVER_ERROR, "internal error");
	}
}

void
handler_client(const struct request *req, struct client_buf *buf,
    struct db_client *client)
{
	client->ip = text_sanitize(req->remote_addr, buf->ip, REMOTE_ADDR_MAX);
	client->user_agent = text_sanitize(req->user_agent, buf->user_agent,
	    USER_AGENT_MAX);
}

enum auth_result
auth_bearer_digest(const struct ctx *ctx, const struct request *req,
    struct response *resp, uint8_t digest[TOKEN_DIGEST_LEN], bool *known_shape)
{
	const char *token;
	size_t len;

	(void)ctx;
	switch (authz_parse_bearer(req->authorization, &token, &len)) {
	case BEARER_OK:
		break;
	case BEARER_MISSING:
		resp_error(resp, ERR_INVALID_TOKEN,
		    "a Bearer token is required");
		resp->challenge = CHALLENGE_PLAIN;
		return AUTH_FAILED;
	case BEARER_MALFORMED:
	case BEARER_STATUS__MAX:
		resp_error(resp, ERR_INVALID_REQUEST,
		    "malformed Bearer credentials");
		resp->challenge = CHALLENGE_INVALID_REQUEST;
		return AUTH_FAILED;
	}
	*known_shape = token_well_formed(token, len);
	token_digest(token, len, digest);
	return AUTH_OK;
}

void
auth_token_reused(const struct db_session *sess, const struct db_client *client,
    const char *what)
{
	log_warn("%s: token reuse: a token replaced by a refresh was presented "
	    "again from %s; session %s of user %" PRId64 " is revoked",
	    what, client->ip, sess->id, sess->user_id);
}

void
auth_reused_reply(struct response *resp)
{
	resp_error(resp, ERR_INVALID_TOKEN, "the token was replaced by a "
	    "refresh; the session is revoked");
	resp->challenge = CHALLENGE_INVALID_TOKEN;
}

/* A token's digest -> live session, or the 401/503 of a dead one. */
static enum auth_result
auth_lookup(struct ctx *ctx, const struct request *req,
    const uint8_t digest[TOKEN_DIGEST_LEN], bool known_shape,
    struct response *resp, struct db_session *sess)
{
	const char *why = "the token is unknown";
	struct client_buf cbuf;
	struct db_client client;
	enum db_status st;

	/*
	 * A token of another shape was never issued by us: no lookup.  The
	 * lookup itself is by digest through a unique index; the digest of a
	 * guess reveals nothing about a real token, so timing is no concern.
	 */
	if (known_shape) {
		handler_client(req, &cbuf, &client);
		st = db_session_lookup(ctx->db, digest, &ctx->session, &client,
		    sess);
		if (st == DB_OK && sess->state == SESSION_REUSED) {
			auth_token_reused(sess, &client, "auth");
			handler_log_user(resp, sess->user_id);
			auth_reused_reply(resp);
			return AUTH_FAILED;
		}
		if (st == DB_OK) {
			if (sess->state == SESSION_LIVE)
				return AUTH_OK;
			why = sess->state == SESSION_EXPIRED ?
			    "the token expired" : "the token was revoked";
		} else if (st != DB_NOT_FOUND) {
			handler_db_failure(resp, st, "auth");
			return AUTH_FAILED;
		}
	}
	resp_error(resp, ERR_INVALID_TOKEN, why);
	resp->challenge = CHALLENGE_INVALID_TOKEN;
	return AUTH_FAILED;
}

enum auth_result
auth_bearer(struct ctx *ctx, const struct request *req, struct response *resp,
    struct db_session *sess)
{
	uint8_t digest[TOKEN_DIGEST_LEN];
	bool known_shape;

	if (auth_bearer_digest(ctx, req, resp, digest, &known_shape) != AUTH_OK)
		return AUTH_FAILED;
	return auth_lookup(ctx, req, digest, known_shape, resp, sess);
}

enum auth_result
auth_token(struct ctx *ctx, const struct request *req, const char *token,
    struct response *resp, struct db_session *sess)
{
	uint8_t digest[TOKEN_DIGEST_LEN];
	size_t len = strlen(token);

	token_digest(token, len, digest);
	return auth_lookup(ctx, req, digest, token_well_formed(token, len), resp,
	    sess);
}

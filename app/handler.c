/*
 * handler.c -- what the handlers share.
 *
 *	handler_ctx_init	derived parameters
 *	handler_log_user	the user id of the request log line
 *	handler_db_failure	503 or 500 for a database failure
 *	handler_token_dead	401 invalid_token
 *	handler_token_reused	the warning and 401 of a replaced token
 *	handler_token_reply	the 200 body with a new token (login, refresh)
 *	handler_forget_*	a change made here, to this host's cache now
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>

#include "cache.h"
#include "handler.h"
#include "log.h"

void
handler_ctx_init(struct ctx *ctx, const struct conf *conf, struct db *db)
{
	ctx->conf = conf;
	ctx->db = db;
	ctx->cache = NULL;
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
handler_token_dead(struct response *resp, const char *why)
{
	resp_error(resp, ERR_INVALID_TOKEN, why);
	resp->challenge = CHALLENGE_INVALID_TOKEN;
}

void
handler_token_reused(const struct db_session *sess,
    const struct db_client *client, const char *what, struct response *resp)
{
	log_warn("%s: token reuse: a token replaced by a refresh was presented "
	    "again from %s; session %s of user %" PRId64 " is revoked",
	    what, client->ip, sess->id, sess->user_id);
	if (resp != NULL)
		handler_token_dead(resp, "the token was replaced by a refresh; "
		    "the session is revoked");
}

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

/*
 * A session changed by this host's request leaves the cache before the
 * response is sent, so the client's next request, on any worker, sees
 * it.  (The notification of the same change comes later, and does the
 * same on every host.)
 */
void
handler_forget_token(struct ctx *ctx, const uint8_t digest[TOKEN_DIGEST_LEN])
{
	if (ctx->cache != NULL)
		cache_invalidate_token(ctx->cache, digest);
}

void
handler_forget_session(struct ctx *ctx, const char *session_id)
{
	if (ctx->cache != NULL)
		cache_invalidate_session(ctx->cache, session_id);
}

void
handler_forget_user(struct ctx *ctx, int64_t user_id)
{
	if (ctx->cache != NULL)
		cache_invalidate_user(ctx->cache, user_id);
}

/*
 * handler_logout.c -- POST /logout and POST /logout-all.
 *
 *	handler_logout		revoke the presented token's session
 *	handler_logout_all	revoke all of the user's sessions
 *
 * Logout is idempotent as RFC 7009 section 2.2 asks of revocation: a well-formed
 * token that is already revoked, expired or unknown also gets 200, so a
 * client that retries a logout never sees an error for it.  A token that
 * a refresh replaced ends its session as well (the owner logging out
 * after a thief refreshed the stolen copy), as a token reuse: 200 too,
 * since the session is now ended.
 */
#include "config.h"

#include "handler.h"
#include "log.h"

void
handler_logout(struct ctx *ctx, const struct api_request *req,
    const struct db_session *unused, struct response *resp)
{
	struct db_session sess;
	enum db_status st;
	json_object *body;

	(void)unused;
	if (req->token_ours) {
		st = db_session_revoke(ctx->db, req->digest, "logout",
		    &req->client, &sess);
		if (st != DB_OK && st != DB_NOT_FOUND) {
			handler_db_failure(resp, st, "logout");
			return;
		}
		if (st == DB_OK) {
			handler_log_user(resp, sess.user_id);
			handler_forget_token(ctx, req->digest);
			handler_forget_session(ctx, sess.id);
			if (sess.state == SESSION_REUSED)
				handler_token_reused(&sess, &req->client,
				    "logout", NULL);
			else
				log_debug("logout: a session was revoked");
		}
	}
	if ((body = json_object_new_object()) == NULL) {
		resp_error(resp, ERR_SERVER_ERROR, "out of memory");
		return;
	}
	json_object_object_add(body, "status",
	    json_object_new_string("logged_out"));
	resp_json(resp, 200, body);
}

/*
 * POST /logout-all: revoke every live session of the token's user, or
 * all but this one with {"keep_current": true}.
 */
void
handler_logout_all(struct ctx *ctx, const struct api_request *req,
    const struct db_session *sess, struct response *resp)
{
	json_object *body;
	enum db_status st;
	long long count;

	st = db_session_revoke_all(ctx->db, sess->user_id, sess->id,
	    req->keep_current, &req->client, &count);
	if (st != DB_OK) {
		handler_db_failure(resp, st, "logout-all");
		return;
	}
	handler_forget_user(ctx, sess->user_id);
	log_info("logout-all: user %s: %lld sessions revoked", resp->log_user,
	    count);
	if ((body = json_object_new_object()) == NULL) {
		resp_error(resp, ERR_SERVER_ERROR, "out of memory");
		return;
	}
	json_object_object_add(body, "revoked", json_object_new_int64(count));
	resp_json(resp, 200, body);
}

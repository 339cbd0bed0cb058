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
handler_logout(struct ctx *ctx, const struct request *req, struct response *resp)
{
	uint8_t digest[TOKEN_DIGEST_LEN];
	struct client_buf cbuf;
	struct db_client client;
	struct db_session sess;
	enum db_status st;
	bool known_shape;
	json_object *body;
	const char *why;

	/* No member is defined, but a body that is sent must be JSON. */
	if (req->body_len > 0) {
		if ((body = request_parse_json(req->body, req->body_len,
		    &why)) == NULL) {
			resp_error(resp, ERR_INVALID_REQUEST, why);
			return;
		}
		json_object_put(body);
	}
	if (auth_bearer_digest(ctx, req, resp, digest, &known_shape) != AUTH_OK)
		return;
	if (known_shape) {
		handler_client(req, &cbuf, &client);
		st = db_session_revoke(ctx->db, digest, "logout", &client,
		    &sess);
		if (st != DB_OK && st != DB_NOT_FOUND) {
			handler_db_failure(resp, st, "logout");
			return;
		}
		if (st == DB_OK) {
			handler_log_user(resp, sess.user_id);
			if (sess.state == SESSION_REUSED)
				auth_token_reused(&sess, &client, "logout");
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
handler_logout_all(struct ctx *ctx, const struct request *req,
    struct response *resp)
{
	struct client_buf cbuf;
	struct db_client client;
	struct db_session sess;
	json_object *root = NULL, *keep, *body;
	bool keep_current = false;
	enum db_status st;
	long long count;
	const char *why;

	if (req->body_len > 0) {
		if ((root = request_parse_json(req->body, req->body_len,
		    &why)) == NULL) {
			resp_error(resp, ERR_INVALID_REQUEST, why);
			return;
		}
		if (json_object_object_get_ex(root, "keep_current", &keep)) {
			if (!json_object_is_type(keep, json_type_boolean)) {
				json_object_put(root);
				resp_error(resp, ERR_INVALID_REQUEST,
				    "\"keep_current\" must be true or false");
				return;
			}
			keep_current = json_object_get_boolean(keep);
		}
		json_object_put(root);
	}
	if (auth_bearer(ctx, req, resp, &sess) != AUTH_OK)
		return;
	handler_log_user(resp, sess.user_id);
	handler_client(req, &cbuf, &client);
	st = db_session_revoke_all(ctx->db, sess.user_id, sess.id, keep_current,
	    &client, &count);
	if (st != DB_OK) {
		handler_db_failure(resp, st, "logout-all");
		return;
	}
	log_info("logout-all: user %s: %lld sessions revoked", resp->log_user,
	    count);
	if ((body = json_object_new_object()) == NULL) {
		resp_error(resp, ERR_SERVER_ERROR, "out of memory");
		return;
	}
	json_object_object_add(body, "revoked", json_object_new_int64(count));
	resp_json(resp, 200, body);
}

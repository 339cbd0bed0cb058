/*
 * handler_refresh.c -- POST /refresh: a new token for the same session.
 *
 * The old token stops working with the statement that issues the new
 * one; the session keeps its id and its absolute lifetime.  Of two
 * concurrent refreshes of one token exactly one wins (see db.c).  The
 * old token presented again, here or anywhere, revokes the session: it
 * was stolen, or a thief's copy was refreshed first.
 */
#include "config.h"

#include <inttypes.h>

#include "handler.h"
#include "log.h"

void
handler_refresh(struct ctx *ctx, const struct request *req,
    struct response *resp)
{
	uint8_t digest[TOKEN_DIGEST_LEN];
	struct client_buf cbuf;
	struct db_client client;
	struct db_session sess;
	struct token tok;
	enum db_status st;
	bool known_shape;

	if (auth_bearer_digest(ctx, req, resp, digest, &known_shape) != AUTH_OK)
		return;
	if (!known_shape) {
		resp_error(resp, ERR_INVALID_TOKEN, "the token is unknown");
		resp->challenge = CHALLENGE_INVALID_TOKEN;
		return;
	}
	if (!token_new(&tok)) {
		resp_error(resp, ERR_SERVER_ERROR, "internal error");
		return;
	}
	handler_client(req, &cbuf, &client);
	st = db_session_refresh(ctx->db, digest, tok.digest, &client,
	    &ctx->session, &sess);
	if (st == DB_OK && sess.state != SESSION_LIVE) {
		/* A replaced token presented again: its session is revoked. */
		handler_log_user(resp, sess.user_id);
		if (sess.state == SESSION_REUSED) {
			auth_token_reused(&sess, &client, "refresh");
			auth_reused_reply(resp);
		} else {
			resp_error(resp, ERR_INVALID_TOKEN,
			    "the token was revoked");
			resp->challenge = CHALLENGE_INVALID_TOKEN;
		}
	} else if (st == DB_OK) {
		handler_token_reply(resp, &tok, &sess);
		handler_log_user(resp, sess.user_id);
	} else if (st == DB_NOT_FOUND) {
		resp_error(resp, ERR_INVALID_TOKEN,
		    "the token is not live (expired, revoked or already "
		    "refreshed)");
		resp->challenge = CHALLENGE_INVALID_TOKEN;
	} else
		handler_db_failure(resp, st, "refresh");
	token_wipe(&tok);
}

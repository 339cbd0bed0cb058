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
handler_refresh(struct ctx *ctx, const struct api_request *req,
    const struct db_session *unused, struct response *resp)
{
	struct db_session sess;
	struct token tok;
	enum db_status st;

	(void)unused;
	if (!req->token_ours) {
		handler_token_dead(resp, "the token is unknown");
		return;
	}
	if (!token_new(&tok)) {
		resp_error(resp, ERR_SERVER_ERROR, "internal error");
		return;
	}
	st = db_session_refresh(ctx->db, req->digest, tok.digest, &req->client,
	    &ctx->session, &sess);
	if (st == DB_OK) {
		handler_forget_token(ctx, req->digest);
		if (sess.state != SESSION_LIVE)
			handler_forget_session(ctx, sess.id);
	}
	if (st == DB_OK && sess.state != SESSION_LIVE) {
		/* A replaced token presented again: its session is revoked. */
		handler_log_user(resp, sess.user_id);
		if (sess.state == SESSION_REUSED)
			handler_token_reused(&sess, &req->client, "refresh",
			    resp);
		else
			handler_token_dead(resp, "the token was revoked");
	} else if (st == DB_OK) {
		handler_token_reply(resp, &tok, &sess);
		handler_log_user(resp, sess.user_id);
	} else if (st == DB_NOT_FOUND)
		handler_token_dead(resp, "the token is not live (expired, "
		    "revoked or already refreshed)");
	else
		handler_db_failure(resp, st, "refresh");
	token_wipe(&tok);
}

/*
 * auth.c -- the credential of a request, found once, before its handler.
 *
 *	auth_token	the Bearer header (or the authorizer's Basic password)
 *			to the token's digest, with the 400/401 of RFC 6750
 *	auth_session	the digest to a live session, or 401/503
 */
#include "config.h"

#include <string.h>

#include "auth.h"
#include "authz.h"
#include "log.h"

int
auth_token(const struct request *http, struct api_request *req,
    struct response *resp)
{
	const char *token;
	size_t len;

	/*
	 * Apache's mod_authnz_fcgi as an AuthBasicProvider passes Basic
	 * credentials: their password must be a live token of the user named
	 * (handler_authorizer.c).  A real password is never checked here.
	 */
	if (http->role == ROLE_AUTHORIZER && http->remote_passwd != NULL) {
		token = http->remote_passwd;
		len = strlen(token);
	} else {
		switch (authz_parse_bearer(http->authorization, &token, &len)) {
		case BEARER_OK:
			break;
		case BEARER_MISSING:
			resp_error(resp, ERR_INVALID_TOKEN,
			    "a Bearer token is required");
			resp->challenge = CHALLENGE_PLAIN;
			return 0;
		case BEARER_MALFORMED:
			resp_error(resp, ERR_INVALID_REQUEST,
			    "malformed Bearer credentials");
			resp->challenge = CHALLENGE_INVALID_REQUEST;
			return 0;
		}
	}
	req->token_ours = token_well_formed(token, len);
	token_digest(token, len, req->digest);
	return 1;
}

int
auth_session(struct ctx *ctx, const struct api_request *req,
    struct response *resp, struct db_session *sess)
{
	enum db_status st;

	/*
	 * A token of another shape was never issued by us: no lookup.  The
	 * lookup itself is by digest through a unique index; the digest of a
	 * guess reveals nothing about a real token, so timing is no concern.
	 */
	if (!req->token_ours) {
		handler_token_dead(resp, "the token is unknown");
		return 0;
	}
	st = db_session_lookup(ctx->db, req->digest, &ctx->session, &req->client,
	    sess);
	if (st == DB_NOT_FOUND) {
		handler_token_dead(resp, "the token is unknown");
		return 0;
	}
	if (st != DB_OK) {
		handler_db_failure(resp, st, "auth");
		return 0;
	}
	switch (sess->state) {
	case SESSION_LIVE:
		return 1;
	case SESSION_REUSED:
		handler_log_user(resp, sess->user_id);
		handler_token_reused(sess, &req->client, "auth", resp);
		return 0;
	case SESSION_EXPIRED:
		handler_token_dead(resp, "the token expired");
		return 0;
	default:
		handler_token_dead(resp, "the token was revoked");
		return 0;
	}
}

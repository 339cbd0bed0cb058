/*
 * handler_logout.c -- POST /logout: revoke the presented token's session.
 *
 * Idempotent as RFC 7009 section 2.2 asks of revocation: a well-formed
 * token that is already revoked, expired or unknown also gets 200, so a
 * client that retries a logout never sees an error for it.
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
	enum db_status st;
	bool known_shape;
	json_object *body;

	if (auth_bearer_digest(ctx, req, resp, digest, &known_shape) != AUTH_OK)
		return;
	if (known_shape) {
		handler_client(req, &cbuf, &client);
		st = db_session_revoke(ctx->db, digest, "logout", &client);
		if (st != DB_OK && st != DB_NOT_FOUND) {
			handler_db_failure(resp, st, "logout");
			return;
		}
		if (st == DB_OK)
			log_debug("logout: a session was revoked");
	}
	if ((body = json_object_new_object()) == NULL) {
		resp_error(resp, ERR_SERVER_ERROR, "out of memory");
		return;
	}
	json_object_object_add(body, "status",
	    json_object_new_string("logged_out"));
	resp_json(resp, 200, body);
}

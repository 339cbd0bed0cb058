/*
 * handler_validate.c -- GET|HEAD /validate: is this token live?
 *
 * Used by clients and by the web server's own check (nginx auth_request):
 * the user comes back both in the body and in X-Auth-* headers.  This is
 * the hot path: one statement, which also renews the session when due.
 */
#include "config.h"


#include "handler.h"

void
handler_validate(struct ctx *ctx, const struct api_request *req,
    const struct db_session *sess, struct response *resp)
{
	json_object *body;
	char when[32];

	(void)ctx;
	(void)req;
	if ((body = json_object_new_object()) == NULL) {
		resp_error(resp, ERR_SERVER_ERROR, "out of memory");
		return;
	}
	json_object_object_add(body, "user_id",
	    json_object_new_int64(sess->user_id));
	json_object_object_add(body, "username",
	    json_object_new_string(sess->username));
	json_object_object_add(body, "session_id",
	    json_object_new_string(sess->id));
	json_object_object_add(body, "expires_at", json_object_new_string(
	    resp_time(sess->expires_at, when, sizeof(when))));
	json_object_object_add(body, "expires_in",
	    json_object_new_int64(sess->expires_at - sess->now));
	resp_json(resp, 200, body);
	if (!resp_header(resp, "X-Auth-User", sess->username) ||
	    !resp_header(resp, "X-Auth-User-Id", resp->log_user_buf) ||
	    !resp_header(resp, "X-Auth-Session-Id", sess->id))
		resp_error(resp, ERR_SERVER_ERROR, "out of memory");
}

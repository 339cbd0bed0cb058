/*
 * handler_sessions.c -- the user's sessions (devices).
 *
 *	handler_sessions_list	GET /sessions
 *	handler_session_delete	DELETE /sessions/{session_id}
 *
 * A user sees and ends only their own live sessions: every statement is
 * bound to the user of the token, and anything else is a plain 404.
 */
#include "config.h"

#include <string.h>

#include "handler.h"
#include "log.h"
#include "text.h"

/* A JSON string, or null for a NULL pointer. */
static json_object *
sessions_string(const char *s)
{
	return s != NULL ? json_object_new_string(s) : NULL;
}

void
handler_sessions_list(struct ctx *ctx, const struct api_request *req,
    const struct db_session *sess, struct response *resp)
{
	struct db_session_list list;
	json_object *body, *array;
	enum db_status st;
	char when[32];
	size_t i;

	(void)req;
	st = db_session_list(ctx->db, sess->user_id, sess->id, &list);
	if (st != DB_OK) {
		handler_db_failure(resp, st, "sessions");
		return;
	}
	body = json_object_new_object();
	array = json_object_new_array();
	if (body == NULL || array == NULL) {
		json_object_put(body);
		json_object_put(array);
		db_session_list_free(&list);
		resp_error(resp, ERR_SERVER_ERROR, "out of memory");
		return;
	}
	for (i = 0; i < list.n; i++) {
		const struct db_session_row *r = &list.rows[i];
		json_object *o = json_object_new_object();

		if (o == NULL)
			continue;
		json_object_object_add(o, "session_id",
		    json_object_new_string(r->id));
		json_object_object_add(o, "device", sessions_string(r->device));
		json_object_object_add(o, "created_at", json_object_new_string(
		    resp_time(r->created_at, when, sizeof(when))));
		json_object_object_add(o, "last_used_at", json_object_new_string(
		    resp_time(r->last_used_at, when, sizeof(when))));
		json_object_object_add(o, "expires_at", json_object_new_string(
		    resp_time(r->expires_at, when, sizeof(when))));
		json_object_object_add(o, "ip", sessions_string(r->ip));
		json_object_object_add(o, "user_agent",
		    sessions_string(r->user_agent));
		json_object_object_add(o, "current",
		    json_object_new_boolean(r->current));
		json_object_array_add(array, o);
	}
	db_session_list_free(&list);
	json_object_object_add(body, "sessions", array);
	resp_json(resp, 200, body);
}

void
handler_session_delete(struct ctx *ctx, const struct api_request *req,
    const struct db_session *sess, struct response *resp)
{
	enum db_status st;
	json_object *body;

	st = db_session_revoke_id(ctx->db, sess->user_id, req->session_id,
	    &req->client);
	if (st == DB_NOT_FOUND) {
		resp_error(resp, ERR_NOT_FOUND, "no such session");
		return;
	}
	if (st != DB_OK) {
		handler_db_failure(resp, st, "sessions");
		return;
	}
	handler_forget_session(ctx, req->session_id);
	if ((body = json_object_new_object()) == NULL) {
		resp_error(resp, ERR_SERVER_ERROR, "out of memory");
		return;
	}
	json_object_object_add(body, "status", json_object_new_string("revoked"));
	resp_json(resp, 200, body);
}

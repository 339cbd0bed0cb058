/*
 * handler_health.c -- GET /health: is this worker able to serve?
 *
 * "ok" means this process answers and its database connection works;
 * a load balancer may take the 503 as "send traffic elsewhere".
 */
#include "config.h"

#include "handler.h"

void
handler_health(struct ctx *ctx, const struct api_request *req,
    const struct db_session *sess, struct response *resp)
{
	enum db_status st;
	json_object *body;

	(void)req;
	(void)sess;
	st = db_ping(ctx->db);
	if (st != DB_OK) {
		resp_error(resp, ERR_SERVICE_UNAVAILABLE,
		    "the database is unreachable");
		resp->retry_after = RETRY_AFTER_DB;
		return;
	}
	if ((body = json_object_new_object()) == NULL) {
		resp_error(resp, ERR_SERVER_ERROR, "out of memory");
		return;
	}
	json_object_object_add(body, "status", json_object_new_string("ok"));
	json_object_object_add(body, "database", json_object_new_string("ok"));
	resp_json(resp, 200, body);
}

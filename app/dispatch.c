/*
 * dispatch.c -- one request from its FastCGI parameters to its handler.
 *
 *	dispatch		route, check, read, parse, authenticate, run
 *
 * The checks run in this order, each answering at once when it fails:
 *
 *	role		an unsupported FastCGI role: 500
 *	route		no such path: 404; not that method: 405 with Allow
 *	TLS		not over HTTPS while require_tls: 403
 *	parameter	a session id that is not a UUID: 404
 *	body		Content-Length unreadable: 400, over max_body: 413
 *			(before a byte is read), not application/json: 415,
 *			shorter than announced: 400, not the route's JSON: 400
 *	credential	no token: 401, malformed: 400; for a route that needs
 *			a session, its lookup: 401 when not live, 503
 *	handler		the route's handler, with all of the above
 *
 * Only the last two touch the database.
 */
#include "config.h"

#include <string.h>

#include "auth.h"
#include "dispatch.h"
#include "log.h"
#include "router.h"
#include "text.h"

/* The route of a request, or NULL with resp set (500, 404 or 405). */
static const struct route *
dispatch_route(const struct request *http, struct response *resp)
{
	const struct route *route;
	const char *allow;

	switch (http->role) {
	case ROLE_AUTHORIZER:
		if (http->apache_role == APACHE_ROLE_OTHER) {
			log_error("authorizer: unknown FCGI_APACHE_ROLE");
			resp_error(resp, ERR_SERVER_ERROR,
			    "unsupported authorizer role");
			return NULL;
		}
		return &router_authorizer;
	case ROLE_RESPONDER:
		break;
	case ROLE_OTHER:
		resp_error(resp, ERR_SERVER_ERROR,
		    "unsupported FastCGI role (RESPONDER and AUTHORIZER only)");
		return NULL;
	}
	if ((route = router_match(http->path, http->method, &allow)) != NULL)
		return route;
	if (allow != NULL) {
		resp_error(resp, ERR_METHOD_NOT_ALLOWED,
		    "method not allowed for this resource");
		resp->allow = allow;
	} else
		resp_error(resp, ERR_NOT_FOUND, "no such resource");
	return NULL;
}

/*
 * The route's body: read from src and parsed against the route.  Returns
 * 1, or 0 with resp set (or resp->drop for a body that came too late).
 */
static int
dispatch_body(const struct ctx *ctx, const struct route *route,
    struct request *http, const struct body_source *src,
    struct api_request *req, struct response *resp)
{
	const char *why;
	json_object *root;

	if (route->body == BODY_NONE)
		return 1;
	if (http->content_length_bad) {
		resp_error(resp, ERR_INVALID_REQUEST, "invalid Content-Length");
		return 0;
	}
	/* Refused before a byte of it is read. */
	if (http->content_length > (long long)ctx->conf->max_body) {
		resp_error(resp, ERR_PAYLOAD_TOO_LARGE,
		    "request body is too large");
		return 0;
	}
	if ((route->body == BODY_JSON || http->content_length > 0) &&
	    !request_is_json(http->content_type)) {
		resp_error(resp, ERR_UNSUPPORTED_MEDIA_TYPE,
		    "the request body must be application/json");
		return 0;
	}
	if (http->content_length > 0) {
		switch (src != NULL ? src->read(src->arg, http) :
		    BODY_READ_SHORT) {
		case BODY_READ_OK:
			break;
		case BODY_READ_LATE:
			resp->drop = true;
			return 0;
		case BODY_READ_SHORT:
			resp_error(resp, ERR_INVALID_REQUEST,
			    "request body is shorter than its Content-Length");
			return 0;
		}
	}
	/* An optional body left empty has nothing to check. */
	if (http->body_len == 0 && route->body == BODY_JSON_OPTIONAL)
		return 1;
	if (route->parse != NULL) {
		if (route->parse(http->body != NULL ? http->body : "",
		    http->body_len, req, &why))
			return 1;
	} else if ((root = request_parse_json(http->body != NULL ?
	    http->body : "", http->body_len, &why)) != NULL) {
		/* No member is defined, but a body that is sent must be JSON. */
		json_object_put(root);
		return 1;
	}
	resp_error(resp, ERR_INVALID_REQUEST, why);
	return 0;
}

void
dispatch(struct ctx *ctx, struct request *http, const struct body_source *src,
    struct response *resp)
{
	const struct route *route;
	struct api_request req;
	struct db_session sess, *live = NULL;

	memset(&req, 0, sizeof(req));
	req.http = http;
	if ((route = dispatch_route(http, resp)) == NULL)
		return;
	if (ctx->conf->require_tls && !http->https) {
		resp_error(resp, ERR_TLS_REQUIRED, "use HTTPS");
		return;
	}
	if (route->param == PARAM_SESSION_ID) {
		req.session_id = http->path + strlen(route->path);
		if (!text_uuid_valid(req.session_id)) {
			resp_error(resp, ERR_NOT_FOUND, "no such session");
			return;
		}
	}
	if (!dispatch_body(ctx, route, http, src, &req, resp))
		goto out;
	req.client.ip = text_sanitize(http->remote_addr, req.client_buf.ip,
	    REMOTE_ADDR_MAX);
	req.client.user_agent = text_sanitize(http->user_agent,
	    req.client_buf.user_agent, USER_AGENT_MAX);
	if (route->credential != CRED_NONE && !auth_token(http, &req, resp))
		goto out;
	if (route->credential == CRED_SESSION) {
		if (!auth_session(ctx, &req, resp, &sess))
			goto out;
		live = &sess;
		handler_log_user(resp, sess.user_id);
	}
	route->handler(ctx, &req, live, resp);
out:
	request_login_free(&req.login);	/* nothing to do if zero */
	explicit_bzero(req.digest, sizeof(req.digest));
}

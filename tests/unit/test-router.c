/*
 * test-router.c -- the route table: each path and method of SPEC
 * section 2 to its handler and body expectation, 405 with the exact
 * Allow header, 404 for everything else (paths match exactly).
 */
#include "config.h"

#include <string.h>

#include "router.h"
#include "tap.h"

/* Does path + method find the route with this handler and body? */
static int
found(const char *path, enum http_method method, handler_fn handler,
    enum route_body body)
{
	const struct route *route;
	const char *allow;

	route = router_match(path, method, &allow);
	return route != NULL && route->handler == handler &&
	    route->body == body && strcmp(route->path, path) == 0;
}

/* Is path + method a 405 whose Allow header is exactly allow? */
static int
not_allowed(const char *path, enum http_method method, const char *allow)
{
	const char *got;

	return router_match(path, method, &got) == NULL && got != NULL &&
	    strcmp(got, allow) == 0;
}

static int
not_found(const char *path, enum http_method method)
{
	const char *allow = "";

	return router_match(path, method, &allow) == NULL && allow == NULL;
}

/* The route of path + method, or NULL. */
static const struct route *
route_of(const char *path, enum http_method method)
{
	const char *allow;

	return router_match(path, method, &allow);
}

int
main(void)
{
	ok(found("/login", METHOD_POST, handler_login, BODY_JSON),
	    "POST /login is handler_login with a required JSON body");
	ok(found("/logout", METHOD_POST, handler_logout, BODY_JSON_OPTIONAL),
	    "POST /logout is handler_logout with an optional JSON body");
	ok(found("/validate", METHOD_GET, handler_validate, BODY_NONE),
	    "GET /validate is handler_validate without a body");
	ok(found("/validate", METHOD_HEAD, handler_validate, BODY_NONE),
	    "HEAD /validate is handler_validate without a body");
	ok(found("/health", METHOD_GET, handler_health, BODY_NONE),
	    "GET /health is handler_health without a body");

	ok(found("/refresh", METHOD_POST, handler_refresh, BODY_JSON_OPTIONAL),
	    "POST /refresh is handler_refresh with an optional JSON body");
	ok(found("/sessions", METHOD_GET, handler_sessions_list, BODY_NONE),
	    "GET /sessions is handler_sessions_list without a body");
	ok(found("/logout-all", METHOD_POST, handler_logout_all,
	    BODY_JSON_OPTIONAL),
	    "POST /logout-all is handler_logout_all with an optional JSON body");
	ok(route_of("/sessions/5b0c3a4e-0000-4000-8000-000000000001",
	    METHOD_DELETE) != NULL && route_of("/sessions/5b0c3a4e-0000-4000-"
	    "8000-000000000001", METHOD_DELETE)->handler ==
	    handler_session_delete,
	    "DELETE /sessions/{id} is handler_session_delete (prefix)");
	ok(route_of("/sessions/", METHOD_DELETE) != NULL &&
	    route_of("/sessions/", METHOD_DELETE)->handler ==
	    handler_session_delete,
	    "DELETE /sessions/ reaches the handler, which answers 404");
	ok(not_allowed("/sessions/5b0c3a4e-0000-4000-8000-000000000001",
	    METHOD_GET, "DELETE"),
	    "GET /sessions/{id} is 405 with Allow: DELETE");
	ok(not_allowed("/sessions", METHOD_DELETE, "GET"),
	    "DELETE /sessions is 405 with Allow: GET");
	ok(not_allowed("/refresh", METHOD_GET, "POST"),
	    "GET /refresh is 405 with Allow: POST");
	ok(not_allowed("/logout-all", METHOD_GET, "POST"),
	    "GET /logout-all is 405 with Allow: POST");
	ok(not_found("/sessionsx", METHOD_GET),
	    "/sessionsx is not /sessions (404)");
	ok(not_found("/refresh/", METHOD_POST),
	    "/refresh/ with a trailing slash is 404");

	ok(not_allowed("/login", METHOD_GET, "POST"),
	    "GET /login is 405 with Allow: POST");
	ok(not_allowed("/login", METHOD_HEAD, "POST"),
	    "HEAD /login is 405 with Allow: POST");
	ok(not_allowed("/login", METHOD_PUT, "POST"),
	    "PUT /login is 405 with Allow: POST");
	ok(not_allowed("/logout", METHOD_GET, "POST"),
	    "GET /logout is 405 with Allow: POST");
	ok(not_allowed("/logout", METHOD_DELETE, "POST"),
	    "DELETE /logout is 405 with Allow: POST");
	ok(not_allowed("/validate", METHOD_POST, "GET, HEAD"),
	    "POST /validate is 405 with Allow: GET, HEAD");
	ok(not_allowed("/validate", METHOD_OPTIONS, "GET, HEAD"),
	    "OPTIONS /validate is 405 with Allow: GET, HEAD");
	ok(not_allowed("/health", METHOD_POST, "GET"),
	    "POST /health is 405 with Allow: GET");
	ok(not_allowed("/health", METHOD_HEAD, "GET"),
	    "HEAD /health is 405 with Allow: GET");
	ok(not_allowed("/login", METHOD_OTHER, "POST"),
	    "an unknown method on a known path is 405");

	ok(not_found("/nowhere", METHOD_GET), "an unknown path is 404");
	ok(not_found("/login/", METHOD_POST),
	    "a trailing slash does not match (/login/ is 404)");
	ok(not_found("/LOGIN", METHOD_POST), "paths are case-sensitive");
	ok(not_found("", METHOD_GET), "an empty PATH_INFO is 404");
	ok(not_found("/", METHOD_GET), "/ is 404");
	ok(not_found("login", METHOD_POST), "a path without its '/' is 404");
	ok(not_found("/api/auth/login", METHOD_POST),
	    "the mount point is not part of PATH_INFO "
	    "(/api/auth/login is 404)");
	ok(not_found("/login/extra", METHOD_POST),
	    "a longer path with a route as prefix is 404");
	ok(not_found("/validatex", METHOD_GET),
	    "a route name with a suffix is 404");
	return tap_done();
}

/*
 * router.c -- the route table.
 *
 *	router_match	path and method to a route
 *
 * Paths are PATH_INFO below the mount point the web server chose
 * (/api/auth by convention).  A path ending in '/' is a prefix whose
 * rest (a session id) the handler reads; the others match exactly.
 */
#include "config.h"

#include <string.h>

#include "router.h"

#define GET	METHOD_BIT(METHOD_GET)
#define HEAD	METHOD_BIT(METHOD_HEAD)
#define POST	METHOD_BIT(METHOD_POST)
#define DELETE	METHOD_BIT(METHOD_DELETE)

static const struct route routes[] = {
	{ "/login",	POST,		"POST",		BODY_JSON,
	    handler_login },
	{ "/logout",	POST,		"POST",		BODY_JSON_OPTIONAL,
	    handler_logout },
	{ "/validate",	GET | HEAD,	"GET, HEAD",	BODY_NONE,
	    handler_validate },
	{ "/health",	GET,		"GET",		BODY_NONE,
	    handler_health },
	{ "/refresh",	POST,		"POST",		BODY_JSON_OPTIONAL,
	    handler_refresh },
	{ "/sessions",	GET,		"GET",		BODY_NONE,
	    handler_sessions_list },
	{ "/sessions/",	DELETE,		"DELETE",	BODY_NONE,
	    handler_session_delete },
	{ "/logout-all", POST,		"POST",		BODY_JSON_OPTIONAL,
	    handler_logout_all },
};

enum route_match
router_match(const char *path, enum http_method method,
    const struct route **route)
{
	size_t i;

	*route = NULL;
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		size_t len = strlen(routes[i].path);

		if (routes[i].path[len - 1] == '/' ?
		    strncmp(path, routes[i].path, len) != 0 :
		    strcmp(path, routes[i].path) != 0)
			continue;
		*route = &routes[i];
		return (routes[i].methods & METHOD_BIT(method)) != 0 ?
		    ROUTE_FOUND : ROUTE_METHOD_NOT_ALLOWED;
	}
	return ROUTE_NOT_FOUND;
}

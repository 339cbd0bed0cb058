/*
 * router.c -- the route table.
 *
 *	router_match	path and method to a route
 *
 * Paths are PATH_INFO below the mount point the web server chose
 * (/api/auth by convention); they match exactly, without trailing slash.
 */
#include "config.h"

#include <string.h>

#include "router.h"

#define GET	METHOD_BIT(METHOD_GET)
#define HEAD	METHOD_BIT(METHOD_HEAD)
#define POST	METHOD_BIT(METHOD_POST)

static const struct route routes[] = {
	{ "/login",	POST,		"POST",		BODY_JSON,
	    handler_login },
	{ "/logout",	POST,		"POST",		BODY_JSON_OPTIONAL,
	    handler_logout },
	{ "/validate",	GET | HEAD,	"GET, HEAD",	BODY_NONE,
	    handler_validate },
	{ "/health",	GET,		"GET",		BODY_NONE,
	    handler_health },
};

enum route_match
router_match(const char *path, enum http_method method,
    const struct route **route)
{
	size_t i;

	*route = NULL;
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (strcmp(path, routes[i].path) != 0)
			continue;
		*route = &routes[i];
		return (routes[i].methods & METHOD_BIT(method)) != 0 ?
		    ROUTE_FOUND : ROUTE_METHOD_NOT_ALLOWED;
	}
	return ROUTE_NOT_FOUND;
}

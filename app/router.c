/*
 * router.c -- the route table.
 *
 *	router_match		path and method to a route
 *	router_authorizer	the route of the Authorizer role
 *
 * Paths are PATH_INFO below the mount point the web server chose
 * (/api/auth by convention).  A path ending in '/' is a prefix followed
 * by the route's parameter; the others match exactly.  A row says all a
 * route asks of a request: its methods, its credential, its body (and
 * the parser that checks its members) and its parameter.  dispatch.c
 * checks all of it before the handler runs.
 */
#include "config.h"

#include <string.h>

#include "router.h"

#define GET	METHOD_BIT(METHOD_GET)
#define HEAD	METHOD_BIT(METHOD_HEAD)
#define POST	METHOD_BIT(METHOD_POST)
#define DELETE	METHOD_BIT(METHOD_DELETE)

static const struct route routes[] = {
	{ "/login",	POST,		"POST",		CRED_NONE,
	    BODY_JSON,		body_login,		PARAM_NONE,
	    handler_login },
	{ "/logout",	POST,		"POST",		CRED_TOKEN,
	    BODY_JSON_OPTIONAL,	NULL,			PARAM_NONE,
	    handler_logout },
	{ "/validate",	GET | HEAD,	"GET, HEAD",	CRED_SESSION,
	    BODY_NONE,		NULL,			PARAM_NONE,
	    handler_validate },
	{ "/health",	GET,		"GET",		CRED_NONE,
	    BODY_NONE,		NULL,			PARAM_NONE,
	    handler_health },
	{ "/refresh",	POST,		"POST",		CRED_TOKEN,
	    BODY_JSON_OPTIONAL,	NULL,			PARAM_NONE,
	    handler_refresh },
	{ "/sessions",	GET,		"GET",		CRED_SESSION,
	    BODY_NONE,		NULL,			PARAM_NONE,
	    handler_sessions_list },
	{ "/sessions/",	DELETE,		"DELETE",	CRED_SESSION,
	    BODY_NONE,		NULL,			PARAM_SESSION_ID,
	    handler_session_delete },
	{ "/logout-all", POST,		"POST",		CRED_SESSION,
	    BODY_JSON_OPTIONAL,	body_logout_all,	PARAM_NONE,
	    handler_logout_all },
};

/*
 * The web server asks before it serves a protected request, whatever its
 * path and method; the answer is about the credential only, which may be
 * the password of Basic credentials too (dispatch.c).
 */
const struct route router_authorizer = {
	"", ~0u, NULL, CRED_SESSION, BODY_NONE, NULL, PARAM_NONE,
	handler_authorizer
};

const struct route *
router_match(const char *path, enum http_method method, const char **allow)
{
	size_t i;

	*allow = NULL;
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		size_t len = strlen(routes[i].path);

		if (routes[i].param != PARAM_NONE ?
		    strncmp(path, routes[i].path, len) != 0 :
		    strcmp(path, routes[i].path) != 0)
			continue;
		if ((routes[i].methods & METHOD_BIT(method)) == 0) {
			*allow = routes[i].allow;
			return NULL;
		}
		return &routes[i];
	}
	return NULL;
}

/*
 * router.h -- the route table: everything a route asks of a request.
 */
#ifndef MDAUTH_ROUTER_H
#define MDAUTH_ROUTER_H

#include "handler.h"
#include "request.h"

/* What a route expects of the request body. */
enum route_body {
	BODY_NONE,		/* a body, if any, is not read */
	BODY_JSON_OPTIONAL,	/* may be empty; if not, a JSON object */
	BODY_JSON,		/* a JSON object, required */
};

/* The credential a route needs, found and checked before its handler. */
enum route_credential {
	CRED_NONE,		/* none is read */
	CRED_TOKEN,		/* a Bearer token, parsed: its digest */
	CRED_SESSION,		/* a Bearer token of a live session, looked up */
};

/* What follows the path of a prefix route. */
enum route_param {
	PARAM_NONE,		/* an exact path */
	PARAM_SESSION_ID,	/* a session id (UUID), else 404 */
};

/*
 * Parse a route's JSON body (an object, already checked to be one, or
 * NULL when an optional body is empty) into the request.  Returns 1, or 0
 * with a reason for the client in *why.
 */
typedef int (*body_parser)(const char *body, size_t len,
    struct api_request *req, const char **why);

/* The parsers of the bodies that have members (bodies.c). */
int	body_login(const char *, size_t, struct api_request *, const char **);
int	body_logout_all(const char *, size_t, struct api_request *,
	    const char **);

struct route {
	const char	*path;		/* exact, or a prefix ending in '/' */
	unsigned	 methods;	/* METHOD_BIT() set */
	const char	*allow;		/* the Allow header of a 405 */
	enum route_credential credential;
	enum route_body	 body;
	body_parser	 parse;		/* NULL: no member is defined */
	enum route_param param;
	handler_fn	 handler;
};

/*
 * Find the route of a path and method.  Returns the route, or NULL with
 * *allow set to the methods the path does take (405), or NULL for an
 * unknown path (404, *allow NULL).
 */
const struct route *router_match(const char *path, enum http_method method,
	    const char **allow);

/* The Authorizer role's route: any path, its credentials only. */
extern const struct route router_authorizer;

#endif

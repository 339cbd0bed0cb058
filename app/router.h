/*
 * router.h -- the route table: PATH_INFO and method to handler.
 */
#ifndef MDAUTH_ROUTER_H
#define MDAUTH_ROUTER_H

#include "handler.h"
#include "request.h"

/* What a route expects of the request body. */
enum route_body {
	BODY_NONE,		/* a body, if any, is not read */
	BODY_JSON_OPTIONAL,	/* may be empty; if not, it is application/json */
	BODY_JSON,		/* application/json, required */
	ROUTE_BODY__MAX
};

struct route {
	const char	*path;		/* exact, or a prefix when it ends in '/' */
	unsigned	 methods;	/* METHOD_BIT() set */
	const char	*allow;		/* the Allow header of a 405 */
	enum route_body	 body;
	handler_fn	 handler;
};

enum route_match {
	ROUTE_FOUND,
	ROUTE_NOT_FOUND,
	ROUTE_METHOD_NOT_ALLOWED,	/* *route is set: its allow is the answer */
	ROUTE_MATCH__MAX
};

/* Find the route of a path and method. */
enum route_match router_match(const char *path, enum http_method method,
	    const struct route **route);

#endif

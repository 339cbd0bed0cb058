/*
 * dispatch.h -- one request from its FastCGI parameters to its handler.
 */
#ifndef MDAUTH_DISPATCH_H
#define MDAUTH_DISPATCH_H

#include "handler.h"

/* How reading a request body went. */
enum body_read {
	BODY_READ_OK,
	BODY_READ_SHORT,	/* the stream ended before CONTENT_LENGTH */
	BODY_READ_LATE,		/* the read deadline passed: drop the request */
};

/* Where the body comes from: the worker reads it (with its deadline). */
struct body_source {
	enum body_read	(*read)(void *arg, struct request *http);
	void		*arg;
};

/*
 * Answer a request whose parameters are in http: route it, check it in
 * full (TLS, path parameter, Content-Length, size, content type), read
 * its body from src (NULL: there is none) and parse it against the
 * route, find its credential and session, then run its handler.  Every
 * check that fails answers before any database work, except the
 * credential's session lookup.  A body that came too late sets
 * resp->drop: nothing is answered.
 */
void	dispatch(struct ctx *ctx, struct request *http,
	    const struct body_source *src, struct response *resp);

#endif

/*
 * auth.h -- the credential of a request: its token, and the token's live
 * session.  Used by dispatch.c only, before any handler runs.
 */
#ifndef MDAUTH_AUTH_H
#define MDAUTH_AUTH_H

#include "handler.h"

/*
 * Find the presented token: the Bearer credentials, or for the Authorizer
 * role the password of Basic credentials when the web server passes them.
 * Returns 1 with req->digest and req->token_ours set, or 0 with resp set
 * (missing: 401; malformed Bearer credentials: 400).
 */
int	auth_token(const struct request *http, struct api_request *req,
	    struct response *resp) __attribute__((warn_unused_result));

/*
 * The live session of req's token, renewed when due.  Returns 1 with
 * *sess, or 0 with resp set: 401 for a token that is not live (a replaced
 * token presented again revokes its session), 503 for the database.
 */
int	auth_session(struct ctx *ctx, const struct api_request *req,
	    struct response *resp, struct db_session *sess)
	    __attribute__((warn_unused_result));

#endif

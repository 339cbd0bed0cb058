/*
 * authz.h -- the Authorization request header (RFC 7235, RFC 6750 section 2.1).
 */
#ifndef MDAUTH_AUTHZ_H
#define MDAUTH_AUTHZ_H

#include <stddef.h>

enum bearer_status {
	BEARER_OK,		/* a well-formed b64token */
	BEARER_MISSING,		/* no header, or another scheme: plain challenge */
	BEARER_MALFORMED,	/* Bearer with empty, bad or over-long credentials */
};

/*
 * Find the Bearer credentials in an Authorization header value (NULL when
 * the header is absent).  The scheme is case-insensitive; the credentials
 * must be a b64token of 1 to AUTHORIZATION_MAX bytes.  On BEARER_OK,
 * *token and *len point into header.
 */
enum bearer_status authz_parse_bearer(const char *header, const char **token,
	    size_t *len);

#endif

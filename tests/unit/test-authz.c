/*
 * test-authz.c -- Bearer credentials in the Authorization header
 * (RFC 6750 section 2.1): which header values are a token, which are
 * another scheme (plain 401 challenge) and which are malformed (400).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "authz.h"
#include "request.h"
#include "tap.h"

/* Parse header and report whether it gave status and exactly want. */
static int
parses_to(const char *header, enum bearer_status status, const char *want)
{
	const char *token;
	size_t len;

	if (authz_parse_bearer(header, &token, &len) != status)
		return 0;
	if (want == NULL)
		return token == NULL && len == 0;
	return token != NULL && len == strlen(want) &&
	    memcmp(token, want, len) == 0;
}

/* "Bearer " followed by n token characters (and a NUL). */
static char *
bearer_of_length(size_t n)
{
	char *h = malloc(7 + n + 1);

	if (h == NULL)
		abort();
	memcpy(h, "Bearer ", 7);
	memset(h + 7, 'a', n);
	h[7 + n] = '\0';
	return h;
}

int
main(void)
{
	const char *hdr, *token;
	size_t len;
	char *h;

	ok(parses_to(NULL, BEARER_MISSING, NULL),
	    "no Authorization header is BEARER_MISSING");
	ok(parses_to("Basic dXNlcjpwYXNz", BEARER_MISSING, NULL),
	    "the Basic scheme is BEARER_MISSING (plain challenge)");
	ok(parses_to("", BEARER_MISSING, NULL),
	    "an empty header value is BEARER_MISSING");
	ok(parses_to("Bearerx abc", BEARER_MISSING, NULL),
	    "a scheme that only starts with Bearer is another scheme");
	ok(parses_to("Bearer", BEARER_MALFORMED, NULL),
	    "\"Bearer\" without credentials is malformed");
	ok(parses_to("Bearer ", BEARER_MALFORMED, NULL),
	    "\"Bearer \" with empty credentials is malformed");
	ok(parses_to("Bearer    ", BEARER_MALFORMED, NULL),
	    "\"Bearer\" followed by spaces only is malformed");

	ok(parses_to("Bearer mda_abc", BEARER_OK, "mda_abc"),
	    "\"Bearer TOKEN\" gives the token");
	ok(parses_to("bearer mda_abc", BEARER_OK, "mda_abc"),
	    "the scheme is case-insensitive (lower case)");
	ok(parses_to("BEARER mda_abc", BEARER_OK, "mda_abc"),
	    "the scheme is case-insensitive (upper case)");

	hdr = "Bearer xyz";
	ok(authz_parse_bearer(hdr, &token, &len) == BEARER_OK &&
	    token == hdr + 7 && len == 3,
	    "the token points into the header value, not a copy");

	ok(parses_to("Bearer    abc", BEARER_OK, "abc"),
	    "several spaces between scheme and token are allowed");
	ok(parses_to("Bearer\tabc", BEARER_OK, "abc"),
	    "a tab between scheme and token is allowed");
	ok(parses_to("Bearer abc   ", BEARER_OK, "abc"),
	    "trailing spaces are not part of the token");
	ok(parses_to("Bearer abc==", BEARER_OK, "abc=="),
	    "trailing '=' padding is part of the token");
	ok(parses_to("Bearer aZ09-._~+/", BEARER_OK, "aZ09-._~+/"),
	    "every b64token character is accepted");

	ok(parses_to("Bearer a=b", BEARER_MALFORMED, NULL),
	    "'=' inside the token is malformed");
	ok(parses_to("Bearer =", BEARER_MALFORMED, NULL),
	    "a token of padding only is malformed");
	ok(parses_to("Bearer ab$c", BEARER_MALFORMED, NULL),
	    "'$' in the token is malformed");
	ok(parses_to("Bearer \"abc\"", BEARER_MALFORMED, NULL),
	    "a quoted token is malformed");
	ok(parses_to("Bearer abc,def", BEARER_MALFORMED, NULL),
	    "',' in the token is malformed");
	ok(parses_to("Bearer abc def", BEARER_MALFORMED, NULL),
	    "a space inside the token is malformed");
	ok(parses_to("Bearer ab\xc3\xa9", BEARER_MALFORMED, NULL),
	    "a non-ASCII byte in the token is malformed");
	ok(parses_to("Bearer abc\r\n", BEARER_MALFORMED, NULL),
	    "a CR LF after the token is malformed");

	h = bearer_of_length(AUTHORIZATION_MAX);
	ok(authz_parse_bearer(h, &token, &len) == BEARER_OK &&
	    len == AUTHORIZATION_MAX,
	    "a token of exactly 4096 bytes is accepted");
	free(h);
	h = bearer_of_length(AUTHORIZATION_MAX + 1);
	ok(authz_parse_bearer(h, &token, &len) == BEARER_MALFORMED &&
	    token == NULL && len == 0,
	    "a token of 4097 bytes is malformed");
	free(h);
	h = bearer_of_length(AUTHORIZATION_MAX + 1);
	h[7 + AUTHORIZATION_MAX] = '=';
	ok(authz_parse_bearer(h, &token, &len) == BEARER_MALFORMED,
	    "'=' padding counts toward the 4096 bytes "
	    "(4096 + '=' is malformed)");
	free(h);
	return tap_done();
}

/*
 * authz.c -- the Authorization request header.
 *
 *	authz_parse_bearer	Bearer credentials out of the header value
 *
 * RFC 6750 section 2.1:
 *	credentials = "Bearer" 1*SP b64token
 *	b64token    = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "authz.h"
#include "request.h"

static int
authz_b64token_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	    c == '~' || c == '+' || c == '/';
}

enum bearer_status
authz_parse_bearer(const char *header, const char **token, size_t *len)
{
	static const char scheme[] = "Bearer";
	const char *p, *start, *end;

	*token = NULL;
	*len = 0;
	if (header == NULL)
		return BEARER_MISSING;
	while (*header == ' ' || *header == '\t')
		header++;
	if (strncasecmp(header, scheme, sizeof(scheme) - 1) != 0)
		return BEARER_MISSING;
	p = header + sizeof(scheme) - 1;
	if (*p != '\0' && *p != ' ' && *p != '\t')
		return BEARER_MISSING;	/* "Bearerx": another scheme */
	while (*p == ' ' || *p == '\t')
		p++;
	start = p;
	while (authz_b64token_char(*p))
		p++;
	if (p == start)
		return BEARER_MALFORMED;
	while (*p == '=')
		p++;
	end = p;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != '\0' || (size_t)(end - start) > AUTHORIZATION_MAX)
		return BEARER_MALFORMED;
	*token = start;
	*len = (size_t)(end - start);
	return BEARER_OK;
}

/*
 * fuzz-bearer.c -- the Authorization header parser (authz_parse_bearer)
 * on any header value.
 *
 * The value reaches the daemon as a C string (a FastCGI parameter), so
 * the input is cut at its first NUL.  Checked besides memory errors, from
 * authz.h and RFC 6750 section 2.1: the status is one of the enum; only
 * BEARER_OK gives a token, which lies inside the header, is 1 to
 * AUTHORIZATION_MAX bytes of b64token ("=" only at its end), follows the
 * scheme "Bearer" (any case) and white space, and is followed by nothing
 * but white space.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "authz.h"
#include "fuzz.h"
#include "request.h"

static int
fuzz_b64token_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("-._~+/", c) != NULL);
}

static int
fuzz_space(char c)
{
	return c == ' ' || c == '\t';
}

/* Check a BEARER_OK answer against the grammar, byte by byte. */
static void
fuzz_bearer_ok(const char *header, const char *token, size_t len)
{
	size_t hlen = strlen(header), start, i;

	FUZZ_CHECK(token >= header && token + len <= header + hlen);
	FUZZ_CHECK(len >= 1 && len <= AUTHORIZATION_MAX);
	start = (size_t)(token - header);

	/* [ white space ] "Bearer" 1*( white space ) */
	for (i = 0; i < start && fuzz_space(header[i]); i++)
		continue;
	FUZZ_CHECK(start - i > 6 && strncasecmp(header + i, "Bearer", 6) == 0);
	for (i += 6; i < start; i++)
		FUZZ_CHECK(fuzz_space(header[i]));

	/* 1*b64token-char *"=" */
	for (i = 0; i < len && fuzz_b64token_char(token[i]); i++)
		continue;
	FUZZ_CHECK(i >= 1);
	for (; i < len; i++)
		FUZZ_CHECK(token[i] == '=');
	FUZZ_CHECK(token[len] == '\0' || fuzz_space(token[len]));

	/* then only white space */
	for (i = start + len; i < hlen; i++)
		FUZZ_CHECK(fuzz_space(header[i]));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum bearer_status st;
	const char *token = "unset";
	size_t len = 12345;
	char *header;

	/* A C string in exactly size + 1 bytes. */
	if ((header = malloc(size + 1)) == NULL)
		abort();
	if (size > 0)
		memcpy(header, data, size);
	header[size] = '\0';

	st = authz_parse_bearer(header, &token, &len);
	FUZZ_CHECK(st == BEARER_OK || st == BEARER_MISSING ||
	    st == BEARER_MALFORMED);
	if (st == BEARER_OK) {
		fuzz_bearer_ok(header, token, len);
	} else {
		FUZZ_CHECK(token == NULL && len == 0);
	}
	free(header);

	/* An absent header is BEARER_MISSING. */
	FUZZ_CHECK(authz_parse_bearer(NULL, &token, &len) == BEARER_MISSING);
	return 0;
}

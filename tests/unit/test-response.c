/*
 * test-response.c -- the response writer: the exact CGI text of a
 * response (status line, the headers of SPEC section 2, the RFC 6750
 * challenges, the error body) and RFC 3339 timestamps.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "response.h"
#include "tap.h"

static char *text;
static size_t text_len;

/* Render resp with realm into text (freeing the previous one). */
static int
render(const struct response *resp, const char *realm)
{
	free(text);
	text = resp_render(resp, realm, &text_len);
	return text != NULL && strlen(text) == text_len;
}

/* Is line (without CR LF) one of the header lines of text? */
static int
has_header(const char *line)
{
	const char *end, *p;
	size_t n = strlen(line);

	if (text == NULL || (end = strstr(text, "\r\n\r\n")) == NULL)
		return 0;
	for (p = text; p != NULL && p < end + 2; ) {
		if (strncmp(p, line, n) == 0 && strncmp(p + n, "\r\n", 2) == 0)
			return 1;
		p = strstr(p, "\r\n");
		if (p != NULL)
			p += 2;
	}
	return 0;
}

/* Is there a header line starting with name ("Pragma:")? */
static int
has_header_named(const char *name)
{
	const char *end, *p;
	size_t n = strlen(name);

	if (text == NULL || (end = strstr(text, "\r\n\r\n")) == NULL)
		return 0;
	for (p = text; p != NULL && p < end + 2; ) {
		if (strncmp(p, name, n) == 0)
			return 1;
		p = strstr(p, "\r\n");
		if (p != NULL)
			p += 2;
	}
	return 0;
}

/* The body: what follows the blank line. */
static const char *
body(void)
{
	const char *p = text != NULL ? strstr(text, "\r\n\r\n") : NULL;

	return p != NULL ? p + 4 : NULL;
}

static void
test_ok_response(void)
{
	struct response resp;
	json_object *obj = json_object_new_object();

	json_object_object_add(obj, "status", json_object_new_string("ok"));
	resp_init(&resp);
	resp_json(&resp, 200, obj);
	ok(render(&resp, "mdauth") && strcmp(text,
	    "Status: 200 OK\r\n"
	    "Content-Type: application/json\r\n"
	    "Cache-Control: no-store\r\n"
	    "Content-Length: 16\r\n"
	    "\r\n"
	    "{\"status\":\"ok\"}\n") == 0,
	    "a 200 JSON response renders exactly");
	ok(strncmp(text, "Status: 200 OK\r\n", 16) == 0,
	    "the Status line comes first");
	ok(has_header("Content-Type: application/json"),
	    "Content-Type is application/json");
	ok(has_header("Cache-Control: no-store"), "Cache-Control is no-store");
	ok(!has_header_named("Pragma:"), "no Pragma without a secret");
	ok(!has_header_named("WWW-Authenticate:"),
	    "no WWW-Authenticate without a challenge");
	ok(!has_header_named("Allow:"), "no Allow outside a 405");
	ok(!has_header_named("Retry-After:"), "no Retry-After unless set");

	resp.secret = true;
	ok(render(&resp, "mdauth") && has_header("Pragma: no-cache") &&
	    has_header("Cache-Control: no-store"),
	    "a secret response has Pragma: no-cache and "
	    "Cache-Control: no-store");
	resp.secret = false;

	resp.head = true;
	ok(render(&resp, "mdauth") && body() != NULL && *body() == '\0',
	    "a HEAD response ends at the blank line, without a body");
	ok(has_header("Content-Type: application/json") &&
	    has_header("Cache-Control: no-store"),
	    "a HEAD response keeps its headers");
	resp.head = false;
	resp_free(&resp);
	ok(resp.body == NULL && resp.nheaders == 0 && resp.status == 0,
	    "resp_free zeroes the response");

	resp_init(&resp);
	ok(resp.status == 500 && resp.body == NULL,
	    "resp_init makes an empty 500");
	ok(render(&resp, "mdauth") && strcmp(text,
	    "Status: 500 Internal Server Error\r\n"
	    "Content-Type: application/json\r\n"
	    "Cache-Control: no-store\r\n"
	    "\r\n") == 0,
	    "a response without a body ends at the blank line");
	resp_free(&resp);

	obj = json_object_new_object();
	json_object_object_add(obj, "p", json_object_new_string("a/b"));
	resp_init(&resp);
	resp_json(&resp, 200, obj);
	ok(render(&resp, "mdauth") && strcmp(body(), "{\"p\":\"a/b\"}\n") == 0,
	    "slashes in strings are not escaped");
	resp_free(&resp);
}

static void
test_content_length(void)
{
	struct response resp;
	json_object *obj = json_object_new_object();
	char want[64];

	json_object_object_add(obj, "d",
	    json_object_new_string("caf\xc3\xa9 \"q\" \\ tab\t"));
	resp_init(&resp);
	resp_json(&resp, 200, obj);
	ok(render(&resp, "mdauth"), "a body with escapes renders");
	snprintf(want, sizeof(want), "Content-Length: %zu", strlen(body()));
	ok(has_header(want), "Content-Length is the byte length of the body");
	ok(strcmp(body(),
	    "{\"d\":\"caf\xc3\xa9 \\\"q\\\" \\\\ tab\\t\"}\n") == 0,
	    "the body is plain JSON and ends with a newline");
	resp_free(&resp);
}

static void
test_errors(void)
{
	static const struct {
		enum api_error	 err;
		int		 status;
		const char	*code;
		const char	*status_line;
	} table[] = {
		{ ERR_INVALID_REQUEST, 400, "invalid_request",
		    "Status: 400 Bad Request" },
		{ ERR_INVALID_CREDENTIALS, 401, "invalid_credentials",
		    "Status: 401 Unauthorized" },
		{ ERR_INVALID_TOKEN, 401, "invalid_token",
		    "Status: 401 Unauthorized" },
		{ ERR_TLS_REQUIRED, 403, "tls_required",
		    "Status: 403 Forbidden" },
		{ ERR_NOT_FOUND, 404, "not_found", "Status: 404 Not Found" },
		{ ERR_METHOD_NOT_ALLOWED, 405, "method_not_allowed",
		    "Status: 405 Method Not Allowed" },
		{ ERR_SESSION_LIMIT_REACHED, 409, "session_limit_reached",
		    "Status: 409 Conflict" },
		{ ERR_PAYLOAD_TOO_LARGE, 413, "payload_too_large",
		    "Status: 413 Payload Too Large" },
		{ ERR_UNSUPPORTED_MEDIA_TYPE, 415, "unsupported_media_type",
		    "Status: 415 Unsupported Media Type" },
		{ ERR_TOO_MANY_REQUESTS, 429, "too_many_requests",
		    "Status: 429 Too Many Requests" },
		{ ERR_SERVICE_UNAVAILABLE, 503, "service_unavailable",
		    "Status: 503 Service Unavailable" },
		{ ERR_SERVER_ERROR, 500, "server_error",
		    "Status: 500 Internal Server Error" },
	};
	struct response resp;
	char want[256];
	size_t i;

	ok(sizeof(table) / sizeof(table[0]) == ERR__MAX,
	    "the test covers every api_error");
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		resp_init(&resp);
		resp_error(&resp, table[i].err, "what went wrong");
		snprintf(want, sizeof(want),
		    "{\"error\":\"%s\","
		    "\"error_description\":\"what went wrong\"}\n",
		    table[i].code);
		ok(resp.status == table[i].status &&
		    api_error_status[table[i].err] == table[i].status &&
		    strcmp(api_error_codes[table[i].err], table[i].code) == 0,
		    "%s is status %d", table[i].code, table[i].status);
		ok(render(&resp, "mdauth") &&
		    strncmp(text, table[i].status_line,
		    strlen(table[i].status_line)) == 0 &&
		    has_header(table[i].status_line) &&
		    strcmp(body(), want) == 0,
		    "%s renders \"%s\" and the exact error body",
		    table[i].code, table[i].status_line);
		resp_free(&resp);
	}

	resp_init(&resp);
	resp_json(&resp, 200, json_object_new_object());
	resp_error(&resp, ERR_INVALID_REQUEST, "bad");
	ok(render(&resp, "mdauth") && strcmp(body(),
	    "{\"error\":\"invalid_request\",\"error_description\":\"bad\"}\n")
	    == 0,
	    "resp_error replaces an earlier body");
	resp_free(&resp);
}

static void
test_challenges(void)
{
	struct response resp;

	resp_init(&resp);
	resp_error(&resp, ERR_INVALID_TOKEN, "a Bearer token is required");
	resp.challenge = CHALLENGE_PLAIN;
	ok(render(&resp, "mdauth") &&
	    has_header("WWW-Authenticate: Bearer realm=\"mdauth\""),
	    "CHALLENGE_PLAIN is exactly Bearer realm=\"mdauth\", no error");
	ok(strstr(text, "error=") == NULL,
	    "CHALLENGE_PLAIN has no error attribute");
	ok(render(&resp, "example") &&
	    has_header("WWW-Authenticate: Bearer realm=\"example\""),
	    "the realm argument is the challenge's realm");
	resp_free(&resp);

	resp_init(&resp);
	resp_error(&resp, ERR_INVALID_TOKEN, "the token expired");
	resp.challenge = CHALLENGE_INVALID_TOKEN;
	ok(render(&resp, "mdauth") && strcmp(text,
	    "Status: 401 Unauthorized\r\n"
	    "Content-Type: application/json\r\n"
	    "Cache-Control: no-store\r\n"
	    "WWW-Authenticate: Bearer realm=\"mdauth\", "
	    "error=\"invalid_token\", "
	    "error_description=\"the token expired\"\r\n"
	    "Content-Length: 66\r\n"
	    "\r\n"
	    "{\"error\":\"invalid_token\","
	    "\"error_description\":\"the token expired\"}\n")
	    == 0,
	    "an invalid_token 401 renders exactly, challenge and body");
	resp_free(&resp);

	resp_init(&resp);
	resp_error(&resp, ERR_INVALID_REQUEST, "malformed Bearer credentials");
	resp.challenge = CHALLENGE_INVALID_REQUEST;
	ok(render(&resp, "mdauth") && has_header("Status: 400 Bad Request") &&
	    has_header("WWW-Authenticate: Bearer realm=\"mdauth\", "
	    "error=\"invalid_request\", "
	    "error_description=\"malformed Bearer credentials\""),
	    "CHALLENGE_INVALID_REQUEST renders error=\"invalid_request\"");
	resp_free(&resp);

	resp_init(&resp);
	resp.status = 401;
	resp.challenge = CHALLENGE_INVALID_TOKEN;
	ok(render(&resp, "mdauth") &&
	    has_header("WWW-Authenticate: Bearer realm=\"mdauth\", "
	    "error=\"invalid_token\", error_description=\"invalid_token\""),
	    "a challenge without a description falls back to the error code");
	resp_free(&resp);
}

static void
test_headers(void)
{
	struct response resp;
	char value[16];
	size_t i;
	int all;

	resp_init(&resp);
	resp_error(&resp, ERR_METHOD_NOT_ALLOWED, "method not allowed");
	resp.allow = "GET, HEAD";
	ok(render(&resp, "mdauth") && has_header("Allow: GET, HEAD"),
	    "allow renders Allow: GET, HEAD");
	resp_free(&resp);

	resp_init(&resp);
	resp_error(&resp, ERR_SERVICE_UNAVAILABLE, "database down");
	resp.retry_after = 2;
	ok(render(&resp, "mdauth") && has_header("Retry-After: 2"),
	    "retry_after renders Retry-After: 2");
	resp_free(&resp);

	resp_init(&resp);
	resp_json(&resp, 200, json_object_new_object());
	strcpy(value, "alice");
	ok(resp_header(&resp, "X-Auth-User", value) == 1,
	    "resp_header adds a header");
	value[0] = 'X';
	ok(render(&resp, "mdauth") && has_header("X-Auth-User: alice"),
	    "the added header renders, its value copied when added");
	all = 1;
	for (i = 1; i < RESPONSE_HEADERS_MAX; i++)
		all &= resp_header(&resp, "X-Extra", "1");
	ok(all, "up to RESPONSE_HEADERS_MAX headers can be added");
	ok(resp_header(&resp, "X-One-Too-Many", "1") == 0 &&
	    resp.nheaders == RESPONSE_HEADERS_MAX,
	    "a header beyond RESPONSE_HEADERS_MAX is refused");
	ok(render(&resp, "mdauth") && !has_header_named("X-One-Too-Many:"),
	    "a refused header is not rendered");
	resp_free(&resp);

	resp_init(&resp);
	resp_error(&resp, ERR_TOO_MANY_REQUESTS, "slow down");
	resp.retry_after = 900;
	resp.challenge = CHALLENGE_NONE;
	ok(render(&resp, "mdauth") && has_header("Retry-After: 900") &&
	    !has_header_named("WWW-Authenticate:"),
	    "a 429 has Retry-After and no challenge");
	resp_free(&resp);
}

static void
test_time(void)
{
	char buf[32], exact[21];

	ok(strcmp(resp_time(0, buf, sizeof(buf)), "1970-01-01T00:00:00Z") == 0,
	    "resp_time(0) is 1970-01-01T00:00:00Z");
	ok(strcmp(resp_time(1795503600, buf, sizeof(buf)),
	    "2026-11-24T07:00:00Z") == 0,
	    "resp_time(1795503600) is 2026-11-24T07:00:00Z (UTC)");
	ok(strcmp(resp_time(951782400, buf, sizeof(buf)),
	    "2000-02-29T00:00:00Z") == 0,
	    "resp_time of a leap day is 2000-02-29T00:00:00Z");
	ok(strcmp(resp_time(1795503600, exact, sizeof(exact)),
	    "2026-11-24T07:00:00Z") == 0,
	    "a buffer of 21 bytes is enough");
}

/*
 * A response that holds a token is rendered without json-c (so that its
 * text is never grown with realloc); it must come out byte for byte as
 * json-c renders the same object.
 */
static void
test_secret_body(void)
{
	static const char *const strings[] = {
		"mda_abcdefghijklmnopqrstuvwxyz0123456789-_ABCDEFG",
		"quote \" backslash \\ slash /",
		"\b\f\n\r\t \001 \037 end",
		"caf\xc3\xa9 \xe2\x82\xac \x7f",
		"",
	};
	struct response resp;
	json_object *obj;
	size_t i;

	for (i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
		const char *want;
		char *expect;

		obj = json_object_new_object();
		json_object_object_add(obj, "token",
		    json_object_new_string(strings[i]));
		json_object_object_add(obj, "token_type",
		    json_object_new_string("Bearer"));
		json_object_object_add(obj, "expires_in",
		    json_object_new_int64(3600));
		json_object_object_add(obj, "nothing", NULL);
		json_object_object_add(obj, "yes", json_object_new_boolean(1));
		want = json_object_to_json_string_ext(obj,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
		if ((expect = malloc(strlen(want) + 2)) == NULL)
			abort();
		snprintf(expect, strlen(want) + 2, "%s\n", want);
		resp_init(&resp);
		resp_json(&resp, 200, obj);
		resp.secret = true;
		ok(render(&resp, "mdauth") && body() != NULL &&
		    strcmp(body(), expect) == 0,
		    "a secret body renders as json-c renders it (string %zu)", i);
		ok(has_header("Pragma: no-cache"), "... with Pragma: no-cache");
		{
			char cl[40];

			snprintf(cl, sizeof(cl), "Content-Length: %zu",
			    strlen(expect));
			ok(has_header(cl), "... and its Content-Length (%s)", cl);
		}
		free(expect);
		resp_free(&resp);
	}
	obj = json_object_new_object();
	resp_init(&resp);
	resp_json(&resp, 200, obj);
	resp.secret = true;
	ok(render(&resp, "mdauth") && strcmp(body(), "{}\n") == 0,
	    "an empty secret body renders as {}");
	resp_free(&resp);
}

int
main(void)
{
	test_ok_response();
	test_content_length();
	test_errors();
	test_challenges();
	test_headers();
	test_secret_body();
	test_time();
	free(text);
	{
		struct response r;

		resp_init(&r);
		ok(resp_header(&r, "X-Auth-User", "evil\r\nX-Injected: yes") == 0 &&
		    r.nheaders == 0,
		    "a header value with CR LF is refused (no header injection)");
		ok(resp_header(&r, "X-Auth-User", "caf\xc3\xa9") == 1,
		    "a UTF-8 header value is kept");
		resp_free(&r);
	}
	return tap_done();
}

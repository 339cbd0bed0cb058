/*
 * test-request.c -- the request reader: FastCGI parameters into a
 * struct request, the Content-Type check, strict JSON bodies and the
 * login body field by field (SPEC section 2: every bad input is a 400
 * with a reason).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "request.h"
#include "tap.h"

/* request_from_params on a NULL-terminated list of "NAME=value". */
static void
from(struct request *req, char **envp)
{
	request_from_params(req, envp);
}

static enum http_method
method_of(const char *line)
{
	char *envp[] = { (char *)line, NULL };
	struct request req;

	from(&req, envp);
	return req.method;
}

static void
test_params(void)
{
	char *full[] = {
		"REQUEST_METHOD=POST",
		"PATH_INFO=/login",
		"CONTENT_TYPE=application/json",
		"CONTENT_LENGTH=12",
		"HTTP_AUTHORIZATION=Bearer abc",
		"HTTPS=on",
		"REMOTE_ADDR=192.0.2.1",
		"HTTP_USER_AGENT=curl/8.0",
		NULL
	};
	char *empty[] = { NULL };
	struct request req;

	from(&req, full);
	ok(req.method == METHOD_POST, "REQUEST_METHOD=POST is METHOD_POST");
	ok(strcmp(req.path, "/login") == 0, "PATH_INFO is the path");
	ok(req.content_type != NULL &&
	    strcmp(req.content_type, "application/json") == 0,
	    "CONTENT_TYPE is kept");
	ok(req.content_length == 12 && !req.content_length_bad,
	    "CONTENT_LENGTH=12 is 12");
	ok(req.authorization != NULL &&
	    strcmp(req.authorization, "Bearer abc") == 0,
	    "HTTP_AUTHORIZATION is the Authorization header");
	ok(req.https, "HTTPS=on is https");
	ok(strcmp(req.remote_addr, "192.0.2.1") == 0, "REMOTE_ADDR is kept");
	ok(strcmp(req.user_agent, "curl/8.0") == 0,
	    "HTTP_USER_AGENT is kept");
	ok(req.body == NULL && req.body_len == 0,
	    "no body is read from the parameters");

	from(&req, empty);
	ok(req.method == METHOD_OTHER, "no REQUEST_METHOD is METHOD_OTHER");
	ok(req.path != NULL && strcmp(req.path, "") == 0,
	    "no PATH_INFO is \"\"");
	ok(req.content_type == NULL, "no CONTENT_TYPE is NULL");
	ok(req.content_length == -1 && !req.content_length_bad,
	    "no CONTENT_LENGTH is -1 and not flagged bad");
	ok(req.authorization == NULL, "no Authorization header is NULL");
	ok(!req.https, "no HTTPS parameter is not https");
	ok(req.remote_addr != NULL && strcmp(req.remote_addr, "") == 0,
	    "no REMOTE_ADDR is \"\"");
	ok(req.user_agent != NULL && strcmp(req.user_agent, "") == 0,
	    "no User-Agent is \"\"");

	ok(method_of("REQUEST_METHOD=GET") == METHOD_GET, "GET is METHOD_GET");
	ok(method_of("REQUEST_METHOD=HEAD") == METHOD_HEAD,
	    "HEAD is METHOD_HEAD");
	ok(method_of("REQUEST_METHOD=DELETE") == METHOD_DELETE,
	    "DELETE is METHOD_DELETE");
	ok(method_of("REQUEST_METHOD=PUT") == METHOD_PUT, "PUT is METHOD_PUT");
	ok(method_of("REQUEST_METHOD=PATCH") == METHOD_PATCH,
	    "PATCH is METHOD_PATCH");
	ok(method_of("REQUEST_METHOD=OPTIONS") == METHOD_OPTIONS,
	    "OPTIONS is METHOD_OPTIONS");
	ok(method_of("REQUEST_METHOD=BREW") == METHOD_OTHER,
	    "an unknown method (BREW) is METHOD_OTHER");
	ok(method_of("REQUEST_METHOD=get") == METHOD_OTHER,
	    "methods are case-sensitive: \"get\" is METHOD_OTHER");
	ok(method_of("REQUEST_METHOD=OTHER") == METHOD_OTHER,
	    "the literal method name OTHER is METHOD_OTHER");
}

static void
test_content_length(void)
{
	static const struct {
		const char	*line;
		long long	 length;
		bool		 bad;
		const char	*name;
	} cases[] = {
		{ "CONTENT_LENGTH=0", 0, false, "CONTENT_LENGTH=0 is 0" },
		{ "CONTENT_LENGTH=", -1, false,
		    "an empty CONTENT_LENGTH is -1 and not flagged bad" },
		{ "CONTENT_LENGTH=16384", 16384, false,
		    "CONTENT_LENGTH=16384 is 16384" },
		{ "CONTENT_LENGTH=abc", -1, true,
		    "CONTENT_LENGTH=abc is flagged bad" },
		{ "CONTENT_LENGTH=-5", -1, true,
		    "a negative CONTENT_LENGTH is flagged bad" },
		{ "CONTENT_LENGTH=+5", -1, true,
		    "a '+' sign in CONTENT_LENGTH is flagged bad" },
		{ "CONTENT_LENGTH= 5", -1, true,
		    "a leading space in CONTENT_LENGTH is flagged bad" },
		{ "CONTENT_LENGTH=5x", -1, true,
		    "trailing junk in CONTENT_LENGTH is flagged bad" },
		{ "CONTENT_LENGTH=99999999999999999999999", -1, true,
		    "a CONTENT_LENGTH that overflows is flagged bad" },
	};
	struct request req;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *envp[] = { (char *)cases[i].line, NULL };

		from(&req, envp);
		ok(req.content_length == cases[i].length &&
		    req.content_length_bad == cases[i].bad, "%s",
		    cases[i].name);
	}
}

static void
test_https(void)
{
	char *on[] = { "HTTPS=on", NULL };
	char *upper[] = { "HTTPS=ON", NULL };
	char *off[] = { "HTTPS=off", NULL };
	char *one[] = { "HTTPS=1", NULL };
	struct request req;

	from(&req, on);
	ok(req.https, "HTTPS=on is https");
	from(&req, upper);
	ok(req.https, "HTTPS=ON is https (case-insensitive)");
	from(&req, off);
	ok(!req.https, "HTTPS=off is not https");
	from(&req, one);
	ok(!req.https, "HTTPS=1 is not https (only \"on\" counts)");
}

static void
test_is_json(void)
{
	ok(request_is_json("application/json"), "application/json is JSON");
	ok(request_is_json("Application/JSON"),
	    "the media type is case-insensitive");
	ok(request_is_json("application/json; charset=utf-8"),
	    "application/json with a charset parameter is JSON");
	ok(request_is_json("application/json;charset=utf-8"),
	    "a parameter without a space before it is JSON");
	ok(request_is_json("application/json ; charset=utf-8"),
	    "a space before ';' is JSON");
	ok(!request_is_json(NULL), "no Content-Type is not JSON");
	ok(!request_is_json(""), "an empty Content-Type is not JSON");
	ok(!request_is_json("text/plain"), "text/plain is not JSON");
	ok(!request_is_json("application/jsonx"),
	    "application/jsonx is not JSON");
	ok(!request_is_json("application/json-patch+json"),
	    "application/json-patch+json is not JSON");
	ok(!request_is_json("application/x-www-form-urlencoded"),
	    "a form body is not JSON");
	ok(!request_is_json("application/jso"),
	    "a prefix of application/json is not JSON");
}

/* Does body parse as a JSON object? why gets the reason if not. */
static int
json_ok(const char *body, size_t len, const char **why)
{
	json_object *obj = request_parse_json(body, len, why);

	if (obj == NULL)
		return 0;
	json_object_put(obj);
	return 1;
}

/* Is body rejected, with a reason that contains want? */
static int
json_rejects(const char *body, size_t len, const char *want)
{
	const char *why = NULL;

	if (json_ok(body, len, &why))
		return 0;
	if (why == NULL || strstr(why, want) == NULL) {
		printf("#   why was: \"%s\"\n", why != NULL ? why : "(null)");
		return 0;
	}
	return 1;
}

#define S(lit)	lit, sizeof(lit) - 1

static void
test_parse_json(void)
{
	const char *why;
	json_object *obj, *v;

	obj = request_parse_json(
	    S("{\"a\":\"x\",\"b\":[1,2],\"c\":{\"d\":true}}"), &why);
	ok(obj != NULL && json_object_object_get_ex(obj, "a", &v) &&
	    strcmp(json_object_get_string(v), "x") == 0,
	    "a valid JSON object parses with its members");
	json_object_put(obj);

	ok(json_rejects("", 0, "empty"), "an empty body is rejected as empty");
	ok(json_rejects(S("{\"a\":\"x\0y\"}"), "NUL"),
	    "a raw NUL byte in the body is rejected");
	ok(json_rejects(S("{\"a\":1}\0"), "NUL"),
	    "a NUL byte after the object is rejected");
	ok(json_rejects(S("not json"), "not valid JSON"),
	    "text that is not JSON is rejected");
	ok(json_rejects(S("{\"a\":1"), "not valid JSON"),
	    "a truncated object is rejected");
	ok(json_rejects(S("[1,2]"), "not a JSON object"),
	    "an array at the top level is rejected");
	ok(json_rejects(S("\"s\""), "not a JSON object"),
	    "a string at the top level is rejected");
	ok(!json_ok(S("123"), &why), "a number at the top level is rejected");
	ok(!json_ok(S("123 "), &why),
	    "a number followed by a space at the top level is rejected");
	ok(!json_ok(S("null"), &why), "null at the top level is rejected");
	ok(json_rejects(S("{\"a\":1} x"), "JSON"),
	    "trailing garbage after the object is rejected");
	ok(json_rejects(S("{\"a\":1}{}"), "JSON"),
	    "a second object after the first is rejected");
	ok(json_ok(S("{\"a\":1} \t\r\n\n"), &why),
	    "trailing white space and newlines are allowed");
	ok(json_ok(S(" \n{\"a\":1}"), &why),
	    "leading white space is allowed");
	ok(json_rejects(S("{\"a\":1,}"), "not valid JSON"),
	    "a trailing comma is rejected");
	ok(json_rejects(S("{a:1}"), "not valid JSON"),
	    "an unquoted key is rejected");
	ok(json_rejects(S("{\"a\":'x'}"), "not valid JSON"),
	    "a single-quoted string value is rejected");
	ok(json_rejects(S("/* c */{}"), "not valid JSON"),
	    "a comment is rejected");
	ok(json_rejects(S("{\"a\":01}"), "number in the request body is malformed"),
	    "a number with a leading zero is rejected");
	ok(json_rejects(S("{\"a\":1.}"), "number in the request body is malformed"),
	    "a number ending in a point is rejected");
	ok(json_rejects(S("{\"a\":\"\\x41\"}"), "invalid escape"),
	    "an escape RFC 8259 does not define is rejected");

	ok(json_rejects(S("{\"a\":\"\xff\"}"), "UTF-8"),
	    "a raw 0xff byte in a string is rejected as bad UTF-8");
	ok(json_rejects(S("{\"a\":\"\xe2\x82\"}"), "UTF-8"),
	    "a truncated UTF-8 sequence in a string is rejected");
	ok(json_rejects(S("{\"device\":[[[[[[[[[[1]]]]]]]]]]}"),
	    "nested too deeply"),
	    "nesting deeper than JSON_DEPTH_MAX is rejected");
	ok(json_ok(S("{\"a\":[[1]],\"b\":{\"c\":{}}}"), &why),
	    "nesting of three levels is accepted");

	/*
	 * RFC 8259 grammar that json-c's JSON_TOKENER_STRICT lets through:
	 * the contract answers malformed JSON with 400 invalid_request.
	 */
	ok(!json_ok(S("{'username':\"a\",'password':\"b\"}"), &why),
	    "single-quoted keys are rejected (RFC 8259 strings use '\"')");
	ok(!json_ok(S("{\"a\":NaN}"), &why), "NaN is rejected (not JSON)");
	ok(!json_ok(S("{\"a\":Infinity}"), &why),
	    "Infinity is rejected (not JSON)");
	ok(!json_ok(S("{\"a\":\"x\x01y\"}"), &why),
	    "a raw control character (U+0001) in a string is rejected");
}

/* Does body fail request_parse_login with a reason that contains want? */
static int
login_rejects(const char *body, size_t len, const char *want)
{
	struct login_input in;
	const char *why = NULL;

	if (request_parse_login(body, len, &in, &why)) {
		request_login_free(&in);
		return 0;
	}
	if (in.root != NULL || in.username != NULL || in.password != NULL) {
		printf("#   input not cleared after a failure\n");
		return 0;
	}
	if (why == NULL || strstr(why, want) == NULL) {
		printf("#   why was: \"%s\"\n", why != NULL ? why : "(null)");
		return 0;
	}
	return 1;
}

/* A login body with each field n bytes of 'a' (0: field absent). */
static char *
login_body(size_t user, size_t pass, size_t device, size_t *len)
{
	char *b = malloc(user + pass + device + 64), *p = b;

	if (b == NULL)
		abort();
	p += sprintf(p, "{");
	if (user > 0) {
		p += sprintf(p, "\"username\":\"");
		memset(p, 'u', user);
		p += user;
		p += sprintf(p, "\",");
	}
	if (pass > 0) {
		p += sprintf(p, "\"password\":\"");
		memset(p, 'p', pass);
		p += pass;
		p += sprintf(p, "\",");
	}
	if (device > 0) {
		p += sprintf(p, "\"device\":\"");
		memset(p, 'd', device);
		p += device;
		p += sprintf(p, "\",");
	}
	p[-1] = '}';
	*len = (size_t)(p - b);
	return b;
}

static int
login_accepts(const char *body, size_t len)
{
	struct login_input in;
	const char *why = NULL;

	if (!request_parse_login(body, len, &in, &why)) {
		printf("#   why was: \"%s\"\n", why != NULL ? why : "(null)");
		return 0;
	}
	request_login_free(&in);
	return 1;
}

static void
test_login_limits(void)
{
	size_t len;
	char *b;

	b = login_body(1, 1024, 0, &len);
	ok(login_accepts(b, len),
	    "a password of exactly 1024 bytes is accepted");
	free(b);
	b = login_body(1, 1025, 0, &len);
	ok(login_rejects(b, len, "\"password\" is longer than 1024 bytes"),
	    "a password of 1025 bytes is rejected naming the field and limit");
	free(b);
	b = login_body(128, 1, 0, &len);
	ok(login_accepts(b, len),
	    "a username of exactly 128 bytes is accepted");
	free(b);
	b = login_body(129, 1, 0, &len);
	ok(login_rejects(b, len, "\"username\" is longer than 128 bytes"),
	    "a username of 129 bytes is rejected naming the field and limit");
	free(b);
	b = login_body(1, 1, 128, &len);
	ok(login_accepts(b, len), "a device of exactly 128 bytes is accepted");
	free(b);
	b = login_body(1, 1, 129, &len);
	ok(login_rejects(b, len, "\"device\" is longer than 128 bytes"),
	    "a device of 129 bytes is rejected naming the field and limit");
	free(b);
}

static void
test_login(void)
{
	struct login_input in;
	const char *why = NULL;
	int rc;

	rc = request_parse_login(S("{\"username\":\"alice\","
	    "\"password\":\"correct horse\",\"device\":\"Pixel 8\"}"),
	    &in, &why);
	ok(rc == 1, "a login with username, password and device parses");
	ok(rc == 1 && strcmp(in.username, "alice") == 0 &&
	    in.username_len == 5, "the username and its length are given");
	ok(rc == 1 && strcmp(in.password, "correct horse") == 0 &&
	    in.password_len == 13, "the password and its length are given");
	ok(rc == 1 && in.device != NULL && strcmp(in.device, "Pixel 8") == 0,
	    "the device label is given");
	if (rc == 1)
		request_login_free(&in);
	ok(in.root == NULL && in.username == NULL && in.password == NULL &&
	    in.device == NULL && in.username_len == 0 && in.password_len == 0,
	    "request_login_free zeroes the struct");

	rc = request_parse_login(
	    S("{\"username\":\"bob\",\"password\":\"pw\"}"), &in, &why);
	ok(rc == 1 && in.device == NULL,
	    "a login without a device parses, device NULL");
	if (rc == 1)
		request_login_free(&in);

	rc = request_parse_login(S("{\"username\":\"caf\\u00e9\","
	    "\"password\":\"p\"}"), &in, &why);
	ok(rc == 1 && strcmp(in.username, "caf\xc3\xa9") == 0 &&
	    in.username_len == 5,
	    "a \\u escape in the username is decoded to UTF-8");
	if (rc == 1)
		request_login_free(&in);

	rc = request_parse_login(S("{\"username\":\"a\",\"password\":\"b\","
	    "\"remember_me\":true}"), &in, &why);
	ok(rc == 1, "an unknown extra key is ignored");
	if (rc == 1)
		request_login_free(&in);

	ok(login_rejects(S("{\"username\":\"first\",\"password\":\"b\","
	    "\"username\":\"last\"}"), "duplicate member"),
	    "a duplicate member is rejected, not resolved to one value");
	ok(login_rejects(S("{\"username\":\"a\",\"password\":\"b\","
	    "\"u\\u0073ername\":\"c\"}"), "duplicate member"),
	    "a duplicate member spelt with an escape is rejected too");
	rc = request_parse_login(S("{\"username\":\"a\",\"password\":\"b\","
	    "\"device\":\"x\",\"meta\":{\"username\":1,\"k\":[\"username\"]}}"),
	    &in, &why);
	ok(rc == 1, "the same name in a nested object is not a duplicate");
	if (rc == 1)
		request_login_free(&in);
	ok(login_rejects(S("{\"username\":\"a\",\"password\":\"b\","
	    "\"meta\":{\"k\":1,\"k\":2}}"), "duplicate member"),
	    "a duplicate member inside a nested object is rejected too");
	ok(login_rejects(S("{\"username\":\"a\",\"password\":\"b\","
	    "\"list\":[{\"password\":\"c\",\"password\":\"d\"}]}"),
	    "duplicate member"),
	    "a duplicate member in an object inside an array is rejected");

	rc = request_parse_login(S("{\"username\":\"a\",\"password\":\"b\"}\n"),
	    &in, &why);
	ok(rc == 1, "a trailing newline after the login object is allowed");
	if (rc == 1)
		request_login_free(&in);

	ok(login_rejects("", 0, "empty"), "an empty login body is rejected");
	ok(login_rejects(S("{\"username\":\"a\",\"password\":\"b\0\"}"), "NUL"),
	    "a raw NUL byte in the login body is rejected");
	ok(login_rejects(S("username=a&password=b"), "not valid JSON"),
	    "a form-encoded login body is rejected");
	ok(login_rejects(S("[\"a\",\"b\"]"), "not a JSON object"),
	    "an array login body is rejected");
	ok(login_rejects(S("\"a\""), "not a JSON object"),
	    "a string login body is rejected");
	ok(login_rejects(S("42 "), "not a JSON object"),
	    "a number login body is rejected");
	ok(login_rejects(S("{\"username\":\"a\",\"password\":\"b\"} x"),
	    "JSON"),
	    "trailing garbage after the login object is rejected");
	ok(login_rejects(S("{\"password\":\"b\"}"), "\"username\" is missing"),
	    "a missing username is rejected naming the field");
	ok(login_rejects(S("{\"username\":\"a\"}"), "\"password\" is missing"),
	    "a missing password is rejected naming the field");
	ok(login_rejects(S("{}"), "\"username\" is missing"),
	    "an empty object is rejected naming the username first");
	ok(login_rejects(S("{\"username\":42,\"password\":\"b\"}"),
	    "\"username\" must be a string"),
	    "a numeric username is rejected naming the field");
	ok(login_rejects(S("{\"username\":\"a\",\"password\":null}"),
	    "\"password\" must be a string"),
	    "a null password is rejected naming the field");
	ok(login_rejects(S("{\"username\":\"a\",\"password\":[\"b\"]}"),
	    "\"password\" must be a string"),
	    "an array password is rejected naming the field");
	ok(login_rejects(S("{\"username\":\"a\",\"password\":\"b\","
	    "\"device\":7}"), "\"device\" must be a string"),
	    "a numeric device is rejected naming the field");
	ok(login_rejects(S("{\"username\":\"a\",\"password\":\"b\","
	    "\"device\":null}"), "\"device\" must be a string"),
	    "a null device is rejected naming the field");
	ok(login_rejects(S("{\"username\":\"\",\"password\":\"b\"}"),
	    "\"username\" is empty"),
	    "an empty username is rejected naming the field");
	ok(login_rejects(S("{\"username\":\"a\",\"password\":\"\"}"),
	    "\"password\" is empty"),
	    "an empty password is rejected naming the field");
	ok(login_rejects(S("{\"username\":\"a\",\"password\":\"b\","
	    "\"device\":\"\"}"), "\"device\" is empty"),
	    "an empty device is rejected naming the field");
	ok(login_rejects(S("{\"username\":\"a\\u0000b\",\"password\":\"b\"}"),
	    "contains a NUL character"),
	    "a username with an escaped NUL (\\u0000) is rejected");
	ok(login_rejects(S("{\"username\":\"a\",\"password\":\"\\u0000b\"}"),
	    "contains a NUL character"),
	    "a password with an escaped NUL (\\u0000) is rejected");
	ok(login_rejects(S("{\"username\\u0000x\":\"a\",\"password\":\"b\"}"),
	    "contains a NUL character"),
	    "a member name with an escaped NUL is rejected (it would read "
	    "as \"username\")");
	ok(login_rejects(S("{\"username\":\"a\",\"password\":\"b\","
	    "\"extra\":\"x\\u0000\"}"), "contains a NUL character"),
	    "an escaped NUL in an ignored member is rejected too");
	/* SPEC section 4: usernames with control characters are refused. */
	ok(login_rejects(S("{\"username\":\"a\\u0001b\",\"password\":\"b\"}"),
	    "\"username\" contains a control character"),
	    "a username with an escaped U+0001 is rejected naming the field");
	ok(login_rejects(S("{\"username\":\"a\\tb\",\"password\":\"b\"}"),
	    "\"username\" contains a control character"),
	    "a username with an escaped tab is rejected");
	ok(login_rejects(S("{\"username\":\"\\u001b[31m\",\"password\":\"b\"}"),
	    "\"username\" contains a control character"),
	    "a username with an escaped ESC is rejected");
	ok(login_rejects(S("{\"username\":\"a\x7f" "b\",\"password\":\"b\"}"),
	    "\"username\" contains a control character"),
	    "a username with a raw DEL (JSON allows it) is rejected");
	ok(login_rejects(S("{\"username\":\"a\\u0085b\",\"password\":\"b\"}"),
	    "\"username\" contains a control character"),
	    "a username with an escaped C1 control (U+0085) is rejected");
	ok(login_rejects(S("{\"username\":\"a\xc2\x9b" "b\",\"password\":\"b\"}"),
	    "\"username\" contains a control character"),
	    "a username with a raw C1 control (U+009B) is rejected");
	rc = request_parse_login(S("{\"username\":\"a\\u00a0b\","
	    "\"password\":\"b\\u0001\\u007f\"}"), &in, &why);
	ok(rc == 1, "U+00A0 in a username and control characters in a "
	    "password are accepted");
	if (rc == 1)
		request_login_free(&in);
	ok(login_rejects(S("{\"username\":\"\xff\",\"password\":\"b\"}"),
	    "UTF-8"),
	    "a raw 0xff byte in the username is rejected as bad UTF-8");
	ok(login_rejects(S("{\"username\":\"a\",\"password\":\"b\","
	    "\"device\":[[[[[[[[[[1]]]]]]]]]]}"), "nested too deeply"),
	    "a login body nested deeper than JSON_DEPTH_MAX is rejected");

	/*
	 * SPEC section 2: bad UTF-8 is 400 invalid_request.  json-c's
	 * JSON_TOKENER_VALIDATE_UTF8 lets these through; PostgreSQL would
	 * then refuse the bytes and the client would get a 500.
	 */
	ok(login_rejects(S("{\"username\":\"\xc0\xaf\",\"password\":\"b\"}"),
	    "UTF-8"),
	    "an overlong UTF-8 sequence (C0 AF) in the username is rejected");
	ok(login_rejects(
	    S("{\"username\":\"\xed\xa0\x80\",\"password\":\"b\"}"),
	    "UTF-8"),
	    "a UTF-8 encoded surrogate (ED A0 80) in the username is rejected");
	ok(login_rejects(
	    S("{\"username\":\"\xf4\x90\x80\x80\",\"password\":\"b\"}"),
	    "UTF-8"),
	    "a code point above U+10FFFF (F4 90 80 80) in the username "
	    "is rejected");
	ok(login_rejects(S("{\"username\":\"\\ud800\",\"password\":\"b\"}"),
	    "unpaired surrogate"),
	    "a lone high surrogate escape (\\ud800) in the username is rejected");
	ok(login_rejects(S("{\"username\":\"\\udc00x\",\"password\":\"b\"}"),
	    "unpaired surrogate"),
	    "a lone low surrogate escape (\\udc00) is rejected");
	ok(login_rejects(S("{\"username\":\"\\ud83d\\u0041\",\"password\":\"b\"}"),
	    "unpaired surrogate"),
	    "a high surrogate followed by a non-surrogate escape is rejected");
	{
		struct login_input pair;
		int parsed = request_parse_login(
		    S("{\"username\":\"\\ud83d\\ude00\",\"password\":\"b\"}"),
		    &pair, &why);

		ok(parsed && pair.username_len == 4 &&
		    memcmp(pair.username, "\xf0\x9f\x98\x80", 4) == 0,
		    "a surrogate pair escape decodes to its code point (U+1F600)");
		if (parsed)
			request_login_free(&pair);
	}
	ok(login_rejects(S("{\"username\":\"a\",\"password\":\"b\","
	    "\"device\":\"\xe0\x80\xaf\"}"), "UTF-8"),
	    "an overlong UTF-8 sequence (E0 80 AF) in the device is rejected");

	test_login_limits();
}

static void
test_free(void)
{
	struct request req;
	char *empty[] = { NULL };

	from(&req, empty);
	request_free(&req);
	ok(req.body == NULL, "request_free without a body is harmless");
	req.body = strdup("{\"password\":\"secret\"}");
	req.body_len = strlen(req.body);
	request_free(&req);
	ok(req.body == NULL, "request_free releases the body");
}

int
main(void)
{
	test_params();
	test_content_length();
	test_https();
	test_is_json();
	test_parse_json();
	test_login();
	test_free();
	ok(login_rejects(S("{\"username\":\"a\",\"password\":\"b\","
	    "\"device\":\"\\u001b[31mred\"}"), "control character"),
	    "an escape character in the device label is rejected");
	ok(login_rejects(S("{\"username\":\"a\",\"password\":\"b\","
	    "\"device\":\"a\\nb\"}"), "control character"),
	    "a newline in the device label is rejected");
	return tap_done();
}

/*
 * test-dispatch.c -- dispatch(): the checks every request passes
 * before its handler (route, method, TLS, Content-Length, size, content
 * type, body), each answered without a database.  Where a request gets
 * through to a handler, only handler paths that answer before any
 * database work are used (no Bearer token, or one that cannot be ours).
 */
#include "config.h"

#include <string.h>

#include "conf.h"
#include "dispatch.h"
#include "handler.h"
#include "request.h"
#include "response.h"
#include "tap.h"

static struct conf conf;
static struct ctx ctx;
static struct request req;
static struct response resp;

/*
 * Dispatch the request made of the NULL-terminated parameters, with no
 * body stream.  The previous response is freed first.
 */
static void
run(char **envp)
{
	resp_free(&resp);
	request_free(&req);
	request_from_params(&req, envp);
	resp_init(&resp);
	dispatch(&ctx, &req, NULL, &resp);
}

/* Is the response the error with this status and code? */
static int
is_error(int status, const char *code)
{
	json_object *v;

	return resp.status == status && resp.body != NULL &&
	    json_object_object_get_ex(resp.body, "error", &v) &&
	    strcmp(json_object_get_string(v), code) == 0;
}

static void
test_routing(void)
{
	char *unknown[] = { "REQUEST_METHOD=GET", "PATH_INFO=/nowhere",
	    "HTTPS=on", NULL };
	char *no_path[] = { "REQUEST_METHOD=GET", "HTTPS=on", NULL };
	char *get_login[] = { "REQUEST_METHOD=GET", "PATH_INFO=/login",
	    "HTTPS=on", NULL };
	char *post_validate[] = { "REQUEST_METHOD=POST",
	    "PATH_INFO=/validate", "HTTPS=on", NULL };
	char *brew_health[] = { "REQUEST_METHOD=BREW", "PATH_INFO=/health",
	    "HTTPS=on", NULL };

	run(unknown);
	ok(is_error(404, "not_found"), "an unknown path is 404 not_found");
	ok(resp.allow == NULL && resp.challenge == CHALLENGE_NONE,
	    "a 404 has no Allow and no challenge");
	run(no_path);
	ok(is_error(404, "not_found"), "a request without PATH_INFO is 404");
	run(get_login);
	ok(is_error(405, "method_not_allowed") && resp.allow != NULL &&
	    strcmp(resp.allow, "POST") == 0,
	    "GET /login is 405 method_not_allowed with Allow: POST");
	run(post_validate);
	ok(is_error(405, "method_not_allowed") && resp.allow != NULL &&
	    strcmp(resp.allow, "GET, HEAD") == 0,
	    "POST /validate is 405 with Allow: GET, HEAD");
	run(brew_health);
	ok(is_error(405, "method_not_allowed") && resp.allow != NULL &&
	    strcmp(resp.allow, "GET") == 0,
	    "an unknown method on /health is 405 with Allow: GET");
}

static void
test_tls(void)
{
	char *plain[] = { "REQUEST_METHOD=GET", "PATH_INFO=/validate", NULL };
	char *off[] = { "REQUEST_METHOD=GET", "PATH_INFO=/validate",
	    "HTTPS=off", NULL };
	char *login[] = { "REQUEST_METHOD=POST", "PATH_INFO=/login",
	    "CONTENT_TYPE=application/json", "CONTENT_LENGTH=99999999", NULL };
	char *tls[] = { "REQUEST_METHOD=GET", "PATH_INFO=/validate",
	    "HTTPS=on", NULL };

	run(plain);
	ok(is_error(403, "tls_required"),
	    "require_tls: a request without HTTPS is 403 tls_required");
	run(off);
	ok(is_error(403, "tls_required"),
	    "require_tls: HTTPS=off is 403 tls_required");
	run(login);
	ok(is_error(403, "tls_required"),
	    "require_tls: TLS is checked before the body size");
	run(tls);
	ok(resp.status != 403,
	    "require_tls: a request with HTTPS=on is not refused");

	conf.require_tls = false;
	run(plain);
	ok(is_error(401, "invalid_token"),
	    "require_tls = no: a plain HTTP request reaches the handler");
	conf.require_tls = true;
}

static void
test_body_checks(void)
{
	char *too_large[] = { "REQUEST_METHOD=POST", "PATH_INFO=/login",
	    "HTTPS=on", "CONTENT_TYPE=application/json",
	    "CONTENT_LENGTH=16385", NULL };
	char *at_limit[] = { "REQUEST_METHOD=POST", "PATH_INFO=/login",
	    "HTTPS=on", "CONTENT_TYPE=application/json",
	    "CONTENT_LENGTH=16384", NULL };
	char *too_large_text[] = { "REQUEST_METHOD=POST", "PATH_INFO=/login",
	    "HTTPS=on", "CONTENT_TYPE=text/plain", "CONTENT_LENGTH=1000000",
	    NULL };
	char *logout_large[] = { "REQUEST_METHOD=POST", "PATH_INFO=/logout",
	    "HTTPS=on", "CONTENT_TYPE=application/json",
	    "CONTENT_LENGTH=16385", NULL };
	char *bad_length[] = { "REQUEST_METHOD=POST", "PATH_INFO=/login",
	    "HTTPS=on", "CONTENT_TYPE=application/json", "CONTENT_LENGTH=abc",
	    NULL };
	char *logout_bad_length[] = { "REQUEST_METHOD=POST",
	    "PATH_INFO=/logout", "HTTPS=on", "CONTENT_LENGTH=-5", NULL };
	char *validate_bad_length[] = { "REQUEST_METHOD=GET",
	    "PATH_INFO=/validate", "HTTPS=on", "CONTENT_LENGTH=abc", NULL };
	char *no_type[] = { "REQUEST_METHOD=POST", "PATH_INFO=/login",
	    "HTTPS=on", "CONTENT_LENGTH=10", NULL };
	char *text_type[] = { "REQUEST_METHOD=POST", "PATH_INFO=/login",
	    "HTTPS=on", "CONTENT_TYPE=text/plain", "CONTENT_LENGTH=10", NULL };
	char *no_type_no_body[] = { "REQUEST_METHOD=POST", "PATH_INFO=/login",
	    "HTTPS=on", NULL };
	char *form[] = { "REQUEST_METHOD=POST", "PATH_INFO=/login",
	    "HTTPS=on", "CONTENT_TYPE=application/x-www-form-urlencoded",
	    "CONTENT_LENGTH=21", NULL };
	char *logout_text[] = { "REQUEST_METHOD=POST", "PATH_INFO=/logout",
	    "HTTPS=on", "CONTENT_TYPE=text/plain", "CONTENT_LENGTH=5", NULL };
	char *logout_text_empty[] = { "REQUEST_METHOD=POST",
	    "PATH_INFO=/logout", "HTTPS=on", "CONTENT_TYPE=text/plain",
	    "CONTENT_LENGTH=0", NULL };
	char *logout_no_body[] = { "REQUEST_METHOD=POST", "PATH_INFO=/logout",
	    "HTTPS=on", NULL };
	char *short_body[] = { "REQUEST_METHOD=POST", "PATH_INFO=/login",
	    "HTTPS=on", "CONTENT_TYPE=application/json", "CONTENT_LENGTH=10",
	    NULL };
	char *login_empty[] = { "REQUEST_METHOD=POST", "PATH_INFO=/login",
	    "HTTPS=on", "CONTENT_TYPE=application/json", NULL };
	char *small_limit[] = { "REQUEST_METHOD=POST", "PATH_INFO=/login",
	    "HTTPS=on", "CONTENT_TYPE=application/json", "CONTENT_LENGTH=65",
	    NULL };

	run(too_large);
	ok(is_error(413, "payload_too_large"),
	    "a body over max_body is 413, refused before it is read");
	run(at_limit);
	ok(is_error(400, "invalid_request"),
	    "a body of exactly max_body is not 413 (it is read: 400 here, "
	    "no stream)");
	run(too_large_text);
	ok(is_error(413, "payload_too_large"),
	    "the size is checked before the content type");
	run(logout_large);
	ok(is_error(413, "payload_too_large"),
	    "an optional logout body over max_body is 413");
	conf.max_body = 64;
	run(small_limit);
	ok(is_error(413, "payload_too_large"),
	    "max_body comes from the configuration (64: 65 bytes is 413)");
	conf.max_body = 16384;

	run(bad_length);
	ok(is_error(400, "invalid_request"),
	    "an unparsable Content-Length on /login is 400 invalid_request");
	run(logout_bad_length);
	ok(is_error(400, "invalid_request"),
	    "a negative Content-Length on /logout is 400 invalid_request");
	run(validate_bad_length);
	ok(is_error(401, "invalid_token"),
	    "a bad Content-Length on a route without a body is ignored");

	run(no_type);
	ok(is_error(415, "unsupported_media_type"),
	    "a login body without Content-Type is 415");
	run(text_type);
	ok(is_error(415, "unsupported_media_type"),
	    "a text/plain login body is 415");
	run(form);
	ok(is_error(415, "unsupported_media_type"),
	    "a form-encoded login body is 415");
	run(no_type_no_body);
	ok(is_error(415, "unsupported_media_type"),
	    "a login without a body or Content-Type is 415 (JSON required)");
	run(logout_text);
	ok(is_error(415, "unsupported_media_type"),
	    "a logout body of another type is 415");
	run(logout_text_empty);
	ok(is_error(401, "invalid_token"),
	    "an empty logout body with any Content-Type reaches the handler");
	run(logout_no_body);
	ok(is_error(401, "invalid_token"),
	    "a logout without a body or Content-Type reaches the handler");

	run(short_body);
	ok(is_error(400, "invalid_request"),
	    "a body that cannot be read (no stream) is 400 invalid_request");
	run(login_empty);
	ok(is_error(400, "invalid_request"),
	    "a JSON login without a body reaches the handler: "
	    "400 (empty body)");
}

static void
test_handlers_without_database(void)
{
	char *validate[] = { "REQUEST_METHOD=GET", "PATH_INFO=/validate",
	    "HTTPS=on", NULL };
	char *head[] = { "REQUEST_METHOD=HEAD", "PATH_INFO=/validate",
	    "HTTPS=on", NULL };
	char *basic[] = { "REQUEST_METHOD=GET", "PATH_INFO=/validate",
	    "HTTPS=on", "HTTP_AUTHORIZATION=Basic dXNlcjpwYXNz", NULL };
	char *malformed[] = { "REQUEST_METHOD=GET", "PATH_INFO=/validate",
	    "HTTPS=on", "HTTP_AUTHORIZATION=Bearer a$b", NULL };
	char *foreign[] = { "REQUEST_METHOD=GET", "PATH_INFO=/validate",
	    "HTTPS=on", "HTTP_AUTHORIZATION=Bearer abc", NULL };
	char *query_token[] = { "REQUEST_METHOD=GET", "PATH_INFO=/validate",
	    "HTTPS=on",
	    "QUERY_STRING=access_token="
	    "mda_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	    NULL };
	char *delete_bad_id[] = { "REQUEST_METHOD=DELETE",
	    "PATH_INFO=/sessions/not-a-uuid", "HTTPS=on", NULL };
	char *delete_bad_id_token[] = { "REQUEST_METHOD=DELETE",
	    "PATH_INFO=/sessions/5b0c3a4e", "HTTPS=on",
	    "HTTP_AUTHORIZATION=Bearer "
	    "mda_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", NULL };
	char *delete_good_id[] = { "REQUEST_METHOD=DELETE",
	    "PATH_INFO=/sessions/5b0c3a4e-0000-4000-8000-000000000001",
	    "HTTPS=on", NULL };
	char *logout_foreign[] = { "REQUEST_METHOD=POST", "PATH_INFO=/logout",
	    "HTTPS=on", "HTTP_AUTHORIZATION=Bearer abc", NULL };

	run(validate);
	ok(is_error(401, "invalid_token") && resp.challenge == CHALLENGE_PLAIN,
	    "validate without credentials is 401 with a plain challenge");
	run(head);
	ok(is_error(401, "invalid_token"),
	    "HEAD /validate reaches the validate handler");
	run(basic);
	ok(is_error(401, "invalid_token") && resp.challenge == CHALLENGE_PLAIN,
	    "validate with Basic credentials is 401 with a plain challenge");
	run(malformed);
	ok(is_error(400, "invalid_request") &&
	    resp.challenge == CHALLENGE_INVALID_REQUEST,
	    "validate with malformed Bearer credentials is "
	    "400 invalid_request");
	run(foreign);
	ok(is_error(401, "invalid_token") &&
	    resp.challenge == CHALLENGE_INVALID_TOKEN,
	    "a token that cannot be ours is 401 invalid_token "
	    "without a lookup");
	run(query_token);
	ok(is_error(401, "invalid_token") && resp.challenge == CHALLENGE_PLAIN,
	    "a token in the query string is ignored");
	run(delete_bad_id);
	ok(is_error(404, "not_found"),
	    "DELETE /sessions/{id} with an id that is not a UUID is 404, "
	    "before the credential is even looked at");
	run(delete_bad_id_token);
	ok(is_error(404, "not_found") && resp.log_user == NULL,
	    "... and with a token: 404 before any authentication");
	run(delete_good_id);
	ok(is_error(401, "invalid_token"),
	    "DELETE /sessions/{uuid} without a token is 401");
	run(logout_foreign);
	ok(resp.status == 200 && resp.body != NULL && strcmp(
	    json_object_to_json_string_ext(resp.body, JSON_C_TO_STRING_PLAIN),
	    "{\"status\":\"logged_out\"}") == 0,
	    "logout of a token that cannot be ours is 200 logged_out "
	    "(idempotent)");
}

/* Does the response carry this header with this value? */
static int
has_header(const char *name, const char *value)
{
	size_t i;

	for (i = 0; i < resp.nheaders; i++)
		if (strcmp(resp.headers[i].name, name) == 0)
			return value == NULL ||
			    strcmp(resp.headers[i].value, value) == 0;
	return 0;
}

/*
 * The Authorizer role: the path and method do not matter, only the
 * credentials; a denial is the same error the API gives.
 */
static void
test_authorizer_without_database(void)
{
	char *none[] = { "FCGI_ROLE=AUTHORIZER", "REQUEST_METHOD=DELETE",
	    "PATH_INFO=/nowhere", "HTTPS=on", NULL };
	char *no_path[] = { "FCGI_ROLE=AUTHORIZER", "HTTPS=on",
	    "FCGI_APACHE_ROLE=AUTHENTICATOR", NULL };
	char *basic[] = { "FCGI_ROLE=AUTHORIZER", "REQUEST_METHOD=GET",
	    "HTTP_AUTHORIZATION=Basic YWxpY2U6cHc=", "HTTPS=on", NULL };
	char *malformed[] = { "FCGI_ROLE=AUTHORIZER", "REQUEST_METHOD=GET",
	    "HTTP_AUTHORIZATION=Bearer a b", "HTTPS=on", NULL };
	char *foreign[] = { "FCGI_ROLE=AUTHORIZER", "REQUEST_METHOD=GET",
	    "HTTP_AUTHORIZATION=Bearer not-one-of-ours", "HTTPS=on", NULL };
	char *passwd[] = { "FCGI_ROLE=AUTHORIZER", "REQUEST_METHOD=GET",
	    "FCGI_APACHE_ROLE=AUTHENTICATOR", "REMOTE_USER=alice",
	    "REMOTE_PASSWD=correct horse", "HTTPS=on", NULL };
	char *plain[] = { "FCGI_ROLE=AUTHORIZER", "REQUEST_METHOD=GET",
	    "HTTP_AUTHORIZATION=Bearer not-one-of-ours", NULL };
	char *odd_apache[] = { "FCGI_ROLE=AUTHORIZER", "REQUEST_METHOD=GET",
	    "FCGI_APACHE_ROLE=JANITOR", "HTTPS=on", NULL };
	char *filter[] = { "FCGI_ROLE=FILTER", "REQUEST_METHOD=GET",
	    "PATH_INFO=/health", "HTTPS=on", NULL };

	run(none);
	ok(is_error(401, "invalid_token") && resp.challenge == CHALLENGE_PLAIN,
	    "authorizer: no credentials on an unknown path and method is "
	    "401 with a plain challenge, not 404 or 405");
	ok(!has_header("Variable-REMOTE_USER", NULL),
	    "authorizer: a denial names no user");
	run(no_path);
	ok(is_error(401, "invalid_token") && resp.challenge == CHALLENGE_PLAIN,
	    "authorizer: no PATH_INFO (Apache authn) is 401 too");
	run(basic);
	ok(is_error(401, "invalid_token") && resp.challenge == CHALLENGE_PLAIN,
	    "authorizer: Basic credentials without REMOTE_PASSWD are "
	    "401 with a plain challenge");
	run(malformed);
	ok(is_error(400, "invalid_request") &&
	    resp.challenge == CHALLENGE_INVALID_REQUEST,
	    "authorizer: malformed Bearer credentials are 400 invalid_request");
	run(foreign);
	ok(is_error(401, "invalid_token") &&
	    resp.challenge == CHALLENGE_INVALID_TOKEN,
	    "authorizer: a token that cannot be ours is 401 invalid_token");
	run(passwd);
	ok(is_error(401, "invalid_token") &&
	    resp.challenge == CHALLENGE_INVALID_TOKEN,
	    "authorizer: a Basic password that is not a token is "
	    "401 invalid_token, never a password check");
	run(plain);
	ok(is_error(403, "tls_required"),
	    "authorizer: without HTTPS and with require_tls it is 403");
	run(odd_apache);
	ok(resp.status == 500,
	    "authorizer: an unknown FCGI_APACHE_ROLE is refused with 500");
	run(filter);
	ok(resp.status == 500,
	    "the FILTER role is refused with 500, never served as a responder");
}

int
main(void)
{
	conf_defaults(&conf);
	handler_ctx_init(&ctx, &conf, NULL);
	resp_init(&resp);
	memset(&req, 0, sizeof(req));

	ok(conf.require_tls && conf.max_body == 16384,
	    "the defaults require TLS and allow 16384-byte bodies");
	test_routing();
	test_tls();
	test_body_checks();
	test_handlers_without_database();
	test_authorizer_without_database();

	resp_free(&resp);
	request_free(&req);
	conf_free(&conf);
	return tap_done();
}

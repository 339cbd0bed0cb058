#!/bin/bash
# GET and HEAD /validate: a live token, the RFC 6750 answers to missing,
# malformed and dead credentials, and SQL changes taking effect at once.
. "$(dirname "$0")/lib.sh"

h_setup workers=2
h_user_add alice 'correct horse battery staple'
h_user_add bob 'bob password 1234'
ALICE_ID=$(sql "SELECT id FROM mdauth.users WHERE username = 'alice'")

h_login_ok alice 'correct horse battery staple'
token=$TOKEN
session=$SESSION_ID

# --- a live token ----------------------------------------------------------
req_bearer GET /validate "$token"
is "$STATUS" 200 "a live token validates: 200"
is "$(json user_id)" "$ALICE_ID" "validate returns the user_id"
is "$(json username)" alice "validate returns the username"
is "$(json session_id)" "$session" "validate returns the session_id"
like "$(json expires_at)" "$H_TIME_RE" "validate returns expires_at as ISO-8601 UTC"
ok "validate returns expires_in, at most token_ttl" \
	test "$(json_type expires_in)" = number -a "$(json expires_in)" -gt 3500 -a "$(json expires_in)" -le 3600
is "$(header X-Auth-User)" alice "X-Auth-User names the user"
is "$(header X-Auth-User-Id)" "$ALICE_ID" "X-Auth-User-Id is the user's id"
is "$(header X-Auth-Session-Id)" "$session" "X-Auth-Session-Id is the session's id"
ok "validate answers Content-Type application/json" is_json_content_type

req_bearer HEAD /validate "$token"
is "$STATUS" 200 "HEAD with a live token answers 200"
is "$(header X-Auth-User)" alice "HEAD carries X-Auth-User"
is "$(header X-Auth-User-Id)" "$ALICE_ID" "HEAD carries X-Auth-User-Id"
is "$(header X-Auth-Session-Id)" "$session" "HEAD carries X-Auth-Session-Id"
# Through HTTP the web server drops any HEAD body, so ask the daemon
# directly over FastCGI.
fcgi_raw REQUEST_METHOD=HEAD PATH_INFO=/validate SCRIPT_NAME=/api/auth \
	HTTPS=on REMOTE_ADDR=127.0.0.1 SERVER_PROTOCOL=HTTP/1.1 \
	"HTTP_AUTHORIZATION=Bearer $token"
ok "HEAD over FastCGI: the daemon answers with X-Auth-User" \
	grep -qi '^X-Auth-User: alice' "$H_DIR/fcgi-out"
is "$(fcgi_raw_body | wc -c)" 0 "HEAD over FastCGI: the daemon writes no body"

req GET /validate -H "Authorization: bearer $token"
is "$STATUS" 200 "the auth-scheme is case-insensitive (bearer)"

# --- no credentials --------------------------------------------------------
req GET /validate
expect_error 401 invalid_token "no Authorization header: 401"
is "$(header WWW-Authenticate)" 'Bearer realm="mdauth"' \
	"no Authorization header: WWW-Authenticate: Bearer realm=\"mdauth\" without an error"

req GET /validate -H 'Authorization: Basic dXNlcjpwYXNz'
expect_error 401 invalid_token "another scheme (Basic): 401"
is "$(header WWW-Authenticate)" 'Bearer realm="mdauth"' \
	"another scheme (Basic): WWW-Authenticate: Bearer realm=\"mdauth\" without an error"

req GET "/validate?access_token=$token"
is "$STATUS" 401 "a token in the query string is ignored: 401"
is "$(header WWW-Authenticate)" 'Bearer realm="mdauth"' \
	"a token in the query string counts as no credentials"

# --- malformed Bearer credentials ------------------------------------------
h_expect_malformed() {
	expect_error 400 invalid_request "$1: 400 invalid_request"
	like "$(header WWW-Authenticate)" '^Bearer realm="mdauth", *error="invalid_request"' \
		"$1: WWW-Authenticate carries error=\"invalid_request\""
}

req GET /validate -H 'Authorization: Bearer'
h_expect_malformed "Bearer without a token"
req GET /validate -H 'Authorization: Bearer    '
expect_error 400 invalid_request "Bearer followed by blanks only: 400 invalid_request"
req GET /validate -H 'Authorization: Bearer mda_abc$def'
h_expect_malformed "a token with \$ (outside b64token)"
req GET /validate -H 'Authorization: Bearer a b'
expect_error 400 invalid_request "a token with a space inside: 400 invalid_request"
req GET /validate -H 'Authorization: Bearer mda_a=b'
expect_error 400 invalid_request "a token with = before its end: 400 invalid_request"

long=mda_$(head -c 4092 /dev/zero | tr '\0' A)
req_bearer GET /validate "${long}A"
h_expect_malformed "a 4097-byte token"
req_bearer GET /validate "$long"
expect_error 401 invalid_token "a 4096-byte token is well-formed: 401 invalid_token"

req_bearer GET /validate 'mda_Az09-._~+/=='
expect_error 401 invalid_token "every b64token character is accepted (401, not 400)"

# --- dead tokens -----------------------------------------------------------
h_expect_dead() {
	expect_error 401 invalid_token "$1: 401 invalid_token"
	like "$(header WWW-Authenticate)" '^Bearer realm="mdauth", *error="invalid_token"' \
		"$1: WWW-Authenticate carries error=\"invalid_token\""
}

req_bearer GET /validate "$(h_random_token)"
h_expect_dead "an unknown well-formed token"

h_login_ok alice 'correct horse battery staple'
sql "UPDATE mdauth.sessions SET expires_at = now() - interval '1 second'
	WHERE id = :'sid'" sid="$SESSION_ID"
req_bearer GET /validate "$TOKEN"
h_expect_dead "a token expired by SQL"

h_login_ok alice 'correct horse battery staple'
revoked=$TOKEN
req_bearer GET /validate "$revoked"
is "$STATUS" 200 "a fresh token validates before it is revoked"
sql "UPDATE mdauth.sessions SET revoked_at = now() WHERE id = :'sid'" sid="$SESSION_ID"
req_bearer GET /validate "$revoked"
h_expect_dead "a token revoked by SQL"
# Every worker sees the change: with 2 workers, some of these land on each.
codes=$(for i in 1 2 3 4 5 6; do
	req_bearer GET /validate "$revoked"
	printf '%s ' "$STATUS"
done)
is "$codes" "401 401 401 401 401 401 " "a revoked token is refused on every later request (all workers)"

h_login_ok bob 'bob password 1234'
req_bearer GET /validate "$TOKEN"
is "$STATUS" 200 "a user's token validates before the user is disabled"
sql "UPDATE mdauth.users SET disabled_at = now() WHERE username = 'bob'"
req_bearer GET /validate "$TOKEN"
h_expect_dead "the token of a user disabled by SQL"

req_bearer GET /validate "$token"
is "$STATUS" 200 "the first token is still live after the others died"

# --- on every response -----------------------------------------------------
ok "every response carries Cache-Control: no-store" \
	all_responses_have 4 '^no-store$'
ok "every response carries Content-Type: application/json" \
	all_responses_have 3 '^application/json'

done_testing

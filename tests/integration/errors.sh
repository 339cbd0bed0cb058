#!/bin/bash
# The error table of the API: routing, methods, media types, body size,
# every kind of malformed login body, and TLS.  Each answer must be the
# documented JSON error, and no bad input may take a worker down.
. "$(dirname "$0")/lib.sh"

h_setup max_body=4096
h_user_add alice 'correct horse battery staple'
workers_before=$(h_workers)

# --- routing and methods ---------------------------------------------------
req GET /nope
expect_error 404 not_found "an unknown PATH_INFO answers 404 not_found"
req GET /login/extra
expect_error 404 not_found "a known path with a suffix answers 404 not_found"
req GET ''
expect_error 404 not_found "the mount point without PATH_INFO answers 404 not_found"

# h_expect_405 METHOD PATH ALLOW
h_expect_405() {
	# Content-Length: 0, or lighttpd itself answers 411 to a bodyless POST.
	req "$1" "$2" -H 'Content-Length: 0'
	expect_error 405 method_not_allowed "$1 $2 answers 405 method_not_allowed"
	# Compare without blanks: "GET, HEAD" and "GET,HEAD" say the same.
	is "$(header Allow | tr -d ' ')" "$(printf '%s' "$3" | tr -d ' ')" \
		"$1 $2: the Allow header lists $3"
}
h_expect_405 GET /login POST
h_expect_405 PUT /login POST
h_expect_405 GET /logout POST
h_expect_405 POST /validate 'GET, HEAD'
h_expect_405 DELETE /validate 'GET, HEAD'
h_expect_405 POST /health GET

# --- media type ------------------------------------------------------------
good='{"username":"alice","password":"correct horse battery staple"}'
req POST /login -H 'Content-Type:' --data-binary "$good"
expect_error 415 unsupported_media_type "login without Content-Type answers 415"
req POST /login -H 'Content-Type: text/plain' --data-binary "$good"
expect_error 415 unsupported_media_type "login with text/plain answers 415"
req POST /login -H 'Content-Type: application/x-www-form-urlencoded' \
	--data-binary 'username=alice&password=correct+horse+battery+staple'
expect_error 415 unsupported_media_type "login with a form body answers 415"
req POST /login -H 'Content-Type: application/jsonx' --data-binary "$good"
expect_error 415 unsupported_media_type "login with application/jsonx answers 415 (no prefix match)"
req POST /login -H 'Content-Type: application/json; charset=utf-8' --data-binary "$good"
is "$STATUS" 200 "login accepts application/json; charset=utf-8"
req POST /login -H 'Content-Type: Application/JSON' --data-binary "$good"
is "$STATUS" 200 "login accepts the media type in any case (Application/JSON)"

# --- body size (max_body = 4096 here) --------------------------------------
# h_padded_login SIZE: a login body of exactly SIZE bytes (blanks before the
# closing brace), for a user that does not exist.
h_padded_login() {
	local head='{"username":"nobody","password":"wrong password"'
	printf '%s%*s}' "$head" $(($1 - ${#head} - 1)) ''
}
h_padded_login 4096 >"$H_DIR/body-4096"
h_padded_login 4097 >"$H_DIR/body-4097"
req POST /login -H 'Content-Type: application/json' --data-binary "@$H_DIR/body-4096"
expect_error 401 invalid_credentials "a body of exactly max_body bytes is read (401, not 413)"
req POST /login -H 'Content-Type: application/json' --data-binary "@$H_DIR/body-4097"
expect_error 413 payload_too_large "a body one byte over max_body answers 413 payload_too_large"
head -c 60000 /dev/zero | tr '\0' ' ' >"$H_DIR/body-big"
req POST /login -H 'Content-Type: application/json' --data-binary "@$H_DIR/body-big"
expect_error 413 payload_too_large "a 60000-byte body answers 413 payload_too_large"

# --- malformed login bodies ------------------------------------------------
# h_bad_body NAME BODY: BODY (a string, or @FILE) answers 400 invalid_request.
h_bad_body() {
	req POST /login -H 'Content-Type: application/json' --data-binary "$2"
	expect_error 400 invalid_request "$1 answers 400 invalid_request"
}
pw_1024=$(head -c 1024 /dev/zero | tr '\0' p)
h_bad_body "an empty body" ''
h_bad_body "a body that is not JSON" 'username=alice&password=secret'
h_bad_body "a JSON array" '["alice","correct horse battery staple"]'
h_bad_body "a JSON string" '"alice"'
h_bad_body "JSON null" 'null'
h_bad_body "a missing username" '{"password":"correct horse battery staple"}'
h_bad_body "a missing password" '{"username":"alice"}'
h_bad_body "a username that is a number" '{"username":42,"password":"correct horse battery staple"}'
h_bad_body "a password that is null" '{"username":"alice","password":null}'
h_bad_body "an empty username" '{"username":"","password":"correct horse battery staple"}'
h_bad_body "an empty password" '{"username":"alice","password":""}'
h_bad_body "a 1025-byte password" "{\"username\":\"alice\",\"password\":\"${pw_1024}p\"}"
h_bad_body "a username with \\u0000 inside" '{"username":"al\u0000ice","password":"correct horse battery staple"}'
h_bad_body "a password with \\u0000 inside" '{"username":"alice","password":"correct\u0000horse battery staple"}'
printf '{"username":"al\377ice","password":"correct horse battery staple"}' >"$H_DIR/body-utf8"
h_bad_body "a username with an invalid UTF-8 byte" "@$H_DIR/body-utf8"
printf '{"username":"al\300\257ice","password":"correct horse battery staple"}' >"$H_DIR/body-overlong"
h_bad_body "a username with an overlong UTF-8 sequence" "@$H_DIR/body-overlong"
# SPEC section 4: a username with a control character is a malformed
# request, answered before any database work (no event, no throttle row).
h_bad_body "a username with \\u0001 inside" '{"username":"a\u0001b","password":"correct horse battery staple"}'
printf '{"username":"a\177b","password":"correct horse battery staple"}' >"$H_DIR/body-del"
h_bad_body "a username with a raw DEL inside" "@$H_DIR/body-del"
h_bad_body "a username with a C1 control (\\u009b) inside" '{"username":"a\u009bb","password":"correct horse battery staple"}'
is "$(sql "SELECT count(*) FROM mdauth.auth_events WHERE username ~ '^a.b$'") $(sql "SELECT count(*)
	FROM mdauth.login_throttle WHERE kind = 'user' AND key ~ '^a.b$'")" "0 0" \
	"a username with a control character leaves no event and no throttle row"
h_bad_body "a lone UTF-16 surrogate escape" '{"username":"al\ud800ice","password":"correct horse battery staple"}'
h_bad_body "trailing garbage after the object" '{"username":"a","password":"b"} x'
h_bad_body "two objects in a row" '{"username":"a","password":"b"}{}'
h_bad_body "a truncated object" '{"username":"alice","password":"correct'
h_bad_body "a device that is not a string" '{"username":"alice","password":"correct horse battery staple","device":5}'
deep=$(printf '%0.s[' $(seq 20))$(printf '%0.s]' $(seq 20))
h_bad_body "20 levels of nesting in device" \
	"{\"username\":\"alice\",\"password\":\"correct horse battery staple\",\"device\":$deep}"
deeper=$(printf '%0.s[' $(seq 1500))$(printf '%0.s]' $(seq 1500))
h_bad_body "1500 levels of nesting" \
	"{\"username\":\"alice\",\"password\":\"correct horse battery staple\",\"device\":$deeper}"

# Boundaries that must be accepted.
req_json POST /login "{\"username\":\"alice\",\"password\":\"$pw_1024\"}"
expect_error 401 invalid_credentials "a 1024-byte password is accepted for checking (401, not 400)"
req_json POST /login '{"username":"alice","password":"correct horse battery staple","device":"caf\u00e9 \u2615"}'
is "$STATUS" 200 "a device with escaped non-ASCII characters is accepted"
is "$(sql "SELECT device FROM mdauth.sessions WHERE id = :'sid'" sid="$(json session_id)")" \
	'café ☕' "the escaped device label is stored decoded"

# --- TLS -------------------------------------------------------------------
sessions_before=$(sql "SELECT count(*) FROM mdauth.sessions")
req_plain POST /login -H 'Content-Type: application/json' --data-binary "$good"
expect_error 403 tls_required "a login over plain HTTP answers 403 tls_required"
is "$(sql "SELECT count(*) FROM mdauth.sessions")" "$sessions_before" \
	"a login over plain HTTP opens no session"
h_login_ok alice 'correct horse battery staple'
req_plain GET /validate -H "Authorization: Bearer $TOKEN"
expect_error 403 tls_required "a validate over plain HTTP answers 403 tls_required"

# --- over all of the above -------------------------------------------------
ok "every response carries Content-Type: application/json" \
	all_responses_have 3 '^application/json'
ok "every response carries Cache-Control: no-store" \
	all_responses_have 4 '^no-store$'
is "$(h_workers)" "$workers_before" "no request in this script killed a worker"

done_testing

#!/bin/bash
# The API, and the protection of the rest of /api/, through one web server
# with TLS, configured with the file shipped in deploy/SERVER/ (rendered
# with test ports and paths).  Run by web_lighttpd.sh, web_apache.sh and
# web_nginx.sh, which set STACK_WEB; it is the same suite for each.
#
# The protected application is deploy/app/whoami.cgi, which prints the
# user the web server handed it.
. "$(dirname "$0")/lib.sh"

web=${STACK_WEB:?web_suite.sh: set STACK_WEB}
h_setup login_max_failures=3 login_failure_window=60 login_lockout=60
PW='correct horse battery staple'
h_user_add alice "$PW"
h_user_add bob "$PW"
APP=https://localhost:$STACK_HTTPS_PORT/api

# app PATH [CURL ARGS...]: a request to the protected application.
app() {
	local path=$1
	shift
	req_url GET "$APP$path" "$@"
}

h_app_ok() {
	app /whoami.cgi -H "Authorization: Bearer $1"
	[ "$STATUS" = 200 ]
}

# is_challenge ERROR NAME: the WWW-Authenticate of the last response is
# mdauth's Bearer challenge, with error="ERROR" (or none when ERROR is "").
is_challenge() {
	local got
	got=$(header WWW-Authenticate)
	if [ -z "$1" ]; then
		is "$got" 'Bearer realm="mdauth"' "$2"
	else
		like "$got" "^Bearer realm=\"mdauth\", error=\"$1\", error_description=\"[^\"]+\"$" "$2"
	fi
}

# --- the API through $web -----------------------------------------------------
req GET /health
is "$STATUS" 200 "$web: GET /api/auth/health answers 200"
is "$(json status)" ok "$web: health reports ok"

login alice "$PW" phone
is "$STATUS" 200 "$web: login answers 200"
like "$TOKEN" "$H_TOKEN_RE" "$web: login returns a token"
is "$(header Cache-Control)" no-store "$web: the token is sent with Cache-Control: no-store"
phone=$TOKEN
phone_session=$SESSION_ID

req_bearer GET /validate "$phone"
is "$STATUS" 200 "$web: validate answers 200 for a live token"
is "$(json username)/$(json session_id)" "alice/$phone_session" "$web: validate names the user and session"
is "$(header X-Auth-User)" alice "$web: validate sends X-Auth-User"
is "$(header X-Auth-Session-Id)" "$phone_session" "$web: validate sends X-Auth-Session-Id"

req_bearer HEAD /validate "$phone"
is "$STATUS" 200 "$web: HEAD /validate answers 200"

login alice "$PW" laptop
laptop=$TOKEN
req_bearer GET /sessions "$phone"
is "$STATUS" 200 "$web: GET /sessions answers 200"
is "$(jq -r '[.sessions[].device] | sort | join(",")' <<<"$BODY")" laptop,phone \
	"$web: both devices of the user are listed"

req_bearer POST /refresh "$laptop" -H 'Content-Length: 0'
is "$STATUS" 200 "$web: refresh answers 200"
old_laptop=$laptop
laptop=$(json token)
req_bearer GET /validate "$old_laptop"
is "$STATUS" 401 "$web: the token replaced by refresh is refused at once"

req_bearer DELETE "/sessions/$(cat /proc/sys/kernel/random/uuid)" "$phone"
expect_error 404 not_found "$web: DELETE of a session that is not the user's is 404"

req_bearer POST /logout "$laptop" -H 'Content-Length: 0'
is "$STATUS/$(json status)" 200/logged_out "$web: logout answers 200 logged_out"
req_bearer GET /validate "$laptop"
expect_error 401 invalid_token "$web: a logged-out token is 401 invalid_token"
is_challenge invalid_token "$web: ... with the invalid_token challenge"

# --- the error table through $web ----------------------------------------------
req_json POST /login '{"username":"alice","password":'
expect_error 400 invalid_request "$web: malformed JSON is 400 invalid_request"
req_json POST /login '{"username":"alice","password":"wrong"}'
expect_error 401 invalid_credentials "$web: a wrong password is 401 invalid_credentials"
req GET /validate
expect_error 401 invalid_token "$web: no credentials is 401 invalid_token"
is_challenge "" "$web: ... with the plain Bearer challenge"
req_bearer GET /validate 'a b'
expect_error 400 invalid_request "$web: malformed Bearer credentials are 400 invalid_request"
req_plain GET /validate -H "Authorization: Bearer $phone"
expect_error 403 tls_required "$web: plain HTTP is 403 tls_required"
req GET /nowhere
expect_error 404 not_found "$web: an unknown path is 404 not_found"
req GET /login
expect_error 405 method_not_allowed "$web: GET /login is 405"
is "$(header Allow)" POST "$web: ... with Allow: POST"
req POST /login -H 'Content-Type: application/json' \
	--data-binary "{\"username\":\"alice\",\"password\":\"$(head -c 20000 /dev/zero | tr '\0' x)\"}"
expect_error 413 payload_too_large "$web: a body over max_body is 413"
req POST /login -H 'Content-Type: text/plain' --data-binary 'username=alice'
expect_error 415 unsupported_media_type "$web: a body that is not JSON is 415"
for _ in 1 2 3; do
	req_json POST /login '{"username":"bob","password":"wrong"}'
done
req_json POST /login "{\"username\":\"bob\",\"password\":\"$PW\"}"
expect_error 429 too_many_requests "$web: a throttled login is 429"
like "$(header Retry-After)" '^[0-9]+$' "$web: ... with Retry-After"

# --- the rest of /api/, protected ----------------------------------------------
app /whoami.cgi
is "$STATUS" 401 "$web: protected, no token: 401"
is_challenge "" "$web: protected, no token: the Bearer challenge reaches the client"
unlike "$BODY" 'user=' "$web: protected, no token: the application did not run"
ok "$web: protected, no token: Content-Type application/json" is_json_content_type

# An application file named like the mount must not be reachable past it.
cp "$STACK_DIR/app/api/whoami.cgi" "$STACK_DIR/app/api/auth" || bail "cannot copy the application"
req_url GET "https://localhost:$STACK_HTTPS_PORT/api/auth"
isnt "$STATUS" 200 "$web: /api/auth itself, no token: not 200"
unlike "$BODY" 'user=' "$web: /api/auth itself, no token: no application runs"

req_url GET "http://127.0.0.1:$STACK_HTTP_PORT/api/whoami.cgi" -H "Authorization: Bearer $phone"
is "$STATUS/$(json error)" 403/tls_required "$web: protected over plain HTTP: 403 tls_required"
unlike "$BODY" 'user=' "$web: protected over plain HTTP: the application did not run"
ok "$web: protected over plain HTTP: Content-Type application/json" is_json_content_type

app /whoami.cgi -H 'Authorization: Basic YWxpY2U6eA=='
is "$STATUS" 401 "$web: protected, Basic credentials: 401"
is_challenge "" "$web: protected, Basic credentials: the plain Bearer challenge"

app /whoami.cgi -H "Authorization: Bearer $(h_random_token)"
is "$STATUS" 401 "$web: protected, unknown token: 401"
is_challenge invalid_token "$web: protected, unknown token: invalid_token challenge"
is "$(json error)" invalid_token "$web: protected, unknown token: JSON body invalid_token"
ok "$web: protected, unknown token: Content-Type application/json" is_json_content_type

app /whoami.cgi -H 'Authorization: Bearer a b'
is "$STATUS" 400 "$web: protected, malformed Bearer credentials: 400"
is_challenge invalid_request "$web: protected, malformed: invalid_request challenge"
ok "$web: protected, malformed: Content-Type application/json" is_json_content_type

app /whoami.cgi/messages/7 -H "Authorization: Bearer $phone" -H 'X-Auth-User: mallory'
is "$STATUS" 200 "$web: protected, live token: the application answers 200"
like "$(header Content-Type)" '^text/plain' "$web: protected, live token: the application's own Content-Type"
is "$(sed -n 's/^user=//p' <<<"$BODY")" alice "$web: protected: the application sees the token's user"
is "$(sed -n 's/^session_id=//p' <<<"$BODY")" "$phone_session" \
	"$web: protected: the application sees the session id"
is "$(sed -n 's/^user_id=//p' <<<"$BODY")" "$(sql "SELECT id FROM mdauth.users WHERE username = 'alice'")" \
	"$web: protected: the application sees the user id"
is "$(sed -n 's/^path_info=//p' <<<"$BODY")" /messages/7 "$web: protected: the path reaches the application"
# no_authorization NAME: the application did not get the Authorization
# header.  lighttpd 1.4.69 cannot remove it (deploy/lighttpd/ says why):
# a TAP TODO there, which an unexpected pass turns into a failure.
no_authorization() {
	local got
	got=$(sed -n 's/^authorization=//p' <<<"$BODY")
	if [ "$web" != lighttpd ]; then
		is "$got" "" "$1"
	elif [ -n "$got" ]; then
		T_COUNT=$((T_COUNT + 1))
		printf 'not ok %d - %s # TODO lighttpd 1.4.69 cannot drop a request header after its authorizer\n' \
			"$T_COUNT" "$1"
	else
		fail "$1 (lighttpd now drops it: make this an ordinary check)"
	fi
}
no_authorization "$web: protected: the application does not get the Authorization header (the token)"

body=$(head -c 3000 /dev/zero | tr '\0' a)
req_url POST "$APP/whoami.cgi/messages" -H "Authorization: Bearer $phone" \
	-H 'Content-Type: application/json' --data-binary "{\"text\":\"$body\"}"
is "$STATUS" 200 "$web: protected POST with a body: the application answers 200"
is "$(sed -n 's/^method=//p' <<<"$BODY")/$(sed -n 's/^body_bytes=//p' <<<"$BODY")" POST/3011 \
	"$web: protected POST: the application gets the method and the whole body"
is "$(sed -n 's/^user=//p' <<<"$BODY")" alice "$web: protected POST: the application gets the user"
no_authorization "$web: protected POST: the application does not get the Authorization header"

sql "SELECT mdauth.revoke_session(:'id')" id="$phone_session" >/dev/null
app /whoami.cgi -H "Authorization: Bearer $phone"
is "$STATUS" 401 "$web: protected, token revoked by SQL: 401 on the next request"
is_challenge invalid_token "$web: protected, revoked: invalid_token challenge"
unlike "$BODY" 'user=' "$web: protected, revoked: the application did not run"

# The database is down: a client is told to come back, never let through.
login alice "$PW" tablet
tablet=$TOKEN
stack_pg_stop || bail "cannot stop PostgreSQL"
app /whoami.cgi -H "Authorization: Bearer $tablet"
is "$STATUS" 503 "$web: protected, database down: 503"
like "$(header Retry-After)" '^[0-9]+$' "$web: protected, database down: Retry-After"
unlike "$BODY" 'user=' "$web: protected, database down: the application did not run"
ok "$web: protected, database down: Content-Type application/json" is_json_content_type
stack_pg_start || bail "cannot start PostgreSQL"
h_wait_for 10 h_app_ok "$tablet"
app /whoami.cgi -H "Authorization: Bearer $tablet"
is "$STATUS" 200 "$web: protected: served again once the database is back"

# A client that never finishes its headers (Apache: mod_reqtimeout with
# the shipped header=10-20; its default would wait 20 s and more).
if [ "$web" = apache ]; then
	start=$(h_now)
	got=$(python3 - "$STACK_HTTPS_PORT" <<'PY'
import socket, ssl, sys
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1]))),
                    server_hostname="localhost")
s.settimeout(60)
s.sendall(b"POST /api/auth/login HTTP/1.1\r\nHost: localhost\r\n")
data = b""
try:
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
except OSError:
    pass
print(data.split(b"\r\n", 1)[0].decode(errors="replace") or "closed")
PY
)
	took=$(h_elapsed "$start")
	like "$got" '408|closed' "$web: a client whose headers never end is dropped ($got)"
	ok "$web: ... after the 10 s of RequestReadTimeout header=10-20, not the default 20-40 ($took s)" \
		bash -c 'h() { awk -v t="$1" "BEGIN { exit !(t >= 9 && t < 19) }"; }; h "$1"' _ "$took"
fi

# Neither token reached a log.
ok "$web: no token in any log of $web or mdauthd" \
	bash -c '! grep -rlF -e "$1" -e "$2" "$3"/*.log' _ "$phone" "$tablet" "$H_DIR"

done_testing

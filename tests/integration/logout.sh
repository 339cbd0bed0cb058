#!/bin/bash
# POST /logout: revokes the presented token's session only, idempotently
# (RFC 7009 §2.2); and, at the end, no secret reached a log.
. "$(dirname "$0")/lib.sh"

h_setup
h_user_add alice 'correct horse battery staple'

# h_logout [TOKEN]: POST /logout without a body, as HTTP clients send it
# (Content-Length: 0; lighttpd answers 411 to a POST without one).
h_logout() {
	if [ $# -gt 0 ]; then
		req_bearer POST /logout "$1" -H 'Content-Length: 0'
	else
		req POST /logout -H 'Content-Length: 0'
	fi
}

h_login_ok alice 'correct horse battery staple' phone
phone_token=$TOKEN
phone_session=$SESSION_ID
h_login_ok alice 'correct horse battery staple' laptop
laptop_token=$TOKEN
laptop_session=$SESSION_ID

# --- logging out -----------------------------------------------------------
h_logout "$phone_token"
is "$STATUS" 200 "logout with a live token answers 200"
ok "logout answers {\"status\":\"logged_out\"}" \
	jq -e '. == {"status": "logged_out"}' <<<"$BODY"
ok "logout answers Content-Type application/json" is_json_content_type
is "$(header Cache-Control)" no-store "logout answers Cache-Control: no-store"
is "$(sql "SELECT revoked_at IS NOT NULL FROM mdauth.sessions WHERE id = :'sid'" \
	sid="$phone_session")" t "logout sets revoked_at on the session"
is "$(sql "SELECT count(*) FROM mdauth.auth_events
	WHERE event = 'logout' AND session_id = :'sid'" sid="$phone_session")" 1 \
	"logout writes a logout event for the session"

req_bearer GET /validate "$phone_token"
expect_error 401 invalid_token "a logged-out token no longer validates"
req_bearer GET /validate "$laptop_token"
is "$STATUS" 200 "the user's other session stays live"
is "$(sql "SELECT revoked_at IS NULL FROM mdauth.sessions WHERE id = :'sid'" \
	sid="$laptop_session")" t "the other session's row is not revoked"

# --- idempotence -----------------------------------------------------------
revoked_at=$(sql "SELECT revoked_at FROM mdauth.sessions WHERE id = :'sid'" sid="$phone_session")
h_logout "$phone_token"
is "$STATUS" 200 "logout again with the same token answers 200"
ok "logout again answers {\"status\":\"logged_out\"}" \
	jq -e '. == {"status": "logged_out"}' <<<"$BODY"
is "$(sql "SELECT revoked_at FROM mdauth.sessions WHERE id = :'sid'" sid="$phone_session")" \
	"$revoked_at" "logout again leaves the first revocation time alone"

h_logout "$(h_random_token)"
is "$STATUS" 200 "logout with an unknown well-formed token answers 200"

h_login_ok alice 'correct horse battery staple' tablet
sql "UPDATE mdauth.sessions SET expires_at = now() - interval '1 second'
	WHERE id = :'sid'" sid="$SESSION_ID"
h_logout "$TOKEN"
is "$STATUS" 200 "logout with an expired token answers 200"

# --- bad credentials -------------------------------------------------------
h_logout
expect_error 401 invalid_token "logout without a token answers 401"
is "$(header WWW-Authenticate)" 'Bearer realm="mdauth"' \
	"logout without a token: WWW-Authenticate: Bearer realm=\"mdauth\""
req POST /logout -H 'Content-Length: 0' -H 'Authorization: Bearer mda_abc$def'
expect_error 400 invalid_request "logout with a malformed token answers 400 invalid_request"

req_bearer GET /validate "$laptop_token"
is "$STATUS" 200 "none of this touched the other session"

# --- secrets never logged --------------------------------------------------
# Stop the daemon and lighttpd first so their logs are complete.
stack_web_stop
stack_mdauthd_stop
ok "the logs were written (so the checks below look at something)" \
	test -s "$H_DIR/mdauthd.log" -a -s "$H_DIR/lighttpd-access.log"
leaked=
for t in "${H_TOKENS[@]}"; do
	# The random part alone, in case a log line dropped the prefix.
	h_logs_contain "${t#mda_}" && leaked="$leaked $t"
done
is "$leaked" "" "no issued token appears in the daemon's or lighttpd's logs"
leaked=
for p in "${H_PASSWORDS[@]}"; do
	h_logs_contain "$p" && leaked="$leaked '$p'"
done
is "$leaked" "" "no password appears in the daemon's or lighttpd's logs"

done_testing

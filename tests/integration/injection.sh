#!/bin/bash
# SQL injection strings in every field a client controls (username,
# password, device, the Bearer token, the session id of DELETE
# /sessions/{id}, X-Forwarded-For, User-Agent) behave as ordinary values:
# unknown names and tokens are refused as usual, nothing runs (no
# pg_sleep), data is stored as it was sent, and the tables are intact.
. "$(dirname "$0")/lib.sh"

PW='correct horse battery staple'
ADMIN_PW='admin password 1234'
h_setup login_max_failures=1000 ip_max_failures=1000 max_sessions_per_user=100
h_user_add alice "$PW"
h_user_add admin "$ADMIN_PW"
h_login_ok alice "$PW" 'first phone'
token=$TOKEN
alice_session=$SESSION_ID

PAYLOADS=(
	"' OR '1'='1"
	"admin'--"
	"'; DROP TABLE mdauth.users; --"
	'" OR ""="'
	'1; SELECT pg_sleep(5)'
	"%' AND 1=1 --"
)

users_before=$(sql "SELECT count(*) FROM mdauth.users")
sessions_before=$(sql "SELECT count(*) FROM mdauth.sessions")
opened=0

# Every request is timed: a pg_sleep(5) that ran would show.
SLOW=
h_timed() {
	local start
	start=$(h_now)
	"$@"
	h_lt "$(h_elapsed "$start")" 3 || SLOW="$SLOW
$H_LAST_REQUEST: $(h_elapsed "$start")s"
}

# h_live_sessions USER: USER's live sessions.
h_live_sessions() {
	sql "SELECT count(*) FROM mdauth.sessions s JOIN mdauth.users u ON u.id = s.user_id
		WHERE u.username = :'u' AND s.revoked_at IS NULL" u="$1"
}

for p in "${PAYLOADS[@]}"; do
	# The username, with a real password (admin's: "admin'--" would find
	# admin if it reached the SQL as text).
	h_timed login "$p" "$ADMIN_PW"
	expect_error 401 invalid_credentials "username $p: 401 invalid_credentials"
	is "$(sql "SELECT count(*) FROM mdauth.auth_events WHERE event = 'login_failure'
		AND username = :'p' AND user_id IS NULL" p="$p")" 1 \
		"username $p: the failure is recorded with the name verbatim, as an unknown user"

	h_timed login alice "$p"
	expect_error 401 invalid_credentials "password $p: 401 invalid_credentials"

	h_timed login alice "$PW" "$p"
	is "$STATUS" 200 "device $p: the login succeeds"
	opened=$((opened + 1))
	is "$(sql "SELECT device FROM mdauth.sessions WHERE id = :'sid'" sid="$SESSION_ID")" "$p" \
		"device $p: stored verbatim"

	h_timed login alice "$PW" phone -A "$p" -H "X-Forwarded-For: $p"
	is "$STATUS" 200 "User-Agent and X-Forwarded-For $p: the login succeeds"
	opened=$((opened + 1))
	is "$(sql "SELECT user_agent FROM mdauth.sessions WHERE id = :'sid'" sid="$SESSION_ID")" "$p" \
		"User-Agent $p: stored verbatim with the session"
	is "$(sql "SELECT user_agent FROM mdauth.auth_events
		WHERE event = 'login_success' AND session_id = :'sid'" sid="$SESSION_ID")" "$p" \
		"User-Agent $p: stored verbatim with the login_success event"
	is "$(sql "SELECT ip FROM mdauth.sessions WHERE id = :'sid'" sid="$SESSION_ID")" 127.0.0.1 \
		"X-Forwarded-For $p: ignored (the session's address is REMOTE_ADDR)"

	# Not a b64token (quotes, blanks, ;, %): malformed credentials.
	h_timed req_bearer GET /validate "$p"
	if [[ $p =~ ^[A-Za-z0-9._~+/-]+=*$ ]]; then
		expect_error 401 invalid_token "Bearer $p: 401 invalid_token"
	else
		expect_error 400 invalid_request "Bearer $p: 400 invalid_request (not a b64token)"
	fi

	h_timed req_bearer DELETE "/sessions/$(jq -rn --arg p "$p" '$p | @uri')" "$token"
	expect_error 404 not_found "DELETE /sessions/$p: 404 not_found"
done

is "$SLOW" "" "every request was answered in under 3 s (no pg_sleep ran)"

# --- the tables are intact ---------------------------------------------------
is "$(sql "SELECT count(*) FROM mdauth.users")" "$users_before" "mdauth.users has as many rows as before"
is "$(sql "SELECT count(*) FROM mdauth.sessions")" "$((sessions_before + opened))" \
	"mdauth.sessions has the rows before plus one per successful login"
is "$(h_live_sessions alice)" "$((opened + 1))" "none of alice's sessions was revoked by a DELETE"
is "$(h_live_sessions admin)" 0 "no session was opened for admin"
req_bearer GET /validate "$token"
is "$STATUS" 200 "the first session's token still validates"
is "$(json session_id)" "$alice_session" "and still names its own session"
login alice "$PW"
is "$STATUS" 200 "alice still logs in"
login admin "$ADMIN_PW"
is "$STATUS" 200 "admin still logs in"

done_testing

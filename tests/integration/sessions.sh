#!/bin/bash
# GET /sessions and DELETE /sessions/{id}: a user's live sessions (devices),
# newest use first, never anyone else's; revoking one of them, and 404 for
# anything that is not a live session of the caller.
. "$(dirname "$0")/lib.sh"

# Six sessions of one user: above the default cap of 5.
h_setup workers=2 max_sessions_per_user=10
h_user_add alice 'correct horse battery staple'
h_user_add bob 'bob password 1234'
h_user_add carol 'carol password 1234'
ALICE_ID=$(sql "SELECT id FROM mdauth.users WHERE username = 'alice'")

# h_login_ua USER PASSWORD USER_AGENT [DEVICE]: a login that must succeed,
# sent with that User-Agent (and no device member without DEVICE).
h_login_ua() {
	local body
	if [ $# -ge 4 ]; then
		body=$(jq -cn --arg u "$1" --arg p "$2" --arg d "$4" \
			'{username: $u, password: $p, device: $d}')
	else
		body=$(jq -cn --arg u "$1" --arg p "$2" '{username: $u, password: $p}')
	fi
	H_PASSWORDS+=("$2")
	req_json POST /login "$body" -A "$3"
	[ "$STATUS" = 200 ] || bail "login as $1 failed: $(h_last_response)"
	TOKEN=$(json token)
	SESSION_ID=$(json session_id)
	H_TOKENS+=("$TOKEN")
}

# h_list TOKEN: GET /sessions with TOKEN.
h_list() {
	req_bearer GET /sessions "$1"
}

# h_ids: the session_ids of the last listing, in order, space-separated.
h_ids() {
	jq -r '[.sessions[].session_id] | join(" ")' <<<"$BODY" 2>/dev/null
}

# h_field SESSION FIELD: FIELD of SESSION in the last listing (strings
# raw, other values as JSON text, empty when the session is not listed).
h_field() {
	jq -r --arg s "$1" --arg f "$2" \
		'.sessions[] | select(.session_id == $s) | .[$f]
		 | if type == "string" then . else tojson end' <<<"$BODY" 2>/dev/null
}

# h_iso COLUMN SESSION: a timestamptz column as the API writes times.
h_iso() {
	sql "SELECT to_char($1 AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')
		FROM mdauth.sessions WHERE id = :'sid'" sid="$2"
}

# h_db_order USER: the user's live sessions, most recently used first.
h_db_order() {
	sql "SELECT string_agg(s.id::text, ' ' ORDER BY s.last_used_at DESC)
		FROM mdauth.sessions s JOIN mdauth.users u ON u.id = s.user_id
		WHERE u.username = :'u' AND s.revoked_at IS NULL
		AND s.expires_at > now() AND s.absolute_expires_at > now()" u="$1"
}

# h_expect_dead NAME: 401 invalid_token.
h_expect_dead() {
	expect_error 401 invalid_token "$1: 401 invalid_token"
}

# alice: three live sessions, and three that are not live.
h_login_ua alice 'correct horse battery staple' 'WhatsAppClone/2.1' 'Pixel 8'
phone_token=$TOKEN
phone=$SESSION_ID
h_login_ua alice 'correct horse battery staple' 'plain-client/1.0'
bare_token=$TOKEN
bare=$SESSION_ID
h_login_ua alice 'correct horse battery staple' 'TabletApp/3.0' 'iPad'
tablet_token=$TOKEN
tablet=$SESSION_ID
h_login_ua alice 'correct horse battery staple' 'old/1' 'expired'
expired=$SESSION_ID
h_login_ua alice 'correct horse battery staple' 'old/1' 'past absolute'
past_absolute=$SESSION_ID
h_login_ua alice 'correct horse battery staple' 'old/1' 'logged out'
req_bearer POST /logout "$TOKEN" -H 'Content-Length: 0'
logged_out=$SESSION_ID
h_login_ua bob 'bob password 1234' 'BobPhone/1.0' 'bob phone'
bob_token=$TOKEN
bob_session=$SESSION_ID

sql "UPDATE mdauth.sessions SET expires_at = now() - interval '1 second'
	WHERE id = :'sid'" sid="$expired"
sql "UPDATE mdauth.sessions SET absolute_expires_at = now() - interval '1 second'
	WHERE id = :'sid'" sid="$past_absolute"
# A known order of use: the phone logged in just now (and within
# touch_interval, so listing with it does not move it), the tablet was
# used 2 minutes ago, the device without a label 5 minutes ago.
sql "UPDATE mdauth.sessions SET last_used_at = now() - interval '2 minutes'
	WHERE id = :'sid'" sid="$tablet"
sql "UPDATE mdauth.sessions SET last_used_at = now() - interval '5 minutes'
	WHERE id = :'sid'" sid="$bare"

# --- the listing -----------------------------------------------------------
h_list "$phone_token"
is "$STATUS" 200 "GET /sessions with a live token answers 200"
ok "GET /sessions answers Content-Type application/json" is_json_content_type
is "$(header Cache-Control)" no-store "GET /sessions answers Cache-Control: no-store"
is "$(json_keys)" sessions "the body is an object with the single member sessions"
is "$(json_type sessions)" array "sessions is an array"
is "$(h_ids)" "$phone $tablet $bare" \
	"the caller's three live sessions are listed, most recently used first"
is "$(jq -r '[.sessions[] | keys | join(",")] | unique | join(" ")' <<<"$BODY")" \
	"created_at,current,device,expires_at,ip,last_used_at,session_id,user_agent" \
	"each session has exactly session_id, device, created_at, last_used_at, expires_at, ip, user_agent, current"
unlike " $(h_ids) " " $expired " "an idle-expired session is not listed"
unlike " $(h_ids) " " $past_absolute " "a session past its absolute lifetime is not listed"
unlike " $(h_ids) " " $logged_out " "a logged-out session is not listed"
unlike " $(h_ids) " " $bob_session " "another user's session is not listed"
is "$(jq -r '[.sessions[] | select(.current == true) | .session_id] | join(" ")' <<<"$BODY")" \
	"$phone" "current is true for the session of the token used, and only for it"
is "$(jq -r '[.sessions[].current | type] | unique | join(" ")' <<<"$BODY")" boolean \
	"current is a JSON boolean on every session"
is "$(h_field "$phone" device)" 'Pixel 8' "device is the label given at login"
is "$(h_field "$bare" device)" null "device is null when the login gave none"
is "$(h_field "$tablet" device)" iPad "each session has its own device label"
is "$(jq -r '[.sessions[].ip] | unique | join(" ")' <<<"$BODY")" 127.0.0.1 \
	"ip is the client's address (REMOTE_ADDR)"
is "$(h_field "$phone" user_agent)" 'WhatsAppClone/2.1' "user_agent is the login's User-Agent"
is "$(h_field "$bare" user_agent)" 'plain-client/1.0' "each session has its own user_agent"
bad_times=$(jq -r --arg re "$H_TIME_RE" \
	'.sessions[] | (.created_at, .last_used_at, .expires_at)
	 | select(type != "string" or (test($re) | not))' <<<"$BODY")
is "$bad_times" "" "created_at, last_used_at and expires_at are all ISO-8601 UTC (YYYY-MM-DDTHH:MM:SSZ)"
is "$(h_field "$tablet" last_used_at)" "$(h_iso last_used_at "$tablet")" \
	"last_used_at is the session's last_used_at"
is "$(h_field "$tablet" created_at)" "$(h_iso created_at "$tablet")" \
	"created_at is the session's created_at"
is "$(h_field "$tablet" expires_at)" "$(h_iso expires_at "$tablet")" \
	"expires_at is the session's expires_at"

h_list "$bare_token"
is "$STATUS" 200 "listing with another of the user's tokens answers 200"
is "$(jq -r '[.sessions[] | select(.current == true) | .session_id] | join(" ")' <<<"$BODY")" \
	"$bare" "current follows the token used: now the other session"
is "$(h_ids)" "$(h_db_order alice)" \
	"the listing follows last_used_at, newest first, as the database has it after the request"
unsorted=$(jq -r '[.sessions[].last_used_at] as $t
	| select($t != ($t | sort | reverse)) | $t | join(" ")' <<<"$BODY")
is "$unsorted" "" "the listed last_used_at times never increase down the list"

h_list "$bob_token"
is "$(h_ids)" "$bob_session" "another user sees only their own session"
is "$(h_field "$bob_session" current)" true "another user's own session is current for them"

# --- what login records: User-Agent and device -----------------------------
ua300=$(head -c 300 /dev/zero | tr '\0' a)
h_login_ua carol 'carol password 1234' "$ua300" 'long agent'
long_ua=$SESSION_ID
# The UTF-8 of "café ☕" and a tab: all outside printable ASCII.  (lighttpd
# itself refuses other control characters in a header.)
h_login_ua carol 'carol password 1234' $'caf\xc3\xa9 \xe2\x98\x95 x\ty' 'odd agent'
odd_ua=$SESSION_ID
h_login_ua carol 'carol password 1234' 'unicode/1.0' 'Téléphone de Zoë'
unicode_device=$SESSION_ID
h_list "$TOKEN"
is "$(h_field "$long_ua" user_agent)" "${ua300:0:256}" \
	"a 300-byte User-Agent is kept as its first 256 bytes"
is "$(sql "SELECT octet_length(user_agent) FROM mdauth.sessions WHERE id = :'sid'" \
	sid="$long_ua")" 256 "the stored User-Agent is 256 bytes long"
is "$(h_field "$odd_ua" user_agent)" 'caf?? ??? x?y' \
	"each byte outside printable ASCII in the User-Agent becomes ?"
is "$(sql "SELECT user_agent FROM mdauth.sessions WHERE id = :'sid'" sid="$odd_ua")" \
	'caf?? ??? x?y' "the stored User-Agent has the replacements too"
is "$(h_field "$unicode_device" device)" 'Téléphone de Zoë' \
	"a UTF-8 device label comes back as it was given"

# Characters that JSON must escape, in a device label and a User-Agent.
h_login_ua carol 'carol password 1234' 'Agent "quoted" \ back/slash' 'Bob'"'"'s "work" \ phone'
escaped=$SESSION_ID
h_list "$TOKEN"
ok "the listing with quotes and backslashes in it is valid JSON" \
	jq -e 'type == "object"' <<<"$BODY"
is "$(h_field "$escaped" device)" 'Bob'"'"'s "work" \ phone' \
	"a device label with quotes and a backslash comes back as it was given"
is "$(h_field "$escaped" user_agent)" 'Agent "quoted" \ back/slash' \
	"a User-Agent with quotes and a backslash comes back as it was given"

device128=$(head -c 128 /dev/zero | tr '\0' d)
h_login_ua carol 'carol password 1234' 'limits/1.0' "$device128"
long_device=$SESSION_ID
h_list "$TOKEN"
is "$(h_field "$long_device" device)" "$device128" "a 128-byte device label is kept whole"
login carol 'carol password 1234' "${device128}d"
expect_error 400 invalid_request "a 129-byte device label answers 400 invalid_request"

# --- revoking one session --------------------------------------------------
req_bearer DELETE "/sessions/$tablet" "$phone_token" -A 'WhatsAppClone/2.1'
is "$STATUS" 200 "DELETE /sessions/{id} of a live session of the caller answers 200"
ok "DELETE answers {\"status\":\"revoked\"}" jq -e '. == {"status": "revoked"}' <<<"$BODY"
ok "DELETE answers Content-Type application/json" is_json_content_type
is "$(header Cache-Control)" no-store "DELETE answers Cache-Control: no-store"
is "$(sql "SELECT revoked_at IS NOT NULL FROM mdauth.sessions WHERE id = :'sid'" \
	sid="$tablet")" t "the revoked session's row has revoked_at set"
req_bearer GET /validate "$tablet_token"
h_expect_dead "the revoked session's token on the next request"
codes=$(for i in 1 2 3 4 5 6; do
	req_bearer GET /validate "$tablet_token"
	printf '%s ' "$STATUS"
done)
is "$codes" "401 401 401 401 401 401 " "the revoked session's token is refused on every later request (all workers)"
req_bearer GET /validate "$phone_token"
is "$STATUS" 200 "the caller's own session stays live"
h_list "$phone_token"
is "$(h_ids | tr ' ' '\n' | sort | tr '\n' ' ')" "$(printf '%s\n' "$phone" "$bare" | sort | tr '\n' ' ')" \
	"the revoked session is no longer listed; the other two are"
is "$(sql "SELECT count(*) FROM mdauth.auth_events
	WHERE event = 'revoke' AND detail = 'user' AND user_id = :'uid' AND session_id = :'sid'
	AND ip = '127.0.0.1' AND user_agent = 'WhatsAppClone/2.1'" \
	uid="$ALICE_ID" sid="$tablet")" 1 \
	"DELETE writes a revoke event with detail user, the user, the session, ip and user agent"

# --- 404 for anything that is not a live session of the caller -------------
req_bearer DELETE "/sessions/$tablet" "$phone_token"
expect_error 404 not_found "DELETE of an already revoked session answers 404 not_found"
req_bearer DELETE "/sessions/$bob_session" "$phone_token"
expect_error 404 not_found "DELETE of another user's session answers 404 not_found"
req_bearer GET /validate "$bob_token"
is "$STATUS" 200 "another user's session survives the attempt"
is "$(sql "SELECT revoked_at IS NULL FROM mdauth.sessions WHERE id = :'sid'" \
	sid="$bob_session")" t "another user's session row is not revoked"
req_bearer DELETE "/sessions/$phone" "$bob_token"
expect_error 404 not_found "DELETE of a live session of someone else, the other way round, answers 404"
req_bearer DELETE "/sessions/$(cat /proc/sys/kernel/random/uuid)" "$phone_token"
expect_error 404 not_found "DELETE of an unknown uuid answers 404 not_found"
req_bearer DELETE "/sessions/$expired" "$phone_token"
expect_error 404 not_found "DELETE of the caller's idle-expired session answers 404 not_found"
req_bearer DELETE "/sessions/$past_absolute" "$phone_token"
expect_error 404 not_found "DELETE of the caller's session past its absolute lifetime answers 404 not_found"
req_bearer DELETE "/sessions/$logged_out" "$phone_token"
expect_error 404 not_found "DELETE of the caller's logged-out session answers 404 not_found"
req_bearer DELETE /sessions/abc "$phone_token"
expect_error 404 not_found "DELETE /sessions/abc (not a uuid) answers 404 not_found"
req_bearer DELETE /sessions/ "$phone_token"
expect_error 404 not_found "DELETE /sessions/ (no id) answers 404 not_found"
req_bearer DELETE "/sessions/${bare}0" "$phone_token"
expect_error 404 not_found "DELETE of a uuid with a character too many answers 404 not_found"
req_bearer DELETE "/sessions/$bare/extra" "$phone_token"
expect_error 404 not_found "DELETE /sessions/{id}/extra answers 404 not_found"
req_bearer GET /validate "$bare_token"
is "$STATUS" 200 "none of the refused DELETEs ended the caller's other session"
is "$(sql "SELECT count(*) FROM mdauth.auth_events WHERE event = 'revoke'")" 1 \
	"refused DELETEs write no revoke event"

# --- methods and credentials -----------------------------------------------
req_bearer GET "/sessions/$bare" "$phone_token"
expect_error 405 method_not_allowed "GET /sessions/{id} answers 405"
is "$(header Allow | tr -d ' ')" DELETE "GET /sessions/{id}: the Allow header lists DELETE"
req_bearer DELETE /sessions "$phone_token"
expect_error 405 method_not_allowed "DELETE /sessions answers 405"
is "$(header Allow | tr -d ' ')" GET "DELETE /sessions: the Allow header lists GET"
req_bearer POST /sessions "$phone_token" -H 'Content-Length: 0'
expect_error 405 method_not_allowed "POST /sessions answers 405"
is "$(header Allow | tr -d ' ')" GET "POST /sessions: the Allow header lists GET"

req GET /sessions
expect_error 401 invalid_token "GET /sessions without a token answers 401"
is "$(header WWW-Authenticate)" 'Bearer realm="mdauth"' \
	"GET /sessions without a token: WWW-Authenticate: Bearer realm=\"mdauth\""
h_list "$tablet_token"
h_expect_dead "GET /sessions with a revoked token"
h_list "$(h_random_token)"
h_expect_dead "GET /sessions with an unknown token"
req DELETE "/sessions/$bare"
expect_error 401 invalid_token "DELETE /sessions/{id} without a token answers 401"
req_bearer DELETE "/sessions/$bare" "$tablet_token"
h_expect_dead "DELETE /sessions/{id} with a revoked token"
req_bearer GET /validate "$bare_token"
is "$STATUS" 200 "a DELETE with dead credentials ends nothing"

# --- revoking the current session ------------------------------------------
req_bearer DELETE "/sessions/$phone" "$phone_token"
is "$STATUS" 200 "DELETE of the caller's own current session answers 200"
req_bearer GET /validate "$phone_token"
h_expect_dead "the token of the session that revoked itself"
h_list "$bare_token"
is "$(h_ids)" "$bare" "after it, only the last live session is listed"

# --- on every response -----------------------------------------------------
ok "every response carries Cache-Control: no-store" \
	all_responses_have 4 '^no-store$'
ok "every response carries Content-Type: application/json" \
	all_responses_have 3 '^application/json'

done_testing

#!/bin/bash
# POST /logout-all: revokes every live session of the caller, or all but
# the current one with {"keep_current": true}, and says how many; nobody
# else's sessions; a bad body revokes nothing.
. "$(dirname "$0")/lib.sh"

# Up to seven sessions of one user at once: above the default cap of 5.
h_setup workers=2 max_sessions_per_user=10
h_user_add alice 'correct horse battery staple'
h_user_add bob 'bob password 1234'
ALICE_ID=$(sql "SELECT id FROM mdauth.users WHERE username = 'alice'")
PW='correct horse battery staple'

# h_logout_all TOKEN [JSON [CURL ARGS...]]: POST /logout-all, without a body
# (Content-Length: 0, as HTTP clients send it) or with the JSON body.
h_logout_all() {
	local token=$1
	if [ $# -ge 2 ]; then
		local json=$2
		shift 2
		req_json POST /logout-all "$json" -H "Authorization: Bearer $token" "$@"
	else
		req_bearer POST /logout-all "$token" -H 'Content-Length: 0'
	fi
}

# h_live USER: how many live sessions USER has.
h_live() {
	sql "SELECT count(*) FROM mdauth.sessions s JOIN mdauth.users u ON u.id = s.user_id
		WHERE u.username = :'u' AND s.revoked_at IS NULL
		AND s.expires_at > now() AND s.absolute_expires_at > now()" u="$1"
}

# h_events EVENT: how many auth_events rows EVENT has.
h_events() {
	sql "SELECT count(*) FROM mdauth.auth_events WHERE event = :'e'" e="$1"
}

h_login_ok alice "$PW" phone
phone_token=$TOKEN
phone=$SESSION_ID
h_login_ok alice "$PW" laptop
laptop_token=$TOKEN
h_login_ok alice "$PW" tablet
tablet_token=$TOKEN
h_login_ok alice "$PW" watch
watch_token=$TOKEN
# Three sessions that are not live any more: not counted, not touched.
h_login_ok alice "$PW" expired
expired=$SESSION_ID
sql "UPDATE mdauth.sessions SET expires_at = now() - interval '1 second'
	WHERE id = :'sid'" sid="$expired"
h_login_ok alice "$PW" 'past absolute'
sql "UPDATE mdauth.sessions SET absolute_expires_at = now() - interval '1 second'
	WHERE id = :'sid'" sid="$SESSION_ID"
h_login_ok alice "$PW" 'logged out'
logged_out=$SESSION_ID
req_bearer POST /logout "$TOKEN" -H 'Content-Length: 0'
logged_out_at=$(sql "SELECT revoked_at FROM mdauth.sessions WHERE id = :'sid'" sid="$logged_out")
h_login_ok bob 'bob password 1234' 'bob phone'
bob_token=$TOKEN

# --- keep_current ----------------------------------------------------------
h_logout_all "$phone_token" '{"keep_current": true}' -A 'LogoutAll/1.0'
is "$STATUS" 200 "logout-all with keep_current answers 200"
ok "logout-all answers {\"revoked\": 3}: the other three live sessions" \
	jq -e '. == {"revoked": 3}' <<<"$BODY"
is "$(json_type revoked)" number "revoked is a JSON number"
ok "logout-all answers Content-Type application/json" is_json_content_type
is "$(header Cache-Control)" no-store "logout-all answers Cache-Control: no-store"
req_bearer GET /validate "$phone_token"
is "$STATUS" 200 "with keep_current the caller's token still validates"
is "$(validate_codes 1 "$laptop_token" "$tablet_token" "$watch_token")" "401 401 401 " \
	"with keep_current every other session's token is refused"
is "$(h_live alice)" 1 "with keep_current the user has one live session left"
req_bearer GET /validate "$bob_token"
is "$STATUS" 200 "another user's session is untouched"
is "$(sql "SELECT revoked_at FROM mdauth.sessions WHERE id = :'sid'" sid="$logged_out")" \
	"$logged_out_at" "an already revoked session keeps its first revocation time"
req_bearer GET /sessions "$phone_token"
is "$(jq -r '[.sessions[].session_id] | join(" ")' <<<"$BODY")" "$phone" \
	"the device list shows only the current session"

is "$(h_events logout_all)" 1 "logout-all writes one logout_all event"
is "$(sql "SELECT count(*) FROM mdauth.auth_events WHERE event = 'logout_all'
	AND user_id = :'uid' AND ip = '127.0.0.1' AND user_agent = 'LogoutAll/1.0'" \
	uid="$ALICE_ID")" 1 "the logout_all event has the user, ip and user agent"
like "$(sql "SELECT detail FROM mdauth.auth_events WHERE event = 'logout_all'")" \
	'(^|[^0-9])3([^0-9]|$)' "the logout_all event's detail holds the count (3)"
is "$(sql "SELECT session_id FROM mdauth.auth_events WHERE event = 'logout_all'")" \
	"$phone" "the logout_all event names the caller's session"

h_logout_all "$phone_token" '{"keep_current": true}'
ok "logout-all with keep_current and no other session answers {\"revoked\": 0}" \
	jq -e '. == {"revoked": 0}' <<<"$BODY"
req_bearer GET /validate "$phone_token"
is "$STATUS" 200 "the caller's token still validates after revoking nothing"

# --- everything ------------------------------------------------------------
h_login_ok alice "$PW" laptop
laptop_token=$TOKEN
h_login_ok alice "$PW" tablet
tablet_token=$TOKEN
h_logout_all "$phone_token"
is "$STATUS" 200 "logout-all without a body answers 200"
ok "logout-all without a body answers {\"revoked\": 3}, the current session included" \
	jq -e '. == {"revoked": 3}' <<<"$BODY"
is "$(validate_codes 1 "$phone_token" "$laptop_token" "$tablet_token")" "401 401 401 " \
	"without keep_current every token of the user is refused, the caller's too"
is "$(h_live alice)" 0 "the user has no live session left"
req_bearer GET /validate "$bob_token"
is "$STATUS" 200 "another user's session is still untouched"
codes=$(validate_codes 1 "$phone_token" "$phone_token" "$phone_token" "$phone_token")
is "$codes" "401 401 401 401 " "the caller's token is refused on every later request (all workers)"

h_login_ok alice "$PW" a
a_token=$TOKEN
h_login_ok alice "$PW" b
b_token=$TOKEN
h_logout_all "$a_token" '{"keep_current": false}'
ok "keep_current false answers {\"revoked\": 2}, the current session included" \
	jq -e '. == {"revoked": 2}' <<<"$BODY"
is "$(validate_codes 1 "$a_token" "$b_token")" "401 401 " "keep_current false revokes the caller's session too"

h_login_ok alice "$PW" a
a_token=$TOKEN
h_logout_all "$a_token" '{"device": "members other than keep_current are ignored"}'
ok "a JSON body without keep_current revokes everything: {\"revoked\": 1}" \
	jq -e '. == {"revoked": 1}' <<<"$BODY"

h_logout_all "$a_token"
expect_error 401 invalid_token "logout-all with a token it revoked answers 401 invalid_token"
like "$(header WWW-Authenticate)" '^Bearer realm="mdauth", *error="invalid_token"' \
	"logout-all with a revoked token: WWW-Authenticate carries error=\"invalid_token\""

# --- bad bodies revoke nothing ---------------------------------------------
h_login_ok alice "$PW" phone
phone_token=$TOKEN
h_login_ok alice "$PW" laptop
laptop_token=$TOKEN
events_before=$(h_events logout_all)

h_logout_all "$phone_token" '{"keep_current": "yes"}'
expect_error 400 invalid_request "keep_current as a string answers 400 invalid_request"
h_logout_all "$phone_token" '{"keep_current": "true"}'
expect_error 400 invalid_request "keep_current as the string \"true\" answers 400 invalid_request"
h_logout_all "$phone_token" '{"keep_current": 1}'
expect_error 400 invalid_request "keep_current as a number answers 400 invalid_request"
h_logout_all "$phone_token" '{"keep_current": null}'
expect_error 400 invalid_request "keep_current null answers 400 invalid_request"
h_logout_all "$phone_token" '{"keep_current": [true]}'
expect_error 400 invalid_request "keep_current as an array answers 400 invalid_request"
h_logout_all "$phone_token" '[{"keep_current": true}]'
expect_error 400 invalid_request "a JSON array instead of an object answers 400 invalid_request"
h_logout_all "$phone_token" '{"keep_current": tru'
expect_error 400 invalid_request "malformed JSON answers 400 invalid_request"
h_logout_all "$phone_token" '{"keep_current": true} x'
expect_error 400 invalid_request "trailing garbage after the JSON answers 400 invalid_request"
req POST /logout-all -H "Authorization: Bearer $phone_token" \
	-H 'Content-Type: text/plain' --data-binary '{"keep_current": true}'
expect_error 415 unsupported_media_type "a text/plain body answers 415 unsupported_media_type"
req POST /logout-all -H "Authorization: Bearer $phone_token" \
	-H 'Content-Type: application/x-www-form-urlencoded' --data-binary 'keep_current=true'
expect_error 415 unsupported_media_type "a form body answers 415 unsupported_media_type"
req POST /logout-all -H "Authorization: Bearer $phone_token" \
	-H 'Content-Type:' --data-binary '{"keep_current": true}'
expect_error 415 unsupported_media_type "a body without Content-Type answers 415 unsupported_media_type"

is "$(validate_codes 1 "$phone_token" "$laptop_token")" "200 200 " \
	"after the refused requests both of the user's sessions still validate"
is "$(h_events logout_all)" "$events_before" "refused requests write no logout_all event"

# --- methods and credentials -----------------------------------------------
req_bearer GET /logout-all "$phone_token"
expect_error 405 method_not_allowed "GET /logout-all answers 405"
is "$(header Allow | tr -d ' ')" POST "GET /logout-all: the Allow header lists POST"
req POST /logout-all -H 'Content-Length: 0'
expect_error 401 invalid_token "logout-all without a token answers 401"
is "$(header WWW-Authenticate)" 'Bearer realm="mdauth"' \
	"logout-all without a token: WWW-Authenticate: Bearer realm=\"mdauth\""
h_logout_all "$(h_random_token)"
expect_error 401 invalid_token "logout-all with an unknown token answers 401 invalid_token"
req POST /logout-all -H 'Content-Length: 0' -H 'Authorization: Bearer mda_abc$def'
expect_error 400 invalid_request "logout-all with malformed credentials answers 400 invalid_request"
is "$(validate_codes 1 "$phone_token" "$laptop_token" "$bob_token")" "200 200 200 " \
	"none of these revoked anything"

# --- on every response -----------------------------------------------------
ok "every response carries Cache-Control: no-store" \
	all_responses_have 4 '^no-store$'
ok "every response carries Content-Type: application/json" \
	all_responses_have 3 '^application/json'

done_testing

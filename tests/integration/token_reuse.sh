#!/bin/bash
# Refresh-token reuse detection (RFC 6749 §10.4, OAuth 2.0 Security BCP):
# a token that a refresh replaced, presented again to validate, refresh,
# logout, logout-all, the sessions routes or the Authorizer role, revokes
# its session for both tokens, writes one token_reuse event and one
# warning (never the token); a live token's lookup never looks at the
# replaced ones.  (Concurrent refreshes: refresh.sh.)
. "$(dirname "$0")/lib.sh"

FCGI_REQUEST=$top_builddir/tests/fcgi-request
[ -x "$FCGI_REQUEST" ] || bail "$FCGI_REQUEST not built"
# One worker: the index statistics below are one backend's.
h_setup workers=1 max_sessions_per_user=20
PW='correct horse battery staple'
h_user_add alice "$PW"
ALICE_ID=$(sql "SELECT id FROM mdauth.users WHERE username = 'alice'")

# h_refresh TOKEN [CURL ARGS...]: POST /refresh; on 200 NEW is the new token.
NEW=
h_refresh() {
	local token=$1
	shift
	req_bearer POST /refresh "$token" -H 'Content-Length: 0' "$@"
	NEW=
	if [ "$STATUS" = 200 ]; then
		NEW=$(json token)
		H_TOKENS+=("$NEW")
	fi
}

# h_rotated DEVICE: log in and refresh once; OLD is the replaced token,
# NEW the live one, SID the session.
h_rotated() {
	h_login_ok alice "$PW" "$1"
	OLD=$TOKEN
	SID=$SESSION_ID
	h_refresh "$OLD"
	[ "$STATUS" = 200 ] || bail "refresh failed: $(h_last_response)"
}

# h_reuse_events SESSION: the token_reuse events of a session.
h_reuse_events() {
	sql "SELECT count(*) FROM mdauth.auth_events
		WHERE event = 'token_reuse' AND session_id = :'sid'" sid="$1"
}

# h_reason SESSION: why a session was revoked ('' while it is not).
h_reason() {
	sql "SELECT coalesce(revoked_reason, '') FROM mdauth.sessions WHERE id = :'sid'" sid="$1"
}

# h_expect_reuse NAME: after a request with OLD, the session SID is
# revoked for token reuse, NEW is dead too, and there is one event.
h_expect_reuse() {
	is "$(h_reason "$SID")" token_reuse "$1: the session is revoked for token reuse"
	is "$(validate_codes 2 "$NEW")" "$(repeat_words 2 401)" \
		"$1: the new token is refused too"
	is "$(h_reuse_events "$SID")" 1 "$1: one token_reuse event for the session"
}

# authz [NAME=VALUE...]: one request in the FastCGI Authorizer role,
# straight to the socket (as in authorizer.sh); AZ_STATUS is its status.
authz() {
	AZ_STATUS=$("$FCGI_REQUEST" "$STACK_MDAUTHD_SOCKET" 2 REQUEST_METHOD=GET \
		REQUEST_URI=/api/messages HTTPS=on REMOTE_ADDR=127.0.0.1 "$@" |
		tr -d '\r' | sed -n 's/^Status: \([0-9]*\).*/\1/p' | head -n 1)
}

h_login_ok alice "$PW" bystander
bystander=$TOKEN

# --- validate ----------------------------------------------------------------
h_rotated phone
is "$(validate_codes 2 "$NEW")" "$(repeat_words 2 200)" "validate: the new token is live before the reuse"
req_bearer GET /validate "$OLD" -A 'ReuseTest/1.0'
expect_error 401 invalid_token "validate with the replaced token answers 401 invalid_token"
like "$(header WWW-Authenticate)" '^Bearer realm="mdauth", *error="invalid_token"' \
	"validate with the replaced token: the challenge carries error=\"invalid_token\""
h_expect_reuse validate
is "$(sql "SELECT count(*) FROM mdauth.auth_events WHERE event = 'token_reuse'
	AND session_id = :'sid' AND user_id = :'uid' AND ip = '127.0.0.1'
	AND user_agent = 'ReuseTest/1.0'" sid="$SID" uid="$ALICE_ID")" 1 \
	"the token_reuse event has the user, the session, the address and the user agent"
ok "the daemon logs a warning that names the session" \
	grep -qE "warning: .*token reuse.* session $SID of user $ALICE_ID" "$H_DIR/mdauthd.log"
req_bearer GET /validate "$OLD"
expect_error 401 invalid_token "the replaced token presented again: still 401"
is "$(h_reuse_events "$SID")" 1 "presenting it again writes no second event"
is "$(grep -c "token reuse.* session $SID " "$H_DIR/mdauthd.log")" 1 \
	"nor a second warning"
is "$(validate_codes 2 "$bystander")" "$(repeat_words 2 200)" \
	"the user's other session stays live"

h_rotated head
req_bearer HEAD /validate "$OLD"
is "$STATUS" 401 "HEAD /validate with the replaced token answers 401"
h_expect_reuse "HEAD /validate"

# --- refresh -----------------------------------------------------------------
h_rotated tablet
newer=$NEW
h_refresh "$OLD"
expect_error 401 invalid_token "refresh with the replaced token answers 401 invalid_token"
NEW=$newer
h_expect_reuse refresh
is "$(sql "SELECT count(*) FROM mdauth.sessions WHERE id = :'sid'
	AND token_hash = sha256(convert_to(:'tok', 'UTF8'))" sid="$SID" tok="$NEW")" 1 \
	"refresh with the replaced token issues no token (the row keeps the last one)"

# --- logout ------------------------------------------------------------------
# The owner logs out with the token a thief has already refreshed: the
# thief's session ends too.  Logout answers as for any dead token.
h_rotated laptop
req_bearer POST /logout "$OLD" -H 'Content-Length: 0'
is "$STATUS" 200 "logout with the replaced token answers 200 (RFC 7009, as for any dead token)"
ok "logout with the replaced token answers {\"status\":\"logged_out\"}" \
	jq -e '. == {"status": "logged_out"}' <<<"$BODY"
h_expect_reuse logout
is "$(sql "SELECT count(*) FROM mdauth.auth_events WHERE event = 'logout'
	AND session_id = :'sid'" sid="$SID")" 0 "it is recorded as token_reuse, not as a logout"

# --- logout-all --------------------------------------------------------------
h_rotated watch
req_bearer POST /logout-all "$OLD" -H 'Content-Length: 0'
expect_error 401 invalid_token "logout-all with the replaced token answers 401 invalid_token"
h_expect_reuse logout-all
is "$(validate_codes 2 "$bystander")" "$(repeat_words 2 200)" \
	"logout-all with the replaced token ended that session only"

# --- the sessions routes -----------------------------------------------------
h_rotated desktop
req_bearer GET /sessions "$OLD"
expect_error 401 invalid_token "GET /sessions with the replaced token answers 401 invalid_token"
h_expect_reuse "GET /sessions"

h_rotated tv
victim=$(sql "SELECT id FROM mdauth.sessions WHERE revoked_at IS NULL AND id <> :'sid'
	ORDER BY created_at LIMIT 1" sid="$SID")
req_bearer DELETE "/sessions/$victim" "$OLD"
expect_error 401 invalid_token "DELETE /sessions/{id} with the replaced token answers 401 invalid_token"
h_expect_reuse "DELETE /sessions/{id}"
is "$(h_reason "$victim")" "" "DELETE with the replaced token ended no other session"

# --- the Authorizer role -----------------------------------------------------
h_rotated car
authz HTTP_AUTHORIZATION="Bearer $OLD"
is "$AZ_STATUS" 401 "authorizer: the replaced token as Bearer is 401"
h_expect_reuse "authorizer (Bearer)"

h_rotated fridge
authz FCGI_APACHE_ROLE=AUTHENTICATOR REMOTE_USER=alice REMOTE_PASSWD="$OLD"
is "$AZ_STATUS" 401 "authorizer: the replaced token as a Basic password is 401"
h_expect_reuse "authorizer (Basic)"

# --- only one generation, and the live path never looks ---------------------
# Two refreshes: the first token is neither current nor previous, so it is
# merely unknown and the session lives on.
h_rotated kettle
second=$NEW
h_refresh "$second"
third=$NEW
req_bearer GET /validate "$OLD"
expect_error 401 invalid_token "a token two refreshes old answers 401"
is "$(h_reason "$SID")" "" "it is not the previous token: the session is not revoked"
is "$(validate_codes 2 "$third")" "$(repeat_words 2 200)" "the live token still validates"

# idx_scan of the index on previous_token_hash: an idle backend's
# statistics reach pg_stat_user_indexes within 10 s (PostgreSQL 15's
# PGSTAT_IDLE_INTERVAL), sooner while it keeps busy; with the validate
# cache the workers' backends are idle most of the time.
h_prev_scans() {
	sql "SELECT idx_scan FROM pg_stat_user_indexes
		WHERE indexrelname = 'sessions_previous_token_hash_key'"
}
h_prev_scans_above() {
	[ "$(h_prev_scans)" -gt "$1" ]
}
ok "the previous digest has a unique index" \
	test "$(sql "SELECT indisunique FROM pg_index
		WHERE indexrelid = 'mdauth.sessions_previous_token_hash_key'::regclass")" = t
sleep 11
scans0=$(h_prev_scans)
is "$(validate_codes 5 "$third")" "$(repeat_words 5 200)" "five validations with the live token"
req_bearer GET /validate "$(h_random_token)"
is "$STATUS" 401 "one with an unknown token (the control: its lookup misses)"
h_wait_for 15 h_prev_scans_above "$scans0" || diag "no index statistics arrived"
sleep 2
is "$(h_prev_scans)" $((scans0 + 1)) \
	"only the missed lookup searched the previous digests (the live path costs no extra lookup)"

# --- secrets ------------------------------------------------------------------
is "$(h_events_holding "${H_TOKENS[@]}")" "" "no auth_events row contains an issued token"
stack_web_stop
stack_mdauthd_stop
leaked=
for t in "${H_TOKENS[@]}"; do
	h_logs_contain "${t#mda_}" && leaked="$leaked $t"
done
is "$leaked" "" "no issued token appears in the daemon's or lighttpd's logs"

done_testing

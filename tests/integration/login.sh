#!/bin/bash
# POST /login: the token and session it issues, what the database keeps,
# and the single answer for every kind of failed login.
. "$(dirname "$0")/lib.sh"

h_setup
h_user_add alice 'correct horse battery staple'
h_user_add bob 'bob password 1234'
h_user_add dave 'dave password 1234'
ALICE_ID=$(sql "SELECT id FROM mdauth.users WHERE username = 'alice'")

# --- success ---------------------------------------------------------------
login alice 'correct horse battery staple'
is "$STATUS" 200 "login with the right password answers 200"
like "$TOKEN" "$H_TOKEN_RE" "the token is mda_ followed by 43 base64url characters"
is "${#TOKEN}" 47 "the token is 47 characters long"
is "$(json token_type)" Bearer "token_type is Bearer"
is "$(json_type expires_in)" number "expires_in is a JSON number"
is "$(json expires_in)" 3600 "expires_in is token_ttl (3600 by default)"
like "$(json expires_at)" "$H_TIME_RE" "expires_at is an ISO-8601 UTC time (YYYY-MM-DDTHH:MM:SSZ)"
expires_at=$(json expires_at)
delta=$(($(date -u -d "$expires_at" +%s) - $(date -u +%s)))
ok "expires_at is expires_in seconds from now" test "$delta" -ge 3595 -a "$delta" -le 3601
like "$SESSION_ID" "$H_UUID_RE" "session_id is a UUID"
ok "Content-Type is application/json" is_json_content_type
is "$(header Cache-Control)" no-store "Cache-Control is no-store"
is "$(header Pragma)" no-cache "Pragma is no-cache"
token1=$TOKEN
session1=$SESSION_ID

# --- what the database keeps -----------------------------------------------
is "$(sql "SELECT count(*) FROM mdauth.sessions
	WHERE token_hash = sha256(convert_to(:'tok', 'UTF8'))" tok="$token1")" 1 \
	"the session row holds the SHA-256 digest of the token"
is "$(sql "SELECT octet_length(token_hash) FROM mdauth.sessions WHERE id = :'sid'" \
	sid="$session1")" 32 "the stored digest is 32 bytes"
is "$(sql "SELECT count(*) FROM mdauth.sessions s
	WHERE strpos(s::text, :'part') > 0" part="${token1#mda_}")" 0 \
	"no column of the sessions table contains the token"
is "$(sql "SELECT count(*) FROM mdauth.auth_events e
	WHERE strpos(e::text, :'part') > 0" part="${token1#mda_}")" 0 \
	"no column of auth_events contains the token"
is "$(sql "SELECT user_id FROM mdauth.sessions WHERE id = :'sid'" sid="$session1")" \
	"$ALICE_ID" "the session belongs to the user who logged in"
is "$(sql "SELECT to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')
	FROM mdauth.sessions WHERE id = :'sid'" sid="$session1")" "$expires_at" \
	"expires_at in the response is the session's expires_at"
is "$(sql "SELECT ip FROM mdauth.sessions WHERE id = :'sid'" sid="$session1")" \
	127.0.0.1 "the session records the client's address"
is "$(sql "SELECT count(*) FROM mdauth.users
	WHERE username = 'alice' AND password_hash LIKE '\$argon2id\$%'
	AND strpos(password_hash, 'correct horse') = 0")" 1 \
	"the password is stored as an argon2id hash, not in clear"

# --- failed logins look alike ----------------------------------------------
login alice 'not-the-password-1234'
expect_error 401 invalid_credentials "a wrong password answers 401 invalid_credentials"
wrong_body=$BODY
is "$(header WWW-Authenticate)" 'Bearer realm="mdauth"' \
	"a failed login carries WWW-Authenticate: Bearer realm=\"mdauth\""
is "$(header Cache-Control)" no-store "a failed login carries Cache-Control: no-store"

login nosuchuser 'not-the-password-1234'
expect_error 401 invalid_credentials "an unknown user answers 401 invalid_credentials"
is "$BODY" "$wrong_body" "an unknown user gets the same body as a wrong password"

sql "UPDATE mdauth.users SET disabled_at = now() WHERE username = 'bob'"
login bob 'bob password 1234'
expect_error 401 invalid_credentials "a disabled user with the right password answers 401 invalid_credentials"
is "$BODY" "$wrong_body" "a disabled user gets the same body as a wrong password"
is "$(sql "SELECT count(*) FROM mdauth.sessions s JOIN mdauth.users u ON u.id = s.user_id
	WHERE u.username = 'bob'")" 0 "a disabled user's login creates no session"

# An unknown user must cost a password hash too (a dummy verify), or the
# response time tells which usernames exist.  equal_work.sh counts the
# hashes of each kind of failure; bench/ measures their times (a timed
# test would fail on a loaded machine, or pass on a broken daemon).

# --- usernames and devices -------------------------------------------------
login ALICE 'correct horse battery staple'
is "$STATUS" 200 "the username is case-insensitive at login"
is "$(sql "SELECT user_id FROM mdauth.sessions WHERE id = :'sid'" sid="$SESSION_ID")" \
	"$ALICE_ID" "logging in as ALICE opens a session of alice"

h_login_ok dave 'dave password 1234' 'Pixel 8 (work)'
dave_token1=$TOKEN
dave_session1=$SESSION_ID
h_login_ok dave 'dave password 1234' 'Firefox on laptop'
isnt "$TOKEN" "$dave_token1" "two logins of one user get two different tokens"
isnt "$SESSION_ID" "$dave_session1" "two logins of one user get two different sessions"
is "$(sql "SELECT count(*) FROM mdauth.sessions s JOIN mdauth.users u ON u.id = s.user_id
	WHERE u.username = 'dave' AND s.revoked_at IS NULL")" 2 \
	"both sessions of a user stay live (one per device)"
is "$(sql "SELECT device FROM mdauth.sessions WHERE id = :'sid'" sid="$dave_session1")" \
	'Pixel 8 (work)' "the device label is stored on the session"
req_bearer GET /validate "$dave_token1"
is "$STATUS" 200 "the first device's token still validates after a second login"

login dave 'dave password 1234' 'Fairphone 5' -A 'mdauth-test/1.0'
is "$(sql "SELECT user_agent FROM mdauth.sessions WHERE id = :'sid'" sid="$SESSION_ID")" \
	'mdauth-test/1.0' "the session records the client's User-Agent"

# --- audit trail -----------------------------------------------------------
is "$(sql "SELECT count(*) FROM mdauth.auth_events
	WHERE event = 'login_success' AND user_id = :'uid' AND session_id = :'sid'
	AND ip = '127.0.0.1' AND at > now() - interval '1 minute'" \
	uid="$ALICE_ID" sid="$session1")" 1 \
	"a successful login writes one login_success event with user, session and address"
ok "a wrong password writes a login_failure event for the user" test \
	"$(sql "SELECT count(*) FROM mdauth.auth_events
		WHERE event = 'login_failure' AND user_id = :'uid'" uid="$ALICE_ID")" -ge 1
ok "an unknown user's failed login writes a login_failure event" test \
	"$(sql "SELECT count(*) FROM mdauth.auth_events
		WHERE event = 'login_failure' AND user_id IS NULL")" -ge 1
found=
for p in "${H_PASSWORDS[@]}"; do
	[ "$(sql "SELECT count(*) FROM mdauth.auth_events e WHERE strpos(e::text, :'p') > 0" \
		p="$p")" = 0 ] || found="$found '$p'"
done
is "$found" "" "no auth_events row contains a password that was tried"

# --- one commit per login -----------------------------------------------------
# A login sends one statement before the password hash (the throttle check
# and the user) and one after it; whatever it writes commits in one
# transaction, one WAL flush (sql/012_login_commit.sql).  Counted in the
# cluster's statement log and in the transaction ids assigned (one per
# transaction that writes); nothing else runs against the database
# meanwhile.
h_pg_log_statements
h_db_mark
login dave 'not the password 1234'
is "$STATUS" 401 "a wrong password (for the counts below) answers 401"
is "$(h_db_statements)" "login_begin login_failed" \
	"a failed login sends two statements: login_begin, then login_failed"
is "$(h_db_xids)" 1 "... and one transaction writes (the event and the throttle counts)"
ok "the failure left a throttle count for the next login to clear" test \
	"$(sql "SELECT count(*) FROM mdauth.login_throttle WHERE key = 'dave'")" -ge 1
dave_events=$(sql "SELECT count(*) FROM mdauth.auth_events WHERE event = 'login_success'
	AND user_id = (SELECT id FROM mdauth.users WHERE username = 'dave')")
h_db_mark
login dave 'dave password 1234' 'counted'
is "$STATUS" 200 "the right password then answers 200"
is "$(h_db_statements)" "login_begin login_commit" \
	"a successful login sends two statements: login_begin, then login_commit"
is "$(h_db_xids)" 1 \
	"... and commits what it writes (session, login_success event, throttle reset) in one transaction"
is "$(sql "SELECT count(*) FROM mdauth.login_throttle WHERE key = 'dave'")" 0 \
	"that transaction cleared the name's throttle counts"
is "$(sql "SELECT count(*) FROM mdauth.sessions WHERE id = :'sid' AND device = 'counted'" \
	sid="$SESSION_ID")" 1 "... opened the session"
is "$(sql "SELECT count(*) FROM mdauth.auth_events WHERE event = 'login_success'
	AND user_id = (SELECT id FROM mdauth.users WHERE username = 'dave')")" $((dave_events + 1)) \
	"... and wrote its login_success event"
h_db_mark
login nosuchuser 'not-the-password-1234'
is "$(h_db_statements) / $(h_db_xids)" "login_begin login_failed / 1" \
	"an unknown user's login: the same two statements, one transaction that writes"

done_testing

#!/bin/bash
# POST /refresh: a new token for the same session, the old one dead at
# once, the absolute lifetime unmoved; dead tokens refused; of two
# concurrent refreshes of one token exactly one wins, while a retry of
# the loser is a token reuse that ends the session; and a session writes
# at most one refresh event a minute, counting every refresh.
. "$(dirname "$0")/lib.sh"

h_setup workers=2 token_ttl=60 touch_interval=30
h_user_add alice 'correct horse battery staple'
h_user_add bob 'bob password 1234'
ALICE_ID=$(sql "SELECT id FROM mdauth.users WHERE username = 'alice'")

# h_refresh TOKEN [CURL ARGS...]: POST /refresh without a body, as HTTP
# clients send it (Content-Length: 0; lighttpd answers 411 without one).
# On 200 remembers the new token.
h_refresh() {
	local token=$1
	shift
	req_bearer POST /refresh "$token" -H 'Content-Length: 0' "$@"
	[ "$STATUS" != 200 ] || H_TOKENS+=("$(json token)")
}

# h_epoch COLUMN SESSION: a timestamptz column of a session in epoch
# seconds with microseconds (exact, for comparisons).
h_epoch() {
	sql "SELECT extract(epoch FROM $1) FROM mdauth.sessions WHERE id = :'sid'" sid="$2"
}

# h_sql_true EXPR SESSION: EXPR over the session's row is true.
h_sql_true() {
	[ "$(sql "SELECT ($1) FROM mdauth.sessions WHERE id = :'sid'" sid="$2")" = t ]
}

# h_iso COLUMN SESSION: a timestamptz column as the API writes times.
h_iso() {
	sql "SELECT to_char($1 AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')
		FROM mdauth.sessions WHERE id = :'sid'" sid="$2"
}

# h_expect_dead NAME: the last response is 401 invalid_token with the
# RFC 6750 challenge carrying error="invalid_token".
h_expect_dead() {
	expect_error 401 invalid_token "$1: 401 invalid_token"
	like "$(header WWW-Authenticate)" '^Bearer realm="mdauth", *error="invalid_token"' \
		"$1: WWW-Authenticate carries error=\"invalid_token\""
}

h_login_ok alice 'correct horse battery staple' phone
old_token=$TOKEN
session=$SESSION_ID
h_login_ok alice 'correct horse battery staple' laptop
other_token=$TOKEN
other_session=$SESSION_ID
other_hash=$(sql "SELECT encode(token_hash, 'hex') FROM mdauth.sessions WHERE id = :'sid'" \
	sid="$other_session")

# Let the idle expiry run down a little, so that the refresh visibly
# starts it afresh.
sql "UPDATE mdauth.sessions SET expires_at = now() + interval '10 seconds'
	WHERE id = :'sid'" sid="$session"
absolute0=$(h_epoch absolute_expires_at "$session")

# --- a successful refresh --------------------------------------------------
h_refresh "$old_token" -A 'refresh-test/1.0'
is "$STATUS" 200 "refresh with a live token answers 200"
is "$(json_keys)" "expires_at,expires_in,session_id,token,token_type" \
	"refresh answers the login body: token, token_type, expires_in, expires_at, session_id"
new_token=$(json token)
like "$new_token" "$H_TOKEN_RE" "the new token is mda_ followed by 43 base64url characters"
isnt "$new_token" "$old_token" "the new token differs from the old one"
is "$(json token_type)" Bearer "token_type is Bearer"
is "$(json session_id)" "$session" "the session_id is the same as before the refresh"
is "$(json_type expires_in)" number "expires_in is a JSON number"
ok "expires_in starts afresh at token_ttl (60)" \
	test "$(json expires_in)" -ge 59 -a "$(json expires_in)" -le 60
like "$(json expires_at)" "$H_TIME_RE" "expires_at is an ISO-8601 UTC time"
is "$(json expires_at)" "$(h_iso expires_at "$session")" \
	"expires_at in the response is the session's new expires_at"
# Some slack below: on a loaded machine seconds pass between the refresh
# and this query (expires_in above is the daemon's own figure).
ok "the session's expires_at is now + token_ttl" \
	h_sql_true "expires_at BETWEEN now() + interval '50 seconds' AND now() + interval '61 seconds'" "$session"
is "$(h_epoch absolute_expires_at "$session")" "$absolute0" \
	"refresh leaves the session's absolute_expires_at unchanged"
ok "refresh answers Content-Type application/json" is_json_content_type
is "$(header Cache-Control)" no-store "refresh answers Cache-Control: no-store"
is "$(header Pragma)" no-cache "refresh answers Pragma: no-cache (it carries a token)"
is "$(sql "SELECT count(*) FROM mdauth.sessions
	WHERE id = :'sid' AND token_hash = sha256(convert_to(:'tok', 'UTF8'))" \
	sid="$session" tok="$new_token")" 1 "the session row now holds the new token's digest"
is "$(sql "SELECT count(*) FROM mdauth.sessions s
	WHERE strpos(s::text, :'part') > 0" part="${new_token#mda_}")" 0 \
	"no column of the sessions table contains the new token"

req_bearer GET /validate "$new_token"
is "$STATUS" 200 "the new token validates"
is "$(json session_id)" "$session" "the new token validates as the same session"
is "$(json username)" alice "the new token validates as the same user"
is "$(validate_codes 3 "$new_token")" "$(repeat_words 3 200)" \
	"the new token validates on every worker"
is "$(sql "SELECT count(*) FROM mdauth.sessions
	WHERE id = :'sid' AND previous_token_hash = sha256(convert_to(:'tok', 'UTF8'))" \
	sid="$session" tok="$old_token")" 1 \
	"the session row keeps the old token's digest as previous_token_hash"

# --- audit trail -----------------------------------------------------------
is "$(sql "SELECT count(*) FROM mdauth.auth_events
	WHERE event = 'refresh' AND user_id = :'uid' AND session_id = :'sid'
	AND ip = '127.0.0.1' AND user_agent = 'refresh-test/1.0'" \
	uid="$ALICE_ID" sid="$session")" 1 \
	"a refresh writes one refresh event with user, session, address and user agent"
is "$(sql "SELECT detail FROM mdauth.auth_events WHERE event = 'refresh' AND session_id = :'sid'" \
	sid="$session")" "refresh 1 of the session" "the event's detail counts the session's refreshes"

# --- the old token is dead --------------------------------------------------
# Presenting it is a reuse that ends the session (tests/integration/
# token_reuse.sh has the details); here: dead everywhere, for good.
codes=$(for i in 1 2 3 4 5 6; do
	req_bearer GET /validate "$old_token"
	printf '%s ' "$STATUS"
done)
is "$codes" "401 401 401 401 401 401 " "the old token is refused on every later request (all workers)"
h_refresh "$old_token"
h_expect_dead "refreshing the old token again"
is "$(sql "SELECT count(*) FROM mdauth.auth_events WHERE event = 'refresh'")" 1 \
	"a refused refresh writes no refresh event"

req_bearer GET /validate "$other_token"
is "$STATUS" 200 "the user's other session stays live"
is "$(sql "SELECT encode(token_hash, 'hex') FROM mdauth.sessions WHERE id = :'sid'" \
	sid="$other_session")" "$other_hash" "the other session keeps its token"

# --- the absolute lifetime caps the new expiry ------------------------------
h_login_ok alice 'correct horse battery staple' phone
session=$SESSION_ID
h_refresh "$TOKEN"
new_token=$(json token)
sql "UPDATE mdauth.sessions SET absolute_expires_at = now() + interval '20 seconds'
	WHERE id = :'sid'" sid="$session"
absolute1=$(h_epoch absolute_expires_at "$session")
h_refresh "$new_token"
is "$STATUS" 200 "refresh 20 s before the absolute limit answers 200"
capped_token=$(json token)
is "$(h_epoch expires_at "$session")" "$absolute1" \
	"near the absolute limit, expires_at becomes absolute_expires_at (not now + token_ttl)"
is "$(h_epoch absolute_expires_at "$session")" "$absolute1" \
	"the absolute limit does not move"
ok "expires_in counts down to the absolute limit (at most 20)" \
	test "$(json expires_in)" -ge 17 -a "$(json expires_in)" -le 20
is "$(json expires_at)" "$(h_iso absolute_expires_at "$session")" \
	"the response's expires_at is the absolute limit"

# --- dead and missing credentials ------------------------------------------
sql "UPDATE mdauth.sessions SET expires_at = now() - interval '1 second'
	WHERE id = :'sid'" sid="$session"
hash_before=$(sql "SELECT encode(token_hash, 'hex') FROM mdauth.sessions WHERE id = :'sid'" \
	sid="$session")
h_refresh "$capped_token"
h_expect_dead "refresh with an idle-expired token"
is "$(sql "SELECT encode(token_hash, 'hex') FROM mdauth.sessions WHERE id = :'sid'" \
	sid="$session")" "$hash_before" "a refused refresh does not rotate the expired session's token"

h_login_ok alice 'correct horse battery staple' tablet
sql "UPDATE mdauth.sessions SET absolute_expires_at = now() - interval '1 second'
	WHERE id = :'sid'" sid="$SESSION_ID"
h_refresh "$TOKEN"
h_expect_dead "refresh past the absolute limit"

h_login_ok alice 'correct horse battery staple' watch
req_bearer POST /logout "$TOKEN" -H 'Content-Length: 0'
h_refresh "$TOKEN"
h_expect_dead "refresh with a logged-out token"

h_refresh "$(h_random_token)"
h_expect_dead "refresh with an unknown well-formed token"

h_login_ok bob 'bob password 1234'
bob_token=$TOKEN
sql "UPDATE mdauth.users SET disabled_at = now() WHERE username = 'bob'"
h_refresh "$bob_token"
h_expect_dead "refresh with the token of a disabled user"
sql "UPDATE mdauth.users SET disabled_at = NULL WHERE username = 'bob'"

req POST /refresh -H 'Content-Length: 0'
expect_error 401 invalid_token "refresh without a token answers 401"
is "$(header WWW-Authenticate)" 'Bearer realm="mdauth"' \
	"refresh without a token: WWW-Authenticate: Bearer realm=\"mdauth\" without an error"
req POST /refresh -H 'Content-Length: 0' -H 'Authorization: Bearer mda_abc$def'
expect_error 400 invalid_request "refresh with malformed credentials answers 400 invalid_request"
req_bearer GET /refresh "$other_token"
expect_error 405 method_not_allowed "GET /refresh answers 405"
is "$(header Allow | tr -d ' ')" POST "GET /refresh: the Allow header lists POST"
req_bearer GET /validate "$other_token"
is "$STATUS" 200 "a refused GET /refresh leaves the token live"

# --- two concurrent refreshes of one token ----------------------------------
# h_refresh_bg NAME TOKEN: POST /refresh in the background (h_bg NAME).
h_refresh_bg() {
	h_bg "$1" /refresh -X POST -H "Authorization: Bearer $2" -H 'Content-Length: 0'
}

# Two refreshes sent at once may still reach the database one after the
# other: then the second presents a token the first has just replaced,
# which is a reuse and ends the session (a client must serialise its
# refreshes).  Either way exactly one wins.
h_login_ok alice 'correct horse battery staple' race
token=$TOKEN
race_session=$SESSION_ID
row_bad=''
outcome_bad=''
count_before=$(sql "SELECT coalesce(sum(refresh_count), 0) FROM mdauth.sessions
	WHERE user_id = :'uid'" uid="$ALICE_ID")
for round in 1 2 3 4 5 6 7 8 9 10; do
	h_refresh_bg a "$token"
	pid_a=$H_BG_PID
	h_refresh_bg b "$token"
	pid_b=$H_BG_PID
	# Only these two: the stack's daemons are background jobs of this
	# shell too, and a bare `wait` would wait for them.
	wait "$pid_a" "$pid_b"
	codes=$(printf '%s\n' "$(cat "$H_DIR/a.status")" "$(cat "$H_DIR/b.status")" |
		sort | tr '\n' ' ')
	is "$codes" "200 401 " "concurrent refreshes, round $round: exactly one 200 and one 401"
	if [ "$(cat "$H_DIR/a.status")" = 200 ]; then
		winner=$(jq -r .token "$H_DIR/a.body")
	else
		winner=$(jq -r .token "$H_DIR/b.body")
	fi
	if [[ $winner =~ $H_TOKEN_RE ]]; then
		H_TOKENS+=("$winner")
		[ "$(sql "SELECT count(*) FROM mdauth.sessions
			WHERE id = :'sid' AND token_hash = sha256(convert_to(:'tok', 'UTF8'))" \
			sid="$race_session" tok="$winner")" = 1 ] || row_bad="$row_bad $round"
		# The loser either lost inside the database (the session lives
		# on with the winner's token) or came after the rotation (a
		# reuse: the session is revoked, with a token_reuse event).
		reused=$(sql "SELECT count(*) FROM mdauth.auth_events
			WHERE event = 'token_reuse' AND session_id = :'sid'" sid="$race_session")
		req_bearer GET /validate "$winner"
		case "$reused $STATUS" in
		"0 200") token=$winner; continue ;;
		"1 401") ;;
		*) outcome_bad="$outcome_bad $round($reused/$STATUS)" ;;
		esac
	fi
	# Go on from a fresh session so that the next rounds still test something.
	h_login_ok alice 'correct horse battery staple' race
	token=$TOKEN
	race_session=$SESSION_ID
done
is "$row_bad" "" "after each round the session row holds the winner's token (rounds failing listed)"
is "$outcome_bad" "" \
	"after each round the winner's token validates, or a reuse revoked the session (rounds failing listed)"
is "$(sql "SELECT sum(refresh_count) FROM mdauth.sessions WHERE user_id = :'uid'" uid="$ALICE_ID")" \
	$((count_before + 10)) "ten rounds counted ten refreshes in the sessions' refresh_count (one per winner)"

# The same race made certain: another connection holds the session's row
# lock while both refreshes arrive, so that both are inside the database
# at once, and only then lets go.
#
# h_lock_holder: the pid of the backend holding the lock (in pg_sleep).
h_lock_holder() {
	sql "SELECT pid FROM pg_stat_activity
		WHERE query LIKE 'SELECT pg_sleep(%' AND state = 'active'"
}

h_lock_held() {
	[ -n "$(h_lock_holder)" ]
}

# In the held rounds both refreshes started before the rotation: the
# loser lost, it is no reuse.  Its retry with the old token comes after
# the rotation: that is a reuse, and ends the session for the winner's
# token too.
h_login_ok alice 'correct horse battery staple' held
token=$TOKEN
race_session=$SESSION_ID
waited_bad=
live_bad=
retry_bad=
for round in 1 2 3; do
	stack_psql -v sid="$race_session" >/dev/null 2>&1 <<'EOF' &
BEGIN;
SELECT 1 FROM mdauth.sessions WHERE id = :'sid' FOR UPDATE;
SELECT pg_sleep(10);
COMMIT;
EOF
	pid_lock=$!
	h_wait_for 5 h_lock_held || bail "could not hold the session's row lock"
	holder=$(h_lock_holder)
	h_refresh_bg a "$token"
	pid_a=$H_BG_PID
	h_refresh_bg b "$token"
	pid_b=$H_BG_PID
	h_wait_for 5 h_lock_waiters 2 || waited_bad="$waited_bad $round"
	sql "SELECT pg_cancel_backend(:'pid')" pid="$holder" >/dev/null
	wait "$pid_a" "$pid_b" "$pid_lock"
	codes=$(printf '%s\n' "$(cat "$H_DIR/a.status")" "$(cat "$H_DIR/b.status")" |
		sort | tr '\n' ' ')
	is "$codes" "200 401 " \
		"both refreshes held at the row lock, round $round: exactly one 200 and one 401"
	if [ "$(cat "$H_DIR/a.status")" = 200 ]; then
		winner=$(jq -r .token "$H_DIR/a.body")
		loser=b
	else
		winner=$(jq -r .token "$H_DIR/b.body")
		loser=a
	fi
	[[ $winner =~ $H_TOKEN_RE ]] || break
	H_TOKENS+=("$winner")
	jq -e '.error == "invalid_token"' "$H_DIR/$loser.body" >/dev/null ||
		live_bad="$live_bad $round(loser)"
	req_bearer GET /validate "$winner"
	[ "$STATUS" = 200 ] || live_bad="$live_bad $round"
	[ "$(sql "SELECT count(*) FROM mdauth.auth_events
		WHERE event = 'token_reuse' AND session_id = :'sid'" sid="$race_session")" = 0 ] ||
		live_bad="$live_bad $round(event)"
	if [ "$round" = 3 ]; then
		h_refresh "$token"
		[ "$STATUS" = 401 ] || retry_bad="$retry_bad retry=$STATUS"
		req_bearer GET /validate "$winner"
		[ "$STATUS" = 401 ] || retry_bad="$retry_bad winner=$STATUS"
		[ "$(sql "SELECT count(*) FROM mdauth.auth_events
			WHERE event = 'token_reuse' AND session_id = :'sid'" sid="$race_session")" = 1 ] ||
			retry_bad="$retry_bad no-event"
	fi
	token=$winner
done
is "$waited_bad" "" "in each held round both refreshes did wait inside the database (rounds failing listed)"
is "$live_bad" "" \
	"in each held round the loser got 401 invalid_token, revoked nothing, and the winner's token validates (rounds failing listed)"
is "$retry_bad" "" \
	"the loser's retry with the old token is a reuse: 401, the winner's token dead too, one token_reuse event"
is "$(sql "SELECT revoked_reason FROM mdauth.sessions WHERE id = :'sid'" sid="$race_session")" \
	token_reuse "and the session is revoked for token reuse"

# --- refresh events are bounded ----------------------------------------------
# A refresh costs no password hash: a client looping on it must not write
# a row each time.  At most one refresh event per session a minute; the
# session row counts every refresh, and the next event gives the count.
h_login_ok bob 'bob password 1234' loop
token=$TOKEN
loop_session=$SESSION_ID
events_before=$(sql "SELECT count(*) FROM mdauth.auth_events")
codes=
for ((i = 1; i <= 30; i++)); do
	h_refresh "$token"
	codes="$codes$STATUS "
	token=$(json token)
done
is "$codes" "$(repeat_words 30 200)" "30 refreshes in a row of one session answer 200"
is "$(sql "SELECT count(*) FROM mdauth.auth_events WHERE event = 'refresh'
	AND session_id = :'sid'" sid="$loop_session")" 1 "they write one refresh event"
is "$(($(sql "SELECT count(*) FROM mdauth.auth_events") - events_before))" 1 \
	"and no other auth_events row"
is "$(sql "SELECT refresh_count FROM mdauth.sessions WHERE id = :'sid'" sid="$loop_session")" 30 \
	"the session row counts all 30 refreshes"
sql "UPDATE mdauth.sessions SET refresh_logged_at = now() - interval '61 seconds'
	WHERE id = :'sid'" sid="$loop_session" >/dev/null
h_refresh "$token"
is "$STATUS" 200 "a refresh a minute after the last refresh event answers 200"
token=$(json token)
is "$(sql "SELECT string_agg(detail, ', ' ORDER BY id) FROM mdauth.auth_events
	WHERE event = 'refresh' AND session_id = :'sid'" sid="$loop_session")" \
	"refresh 1 of the session, refresh 31 of the session" \
	"and writes the session's second refresh event, which gives its count (31)"
h_refresh "$token"
is "$(sql "SELECT count(*) FROM mdauth.auth_events WHERE event = 'refresh'
	AND session_id = :'sid'" sid="$loop_session")" 2 "the refresh right after it writes none"

# --- secrets ---------------------------------------------------------------
is "$(h_events_holding "${H_TOKENS[@]}")" "" "no auth_events row contains an issued token"

done_testing

#!/bin/bash
# The per-user cap (max_sessions_per_user): evict_oldest revokes the least
# recently used live sessions, reject answers 409; only live sessions
# count; and parallel logins of one user never leave more than the cap.
. "$(dirname "$0")/lib.sh"

h_setup workers=2
PW='correct horse battery staple'
for u in alice bob carol dave erin frank; do
	h_user_add "$u" "$PW"
done

# h_live USER: how many live sessions USER has.
h_live() {
	sql "SELECT count(*) FROM mdauth.sessions s JOIN mdauth.users u ON u.id = s.user_id
		WHERE u.username = :'u' AND s.revoked_at IS NULL
		AND s.expires_at > now() AND s.absolute_expires_at > now()" u="$1"
}

# h_rows USER: how many session rows USER has, live or not.
h_rows() {
	sql "SELECT count(*) FROM mdauth.sessions s JOIN mdauth.users u ON u.id = s.user_id
		WHERE u.username = :'u'" u="$1"
}

# h_user_events USER EVENT: how many EVENT rows of USER auth_events has.
h_user_events() {
	sql "SELECT count(*) FROM mdauth.auth_events e JOIN mdauth.users u ON u.id = e.user_id
		WHERE u.username = :'u' AND e.event = :'e'" u="$1" e="$2"
}

# h_evicted SESSION: "t" when SESSION was revoked with reason evicted.
h_evicted() {
	sql "SELECT revoked_at IS NOT NULL AND revoked_reason = 'evicted'
		FROM mdauth.sessions WHERE id = :'sid'" sid="$1"
}

# h_used SESSION AGO: set the session's last_used_at to AGO (an interval)
# before now, to fix the order of use.
h_used() {
	sql "UPDATE mdauth.sessions SET last_used_at = now() - :'ago'::interval
		WHERE id = :'sid'" sid="$1" ago="$2"
}

# h_parallel_logins N USER: N logins of USER at once, each its own curl in
# the background; their statuses, sorted and counted, go to STATUSES
# ("12x200" or "3x200 9x409").
STATUSES=
h_parallel_logins() {
	local n=$1 user=$2 i body
	local -a pids=()
	body=$(jq -cn --arg u "$user" --arg p "$PW" '{username: $u, password: $p, device: "parallel"}')
	for ((i = 0; i < n; i++)); do
		curl -sS --max-time 20 --cacert "$STACK_CERT" \
			--resolve "localhost:$STACK_HTTPS_PORT:127.0.0.1" \
			-H 'Content-Type: application/json' --data-binary "$body" \
			-o "$H_DIR/par-$i.body" -w '%{http_code}\n' "$H_URL/login" \
			>"$H_DIR/par-$i.status" 2>"$H_DIR/par-$i.err" &
		pids+=($!)
	done
	# Only these: the stack's daemons are background jobs of this shell
	# too, and a bare `wait` would wait for them.
	wait "${pids[@]}"
	STATUSES=$(cat "$H_DIR"/par-*.status | sort | uniq -c |
		awk '{ printf "%s%sx%s", sep, $1, $2; sep = " " }')
	rm -f "$H_DIR"/par-*.status
}

# --- the default: 5 sessions, evict_oldest ---------------------------------
declare -A TOK SID
for d in 1 2 3 4 5; do
	h_login_ok alice "$PW" "device $d"
	TOK[$d]=$TOKEN
	SID[$d]=$SESSION_ID
done
# Device 3 is the least recently used; device 1, the first to log in, was
# used a moment ago (eviction goes by use, not by age).
h_used "${SID[1]}" '10 seconds'
h_used "${SID[2]}" '2 minutes'
h_used "${SID[3]}" '30 minutes'
h_used "${SID[4]}" '3 minutes'
h_used "${SID[5]}" '4 minutes'
h_login_ok bob "$PW" 'bob phone'
bob_token=$TOKEN

login alice "$PW" 'device 6' -A 'CapTest/1.0'
is "$STATUS" 200 "a login at the default cap (5) succeeds with the default policy (evict_oldest)"
TOK[6]=$TOKEN
SID[6]=$SESSION_ID
is "$(h_live alice)" 5 "after it the user still has 5 live sessions"
is "$(h_evicted "${SID[3]}")" t "the least recently used session is revoked with reason evicted"
is "$(sql "SELECT count(*) FROM mdauth.sessions WHERE revoked_reason = 'evicted'")" 1 \
	"exactly one session was evicted"
is "$(sql "SELECT count(*) FROM mdauth.auth_events e JOIN mdauth.users u ON u.id = e.user_id
	WHERE e.event = 'eviction' AND u.username = 'alice' AND e.session_id = :'sid'
	AND e.ip = '127.0.0.1' AND e.user_agent = 'CapTest/1.0'" sid="${SID[3]}")" 1 \
	"an eviction event names the user, the evicted session, ip and user agent"
is "$(h_user_events alice eviction)" 1 "one eviction event for one evicted session"
req_bearer GET /validate "${TOK[3]}"
expect_error 401 invalid_token "the evicted session's token answers 401 invalid_token"
is "$(validate_codes 1 "${TOK[1]}" "${TOK[2]}" "${TOK[4]}" "${TOK[5]}" "${TOK[6]}")" "200 200 200 200 200 " \
	"the four others and the new session validate"
is "$(validate_codes 1 "$bob_token")" "200 " "another user's session is not evicted"

# --- a lower cap: as many evictions as needed -------------------------------
h_restart_mdauthd workers=4 max_concurrent_hashes=4 max_sessions_per_user=3
h_used "${SID[1]}" '1 minute'
h_used "${SID[2]}" '2 minutes'
h_used "${SID[4]}" '4 minutes'
h_used "${SID[5]}" '5 minutes'
h_used "${SID[6]}" '6 minutes'
login alice "$PW" 'device 7'
is "$STATUS" 200 "a login over a lowered cap (5 live, cap 3) succeeds"
TOK[7]=$TOKEN
is "$(h_live alice)" 3 "over the cap, enough sessions are evicted to leave exactly the cap live"
is "$(h_evicted "${SID[4]}")$(h_evicted "${SID[5]}")$(h_evicted "${SID[6]}")" ttt \
	"the three least recently used sessions are the ones evicted"
is "$(h_evicted "${SID[1]}")$(h_evicted "${SID[2]}")" ff "the two most recently used sessions stay"
is "$(h_user_events alice eviction)" 4 "one eviction event per evicted session (1 + 3)"
is "$(validate_codes 1 "${TOK[1]}" "${TOK[2]}" "${TOK[7]}" "${TOK[4]}" "${TOK[5]}" "${TOK[6]}")" "200 200 200 401 401 401 " \
	"the survivors validate, the evicted are refused"

# Only live sessions count: carol has two live ones and three dead ones.
h_login_ok carol "$PW" live1
h_login_ok carol "$PW" live2
h_login_ok carol "$PW" expired
sql "UPDATE mdauth.sessions SET expires_at = now() - interval '1 second' WHERE id = :'sid'" \
	sid="$SESSION_ID"
h_login_ok carol "$PW" 'past absolute'
sql "UPDATE mdauth.sessions SET absolute_expires_at = now() - interval '1 second'
	WHERE id = :'sid'" sid="$SESSION_ID"
h_login_ok carol "$PW" 'logged out'
req_bearer POST /logout "$TOKEN" -H 'Content-Length: 0'
is "$(h_user_events carol eviction)" 0 \
	"expired and revoked sessions do not count toward the cap (no eviction so far)"
login carol "$PW" live3
is "$STATUS" 200 "the third live session (with dead ones around) logs in"
is "$(h_user_events carol eviction)" 0 "the third live session evicts nothing"
is "$(h_live carol)" 3 "the user has three live sessions"
login carol "$PW" live4
is "$(h_user_events carol eviction)" 1 "the fourth live session evicts one"
is "$(h_live carol)" 3 "and the user still has three live sessions"

# --- parallel logins, evict_oldest ------------------------------------------
for round in 1 2 3; do
	sql "UPDATE mdauth.sessions s SET revoked_at = now() FROM mdauth.users u
		WHERE u.id = s.user_id AND u.username = 'dave' AND s.revoked_at IS NULL"
	evictions_before=$(h_user_events dave eviction)
	h_parallel_logins 12 dave
	is "$STATUSES" "12x200" "evict_oldest, round $round: 12 parallel logins all answer 200"
	is "$(h_live dave)" 3 "evict_oldest, round $round: exactly the cap (3) of sessions is live afterwards"
	is "$(($(h_user_events dave eviction) - evictions_before))" 9 \
		"evict_oldest, round $round: nine eviction events (12 opened, 3 kept)"
done
is "$(h_rows dave)" 36 "every successful parallel login opened its own session"

# --- reject ----------------------------------------------------------------
h_restart_mdauthd workers=4 max_concurrent_hashes=4 max_sessions_per_user=3 \
	session_limit_policy=reject
h_login_ok erin "$PW" one
erin1=$TOKEN
h_login_ok erin "$PW" two
erin2=$TOKEN
h_login_ok erin "$PW" three
erin3=$TOKEN
login erin "$PW" four -A 'CapTest/2.0'
expect_error 409 session_limit_reached "with reject, a login at the cap answers 409 session_limit_reached"
is "$(header Pragma)$TOKEN" "" "the refused login carries no token"
is "$(h_rows erin)" 3 "the refused login opens no session"
is "$(h_user_events erin eviction)" 0 "with reject nothing is evicted"
is "$(validate_codes 1 "$erin1" "$erin2" "$erin3")" "200 200 200 " "the existing sessions stay live"
is "$(sql "SELECT count(*) FROM mdauth.auth_events e JOIN mdauth.users u ON u.id = e.user_id
	WHERE e.event = 'session_limit_reached' AND u.username = 'erin'
	AND e.ip = '127.0.0.1' AND e.user_agent = 'CapTest/2.0'")" 1 \
	"the refusal writes a session_limit_reached event with user, ip and user agent"
is "$(h_user_events erin login_success)" 3 "the refusal writes no login_success event"

login erin 'not the password 1234' four
expect_error 401 invalid_credentials "at the cap, a wrong password still answers 401 invalid_credentials (not 409)"

req_bearer POST /logout "$erin1" -H 'Content-Length: 0'
login erin "$PW" 'after logout'
is "$STATUS" 200 "after a logout frees a place, a login succeeds again"
sql "UPDATE mdauth.sessions SET expires_at = now() - interval '1 second'
	WHERE id = :'sid'" sid="$SESSION_ID"
login erin "$PW" 'after expiry'
is "$STATUS" 200 "an expired session frees its place too"
login erin "$PW" 'one too many'
expect_error 409 session_limit_reached "and the next login is refused again"

# --- parallel logins, reject ------------------------------------------------
for round in 1 2 3; do
	sql "UPDATE mdauth.sessions s SET revoked_at = now() FROM mdauth.users u
		WHERE u.id = s.user_id AND u.username = 'frank' AND s.revoked_at IS NULL"
	refused_before=$(h_user_events frank session_limit_reached)
	h_parallel_logins 12 frank
	is "$STATUSES" "3x200 9x409" "reject, round $round: of 12 parallel logins exactly 3 answer 200, 9 answer 409"
	is "$(h_live frank)" 3 "reject, round $round: exactly the cap (3) of sessions is live afterwards"
	is "$(($(h_user_events frank session_limit_reached) - refused_before))" 9 \
		"reject, round $round: nine session_limit_reached events"
done
is "$(h_rows frank)" 9 "only the accepted parallel logins opened sessions (3 per round)"
is "$(h_user_events frank eviction)" 0 "with reject, parallel logins evict nothing"

done_testing

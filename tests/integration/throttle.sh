#!/bin/bash
# Login throttling, kept in PostgreSQL: failures count against the name as
# typed (lower-cased, known or not) and against REMOTE_ADDR; at the limit
# the name or address is locked for login_lockout seconds and every login
# gets 429 with Retry-After, even with the right password and without a
# password hash; the answer does not tell known from unknown names; a
# success clears the name's count; X-Forwarded-For is never trusted.
. "$(dirname "$0")/lib.sh"

PW='correct horse battery staple'
LOCKOUT=5
h_setup login_max_failures=3 login_lockout=$LOCKOUT ip_max_failures=1000
for u in alice bob carol dave erin frank; do
	h_user_add "$u" "$PW"
done

# h_fails USER N [CURL ARGS...]: N logins of USER with a wrong password;
# prints their statuses.
h_fails() {
	local user=$1 n=$2 i
	shift 2
	for ((i = 1; i <= n; i++)); do
		login "$user" "wrong password $i" phone "$@" >/dev/null
		printf '%s ' "$STATUS"
	done
}

# h_retry_after_ok MAX: Retry-After is a whole number of seconds in 1..MAX.
h_retry_after_ok() {
	local v
	v=$(header Retry-After)
	[[ $v =~ ^[0-9]+$ ]] && [ "$v" -ge 1 ] && [ "$v" -le "$1" ] && return 0
	printf 'Retry-After: %s (expected 1..%s)\n' "$v" "$1"
	return 1
}

# h_events EVENT NAME: auth_events rows EVENT for the name as typed.
h_events() {
	sql "SELECT count(*) FROM mdauth.auth_events WHERE event = :'e' AND username = :'u'" \
		e="$1" u="$2"
}

# h_sessions USER: session rows of USER.
h_sessions() {
	sql "SELECT count(*) FROM mdauth.sessions s JOIN mdauth.users u ON u.id = s.user_id
		WHERE u.username = :'u'" u="$1"
}

# h_headers_shape: the response headers without the ones that vary from
# one response to the next (Date, Retry-After), sorted.
h_headers_shape() {
	tr -d '\r' <"$HEADERS" | grep -viE '^(date|retry-after):' | sort
}

# h_wait_unlocked KIND KEY: sleep until the lock of KEY has passed.
h_wait_unlocked() {
	local left
	left=$(sql "SELECT greatest(0, extract(epoch FROM locked_until - now())) + 0.3
		FROM mdauth.login_throttle WHERE kind = :'k' AND key = :'key'" k="$1" key="$2")
	sleep "${left:-0}"
}

# --- a known name: login_max_failures = 3 -----------------------------------
is "$(h_fails alice 3)" "401 401 401 " \
	"the first login_max_failures (3) wrong passwords answer 401"
sessions_before=$(h_sessions alice)
h_log_mark
login alice "$PW"
expect_error 429 too_many_requests \
	"after 3 failures, the right password answers 429 too_many_requests"
known_body=$BODY
known_shape=$(h_headers_shape)
ok "the 429 carries Retry-After: seconds until the lock ends (1..$LOCKOUT)" \
	h_retry_after_ok "$LOCKOUT"
is "$(h_login_work)" "429 0" "a throttled login runs no password hash (0 argon2id computations)"
is "$(h_sessions alice)" "$sessions_before" "a throttled login opens no session"
is "$(sql "SELECT count(*) FROM mdauth.auth_events WHERE event = 'login_throttled'
	AND username = 'alice' AND ip = '127.0.0.1'")" 1 \
	"a throttled login writes a login_throttled event with the name and address"
login alice 'yet another wrong password'
expect_error 429 too_many_requests "a locked name answers 429 to a wrong password too (not 401)"
is "$(h_events login_throttled alice)" 2 "each throttled attempt writes its own login_throttled event"
login ALICE "$PW"
expect_error 429 too_many_requests "the lock holds for the name in other case (ALICE)"
login bob "$PW"
is "$STATUS" 200 "another name from the same address still logs in"

# --- an unknown name is throttled exactly like a known one ------------------
is "$(h_fails ghost 3)" "401 401 401 " "an unknown name's first 3 failures answer 401"
h_log_mark
login ghost "$PW"
expect_error 429 too_many_requests "after 3 failures an unknown name answers 429 too_many_requests"
ok "the unknown name's 429 carries Retry-After (1..$LOCKOUT)" h_retry_after_ok "$LOCKOUT"
is "$BODY" "$known_body" "an unknown name's 429 has the same body as a known name's"
is "$(h_headers_shape)" "$known_shape" "an unknown name's 429 has the same headers as a known name's"
is "$(h_login_work)" "429 0" "an unknown name's throttled login runs no password hash either"
is "$(h_events login_throttled ghost)" 1 "an unknown name's throttled login writes a login_throttled event"
is "$(sql "SELECT failures || ' ' || (locked_until > now()) FROM mdauth.login_throttle
	WHERE kind = 'user' AND key = 'ghost'")" "3 true" \
	"mdauth.login_throttle holds the unknown name's 3 failures and its lock"

# --- the name is counted lower-cased ----------------------------------------
login Carol 'wrong password 1'
login CAROL 'wrong password 2'
login carol 'wrong password 3'
is "$STATUS" 401 "failures as Carol, CAROL and carol answer 401"
login cArOl "$PW"
expect_error 429 too_many_requests "failures as Carol, CAROL and carol together lock the name (cArOl gets 429)"

# --- the lock ends after login_lockout ----------------------------------------
h_wait_unlocked user alice
login alice "$PW"
is "$STATUS" 200 "once the lock has passed (login_lockout = $LOCKOUT s), the right password logs in"

# --- a success clears the name's count --------------------------------------
is "$(h_fails dave 2)" "401 401 " "two failures answer 401"
h_login_ok dave "$PW"
is "$(sql "SELECT count(*) FROM mdauth.login_throttle WHERE kind = 'user' AND key = 'dave'")" 0 \
	"a successful login clears its name's count in mdauth.login_throttle"
is "$(h_fails dave 2)" "401 401 " \
	"2 failures, a success, 2 more failures: all 401 (the success reset the count)"
login dave 'wrong password 3'
is "$STATUS" 401 "the third failure after the success answers 401"
login dave "$PW"
expect_error 429 too_many_requests "and locks the name: the next login answers 429"

# --- failures count only within login_failure_window ------------------------
h_restart_mdauthd login_max_failures=3 login_lockout=$LOCKOUT ip_max_failures=1000 \
	login_failure_window=2
is "$(h_fails erin 2)" "401 401 " "with login_failure_window = 2: two failures answer 401"
sleep 2.5
is "$(h_fails erin 2)" "401 401 " \
	"two more failures after the window has passed answer 401 (the count started again)"
login erin "$PW"
is "$STATUS" 200 "and the right password logs in (4 failures, but never 3 within 2 s)"

# --- the defaults: 5 failures, 900 s ----------------------------------------
h_restart_mdauthd ip_max_failures=1000
is "$(h_fails frank 5)" "401 401 401 401 401 " "with the defaults, 5 failures answer 401"
login frank "$PW"
expect_error 429 too_many_requests "with the defaults, the login after 5 failures answers 429"
ok "with the defaults, Retry-After is close to login_lockout (895..900)" \
	test "$(header Retry-After)" -ge 895 -a "$(header Retry-After)" -le 900

# --- the address: ip_max_failures = 4 ---------------------------------------
h_restart_mdauthd login_max_failures=1000 login_lockout=$LOCKOUT ip_max_failures=4
sql "DELETE FROM mdauth.login_throttle"
statuses=
for i in 1 2 3 4; do
	login "stranger$i" 'wrong password' phone -H "X-Forwarded-For: 203.0.113.$i"
	statuses="$statuses$STATUS "
done
is "$statuses" "401 401 401 401 " \
	"4 failures from one address under 4 names (and 4 X-Forwarded-For addresses) answer 401"
h_log_mark
login bob "$PW"
expect_error 429 too_many_requests \
	"after ip_max_failures (4) failures from the address, a name that never failed gets 429"
ok "the address's 429 carries Retry-After (1..$LOCKOUT)" h_retry_after_ok "$LOCKOUT"
is "$(h_login_work)" "429 0" "an address-throttled login runs no password hash"
is "$BODY" "$known_body" "an address lock answers the same body as a name lock"
is "$(h_events login_throttled bob)" 1 "the address-throttled login writes a login_throttled event"
login nobody-at-all "$PW"
expect_error 429 too_many_requests "a locked address gets 429 for an unknown name too"
login bob "$PW" phone -H 'X-Forwarded-For: 198.51.100.7'
expect_error 429 too_many_requests \
	"a locked address gets 429 even when X-Forwarded-For claims another address"
is "$(sql "SELECT string_agg(key, ',') FROM mdauth.login_throttle WHERE kind = 'ip'")" \
	127.0.0.1 "failures count against REMOTE_ADDR (127.0.0.1), never an X-Forwarded-For address"
is "$(sql "SELECT string_agg(DISTINCT ip::text, ',') FROM mdauth.auth_events
	WHERE username LIKE 'stranger%'")" 127.0.0.1 \
	"the failures' events record REMOTE_ADDR, not X-Forwarded-For"
h_wait_unlocked ip 127.0.0.1
login bob "$PW"
is "$STATUS" 200 "once the address's lock has passed, a login from it succeeds"

done_testing

#!/bin/bash
# Login throttling, kept in PostgreSQL: failures count against the name as
# typed (lower-cased, known or not) from REMOTE_ADDR, against REMOTE_ADDR
# (an IPv6 address by its ip_throttle_prefix6 network), and against the
# name from everywhere.  At its limit a name from one address, or an
# address, is locked for login_lockout seconds and its logins get 429 with
# Retry-After, even with the right password and without a password hash;
# a stranger's failures do not lock the owner out from elsewhere; failures
# from many addresses only slow the name (a delay that doubles, capped at
# login_max_delay); the answer does not tell known from unknown names; a
# success clears the name's counts; throttled attempts are counted on the
# throttle row, with one login_throttled event per lock; X-Forwarded-For
# is never trusted.
. "$(dirname "$0")/lib.sh"

PW='correct horse battery staple'
# Long enough that a loaded machine (sanitizers, parallel tests) does not
# see a lock end between two checks that expect it.
LOCKOUT=10
h_setup login_max_failures=3 login_lockout=$LOCKOUT ip_max_failures=1000
for u in alice bob carol dave erin frank grace heidi; do
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

# h_wait_unlocked KIND KEY [ADDR]: sleep until the lock of KEY (from ADDR,
# for kind user_ip) has passed.
h_wait_unlocked() {
	local left
	left=$(sql "SELECT greatest(0, extract(epoch FROM locked_until - now())) + 0.3
		FROM mdauth.login_throttle WHERE kind = :'k' AND key = :'key' AND addr = :'a'" \
		k="$1" key="$2" a="${3:-}")
	sleep "${left:-0}"
}

# h_login_from ADDR USER PASSWORD: POST /login straight to mdauthd's socket
# with REMOTE_ADDR=ADDR, as a web server in front of clients at other
# addresses would send it.  Prints the status; h_fcgi_retry_after prints
# the answer's Retry-After.
h_login_from() {
	local body
	body=$(jq -cn --arg u "$2" --arg p "$3" '{username: $u, password: $p}')
	H_PASSWORDS+=("$3")
	printf '%s' "$body" | fcgi_raw_at "$STACK_MDAUTHD_SOCKET" REQUEST_METHOD=POST \
		PATH_INFO=/login HTTPS=on REMOTE_ADDR="$1" CONTENT_TYPE=application/json \
		CONTENT_LENGTH=${#body}
	fcgi_status
}

# h_fcgi_retry_after: the Retry-After of the last h_login_from (empty when none).
h_fcgi_retry_after() {
	tr -d '\r' <"$H_DIR/fcgi-out" | sed -n '1,/^$/s/^Retry-After:[[:space:]]*//p' | head -n 1
}

# h_fcgi_retry_after_ok MAX: it is a whole number of seconds in 1..MAX.
h_fcgi_retry_after_ok() {
	local v
	v=$(h_fcgi_retry_after)
	[[ $v =~ ^[0-9]+$ ]] && [ "$v" -ge 1 ] && [ "$v" -le "$1" ] && return 0
	printf 'Retry-After: %s (expected 1..%s)\n' "$v" "$1"
	return 1
}

# h_fails_from ADDR USER N: N wrong passwords for USER from ADDR; prints
# their statuses.
h_fails_from() {
	local i
	for ((i = 1; i <= $3; i++)); do
		printf '%s ' "$(h_login_from "$1" "$2" "wrong password $i")"
	done
}

# h_row KIND KEY [ADDR]: "failures locked throttled_count" of a throttle row.
h_row() {
	sql "SELECT failures || ' ' || coalesce(locked_until > now(), false) || ' ' ||
		throttled_count FROM mdauth.login_throttle
		WHERE kind = :'k' AND key = :'key' AND addr = :'a'" k="$1" key="$2" a="${3:-}"
}

# h_count_events: every auth_events row.
h_count_events() {
	sql "SELECT count(*) FROM mdauth.auth_events"
}

# --- a known name: login_max_failures = 3 -----------------------------------
is "$(h_fails alice 3)" "401 401 401 " \
	"the first login_max_failures (3) wrong passwords answer 401"
sessions_before=$(h_sessions alice)
h_pg_log_statements
h_log_mark
h_db_mark
login alice "$PW"
expect_error 429 too_many_requests \
	"after 3 failures, the right password answers 429 too_many_requests"
is "$(h_db_statements)" login_begin \
	"a throttled login sends one statement (login_begin: the check, which counts it)"
known_body=$BODY
known_shape=$(h_headers_shape)
ok "the 429 carries Retry-After: seconds until the lock ends (1..$LOCKOUT)" \
	h_retry_after_ok "$LOCKOUT"
is "$(h_login_work)" "429 0" "a throttled login runs no password hash (0 argon2id computations)"
is "$(h_sessions alice)" "$sessions_before" "a throttled login opens no session"
is "$(sql "SELECT count(*) FROM mdauth.auth_events WHERE event = 'login_throttled'
	AND username = 'alice' AND ip = '127.0.0.1'")" 1 \
	"the first throttled login of the lock writes a login_throttled event with the name and address"
login alice 'yet another wrong password'
expect_error 429 too_many_requests "a locked name answers 429 to a wrong password too (not 401)"
is "$(h_events login_throttled alice)" 1 \
	"the second throttled attempt of the lock writes no event of its own"
is "$(h_row user_ip alice 127.0.0.1)" "3 true 2" \
	"the throttle row of alice from 127.0.0.1 holds 3 failures, its lock and 2 throttled attempts"
is "$(sql "SELECT (throttled_first <= throttled_last)::text FROM mdauth.login_throttle
	WHERE kind = 'user_ip' AND key = 'alice' AND addr = '127.0.0.1'")" true \
	"and the times of the first and last throttled attempts"
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
is "$(h_row user_ip ghost 127.0.0.1)" "3 true 1" \
	"mdauth.login_throttle holds the unknown name's 3 failures from the address and its lock"
is "$(h_row user ghost)" "3 false 0" \
	"and the unknown name's 3 failures from everywhere, not locked (fewer than 2 x 3)"

# --- the name is counted lower-cased ----------------------------------------
login Carol 'wrong password 1'
login CAROL 'wrong password 2'
login carol 'wrong password 3'
is "$STATUS" 401 "failures as Carol, CAROL and carol answer 401"
login cArOl "$PW"
expect_error 429 too_many_requests "failures as Carol, CAROL and carol together lock the name (cArOl gets 429)"

# --- the lock ends after login_lockout ----------------------------------------
h_wait_unlocked user_ip alice 127.0.0.1
login alice "$PW"
is "$STATUS" 200 "once the lock has passed (login_lockout = $LOCKOUT s), the right password logs in"

# --- a success clears the name's count --------------------------------------
is "$(h_fails dave 2)" "401 401 " "two failures answer 401"
h_login_ok dave "$PW"
is "$(sql "SELECT count(*) FROM mdauth.login_throttle WHERE key = 'dave'")" 0 \
	"a successful login clears its name's counts in mdauth.login_throttle"
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

# --- a stranger's failures do not lock the owner out ------------------------
h_restart_mdauthd login_max_failures=3 login_lockout=$LOCKOUT ip_max_failures=1000
attacker=198.51.100.7
is "$(h_fails_from $attacker grace 3)" "401 401 401 " \
	"an attacker at $attacker fails 3 times as grace: 401 each"
is "$(h_login_from $attacker grace "$PW")" 429 \
	"the attacker is locked out of grace: 429 even with the right password"
ok "the attacker's 429 carries Retry-After (1..$LOCKOUT)" h_fcgi_retry_after_ok $LOCKOUT
h_log_mark
login grace "$PW"
is "$STATUS" 200 "meanwhile grace logs in from her own address (127.0.0.1): 200"
is "$(h_login_work)" "200 1" "her login ran the one hash of a login"
is "$(h_login_from $attacker grace "$PW")" 429 \
	"after the owner's login the attacker is still throttled: 429"
ok "with Retry-After (1..$LOCKOUT)" h_fcgi_retry_after_ok $LOCKOUT
is "$(h_row user_ip grace $attacker)" "3 true 2" \
	"the lock is on grace from $attacker only (3 failures, locked, 2 throttled attempts)"
is "$(h_fails_from $attacker ghost-of-grace 1)" "401 " \
	"the attacker may still fail under another name (the address limit, not the name's, applies)"
is "$(h_fails_from 203.0.113.9 grace 3)" "401 401 401 " \
	"a second attacker's 3 failures as grace answer 401"
login grace "$PW"
is "$STATUS" 200 "and grace still logs in from her own address"

# --- from many addresses, a name is slowed, never locked ----------------------
# login_max_failures = 2: from 2 x 2 = 4 failures of a name from all
# addresses within the window, each failure delays the name's next login
# by 1, 2, 4, ... seconds, at most login_max_delay (3).
h_restart_mdauthd login_max_failures=2 login_lockout=60 ip_max_failures=1000 \
	login_max_delay=3
is "$(h_fails_from 198.51.100.1 heidi 2) $(h_fails_from 198.51.100.2 heidi 1)" \
	"401 401  401 " "3 failures as heidi from two addresses answer 401"
is "$(h_login_from 198.51.100.3 heidi "$PW")" 200 \
	"below 2 x login_max_failures from everywhere, the right password from a third address logs in"
is "$(h_fails_from 198.51.100.1 heidi 1)" "429 " \
	"the first address stays locked for heidi (2 failures)"
is "$(h_fails_from 198.51.100.2 heidi 1) $(h_fails_from 198.51.100.4 heidi 2) $(h_fails_from 198.51.100.10 heidi 1)" \
	"401  401 401  401 " "after that success, 4 more failures from three addresses answer 401"
h_row user heidi >"$H_DIR/heidi-row"
is "$(cut -d' ' -f1-2 "$H_DIR/heidi-row")" "4 true" \
	"the 4th failure of heidi from everywhere (2 x login_max_failures) sets a delay"
is "$(h_login_from 198.51.100.5 heidi "$PW")" 429 \
	"during the delay the right password from a fresh address answers 429"
is "$(h_fcgi_retry_after)" 1 "the first delay is 1 s (Retry-After: 1)"
delays=
for addr in 198.51.100.5 198.51.100.6 198.51.100.7 198.51.100.8; do
	h_wait_unlocked user heidi
	h_fails_from $addr heidi 1 >/dev/null
	h_login_from 198.51.100.9 heidi "$PW" >/dev/null
	delays="$delays$(h_fcgi_retry_after) "
done
is "$delays" "2 3 3 3 " \
	"each further failure doubles the delay (2, 4, ...) up to login_max_delay (3): Retry-After 2 3 3 3"
is "$(sql "SELECT count(*) FROM mdauth.auth_events WHERE event = 'login_throttled'
	AND username = 'heidi' AND detail LIKE '% (user)'")" 5 \
	"one login_throttled event per delay (5 delays, each refused once), its detail naming the name's delay"
h_wait_unlocked user heidi
login heidi "$PW"
is "$STATUS" 200 "once the delay has passed, heidi logs in with the right password: never a lockout"
is "$(sql "SELECT count(*) FROM mdauth.login_throttle WHERE kind = 'user' AND key = 'heidi'")" 0 \
	"her login cleared her name's count from everywhere"
is "$(h_login_from 198.51.100.4 heidi "$PW")" 429 \
	"but not the attackers' locks: 198.51.100.4 still gets 429 as heidi"

# --- the address: ip_max_failures = 4 ---------------------------------------
# A hash slot per worker: a login takes its slot before the throttle check
# (a busy pool answers 503 before any statement), and the burst below
# wants every answer to be the throttle's.
h_restart_mdauthd login_max_failures=1000 login_lockout=$LOCKOUT ip_max_failures=4 \
	max_concurrent_hashes=2
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

# 1000 throttled attempts, 16 at a time: each is refused without a hash,
# counted on the address's row, and none writes an event of its own.
# The burst may outlast login_lockout on a slow machine (sanitizers): the
# lock is held for it, as an operator could, and given back after.
sql "UPDATE mdauth.login_throttle SET locked_until = now() + interval '10 minutes'
	WHERE kind = 'ip' AND key = '127.0.0.1'" >/dev/null
events_before=$(h_count_events)
count_before=$(sql "SELECT throttled_count FROM mdauth.login_throttle WHERE kind = 'ip' AND key = '127.0.0.1'")
statuses=$(curl -sS --max-time 120 --cacert "$STACK_CERT" \
	--resolve "localhost:$STACK_HTTPS_PORT:127.0.0.1" -Z --parallel-max 16 \
	-H 'Content-Type: application/json' \
	--data-binary '{"username":"bob","password":"a guess"}' \
	-o /dev/null -w '%{http_code}\n' "$H_URL/login?attempt=[1-1000]" | sort | uniq -c |
	awk '{ printf "%s x %s ", $1, $2 }')
is "$statuses" "1000 x 429 " "1000 throttled attempts from the locked address all answer 429"
is "$(($(h_count_events) - events_before))" 0 \
	"1000 throttled attempts add no auth_events row (the lock's event was written already)"
is "$(($(sql "SELECT throttled_count FROM mdauth.login_throttle WHERE kind = 'ip' AND key = '127.0.0.1'") - count_before))" \
	1000 "the address's throttle row counts the 1000 throttled attempts"
# The same with one hash slot for the two workers: an attempt that finds
# the slot taken answers 503 before any statement, so it is not counted.
h_restart_mdauthd login_max_failures=1000 login_lockout=$LOCKOUT ip_max_failures=4 \
	max_concurrent_hashes=1
count_before=$(sql "SELECT throttled_count FROM mdauth.login_throttle WHERE kind = 'ip' AND key = '127.0.0.1'")
curl -sS --max-time 120 --cacert "$STACK_CERT" \
	--resolve "localhost:$STACK_HTTPS_PORT:127.0.0.1" -Z --parallel-max 16 \
	-H 'Content-Type: application/json' \
	--data-binary '{"username":"bob","password":"a guess"}' \
	-o /dev/null -w '%{http_code}\n' "$H_URL/login?attempt=[1-200]" >"$H_DIR/burst1"
is "$(sort -u "$H_DIR/burst1" | tr '\n' ' ')" "$(sort -u "$H_DIR/burst1" | grep -xE '429|503' | tr '\n' ' ')" \
	"with one hash slot, 200 throttled attempts answer 429, or 503 when the slot is taken"
is "$(($(sql "SELECT throttled_count FROM mdauth.login_throttle WHERE kind = 'ip' AND key = '127.0.0.1'") - count_before))" \
	"$(grep -cx 429 "$H_DIR/burst1")" \
	"the address's row counts exactly the 429s of them: a 503 reached no statement"
diag "$(sort "$H_DIR/burst1" | uniq -c)"
login nobody-at-all "$PW"
expect_error 429 too_many_requests "a locked address gets 429 for an unknown name too"
login bob "$PW" phone -H 'X-Forwarded-For: 198.51.100.7'
expect_error 429 too_many_requests \
	"a locked address gets 429 even when X-Forwarded-For claims another address"
sql "UPDATE mdauth.login_throttle SET locked_until = now() + interval '1 second'
	WHERE kind = 'ip' AND key = '127.0.0.1'" >/dev/null
is "$(sql "SELECT string_agg(key, ',') FROM mdauth.login_throttle WHERE kind = 'ip'")" \
	127.0.0.1 "failures count against REMOTE_ADDR (127.0.0.1), never an X-Forwarded-For address"
is "$(sql "SELECT string_agg(DISTINCT ip::text, ',') FROM mdauth.auth_events
	WHERE username LIKE 'stranger%'")" 127.0.0.1 \
	"the failures' events record REMOTE_ADDR, not X-Forwarded-For"
h_wait_unlocked ip 127.0.0.1
login bob "$PW"
is "$STATUS" 200 "once the address's lock has passed, a login from it succeeds"

# --- IPv6 addresses are counted by their /64 ---------------------------------
sql "DELETE FROM mdauth.login_throttle" >/dev/null
statuses=
for addr in 2001:db8:1:2::1 2001:db8:1:2::2 2001:db8:1:2:ffff:ffff:ffff:ffff 2001:DB8:1:2:abcd::9; do
	statuses="$statuses$(h_login_from "$addr" "v6-$addr" 'wrong password') "
done
is "$statuses" "401 401 401 401 " "4 failures from 4 addresses of 2001:db8:1:2::/64 under 4 names answer 401"
is "$(h_login_from 2001:db8:1:2::77 bob "$PW")" 429 \
	"a fifth address of the same /64 is locked: 429 for a name that never failed"
is "$(sql "SELECT key || ' ' || failures FROM mdauth.login_throttle WHERE kind = 'ip'")" \
	"2001:db8:1:2::/64 4" "the four failures count against one key, 2001:db8:1:2::/64"
is "$(sql "SELECT count(DISTINCT ip) FROM mdauth.auth_events WHERE username LIKE 'v6-%'")" 4 \
	"the events keep each exact address"
is "$(h_login_from 2001:db8:1:3::1 bob "$PW")" 200 \
	"an address of another /64 (2001:db8:1:3::1) is not locked: 200"
is "$(h_login_from ::ffff:192.0.2.1 nobody 'wrong password') $(h_login_from ::ffff:192.0.2.1 nobody 'wrong password') $(h_login_from 192.0.2.1 nobody 'wrong password') $(h_login_from 192.0.2.1 nobody 'wrong password')" \
	"401 401 401 401" "4 failures from ::ffff:192.0.2.1 and 192.0.2.1 answer 401"
is "$(h_login_from 192.0.2.1 bob "$PW") $(h_login_from ::ffff:192.0.2.1 bob "$PW")" "429 429" \
	"an IPv4-mapped IPv6 address counts as its IPv4 address: both forms are locked"
is "$(h_login_from 192.0.2.2 bob "$PW")" 200 "the next IPv4 address (a /32 of its own) is not locked"

h_restart_mdauthd login_max_failures=1000 login_lockout=$LOCKOUT ip_max_failures=2 \
	ip_throttle_prefix6=48
is "$(h_fails_from 2001:db8:7:1::1 stranger 1)$(h_fails_from 2001:db8:7:2::1 stranger 1)" \
	"401 401 " "with ip_throttle_prefix6 = 48: a failure from 2001:db8:7:1::1 and one from 2001:db8:7:2::1"
is "$(h_login_from 2001:db8:7:ffff::1 bob "$PW")" 429 "lock all of 2001:db8:7::/48"
is "$(h_login_from 2001:db8:8::1 bob "$PW")" 200 "but not 2001:db8:8::/48"

done_testing

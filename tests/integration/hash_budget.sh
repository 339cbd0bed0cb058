#!/bin/bash
# The pool-wide hashing budget (max_concurrent_hashes): a login that finds
# no free slot answers 503 with Retry-After: 1 at once, before any
# database statement, so that a login flood leaves the workers and the
# database free for /validate; a worker killed while it
# holds a slot does not leak it; and argon2 failing to allocate its memory
# answers 503, never 401.
. "$(dirname "$0")/lib.sh"

command -v prlimit >/dev/null 2>&1 || skip_all "prlimit not installed (util-linux)"

PW='correct horse battery staple'
# One slot for four workers.
h_setup workers=4 max_concurrent_hashes=1 login_max_failures=1000 ip_max_failures=1000
for u in u1 u2 u3 u4 u5; do
	h_user_add "$u" "$PW"
done

# h_login_curl N USER: one login of USER in the background (h_bg par-N),
# its pid in PAR_PID.
PAR_PID=
h_login_curl() {
	h_bg "par-$1" /login -H 'Content-Type: application/json' \
		--data-binary "$(jq -cn --arg u "$2" --arg p "$PW" '{username: $u, password: $p}')"
	PAR_PID=$H_BG_PID
}

# h_par_status N / h_par_header N NAME
h_par_status() { cat "$H_DIR/par-$1.status"; }
h_par_header() {
	tr -d '\r' <"$H_DIR/par-$1.headers" | sed -n "s/^$2:[[:space:]]*//Ip" | tail -n 1
}

# h_hold_slot USER: a login of USER that holds the only slot until
# h_unlock_rows, in the background (pid in HOLD_PID).  A login takes its
# slot first, then runs its throttle check, which reads
# mdauth.login_throttle FOR UPDATE: the test keeps that table locked, so
# the login waits there, holding the slot.
HOLD_PID=
h_hold_slot() {
	h_lock_rows 1 "LOCK TABLE mdauth.login_throttle IN EXCLUSIVE MODE; SELECT 'locked'"
	h_login_curl hold "$1"
	HOLD_PID=$PAR_PID
	ok "$1's login holds the only slot (its throttle check waits for the table lock)" \
		h_wait_for 10 h_lock_waiters 1
}

# --- the budget -------------------------------------------------------------
h_login_ok u5 "$PW"
token=$TOKEN
h_pg_log_statements
h_hold_slot u1
h_log_mark
h_db_mark
pids=()
for n in 2 3 4; do
	h_login_curl "$n" "u$n"
	pids+=("$PAR_PID")
done
wait "${pids[@]}"
bad503=''
for n in 2 3 4; do
	[ "$(h_par_status "$n")" = 503 ] || bad503="$bad503 u$n:$(h_par_status "$n")"
	[ "$(h_par_header "$n" Retry-After)" = 1 ] || bad503="$bad503 u$n:Retry-After"
	jq -e 'keys == ["error", "error_description"] and .error == "service_unavailable"' \
		<"$H_DIR/par-$n.body" >/dev/null 2>&1 || bad503="$bad503 u$n:body"
done
is "$bad503" "" "while a login holds the only slot, 3 parallel logins each answer 503 service_unavailable with Retry-After: 1"
is "$(h_login_work | sort | uniq -c | awk '{ print $1 "x" $2 ":" $3 }' | tr '\n' ' ')" "3x503:0 " \
	"a login refused for want of a slot runs no password hash"
is "$(h_db_statements)" "" \
	"... and sends no statement to the database (not even the throttle check)"
req_bearer GET /validate "$token"
is "$STATUS" 200 "while the slot is held, /validate with a live token answers 200"
ok "... while the login holding the slot is still in flight" kill -0 "$HOLD_PID"
h_unlock_rows
wait "$HOLD_PID"
is "$(h_par_status hold)" 200 "the login that held the slot then completes with 200"
login u2 "$PW"
is "$STATUS" 200 "and with the slot free again, a login succeeds"
for n in 2 3 4 hold; do
	rm -f "$H_DIR/par-$n".*
done

# --- a worker killed while it holds the slot ----------------------------------
master=$STACK_MDAUTHD_PID
old=$(h_children "$master")
[ "$(printf '%s\n' "$old" | grep -c .)" = 4 ] || bail "expected 4 workers, got: $old"
# Workers younger than 2 s are restarted with a delay (crash-loop backoff).
sleep 2
h_hold_slot u1
login u2 "$PW"
expect_error 503 service_unavailable "while a login holds the slot, a second login finds it taken (503)"
# shellcheck disable=SC2086  # one argument per worker
kill -KILL $old
h_unlock_rows
wait "$HOLD_PID"
isnt "$(h_par_status hold)" 200 "the login in flight was cut off by killing the workers (no 200)"
h_replaced() {
	local now w
	now=$(h_children "$master")
	[ "$(printf '%s\n' "$now" | grep -c .)" = 4 ] || return 1
	for w in $old; do
		printf '%s\n' "$now" | grep -qx "$w" && return 1
	done
	return 0
}
ok "the master replaces the 4 killed workers" h_wait_for 5 h_replaced
login u3 "$PW"
is "$STATUS" 200 "after a worker died holding the only slot, a login succeeds (the slot came back)"
statuses=
for u in u4 u2 u1; do
	login "$u" "$PW"
	statuses="$statuses$STATUS "
done
is "$statuses" "200 200 200 " "and so do the logins after it"

# --- argon2 cannot allocate its memory ------------------------------------------
# mdauthd under a 1.5 GB address-space limit; a stored hash that asks for
# 4 GiB.
if [ "${MDAUTH_SANITIZERS:-0}" = 1 ]; then
	# AddressSanitizer reserves far more address space than any limit
	# that would stop argon2, so there its allocator refuses instead.
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}allocator_may_return_null=1:max_allocation_size_mb=1024"
	export ASAN_OPTIONS
	h_restart_mdauthd workers=2 max_concurrent_hashes=1 \
		argon2_iterations=40 login_max_failures=1000 ip_max_failures=1000
else
	AS_LIMIT=1500000000
	cat >"$H_DIR/mdauthd-limited" <<EOF
#!/bin/sh
exec prlimit --as=$AS_LIMIT -- "$MDAUTHD" "\$@"
EOF
	chmod +x "$H_DIR/mdauthd-limited"
	MDAUTHD=$H_DIR/mdauthd-limited h_restart_mdauthd workers=2 max_concurrent_hashes=1 \
		argon2_iterations=40 login_max_failures=1000 ip_max_failures=1000
	limit=$(prlimit --pid "$STACK_MDAUTHD_PID" --as --noheadings --output SOFT | tr -d ' ')
	[ "$limit" = "$AS_LIMIT" ] || bail "mdauthd does not run under the address-space limit ($limit)"
fi
h_user_add mem "$PW"
huge='$argon2id$v=19$m=4194304,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$'$(head -c 43 /dev/zero | tr '\0' A)
sql "UPDATE mdauth.users SET password_hash = :'h' WHERE username = 'mem'" h="$huge"
h_log_mark
login mem "$PW"
expect_error 503 service_unavailable \
	"a stored hash whose 4 GiB argon2 cannot allocate answers 503 service_unavailable, not 401"
like "$(header Retry-After)" '^[1-9][0-9]*$' "the allocation failure's 503 carries Retry-After"
login mem 'not the password 1234'
expect_error 503 service_unavailable "a wrong password for that user answers 503 as well, not 401"
login u4 "$PW"
is "$STATUS" 200 "under the same limit another user logs in (the slot was released after the failure)"

done_testing

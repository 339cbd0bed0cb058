#!/bin/bash
# The pool-wide hashing budget (max_concurrent_hashes): a login that finds
# no free slot answers 503 with Retry-After: 1 at once, so that a login
# flood leaves the workers free for /validate; a worker killed while it
# holds a slot does not leak it; and argon2 failing to allocate its memory
# answers 503, never 401.
. "$(dirname "$0")/lib.sh"

command -v prlimit >/dev/null 2>&1 || skip_all "prlimit not installed (util-linux)"

PW='correct horse battery staple'
# Slow hashes (t=40) so that logins overlap; one slot for four workers.
h_setup workers=4 max_concurrent_hashes=1 argon2_iterations=40 \
	login_max_failures=1000 ip_max_failures=1000
for u in u1 u2 u3 u4 u5; do
	h_user_add "$u" "$PW"
done

# h_login_curl N USER: one login of USER in the background, its outputs
# in $H_DIR/par-N.{status,headers,body,time}; its pid in PAR_PID.
PAR_PID=
h_login_curl() {
	local n=$1 body
	body=$(jq -cn --arg u "$2" --arg p "$PW" '{username: $u, password: $p}')
	curl -sS --max-time 30 --cacert "$STACK_CERT" \
		--resolve "localhost:$STACK_HTTPS_PORT:127.0.0.1" \
		-H 'Content-Type: application/json' --data-binary "$body" \
		-D "$H_DIR/par-$n.headers" -o "$H_DIR/par-$n.body" \
		-w '%{http_code} %{time_total}\n' "$H_URL/login" \
		>"$H_DIR/par-$n.out" 2>"$H_DIR/par-$n.err" &
	PAR_PID=$!
}

# h_par_status N / h_par_time N / h_par_header N NAME
h_par_status() { cut -d' ' -f1 "$H_DIR/par-$1.out"; }
h_par_time() { cut -d' ' -f2 "$H_DIR/par-$1.out"; }
h_par_header() {
	tr -d '\r' <"$H_DIR/par-$1.headers" | sed -n "s/^$2:[[:space:]]*//Ip" | tail -n 1
}

# h_time_login USER: the seconds one login of USER takes (and it must be 200).
h_time_login() {
	h_login_curl solo "$1"
	wait "$PAR_PID"
	[ "$(h_par_status solo)" = 200 ] || bail "login as $1 failed: $(cat "$H_DIR/par-solo.out")"
	h_par_time solo
}

# --- the budget -------------------------------------------------------------
h_login_ok u5 "$PW"
token=$TOKEN
login_time=$(h_time_login u5)
ok "with argon2_iterations = 40 one login takes at least 0.3 s (${login_time}s)" \
	h_lt 0.3 "$login_time"

h_log_mark
pids=()
for n in 1 2 3 4; do
	h_login_curl "$n" "u$n"
	pids+=("$PAR_PID")
done
sleep 0.15
start=$(h_now)
req_bearer GET /validate "$token"
validate_time=$(h_elapsed "$start")
still_running=0
for pid in "${pids[@]}"; do
	stack_proc_gone "$pid" || still_running=$((still_running + 1))
done
is "$STATUS" 200 "during the login flood, /validate with a live token answers 200"
ok "that validate took less than half a login (${validate_time}s, a login ${login_time}s)" \
	h_lt "$validate_time" "$(awk -v t="$login_time" 'BEGIN { print t / 2 }')"
ok "that validate was answered while a login was still hashing" test "$still_running" -ge 1
wait "${pids[@]}"

statuses=$(for n in 1 2 3 4; do h_par_status "$n"; done | sort | uniq -c |
	awk '{ printf "%s%sx%s", sep, $1, $2; sep = " " }')
n200=0 n503=0 bad503='' slow503=''
for n in 1 2 3 4; do
	case $(h_par_status "$n") in
	200) n200=$((n200 + 1)) ;;
	503)
		n503=$((n503 + 1))
		[ "$(h_par_header "$n" Retry-After)" = 1 ] || bad503="$bad503 $n:Retry-After"
		jq -e 'keys == ["error", "error_description"] and .error == "service_unavailable"' \
			<"$H_DIR/par-$n.body" >/dev/null 2>&1 || bad503="$bad503 $n:body"
		h_lt "$(h_par_time "$n")" "$(awk -v t="$login_time" 'BEGIN { print t / 2 }')" ||
			slow503="$slow503 $n:$(h_par_time "$n")s"
		;;
	esac
done
ok "of 4 parallel logins with max_concurrent_hashes = 1 at least one answers 200 ($statuses)" \
	test "$n200" -ge 1
ok "of 4 parallel logins with max_concurrent_hashes = 1 at least one answers 503 ($statuses)" \
	test "$n503" -ge 1
is "$((n200 + n503))" 4 "each of the 4 parallel logins answers 200 or 503 ($statuses)"
is "$bad503" "" "each 503 is service_unavailable with Retry-After: 1"
is "$slow503" "" "each 503 came at once (in under half the time of a login)"
is "$(h_login_work | grep -c '^503 0$')" "$n503" "a login refused for want of a slot runs no password hash"
for n in 1 2 3 4; do
	rm -f "$H_DIR/par-$n".*
done

# --- a worker killed while it holds the slot ----------------------------------
master=$STACK_MDAUTHD_PID
old=$(h_children "$master")
[ "$(printf '%s\n' "$old" | grep -c .)" = 4 ] || bail "expected 4 workers, got: $old"
# Workers younger than 2 s are restarted with a delay (crash-loop backoff).
sleep 2
h_login_curl slow u1
slow=$PAR_PID
sleep "$(awk -v t="$login_time" 'BEGIN { print t / 3 }')"
login u2 "$PW"
expect_error 503 service_unavailable "while a login hashes, a second login finds the only slot taken (503)"
# shellcheck disable=SC2086  # one argument per worker
kill -KILL $old
wait "$slow"
isnt "$(h_par_status slow)" 200 "the login in flight was cut off by killing the workers (no 200)"
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

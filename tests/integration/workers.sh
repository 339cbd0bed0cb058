#!/bin/bash
# The pre-forked pool: the master replaces a killed worker while the
# others keep serving, and SIGTERM stops the master and all its workers.
. "$(dirname "$0")/lib.sh"

h_setup workers=2
h_user_add alice 'correct horse battery staple'
h_login_ok alice 'correct horse battery staple'
token=$TOKEN
master=$STACK_MDAUTHD_PID

is "$(ps -o comm= -p "$master")" mdauthd "the recorded pid is the mdauthd master"
workers=$(h_workers)
is "$(printf '%s\n' "$workers" | grep -c .)" 2 "the master runs workers = 2 workers"

# h_validate_burst N: N validates of the live token; prints their statuses.
h_validate_burst() {
	local i
	for i in $(seq "$1"); do
		req_bearer GET /validate "$token"
		printf '%s ' "$STATUS"
	done
}
all_200() {
	[ -z "$(printf '%s' "$1" | tr -d '2 0')" ] && [ -n "$1" ]
}

# --- a worker dies ---------------------------------------------------------
victim=$(printf '%s\n' "$workers" | head -n 1)
kill -KILL "$victim"
codes=$(h_validate_burst 10)
ok "requests right after a worker was killed all succeed ($codes)" all_200 "$codes"

replaced=
for i in $(seq 30); do
	now=$(h_workers)
	if [ "$(printf '%s\n' "$now" | grep -c .)" = 2 ] &&
		! printf '%s\n' "$now" | grep -qx "$victim"; then
		replaced=yes
		break
	fi
	sleep 0.1
done
is "$replaced" yes "within 3 s the master runs 2 workers again, with a new pid"
ok "the killed worker is gone" stack_proc_gone "$victim"
ok "the master survived its worker's death" kill -0 "$master"
codes=$(h_validate_burst 10)
ok "requests after the respawn all succeed ($codes)" all_200 "$codes"

# --- SIGTERM ---------------------------------------------------------------
# By hand rather than with stack_mdauthd_stop, which would kill leftovers
# before we could see them.
workers=$(h_workers)
kill -TERM "$master"
# Idle workers stop at once; the master only kills after shutdown_timeout
# (10 s), so 3 s means every worker stopped by itself.
for i in $(seq 30); do
	stack_proc_gone "$master" && break
	sleep 0.1
done
ok "the master exits within 3 s of SIGTERM (well before shutdown_timeout)" \
	stack_proc_gone "$master"
ok "no worker had to be killed at shutdown_timeout" \
	sh -c "! grep -q 'shutdown_timeout reached' '$STACK_DIR/mdauthd.log'"
stack_proc_gone "$master" || kill -KILL "$master"
wait "$master"
is "$?" 0 "the master exits with status 0 on SIGTERM"
left=
for w in $workers; do
	stack_proc_gone "$w" || left="$left $w"
done
is "$left" "" "no worker outlives the master"
h_socket_dead() {
	[ ! -S "$STACK_MDAUTHD_SOCKET" ] || ! fcgi_raw REQUEST_METHOD=GET PATH_INFO=/health HTTPS=on
}
ok "nothing accepts on the daemon's socket after SIGTERM" h_socket_dead
req GET /health
isnt "$STATUS" 200 "requests through lighttpd no longer reach the daemon"

done_testing

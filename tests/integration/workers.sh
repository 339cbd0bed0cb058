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
# shellcheck disable=SC2086
is "$(h_alive $workers)" "" "no worker outlives the master"
h_socket_dead() {
	[ ! -S "$STACK_MDAUTHD_SOCKET" ] || ! fcgi_raw REQUEST_METHOD=GET PATH_INFO=/health HTTPS=on
}
ok "nothing accepts on the daemon's socket after SIGTERM" h_socket_dead
req GET /health
isnt "$STATUS" 200 "requests through lighttpd no longer reach the daemon"

# --- SIGTERM with a request in flight ----------------------------------------
# A login is in a worker when SIGTERM comes, held there by a row lock the
# test keeps on the user (the login locks its user's row to open the
# session): it completes once the lock goes, while the socket stops taking
# new connections at once rather than leaving them in the backlog.
h_restart_mdauthd workers=2 db_timeout=20 shutdown_timeout=20
master=$STACK_MDAUTHD_PID
h_user_add slow 'correct horse battery staple'
# lighttpd disabled the backend when the socket vanished; wait until it
# routes to the daemon again.
h_wait_for 10 h_routed || bail "lighttpd does not reach the restarted daemon"
h_lock_rows 1 "SELECT 'locked' FROM mdauth.users WHERE username = 'slow' FOR UPDATE"
# f_slow_login: the login of user slow, in the background (h_bg "slow").
f_slow_login() {
	h_bg slow /login -H 'Content-Type: application/json' \
		--data-binary '{"username":"slow","password":"correct horse battery staple"}'
	slow=$H_BG_PID
}
f_slow_login
ok "a worker is in the middle of the login (waiting for the row lock)" \
	h_wait_for 10 h_lock_waiters 1
start=$(h_now)
kill -TERM "$master"
h_socket_refuses() {
	[ ! -e "$STACK_MDAUTHD_SOCKET" ] &&
		! timeout 2 cgi-fcgi -bind -connect "$STACK_MDAUTHD_SOCKET" </dev/null >/dev/null 2>&1
}
ok "SIGTERM: the socket is gone and refuses new connections within 1 s" \
	h_wait_for 1 h_socket_refuses
sleep 1
ok "SIGTERM: the master waits for the login in flight" kill -0 "$master"
h_unlock_rows
wait "$slow"
is "$(cat "$H_DIR/slow.status")" 200 "SIGTERM: the login in flight completes with 200 ($(h_elapsed "$start") s after SIGTERM)"
like "$(jq -r .token "$H_DIR/slow.body")" "$H_TOKEN_RE" "SIGTERM: ... and its token"
h_wait_for 20 stack_proc_gone "$master"
wait "$master"
is "$?" 0 "SIGTERM: the master exits 0 once the request is done"
ok "SIGTERM: nothing had to be killed at shutdown_timeout" \
	sh -c "! grep -q 'shutdown_timeout reached' '$STACK_DIR/mdauthd.log'"
STACK_MDAUTHD_PID=

# --- SIGTERM with a connection waiting in the queue --------------------------
# One worker, held in a login by the row lock; a validate waits in the
# listen queue (lighttpd has connected, no worker has accepted).  After
# SIGTERM the worker finishes the login, then serves the waiting validate
# before it stops: a connection already made is not reset.
h_restart_mdauthd workers=1 db_timeout=20 shutdown_timeout=20
master=$STACK_MDAUTHD_PID
h_wait_for 10 h_routed || bail "lighttpd does not reach the restarted daemon"
h_lock_rows 1 "SELECT 'locked' FROM mdauth.users WHERE username = 'slow' FOR UPDATE"
f_slow_login
ok "the only worker is in the middle of the login" h_wait_for 10 h_lock_waiters 1
h_bg queued /validate -H "Authorization: Bearer $token"
queued=$H_BG_PID
# The validate is queued once mdauthd's socket has a connection waiting
# (ss: Recv-Q of the listening socket).
h_queued() {
	[ "$(ss -Hxl src "$STACK_MDAUTHD_SOCKET" | awk '{ print $3 }')" -ge 1 ] 2>/dev/null
}
ok "a validate waits in the listen queue" h_wait_for 10 h_queued
kill -TERM "$master"
sleep 0.5
h_unlock_rows
wait "$slow" "$queued"
is "$(cat "$H_DIR/slow.status")" 200 "SIGTERM, queue: the login in hand completes with 200"
is "$(cat "$H_DIR/queued.status")" 200 "SIGTERM, queue: the validate that was waiting is served, 200"
h_wait_for 20 stack_proc_gone "$master"
wait "$master"
is "$?" 0 "SIGTERM, queue: the master exits 0"
STACK_MDAUTHD_PID=

done_testing

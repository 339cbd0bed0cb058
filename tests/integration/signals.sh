#!/bin/bash
# SIGHUP and worker retirement: a valid new configuration replaces every
# worker without failing a request; an invalid one is logged with its
# line and changes nothing; a worker retires after max_requests without
# failing a request.
. "$(dirname "$0")/lib.sh"

h_setup workers=2
h_user_add alice 'correct horse battery staple'
h_login_ok alice 'correct horse battery staple'
token=$TOKEN
master=$STACK_MDAUTHD_PID

# h_validate_burst N: N validates of the live token; prints their statuses.
h_validate_burst() {
	for _ in $(seq "$1"); do
		req_bearer GET /validate "$token"
		printf '%s ' "$STATUS"
	done
}
all_200() {
	[ -n "$1" ] && [ -z "$(printf '%s' "$1" | tr -d '2 0')" ]
}

# The request loop: validates through lighttpd, one status per line in
# $H_DIR/loop.out, until $H_DIR/loop.stop exists (or 30 s have passed).
loop_pid=
loop_start() {
	rm -f "$H_DIR/loop.stop"
	: >"$H_DIR/loop.out"
	(
		end=$((SECONDS + 30))
		while [ ! -e "$H_DIR/loop.stop" ] && [ "$SECONDS" -lt "$end" ]; do
			curl -sS --max-time 10 --cacert "$STACK_CERT" \
				--resolve "localhost:$STACK_HTTPS_PORT:127.0.0.1" \
				-H "Authorization: Bearer $token" -o /dev/null \
				-w '%{http_code}\n' "$H_URL/validate" 2>>"$H_DIR/loop.err" ||
				echo curl-failed
		done >>"$H_DIR/loop.out"
	) &
	loop_pid=$!
	h_on_teardown "kill $loop_pid 2>/dev/null"
}
loop_count() {
	grep -c . "$H_DIR/loop.out"
}
# loop_wait_more N: wait (up to 10 s) until the loop has N more answers.
loop_has() {
	[ "$(loop_count)" -ge "$1" ]
}
loop_wait_more() {
	h_wait_for 10 loop_has $(($(loop_count) + $1))
}
loop_stop() {
	touch "$H_DIR/loop.stop"
	wait "$loop_pid"
}

# --- SIGHUP, valid: workers = 3 ---------------------------------------------
old=$(h_children "$master")
[ "$(printf '%s\n' "$old" | grep -c .)" = 2 ] || bail "expected 2 workers, got: $old"
loop_start
loop_wait_more 10 || bail "the request loop gets no answers"
stack_mdauthd_config log_level=debug workers=3 || bail "cannot rewrite the configuration"
kill -HUP "$master"
h_replaced() {
	local now w
	now=$(h_children "$master")
	[ "$(printf '%s\n' "$now" | grep -c .)" = 3 ] || return 1
	for w in $old; do
		printf '%s\n' "$now" | grep -qx "$w" && return 1
	done
	return 0
}
ok "SIGHUP with workers = 3: within 5 s the master runs 3 workers, none of the old ones" \
	h_wait_for 5 h_replaced
# h_old_gone: every worker in $old has exited.
h_old_gone() {
	# shellcheck disable=SC2086
	[ -z "$(h_alive $old)" ]
}
ok "SIGHUP: the old workers have exited" h_old_gone
# Four more generations in quick succession, to give a race a chance.
for _ in 1 2 3 4; do
	loop_wait_more 3
	kill -HUP "$master"
done
h_wait_for 5 h_has_children "$master" 3
loop_wait_more 20
loop_stop
total=$(loop_count)
bad=$(grep -cvx 200 "$H_DIR/loop.out")
ok "SIGHUP: the request loop made at least 40 requests around 5 reloads ($total)" \
	test "$total" -ge 40
is "$bad" 0 "SIGHUP: none of the $total requests sent during 5 reloads failed"
[ "$bad" = 0 ] || diag "$(sort "$H_DIR/loop.out" | uniq -c)"
ok "SIGHUP: the master is alive" kill -0 "$master"
ok "SIGHUP: the log says the configuration was reloaded with 3 workers" \
	h_logs_contain "configuration reloaded, 3 workers"
codes=$(h_validate_burst 6)
ok "SIGHUP: requests to the new workers succeed ($codes)" all_200 "$codes"

# --- SIGHUP with a request in flight ----------------------------------------
# A login whose body arrives 1.5 s late, straight to the daemon's socket:
# a worker holds it, waiting for the body, when the signal comes.
h_user_add bob 'bob battery horse staple'
slow_body='{"username":"bob","password":"bob battery horse staple"}'
slow_pid=
slow_login_start() {
	(sleep 1.5; printf '%s' "$slow_body") |
		env -i REQUEST_METHOD=POST PATH_INFO=/login HTTPS=on \
			REMOTE_ADDR=127.0.0.1 CONTENT_TYPE=application/json \
			CONTENT_LENGTH=${#slow_body} timeout 10 \
			cgi-fcgi -bind -connect "$STACK_MDAUTHD_SOCKET" \
			>"$H_DIR/slow.out" 2>"$H_DIR/slow.err" &
	slow_pid=$!
	h_on_teardown "kill $slow_pid 2>/dev/null"
	h_wait_for 5 h_accepted || bail "no worker accepted the slow login"
}
# slow_login_wait: wait for it; SLOW_STATUS is the status it got.
SLOW_STATUS=
slow_login_wait() {
	wait "$slow_pid"
	SLOW_STATUS=$(tr -d '\r' <"$H_DIR/slow.out" |
		sed -n 's/^Status: \([0-9]*\).*/\1/p' | head -n 1)
}
# f_term_exits: after SIGTERM, the master exits, with status 0.
f_term_exits() {
	ok "SIGTERM: the master then exits" h_wait_for 5 stack_proc_gone "$master"
	stack_mdauthd_stop
	is "$STACK_MDAUTHD_EXIT_STATUS" 0 "SIGTERM: the master's exit status is 0"
}
old=$(h_children "$master")
slow_login_start
kill -HUP "$master"
slow_login_wait
is "$SLOW_STATUS" 200 "SIGHUP: a login in flight when SIGHUP came is answered 200"
h_served_by_old() {
	local w
	for w in $old; do
		grep -qF "mdauthd[$w]: info: POST /login 200" "$H_DIR/mdauthd.log" && return 0
	done
	return 1
}
ok "SIGHUP: that login was served by a worker of the generation before" h_served_by_old
ok "SIGHUP: the workers of the generation before have exited since" h_wait_for 3 h_old_gone
ok "SIGHUP: the master runs 3 new workers" h_wait_for 3 h_replaced

# --- SIGHUP, invalid: an unknown key ----------------------------------------
before=$(h_children "$master")
stack_mdauthd_config log_level=debug workers=2 no_such_key=1 ||
	bail "cannot rewrite the configuration"
line=$(grep -n '^no_such_key = ' "$STACK_MDAUTHD_CONF" | cut -d: -f1)
kill -HUP "$master"
ok "SIGHUP with an unknown key: the daemon logs an error naming the file and line $line" \
	h_wait_for 5 grep -qE "error: .*$STACK_MDAUTHD_CONF:$line: .*no_such_key" "$H_DIR/mdauthd.log"
sleep 0.5
is "$(h_children "$master")" "$before" "SIGHUP with an unknown key: the same 3 workers keep running"
ok "SIGHUP with an unknown key: the master is alive" kill -0 "$master"
codes=$(h_validate_burst 6)
ok "SIGHUP with an unknown key: requests still succeed ($codes)" all_200 "$codes"

# --- SIGHUP after -d with a relative -c path ---------------------------------
# -d changes to /, so the file must still be found when it is read again.
rel_sock=$H_DIR/rel.sock
rel_pid=$H_DIR/rel.pid
h_conf rel "listen = $rel_sock" "pid_file = $rel_pid" "workers = 1"
(cd "$H_DIR" && "$MDAUTHD" -d -c rel.conf </dev/null >>"$H_DIR/mdauthd-rel.log" 2>&1)
h_wait_for 3 test -s "$rel_pid" || bail "mdauthd -d -c rel.conf did not start"
rel_master=$(cat "$rel_pid")
h_track "$rel_master"
h_wait_for 3 h_has_children "$rel_master" 1 ||
	bail "mdauthd -d -c rel.conf did not start its worker"
h_conf rel "listen = $rel_sock" "pid_file = $rel_pid" "workers = 2"
kill -HUP "$rel_master"
ok "SIGHUP after mdauthd -d -c RELATIVE.conf: the file is read again (2 workers)" \
	h_wait_for 3 h_has_children "$rel_master" 2
h_stop_master "$rel_master"

# --- max_requests = 5, workers = 1 ------------------------------------------
h_restart_mdauthd workers=1 max_requests=5
master=$STACK_MDAUTHD_PID
h_wait_for 3 h_has_children "$master" 1 || bail "expected 1 worker"
w1=$(h_children "$master")
codes=$(h_validate_burst 4)
ok "max_requests = 5: the first 4 requests succeed ($codes)" all_200 "$codes"
is "$(h_children "$master")" "$w1" "max_requests = 5: after 4 requests the worker is the same"
codes=$(h_validate_burst 1)
ok "max_requests = 5: the 5th request succeeds ($codes)" all_200 "$codes"
h_changed() {
	local now
	now=$(h_children "$master")
	[ -n "$now" ] && [ "$now" != "$1" ] && [ "$(printf '%s\n' "$now" | grep -c .)" = 1 ]
}
ok "max_requests = 5: after the 5th request a new worker takes over" h_wait_for 3 h_changed "$w1"
ok "max_requests = 5: the retired worker has exited" h_wait_for 2 stack_proc_gone "$w1"
ok "max_requests = 5: the log says the worker retired after 5 requests" \
	h_logs_contain "mdauthd[$w1]: info: worker: retiring after 5 requests"
w2=$(h_children "$master")
codes=$(h_validate_burst 10)
ok "max_requests = 5: 10 more requests across two more retirements all succeed ($codes)" \
	all_200 "$codes"
ok "max_requests = 5: the second worker retired as well" h_wait_for 3 stack_proc_gone "$w2"
ok "max_requests = 5: the master is alive" kill -0 "$master"
if h_logs_contain 'exited with status'; then
	fail "max_requests = 5: no worker was reported as failed" \
		"$(grep 'exited with status' "$H_DIR/mdauthd.log")"
else
	pass "max_requests = 5: no worker was reported as failed"
fi

# --- SIGTERM with a request in flight ---------------------------------------
slow_login_start
kill -TERM "$master"
slow_login_wait
is "$SLOW_STATUS" 200 "SIGTERM: a login in flight when SIGTERM came is answered 200"
f_term_exits

# --- a new generation slow to start -------------------------------------------
# Its dummy hash takes seconds (many argon2id passes): the old workers
# keep serving until one new worker is ready, and only then stop.
h_restart_mdauthd workers=2
master=$STACK_MDAUTHD_PID
h_wait_for 5 h_has_children "$master" 2 || bail "expected 2 workers"
h_wait_for 10 h_routed || bail "lighttpd does not reach the restarted daemon"
old=$(h_children "$master")
stack_mdauthd_config log_level=debug workers=2 argon2_memory=65536 argon2_iterations=100 ||
	bail "cannot rewrite the configuration"
kill -HUP "$master"
sleep 1
codes=$(h_validate_burst 5)
ok "slow new generation: 1 s after SIGHUP requests are served ($codes)" all_200 "$codes"
# shellcheck disable=SC2086
is "$(h_alive $old)" "$(echo $old)" "slow new generation: the old workers still serve meanwhile"
ok "slow new generation: once a new worker is ready the old ones exit" h_wait_for 30 h_old_gone
ok "slow new generation: the log says a new worker was ready before the old stopped" \
	h_logs_contain "reload: new worker"
codes=$(h_validate_burst 5)
ok "slow new generation: the new workers serve ($codes)" all_200 "$codes"

# --- a connection made just before the stop -----------------------------------
# The web server has connected, a worker has accepted, and the request's
# first byte comes 0.8 s later; SIGTERM (then SIGHUP) lands in between.
# The connection is served, not dropped.
h_restart_mdauthd workers=1
master=$STACK_MDAUTHD_PID
h_wait_for 5 h_has_children "$master" 1 || bail "expected 1 worker"
FCGI_REQUEST=$top_builddir/tests/fcgi-request
[ -x "$FCGI_REQUEST" ] || bail "$FCGI_REQUEST not built"
# gap_request OUT: a health request, connected at once, sent 0.8 s later.
gap_request() {
	FCGI_REQUEST_DELAY=0.8 "$FCGI_REQUEST" "$STACK_MDAUTHD_SOCKET" 1 \
		REQUEST_METHOD=GET PATH_INFO=/health HTTPS=on >"$1" 2>&1
}
gap_request "$H_DIR/gap-hup" &
gap=$!
h_wait_for 5 h_accepted || bail "no worker accepted the gap request"
kill -HUP "$master"
wait "$gap"
like "$(head -n 1 "$H_DIR/gap-hup")" '^Status: 200' \
	"SIGHUP between a connection and its first byte: the request is answered 200"
h_wait_for 5 h_has_children "$master" 1
gap_request "$H_DIR/gap-term" &
gap=$!
h_wait_for 5 h_accepted || bail "no worker accepted the gap request"
kill -TERM "$master"
wait "$gap"
like "$(head -n 1 "$H_DIR/gap-term")" '^Status: 200' \
	"SIGTERM between a connection and its first byte: the request is answered 200"
f_term_exits

# --- a connection the web server keeps (FCGI_KEEP_CONN) -----------------------
# A worker holding a kept connection between two requests closes it when
# it is told to stop, instead of living as long as the web server keeps it.
h_restart_mdauthd workers=1
master=$STACK_MDAUTHD_PID
h_wait_for 5 h_has_children "$master" 1 || bail "expected 1 worker"
w1=$(h_children "$master")
# The stdin record comes after a pause, so that it cannot arrive together
# with the parameters: the worker must read it before it waits for the
# next request, or it would take it for one and drop the connection.
FCGI_REQUEST_KEEP=1 FCGI_REQUEST_STDIN_DELAY=0.3 \
	"$FCGI_REQUEST" "$STACK_MDAUTHD_SOCKET" 1 REQUEST_METHOD=GET \
	PATH_INFO=/health HTTPS=on >"$H_DIR/kept" 2>"$H_DIR/kept-err" &
kept=$!
h_wait_for 5 grep -q '^Status: 200' "$H_DIR/kept"
like "$(head -n 1 "$H_DIR/kept")" '^Status: 200' "kept connection: the first request is answered 200"
ok "kept connection: the connection stays open after it" \
	sh -c "sleep 0.5; kill -0 $kept"
kill -HUP "$master"
wait "$kept"
is "$?:$(cat "$H_DIR/kept-err")" "0:closed" "kept connection: SIGHUP makes the old worker close it"
ok "kept connection: and the old worker exits" h_wait_for 5 stack_proc_gone "$w1"

done_testing

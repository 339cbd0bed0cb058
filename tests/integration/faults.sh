#!/bin/bash
# Faults under load: wrk sends validates through lighttpd (HTTPS) while
# workers are killed, the configuration is reloaded, PostgreSQL goes away
# and comes back, and the master is stopped.  The assertions are on the
# counts of failed requests: only the requests a killed worker held may
# fail; a reload and a database outage fail none (an outage answers 503
# with Retry-After, never 500, never slowly); SIGTERM lets every request a
# worker holds finish with 200.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/load.sh"
load_need_wrk

WORKERS=4
CONNS=8			# more than the workers: requests also wait in the backlog
DB_TIMEOUT=3
# Every rewrite of the configuration starts from these.
BASE_CONF=(log_level=debug "db_timeout=$DB_TIMEOUT")

h_setup "${BASE_CONF[@]}" "workers=$WORKERS"
h_user_add alice 'correct horse battery staple'
h_user_add bob 'bob battery horse staple'
h_login_ok alice 'correct horse battery staple'
token=$TOKEN
master=$STACK_MDAUTHD_PID
h_wait_for 5 h_has_children "$master" "$WORKERS" || bail "expected $WORKERS workers"

# f_log_from OFFSET FILE: FILE from byte OFFSET on.
f_log_from() {
	tail -c +$(($1 + 1)) "$2" 2>/dev/null
}
f_size() {
	stat -c %s "$1" 2>/dev/null || echo 0
}

# f_kids: the master's children into F_KIDS.  /proc's children list is
# read without forking, so that polling it costs the loaded machine
# little and times the respawn closely (a zombie not yet reaped is
# listed; an old pid never counts as a new worker).
F_KIDS=()
f_kids() {
	local f=/proc/$master/task/$master/children k c
	local -a all
	if [ -r "$f" ]; then
		# Not the validate cache's listener (mdauthd-cache).
		read -r -a all <"$f"
		F_KIDS=()
		for k in "${all[@]}"; do
			c=
			read -r c <"/proc/$k/comm" 2>/dev/null
			[ "$c" = mdauthd-cache ] || F_KIDS+=("$k")
		done
	else
		mapfile -t F_KIDS < <(h_children "$master")
	fi
	return 0
}

# f_pool_back T0 OLD...: poll until the master runs $WORKERS workers again,
# none of them in OLD, each of which has logged that it is ready (database
# connected, statements prepared).  Sets F_FULL and F_READY, the seconds
# from T0 (an $EPOCHREALTIME) to each; false when that did not happen
# within 5 s.
F_FULL=
F_READY=
f_pool_back() {
	local t0=$1 k n end=$((SECONDS + 5)) old=" ${*:2} "
	F_FULL='' F_READY=''
	while [ "$SECONDS" -le "$end" ]; do
		f_kids
		n=0
		for k in "${F_KIDS[@]}"; do
			[[ $old == *" $k "* ]] || n=$((n + 1))
		done
		if [ "$n" = "$WORKERS" ] && [ ${#F_KIDS[@]} = "$WORKERS" ]; then
			[ -n "$F_FULL" ] || F_FULL=$EPOCHREALTIME
			n=0
			for k in "${F_KIDS[@]}"; do
				grep -qF "mdauthd[$k]: debug: worker: ready" "$H_DIR/mdauthd.log" ||
					break
				n=$((n + 1))
			done
			if [ "$n" = "$WORKERS" ]; then
				F_READY=$EPOCHREALTIME
				F_FULL=$(f_elapsed "$t0" "$F_FULL")
				F_READY=$(f_elapsed "$t0" "$F_READY")
				return 0
			fi
		fi
		sleep 0.005
	done
	[ -z "$F_FULL" ] || F_FULL=$(f_elapsed "$t0" "$F_FULL")
	return 1
}
f_elapsed() {	# f_elapsed FROM TO: seconds, to the millisecond
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'
}

# f_served_late NAME: answers with 2xx in the last second of run NAME (a
# daemon that hung after the fault has none).
f_served_late() {
	local end
	end=$(tail -n 1 "$H_DIR/load-$1.buckets" | cut -d' ' -f1)
	load_ok_between "$1" "$(awk -v e="$end" 'BEGIN { printf "%.3f", e - 0.9 }')" \
		"$(awk -v e="$end" 'BEGIN { printf "%.3f", e + 0.1 }')"
}

# f_common NAME: what every run must show: real load, and 200s until the
# end (after the fault).
f_common() {
	local name=$1 late
	diag "$(load_summary "$name")"
	ok "$name: wrk made more than 1000 requests ($(load_get "$name" issued))" \
		test "$(load_get "$name" issued)" -gt 1000
	late=$(f_served_late "$name")
	ok "$name: requests were still answered 200 in the last second of the run ($late)" \
		test "$late" -gt 100
}

# f_dropped_diag NAME: the failures of run NAME, and how many requests
# lighttpd reports it handed to the daemon and got no answer for (those a
# killed worker held) since error_mark.
f_dropped_diag() {
	diag "$1: lighttpd saw $(f_log_from "$error_mark" "$H_DIR/lighttpd-error.log" |
		grep -c 'response not received') requests dropped by the daemon" \
		"$(grep -v ' 2[0-9][0-9] ' "$H_DIR/load-$1.events" | head -n 8)"
}

# Each run lasts until a set time after its fault is over (load_stop), so
# that a slow machine makes it longer rather than the fault miss it.

# --- kill -9 one worker mid-load --------------------------------------------
# A worker serves one request at a time, so killing one can fail at most
# the one request it held (wrk counts a cut connection and one never
# answered as failed too); the others wait in the socket's backlog, which
# the master keeps open, until a worker accepts them.  A worker that dies within 2 s of its start is restarted after a delay
# (crash-loop backoff): the workers killed here are older than that.
f_workers_older() {	# f_workers_older SECONDS
	local w
	for w in $(h_children "$master"); do
		[ "$(ps -o etimes= -p "$w" | tr -d ' ')" -ge "$1" ] || return 1
	done
}
h_wait_for 5 f_workers_older 3 || bail "the workers do not get older"
old=$(h_children "$master")
victim=$(head -n 1 <<<"$old")
error_mark=$(f_size "$H_DIR/lighttpd-error.log")
load_start kill1 30 "$CONNS" "$token"
load_wait_started kill1 || bail "wrk got no answer"
sleep 1
t0=$EPOCHREALTIME
kill -KILL "$victim"
f_pool_back "$t0" "$victim"
full1=$F_FULL ready1=$F_READY
load_stop kill1 1.5
load_wait kill1 || bail "wrk failed"
f_common kill1
failed=$(load_failed kill1)
ok "kill -9 one worker: at most 1 failed request (failed: $failed of $(load_get kill1 issued))" \
	test "$failed" -le 1
f_dropped_diag kill1
is "$(load_get kill1 daemon_errors)" 0 "kill -9 one worker: no error answer came from the daemon"
diag "kill -9 one worker: pool full size after ${full1:-(never)} s, new worker ready after ${ready1:-(never)} s"
ok "kill -9 one worker: the pool is back to $WORKERS workers within 1 s (${full1:-never})" \
	h_lt "${full1:-99}" 1.0
ok "kill -9 one worker: the new worker is ready (database connected) within 2 s (${ready1:-never})" \
	h_lt "${ready1:-99}" 2.0
ok "kill -9 one worker: the master is alive" kill -0 "$master"

# --- kill -9 every worker mid-load ------------------------------------------
h_wait_for 5 f_workers_older 3 || bail "the workers do not get older"
old=$(h_children "$master")
error_mark=$(f_size "$H_DIR/lighttpd-error.log")
load_start killall 30 "$CONNS" "$token"
load_wait_started killall || bail "wrk got no answer"
sleep 1
t0=$EPOCHREALTIME
# shellcheck disable=SC2086
kill -KILL $old
# shellcheck disable=SC2086
f_pool_back "$t0" $old
fullall=$F_FULL readyall=$F_READY
load_stop killall 1.5
load_wait killall || bail "wrk failed"
f_common killall
failed=$(load_failed killall)
ok "kill -9 all $WORKERS workers: at most $WORKERS failed requests (failed: $failed of $(load_get killall issued))" \
	test "$failed" -le "$WORKERS"
f_dropped_diag killall
is "$(load_get killall daemon_errors)" 0 "kill -9 all workers: no error answer came from the daemon"
diag "kill -9 all workers: pool full size after ${fullall:-(never)} s, all new workers ready after ${readyall:-(never)} s"
ok "kill -9 all workers: the pool is back to $WORKERS workers within 1 s (${fullall:-never})" \
	h_lt "${fullall:-99}" 1.0
ok "kill -9 all workers: the new workers are ready within 2 s (${readyall:-never})" \
	h_lt "${readyall:-99}" 2.0
ok "kill -9 all workers: the master is alive" kill -0 "$master"

# --- SIGHUP with a valid configuration mid-load -----------------------------
# Two reloads (4 -> 3 -> 4 workers): each replaces the whole pool while
# the old workers finish what they hold.
f_replaced() {	# f_replaced N OLD...: N live workers, none of OLD
	local n=$1 now
	shift
	now=$(h_children "$master")
	[ "$(grep -c . <<<"$now")" = "$n" ] && ! grep -qxF -f <(printf '%s\n' "$@") <<<"$now"
}
old=$(h_children "$master")
mark=$(f_size "$H_DIR/mdauthd.log")
load_start hup 30 "$CONNS" "$token"
load_wait_started hup || bail "wrk got no answer"
sleep 1
stack_mdauthd_config "${BASE_CONF[@]}" workers=3 || bail "cannot rewrite the configuration"
kill -HUP "$master"
# shellcheck disable=SC2086
h_wait_for 5 f_replaced 3 $old
gen2=$(h_children "$master")
sleep 1
stack_mdauthd_config "${BASE_CONF[@]}" "workers=$WORKERS" || bail "cannot rewrite the configuration"
kill -HUP "$master"
# shellcheck disable=SC2086
h_wait_for 5 f_replaced "$WORKERS" $gen2
load_stop hup 1.5
load_wait hup || bail "wrk failed"
f_common hup
is "$(load_failed hup)" 0 "SIGHUP (valid) x2 mid-load: no failed request (of $(load_get hup issued))"
is "$(load_get hup lost)" 0 "SIGHUP (valid) x2 mid-load: no connection cut"
ok "SIGHUP (valid): both reloads logged (3 workers, then $WORKERS)" \
	sh -c "tail -c +$((mark + 1)) '$H_DIR/mdauthd.log' | grep -q 'configuration reloaded, 3 workers' &&
		tail -c +$((mark + 1)) '$H_DIR/mdauthd.log' | grep -q 'configuration reloaded, $WORKERS workers'"
# shellcheck disable=SC2086
ok "SIGHUP (valid): $WORKERS workers run, none of the first or second generation" \
	f_replaced "$WORKERS" $old $gen2

# --- SIGHUP with an invalid configuration mid-load --------------------------
old=$(h_children "$master")
mark=$(f_size "$H_DIR/mdauthd.log")
load_start badhup 30 "$CONNS" "$token"
load_wait_started badhup || bail "wrk got no answer"
sleep 1
stack_mdauthd_config "${BASE_CONF[@]}" "workers=$WORKERS" workers_typo=2 ||
	bail "cannot rewrite the configuration"
line=$(grep -n '^workers_typo = ' "$STACK_MDAUTHD_CONF" | cut -d: -f1)
kill -HUP "$master"
f_bad_logged() {
	f_log_from "$mark" "$H_DIR/mdauthd.log" |
		grep -qE "error: .*$STACK_MDAUTHD_CONF:$line: .*workers_typo"
}
h_wait_for 3 f_bad_logged
load_stop badhup 1.5
load_wait badhup || bail "wrk failed"
f_common badhup
is "$(load_failed badhup)" 0 "SIGHUP (invalid) mid-load: no failed request (of $(load_get badhup issued))"
ok "SIGHUP (invalid): the error is logged with the file and line $line" f_bad_logged
is "$(h_children "$master")" "$old" "SIGHUP (invalid): the same workers keep serving"
stack_mdauthd_config "${BASE_CONF[@]}" "workers=$WORKERS" || bail "cannot rewrite the configuration"

# --- PostgreSQL stopped mid-load, then started ------------------------------
# Stopped (fast shutdown, so connections are cut) for about 2 s.
old=$(h_children "$master")
load_start db 30 "$CONNS" "$token"
load_wait_started db || bail "wrk got no answer"
sleep 1.5
t_stop=$(h_now)
stack_pg_stop || bail "cannot stop PostgreSQL"
t_stopped=$(h_now)
sleep 0.5
login alice 'correct horse battery staple'
login_status=$STATUS login_retry=$(header Retry-After)
sleep 1.5
t_start=$(h_now)
stack_pg_start || bail "cannot start PostgreSQL again"
t_up=$(h_now)
t_ready=$(load_pg_ready "$H_DIR/postgresql.log" "$t_start")
load_stop db 2
load_wait db || bail "wrk failed"
f_common db
n503=$(load_get db status_503)
failed=$(load_failed db)
diag "PostgreSQL stopped at +0 (pg_ctl stop took $(f_elapsed "$t_stop" "$t_stopped") s), start began at +$(f_elapsed "$t_stop" "$t_start") s, ready (its log) at +$(f_elapsed "$t_stop" "$t_ready") s, pg_ctl start returned at +$(f_elapsed "$t_stop" "$t_up") s"
ok "database outage: requests got 503 during the outage ($n503)" test "$n503" -gt 0
is "$failed" "$n503" "database outage: every failed request is a 503 (statuses: $(load_statuses db))"
is "$(load_get db status_500)" 0 "database outage: no 500"
is "$(load_get db no_retry_after)" 0 "database outage: every 503 has Retry-After"
is "$(load_get db proxy_errors)" 0 "database outage: every 503 came from the daemon (its JSON error)"
is "$(($(load_get db lost) + $(load_get db stuck)))" 0 "database outage: no connection cut, none left without an answer"
max_ms=$(load_get db max_ms)
ok "database outage: no request took longer than db_timeout + 0.5 s (max ${max_ms} ms)" \
	h_lt "$max_ms" $((DB_TIMEOUT * 1000 + 500))
ok "database outage: no 503 before PostgreSQL was stopped" \
	h_lt "$t_stop" "$(load_first_failure db)"
# Recovery: from the moment PostgreSQL logged that it accepts connections
# to the first 200 and to the last 503 of the run.
[ -n "$t_ready" ] || t_ready=$t_up
recovery=$(f_elapsed "$t_ready" "$(load_last_failure db)")
first_ok=$(f_elapsed "$t_ready" "$(load_first_ok_after db "$t_stop")")
diag "database outage: relative to PostgreSQL being ready: first 200 at $first_ok s, last 503 at $recovery s"
# "About a second" (see failover.sh): DB_RETRY_INTERVAL plus half a second.
ok "database outage: no 503 later than 1.5 s after PostgreSQL returned ($recovery s)" \
	h_lt "$recovery" 1.5
is "$login_status" 503 "database outage: a login during the outage answers 503"
like "$login_retry" '^[1-9][0-9]*$' "database outage: ... with Retry-After ($login_retry)"
is "$(h_children "$master")" "$old" "database outage: no worker died (no restart of mdauthd)"
login alice 'correct horse battery staple'
is "$STATUS" 200 "database outage: a login after PostgreSQL returned answers 200"
req_bearer GET /validate "$TOKEN"
is "$STATUS" 200 "database outage: ... and its token validates"

# --- SIGTERM mid-load with slow requests in flight --------------------------
# Two validates are made slow through lighttpd, end to end: their sessions
# are due for the touch (last_used_at an hour ago) and a transaction holds
# their rows locked, so the validate's UPDATE waits in the worker.  The
# lock is released 1.5 s after SIGTERM: those requests must then be
# answered 200 in full, and the master must exit 0 once they are.
# Requests that reach lighttpd once the daemon has stopped listening get
# lighttpd's own 503 (the socket refuses them); none may get the daemon's
# error or a cut connection, and none that reached the daemon's socket may
# be dropped.
# The held requests must stay far from db_timeout (the server's
# statement_timeout), however slow this machine is: a reload gives the
# workers a longer one first.
old=$(h_children "$master")
stack_mdauthd_config "${BASE_CONF[@]}" "workers=$WORKERS" db_timeout=20 ||
	bail "cannot rewrite the configuration"
kill -HUP "$master"
# shellcheck disable=SC2086
h_wait_for 5 f_replaced "$WORKERS" $old || bail "the reload with db_timeout = 20 did not happen"
h_login_ok bob 'bob battery horse staple' slow-1
slow1=$TOKEN sid1=$SESSION_ID
h_login_ok bob 'bob battery horse staple' slow-2
slow2=$TOKEN sid2=$SESSION_ID
sql "UPDATE mdauth.sessions SET last_used_at = now() - interval '1 hour'
	WHERE id IN (:'a', :'b')" a="$sid1" b="$sid2" >/dev/null || bail "cannot age the sessions"
h_lock_rows 2 "SELECT 'locked' FROM mdauth.sessions WHERE id IN ('$sid1', '$sid2') FOR UPDATE"

daemon_mark=$(f_size "$H_DIR/mdauthd.log")
error_mark=$(f_size "$H_DIR/lighttpd-error.log")
load_start term 30 "$CONNS" "$token"
load_wait_started term || bail "wrk got no answer"
slow_pids=()
for t in "$slow1" "$slow2"; do
	h_bg "slow${#slow_pids[@]}" /validate -H "Authorization: Bearer $t"
	slow_pids+=("$H_BG_PID")
done
ok "SIGTERM: two slow validates are in flight in workers (waiting for the row lock)" \
	h_wait_for 5 h_lock_waiters 2
workers=$(h_children "$master")
# The connections waiting in the daemon's listening socket (Recv-Q of a
# listening socket is its backlog), for the diagnostics.
backlog=$(ss -xlH src "$STACK_MDAUTHD_SOCKET" 2>/dev/null | awk '{ print $3; exit }')
t_term=$(h_now)
kill -TERM "$master"
sleep 1.5
ok "SIGTERM: 1.5 s later the master still waits for the requests in flight" kill -0 "$master"
h_unlock_rows
h_wait_for 12 stack_proc_gone "$master"
t_exit=$(h_now)
stop_time=$(f_elapsed "$t_term" "$t_exit")
for n in 0 1; do
	wait "${slow_pids[$n]}"
	status=$(cat "$H_DIR/slow$n.status")
	body=$(cat "$H_DIR/slow$n.body")
	want=$([ "$n" = 0 ] && echo "$sid1" || echo "$sid2")
	is "$status" 200 "SIGTERM: slow validate $((n + 1)), in flight at SIGTERM, is answered 200"
	is "$(jq -r '.username + " " + .session_id' <<<"$body" 2>/dev/null)" "bob $want" \
		"SIGTERM: slow validate $((n + 1)) has its whole body"
done
load_stop term 1
load_wait term || bail "wrk failed"
diag "$(load_summary term)"
diag "SIGTERM: the master exited $stop_time s after SIGTERM; ${backlog:-?} connections were waiting in its socket's backlog at SIGTERM"
stack_mdauthd_stop
is "$STACK_MDAUTHD_EXIT_STATUS" 0 "SIGTERM: the master exits with status 0"
ok "SIGTERM: ... within shutdown_timeout (10 s; took $stop_time s)" h_lt "$stop_time" 10
ok "SIGTERM: no worker had to be killed at shutdown_timeout" \
	sh -c "! grep -q 'shutdown_timeout reached' '$H_DIR/mdauthd.log'"
# shellcheck disable=SC2086
is "$(h_alive $workers)" "" "SIGTERM: no worker outlives the master"
is "$(load_get term lost)" 0 "SIGTERM: no client connection was cut"
is "$(load_get term daemon_errors)" 0 "SIGTERM: no request answered by a worker got an error"
# What the workers answered is what the clients got: every validate the
# daemon logged since the phase began is a 200, and wrk (plus the two slow
# curls) received as many.
daemon_200=$(f_log_from "$daemon_mark" "$H_DIR/mdauthd.log" | grep -c ': info: GET /validate 200 ')
daemon_other=$(f_log_from "$daemon_mark" "$H_DIR/mdauthd.log" | grep ': info: GET /validate ' |
	grep -vc ': info: GET /validate 200 ')
wrk_200=$(load_get term status_200)
is "$daemon_other" 0 "SIGTERM: the daemon answered no validate with anything but 200"
is "$((wrk_200 + 2))" "$daemon_200" "SIGTERM: the clients received every 200 the daemon sent ($daemon_200)"
first_bad=$(load_first_failure term)
ok "SIGTERM: wrk's failures (lighttpd's $(load_get term proxy_errors)) all came after SIGTERM" \
	h_lt "$t_term" "${first_bad:-$t_exit}"
# lighttpd logs "response not received, request sent" for a request it
# handed to the daemon that closed the connection without answering: a
# request dropped from a worker or from the socket's backlog.  Those that
# came after the daemon stopped listening are refused at connect instead.
dropped=$(f_log_from "$error_mark" "$H_DIR/lighttpd-error.log" | grep -c 'response not received')
is "$dropped" 0 "SIGTERM: no request that reached the daemon's socket was dropped (lighttpd: 'response not received')"
[ "$dropped" = 0 ] || diag "the failures: $(grep -v ' 2[0-9][0-9] ' "$H_DIR/load-term.events" | head -n 10)"

done_testing

#!/bin/bash
# Failover under load: mdauthd's database is a multi-host conninfo (the
# primary, then a streaming standby) with target_session_attrs=read-write.
# The primary is stopped mid-load and the standby promoted: in between,
# requests get 503 with Retry-After (never 500, never slowly); then
# validates resume and logins work again through the same conninfo,
# without restarting mdauthd.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/load.sh"
. "$(dirname "$0")/standby.sh"
load_need_wrk

WORKERS=2
CONNS=4
DB_TIMEOUT=2

h_setup workers=$WORKERS db_timeout=$DB_TIMEOUT
h_user_add alice 'correct horse battery staple'
h_on_teardown standby_stop
standby_start || bail "cannot make the standby"
multi="host=$STACK_PG_SOCKDIR,$STANDBY_SOCKDIR port=5432,$STANDBY_PORT dbname=mdauth user=mdauth target_session_attrs=read-write"
h_restart_mdauthd workers=$WORKERS db_timeout=$DB_TIMEOUT "database=$multi"
master=$STACK_MDAUTHD_PID
h_wait_for 5 h_has_children "$master" $WORKERS || bail "expected $WORKERS workers"

# f_daemon_conns N PSQL: the daemon has N connections to that server.
f_daemon_conns() {
	local n=$1
	shift
	[ "$("$@" -c "SELECT count(*) FROM pg_stat_activity
		WHERE application_name = 'mdauthd'")" = "$n" ]
}
f_elapsed() {	# f_elapsed FROM TO: seconds, to the millisecond
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'
}

h_login_ok alice 'correct horse battery staple'
token=$TOKEN sid=$SESSION_ID
req_bearer GET /validate "$token"
is "$STATUS" 200 "before failover: a token validates"
ok "before failover: every worker is connected to the primary" \
	h_wait_for 3 f_daemon_conns $WORKERS stack_psql
ok "before failover: none to the standby (it is read-only)" f_daemon_conns 0 standby_psql
ok "before failover: the standby has replayed everything" h_wait_for 5 standby_caught_up
is "$(standby_psql -v id="$sid" <<<"SELECT count(*) FROM mdauth.sessions WHERE id = :'id'")" 1 \
	"before failover: the session is on the standby"

# --- failover mid-load ------------------------------------------------------
workers=$(h_children "$master")
load_start fo 30 "$CONNS" "$token"
load_wait_started fo || bail "wrk got no answer"
sleep 1
t_stop=$(h_now)
stack_pg_stop || bail "cannot stop the primary"
sleep 0.5
login alice 'correct horse battery staple'
outage_status=$STATUS outage_retry=$(header Retry-After)
sleep 0.5
t_promote=$(h_now)
standby_promote || bail "cannot promote the standby"
t_promoted=$(h_now)
t_ready=$(load_pg_ready "$STACK_DIR/standby.log" "$t_promote")
[ -n "$t_ready" ] || t_ready=$t_promoted
# Logins until one succeeds: the first write after the failover.  The
# time that counts is when the successful attempt was sent (the attempt
# itself also waits for the busy machine: curl, TLS, lighttpd).
login_status='' attempts=0
for _ in $(seq 50); do
	t_login=$(h_now)
	login alice 'correct horse battery staple'
	login_status=$STATUS attempts=$((attempts + 1))
	[ "$STATUS" = 200 ] && break
	sleep 0.1
done
login_took=$(h_elapsed "$t_login")
new_token=$TOKEN new_sid=$SESSION_ID
load_stop fo 2
load_wait fo || bail "wrk failed"
diag "$(load_summary fo)"

n503=$(load_get fo status_503)
ok "failover: validates got 503 while no primary was up ($n503)" test "$n503" -gt 0
is "$(load_failed fo)" "$n503" "failover: every failed validate is a 503 (statuses: $(load_statuses fo))"
is "$(load_get fo status_500)" 0 "failover: no 500"
is "$(load_get fo no_retry_after)" 0 "failover: every 503 has Retry-After"
is "$(load_get fo proxy_errors)" 0 "failover: every 503 came from the daemon"
is "$(($(load_get fo lost) + $(load_get fo stuck)))" 0 "failover: no connection cut, none left without an answer"
max_ms=$(load_get fo max_ms)
ok "failover: no request took longer than db_timeout + 0.5 s (max $max_ms ms)" \
	h_lt "$max_ms" $((DB_TIMEOUT * 1000 + 500))
ok "failover: no 503 before the primary was stopped" h_lt "$t_stop" "$(load_first_failure fo)"
# Recovery: from the moment the promoted standby logged that it accepts
# (read-write) connections to the first 200 and the last 503.
recovery=$(f_elapsed "$t_ready" "$(load_last_failure fo)")
first_ok=$(f_elapsed "$t_ready" "$(load_first_ok_after fo "$t_stop")")
diag "primary stopped at +0; promote began at +$(f_elapsed "$t_stop" "$t_promote") s, standby read-write at +$(f_elapsed "$t_stop" "$t_ready") s, pg_ctl promote returned at +$(f_elapsed "$t_stop" "$t_promoted") s" \
	"failover: relative to the standby accepting writes: first 200 at $first_ok s, last 503 at $recovery s" \
	"failover: first successful login: attempt $attempts, sent $(f_elapsed "$t_promoted" "$t_login") s after pg_ctl promote returned, took $login_took s"
# "About a second": a worker whose connect failed slowly just before the
# promotion waits DB_RETRY_INTERVAL (1 s, app/db.c) before it tries again,
# so the bound is that second plus half a second for a loaded machine.
ok "failover: validates resume within 1.5 s of the promotion (last 503 at $recovery s)" \
	h_lt "$recovery" 1.5
late=$(load_ok_between fo "$(awk -v t="$t_promoted" 'BEGIN { printf "%.3f", t + 1 }')" 9999999999)
ok "failover: validates answered 200 after the promotion ($late)" test "$late" -gt 100

is "$outage_status" 503 "failover: a login with no primary answers 503"
like "$outage_retry" '^[1-9][0-9]*$' "failover: ... with Retry-After ($outage_retry)"
is "$login_status" 200 "failover: a login after the promotion answers 200"
ok "failover: ... when sent within 1.5 s of the promotion (attempt $attempts, at $(f_elapsed "$t_promoted" "$t_login") s)" \
	h_lt "$(f_elapsed "$t_promoted" "$t_login")" 1.5
# Plus the login's argon2id hash and its statements, which take seconds
# under the sanitizers or on a busy machine: what this rules out is a
# login left hanging on the old primary.
ok "failover: ... and answered within db_timeout + 3 s ($login_took s)" \
	h_lt "$login_took" $((DB_TIMEOUT + 3))
req_bearer GET /validate "$new_token"
is "$STATUS" 200 "failover: the token of that login validates"
is "$(json session_id)" "$new_sid" "failover: ... as its own session"
req_bearer GET /validate "$token"
is "$STATUS" 200 "failover: the token issued before the failover still validates"
is "$(standby_psql -v id="$new_sid" <<<"SELECT count(*) FROM mdauth.sessions WHERE id = :'id'")" 1 \
	"failover: the new session was written to the promoted standby"
ok "failover: every worker is now connected to the promoted standby" \
	h_wait_for 3 f_daemon_conns $WORKERS standby_psql
# The log: why each host was refused (the stopped primary, the standby
# while it was read-only), a few lines per worker rather than one per
# request, and which host each worker is back on.
log=$H_DIR/mdauthd.log
like "$(grep 'error: db: connect:' "$log" | head -n 1)" \
	"$STANDBY_SOCKDIR/.s.PGSQL.$STANDBY_PORT\" failed: session is read-only" \
	"failover: the connect error names the standby and why it was refused (read-only)"
n=$(grep -c 'error: db: connect:' "$log")
ok "failover: at most 2 connect errors per worker in the log, not one per request ($n for $WORKERS workers)" \
	test "$n" -le $((2 * WORKERS))
n=$(grep -c "info: db: connected to mdauth as mdauth on $STANDBY_SOCKDIR, after [0-9]* failed attempts" "$log")
is "$n" "$WORKERS" "failover: each worker logs that it is back, on the standby, and after how many failures"
is "$(h_children "$master")" "$workers" "failover: the same workers serve (no restart, no crash)"
ok "failover: the master is alive" kill -0 "$master"

done_testing

#!/bin/bash
# The command line of mdauthd: -h, -V, bad usage, -t on good and bad
# files, and -d: the command returns once the daemon serves, the pid file
# names the master, and SIGTERM ends it and removes what it created.  A
# start-up failure after the fork must still reach the caller, and so
# must a database that cannot be reached.
. "$(dirname "$0")/lib.sh"

h_setup_db

# run [ARGS...]: mdauthd ARGS with stdin /dev/null; sets RC, OUT, ERR.
run() {
	timeout 10 "$MDAUTHD" "$@" </dev/null >"$H_DIR/run.out" 2>"$H_DIR/run.err"
	RC=$?
	OUT=$(cat "$H_DIR/run.out")
	ERR=$(cat "$H_DIR/run.err")
}

# --- -h, -V, bad usage -------------------------------------------------------
run -h
is "$RC" 0 "mdauthd -h exits 0"
like "$OUT" '^usage: mdauthd ' "mdauthd -h prints the usage on stdout"
like "$OUT" '-c file' "mdauthd -h lists -c"

run -V
is "$RC" 0 "mdauthd -V exits 0"
like "$OUT" '^mdauthd [0-9]+\.[0-9]+' "mdauthd -V prints the version"

run -x
is "$RC" 2 "an unknown option exits 2"
like "$ERR" 'usage: mdauthd ' "an unknown option prints the usage on stderr"
is "$OUT" '' "an unknown option prints nothing on stdout"

run -c "$H_DIR/mdauthd.conf" extra
is "$RC" 2 "a stray argument exits 2"

# --- -t ----------------------------------------------------------------------
sock=$H_DIR/t.sock
h_conf t "listen = $sock" "workers = 2"
run -t -c "$H_DIR/t.conf"
is "$RC" 0 "-t on a valid file exits 0"
like "$OUT" 'configuration ok' "-t on a valid file says so"
ok "-t does not open the listen socket" test ! -e "$sock"

# h_conf writes 3 lines of its own first: line 5 is the second given.
h_conf bad "listen = $sock" "workers = 0" "realm = mdauth"
run -t -c "$H_DIR/bad.conf"
isnt "$RC" 0 "-t on a file with workers = 0 exits non-zero"
like "$ERR" "bad\.conf:5: .*workers" "-t on workers = 0 names the file, line 5 and the key"

h_conf bad "listen = $sock" "workers = 2" "no_such_key = 1"
run -t -c "$H_DIR/bad.conf"
isnt "$RC" 0 "-t on a file with an unknown key exits non-zero"
like "$ERR" "bad\.conf:6: .*no_such_key" "-t on an unknown key names the file, line 6 and the key"

h_conf bad "listen = $sock" "workers = 0"
run -c "$H_DIR/bad.conf"
isnt "$RC" 0 "without -t, a bad value stops mdauthd too"
ok "a bad value: no socket was created" test ! -e "$sock"

run -t -c "$H_DIR/missing.conf"
isnt "$RC" 0 "-t on a missing file exits non-zero"
like "$ERR" 'missing\.conf' "-t on a missing file names it"

# --- -d ----------------------------------------------------------------------
sock=$H_DIR/d.sock
pidf=$H_DIR/d.pid
h_conf d "listen = $sock" "pid_file = $pidf" "workers = 2"
start=$(h_now)
run -d -c "$H_DIR/d.conf"
elapsed=$(h_elapsed "$start")
is "$RC" 0 "mdauthd -d exits 0"
ok "mdauthd -d returns at once (${elapsed}s)" h_lt "$elapsed" 2
ok "mdauthd -d writes pid_file" h_wait_for 2 test -s "$pidf"
master=$(cat "$pidf" 2>/dev/null)
[[ $master =~ ^[0-9]+$ ]] && h_track "$master"
like "$master" '^[0-9]+$' "pid_file holds a pid"
is "$(ps -o comm= -p "$master")" mdauthd "pid_file names a running mdauthd"
ok "pid_file names the master: it runs the 2 workers" \
	h_wait_for 3 h_has_children "$master" 2
isnt "$(ps -o sid= -p "$master" | tr -d ' ')" "$(ps -o sid= -p $$ | tr -d ' ')" \
	"the detached master is in a session of its own"
h_null_fds() {
	local fd
	for fd in 0 1 2; do
		[ "$(readlink "/proc/$master/fd/$fd")" = /dev/null ] || return 1
	done
}
ok "the detached master's stdin, stdout and stderr are /dev/null" h_null_fds
h_wait_for 3 test -S "$sock"
is "$(h_health_at "$sock")" 200 "the detached daemon answers on its socket"

workers=$(h_children "$master")
kill -TERM "$master"
ok "SIGTERM to the pid in pid_file stops the daemon" h_wait_for 15 stack_proc_gone "$master"
h_workers_gone() {
	local w
	for w in $workers; do
		stack_proc_gone "$w" || return 1
	done
}
ok "SIGTERM: no worker outlives the detached master" h_wait_for 2 h_workers_gone
ok "SIGTERM removes pid_file" test ! -e "$pidf"
ok "SIGTERM removes the socket" test ! -e "$sock"

# -d with the socket on fd 0 (spawn-fcgi -n execs mdauthd, which detaches).
if command -v spawn-fcgi >/dev/null 2>&1; then
	h_conf d0 "pid_file = $pidf" "workers = 1"
	spawn-fcgi -s "$sock" -n -- "$MDAUTHD" -d -c "$H_DIR/d0.conf" \
		</dev/null >>"$H_DIR/mdauthd-d0.log" 2>&1
	is "$?" 0 "mdauthd -d with the socket on fd 0 exits 0"
	h_wait_for 2 test -s "$pidf"
	master=$(cat "$pidf" 2>/dev/null)
	[[ $master =~ ^[0-9]+$ ]] && h_track "$master"
	is "$(h_health_at "$sock")" 200 "mdauthd -d keeps the socket inherited on fd 0 and answers on it"
	[[ $master =~ ^[0-9]+$ ]] && h_stop_master "$master"
	rm -f "$sock"
else
	skip "mdauthd -d keeps the socket inherited on fd 0" "spawn-fcgi not installed"
fi

# --- -d when the database cannot be reached ---------------------------------
# -d returns once a worker is connected to the database; when none can
# be, the command says why and exits non-zero within about db_timeout,
# and leaves nothing running.  (In the foreground the daemon serves 503
# until the database is back: health.sh.)
# h_dbdown_check NAME HOW: the checks after "run -d -c $H_DIR/NAME.conf".
h_dbdown_check() {
	local name=$1 how=$2 left
	isnt "$RC" 0 "mdauthd -d exits non-zero when $how"
	ok "... within db_timeout (2 s) and a margin (${elapsed}s)" h_lt "$elapsed" 7
	like "$ERR" 'cannot serve: no worker could connect to the database' \
		"... and says on stderr that it cannot serve"
	left=$(pgrep -f -x "$MDAUTHD -d -c $H_DIR/$name.conf")
	is "$left" "" "... and no mdauthd process is left when it returns"
	for p in $left; do h_track "$p"; done
	ok "... nor its pid_file" test ! -e "$pidf"
	ok "... nor its socket" test ! -e "$sock"
}

h_conf dbdown "listen = $sock" "pid_file = $pidf" "workers = 2" "db_timeout = 2" \
	"database = host=$H_DIR/no-postgresql-here dbname=mdauth user=mdauthd"
start=$(h_now)
run -d -c "$H_DIR/dbdown.conf"
elapsed=$(h_elapsed "$start")
h_dbdown_check dbdown "nothing listens on the database's socket"
like "$ERR" "no-postgresql-here/\.s\.PGSQL" "... and passes on libpq's reason, which names the socket"

# SIGSTOP freezes PostgreSQL with its sockets open: a connect neither
# fails nor finishes until connect_timeout (db_timeout).
postmaster=$(head -n 1 "$STACK_PG_DATA/postmaster.pid")
read -r -a frozen <<<"$postmaster $(pgrep -P "$postmaster" | tr '\n' ' ')"
h_on_teardown "kill -CONT ${frozen[*]} 2>/dev/null"
h_conf dbhung "listen = $sock" "pid_file = $pidf" "workers = 2" "db_timeout = 2"
kill -STOP "${frozen[@]}"
start=$(h_now)
run -d -c "$H_DIR/dbhung.conf"
elapsed=$(h_elapsed "$start")
kill -CONT "${frozen[@]}"
h_dbdown_check dbhung "the database does not answer"
like "$ERR" 'timeout' "... and says the connection timed out"

# The same file, once the database answers: served as soon as -d returns.
start=$(h_now)
run -d -c "$H_DIR/dbhung.conf"
elapsed=$(h_elapsed "$start")
master=$(cat "$pidf" 2>/dev/null)
[[ $master =~ ^[0-9]+$ ]] && h_track "$master"
is "$RC:$ERR" 0: "mdauthd -d exits 0, silently, once the database answers (${elapsed}s)"
is "$(h_health_at "$sock")" 200 "... and the daemon serves (health 200) as soon as it has returned"
[[ $master =~ ^[0-9]+$ ]] && h_stop_master "$master"

# A failure after the fork must not be reported as success: the caller
# (an init script, systemd Type=forking) would believe the service runs.
h_conf d "listen = $sock" "pid_file = $H_DIR/no-such-dir/d.pid" "workers = 1"
run -d -c "$H_DIR/d.conf"
isnt "$RC" 0 "mdauthd -d with a pid_file in a missing directory exits non-zero"

port=$(stack_free_port) || bail "no free TCP port"
h_conf d "listen = 127.0.0.1:$port" "user = no-such-user" "workers = 1"
run -d -c "$H_DIR/d.conf"
isnt "$RC" 0 "mdauthd -d with user = no-such-user exits non-zero"

# Whatever those two left running (nothing, if they failed) is stopped.
for p in $(pgrep -f -x "$MDAUTHD -d -c $H_DIR/d.conf"); do
	h_track "$p"
done

done_testing

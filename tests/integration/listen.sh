#!/bin/bash
# Where mdauthd takes its FastCGI connections: `listen = host:port`, a
# Unix socket (its mode, a stale socket replaced, any other file refused),
# or, with listen unset, the socket inherited on fd 0 from spawn-fcgi or
# from lighttpd's bin-path; and
# a clear refusal when listen is unset and fd 0 is not a socket.
. "$(dirname "$0")/lib.sh"

command -v spawn-fcgi >/dev/null 2>&1 || skip_all "spawn-fcgi not installed"
h_setup_db

# h_stopped_ok NAME: SIGTERM to H_PID ends it with status 0.
h_stopped_ok() {
	h_stop_master "$H_PID"
	is "$H_MASTER_EXIT_STATUS" 0 "$1: SIGTERM stops the daemon with status 0"
}

# --- listen = 127.0.0.1:PORT -----------------------------------------------
# Another process may take the free port before the daemon binds it: try
# three ports.
for _ in 1 2 3; do
	port=$(stack_free_port) || bail "no free TCP port"
	h_conf tcp "listen = 127.0.0.1:$port" "workers = 2"
	h_start tcp
	h_wait_for 5 stack_port_listening "$port" && break
	h_stop_master "$H_PID"
done
ok "listen = 127.0.0.1:PORT: the daemon listens on that TCP port" \
	h_wait_for 1 stack_port_listening "$port"
is "$(h_health_at "127.0.0.1:$port")" 200 \
	"listen = 127.0.0.1:PORT: GET /health over TCP answers Status: 200"
like "$(fcgi_raw_body)" '"status": ?"ok"' "listen = 127.0.0.1:PORT: the /health body says ok"
h_stopped_ok "listen = 127.0.0.1:PORT"
h_port_free() { ! stack_port_listening "$port"; }
ok "listen = 127.0.0.1:PORT: nothing listens on the port after SIGTERM" h_port_free

# --- listen unset: the socket on fd 0 --------------------------------------
h_conf inherit "workers = 2"
sock=$H_DIR/spawned.sock
setsid spawn-fcgi -s "$sock" -M 0600 -n -- "$MDAUTHD" -c "$H_DIR/inherit.conf" \
	</dev/null >>"$H_DIR/mdauthd-inherit.log" 2>&1 &
H_PID=$!
h_track "$H_PID"
h_wait_for 5 test -S "$sock" || bail "spawn-fcgi did not create $sock"
is "$(h_health_at "$sock")" 200 \
	"listen unset, spawn-fcgi -s: GET /health through the socket on fd 0 answers 200"
is "$(ps -o comm= -p "$H_PID")" mdauthd "spawn-fcgi -n: the process holding fd 0 is mdauthd itself"
is "$(h_children "$H_PID" | grep -c .)" 2 "listen unset: the master forks its 2 workers on the inherited socket"
h_stopped_ok "listen unset, spawn-fcgi -s"

for _ in 1 2 3; do
	port=$(stack_free_port) || bail "no free TCP port"
	setsid spawn-fcgi -a 127.0.0.1 -p "$port" -n -- "$MDAUTHD" -c "$H_DIR/inherit.conf" \
		</dev/null >>"$H_DIR/mdauthd-inherit.log" 2>&1 &
	H_PID=$!
	h_track "$H_PID"
	h_wait_for 5 stack_port_listening "$port" && break
	h_stop_master "$H_PID"
done
is "$(h_health_at "127.0.0.1:$port")" 200 \
	"listen unset, spawn-fcgi -p: GET /health through the inherited TCP socket answers 200"
h_stopped_ok "listen unset, spawn-fcgi -p"

# --- listen unset: lighttpd bin-path spawns the daemon on fd 0 --------------
# lighttpd makes the socket, starts "bin-path" with it on fd 0 and stops it
# (SIGTERM) when lighttpd itself stops.  The sanitizer settings are passed
# on: lighttpd gives a spawned process a clean environment.
h_conf binpath "workers = 2" "require_tls = no"
mkdir -p "$H_DIR/www"
for _ in 1 2 3; do
	port=$(stack_free_port) || bail "no free TCP port"
	cat >"$H_DIR/binpath-lighttpd.conf" <<EOF2
server.modules = ("mod_fastcgi")
server.document-root = "$H_DIR/www"
server.bind = "127.0.0.1"
server.port = $port
server.errorlog = "$H_DIR/mdauthd-binpath.log"
fastcgi.server = ("/api/auth" => ((
	"socket" => "$H_DIR/binpath.sock",
	"bin-path" => "$MDAUTHD -c $H_DIR/binpath.conf",
	"bin-environment" => (
		"ASAN_OPTIONS" => "${ASAN_OPTIONS:-}",
		"UBSAN_OPTIONS" => "${UBSAN_OPTIONS:-}",
	),
	"max-procs" => 1,
	"check-local" => "disable",
)))
EOF2
	setsid "$(stack_lighttpd_bin)" -D -f "$H_DIR/binpath-lighttpd.conf" \
		</dev/null >>"$H_DIR/mdauthd-binpath.log" 2>&1 &
	lpid=$!
	h_on_teardown "kill $lpid 2>/dev/null"
	h_wait_for 5 stack_port_listening "$port" && break
	kill "$lpid" 2>/dev/null
	wait "$lpid" 2>/dev/null
done
binpath_health() {
	[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
		"http://127.0.0.1:$port/api/auth/health")" = 200 ]
}
ok "listen unset, lighttpd bin-path: GET /api/auth/health through lighttpd answers 200" \
	h_wait_for 10 binpath_health
spawned=$(ps -o pid=,comm= --ppid "$lpid" | awk '$2 == "mdauthd" { print $1 }')
like "$spawned" '^[0-9]+$' "lighttpd bin-path: lighttpd's child is mdauthd itself"
is "$(h_children "$spawned" | grep -c .)" 2 \
	"lighttpd bin-path: the master forks its 2 workers on the socket it was given"
kill -TERM "$lpid"
wait "$lpid"
binpath_gone() { stack_proc_gone "$spawned" && [ -z "$(h_children "$spawned")" ]; }
ok "lighttpd bin-path: when lighttpd stops, the daemon and its workers stop too" \
	h_wait_for 15 binpath_gone

start=$(h_now)
out=$(timeout 10 "$MDAUTHD" -c "$H_DIR/inherit.conf" </dev/null 2>&1)
rc=$?
elapsed=$(h_elapsed "$start")
ok "listen unset and fd 0 /dev/null: mdauthd exits non-zero (status $rc)" \
	test "$rc" -ne 0 -a "$rc" -ne 124
ok "listen unset and fd 0 /dev/null: it exits at once (${elapsed}s)" h_lt "$elapsed" 2
like "$out" 'listen is not set.*standard input is not a[ a-z]* socket' \
	"listen unset and fd 0 /dev/null: the message says listen is unset and stdin is not a socket"

# --- Unix socket: mode, stale socket, another file --------------------------
sock=$H_DIR/unix.sock
h_conf unix "listen = $sock" "workers = 1"
h_start unix
h_wait_for 5 test -S "$sock" || bail "mdauthd did not create $sock"
is "$(stat -c %a "$sock")" 660 "listen = PATH: the socket's mode is 0660 by default"
is "$(h_health_at "$sock")" 200 "listen = PATH: GET /health through the Unix socket answers 200"
h_stopped_ok "listen = PATH"
ok "listen = PATH: SIGTERM removes the socket" test ! -e "$sock"

h_conf unix "listen = $sock" "listen_mode = 0600" "workers = 1"
h_start unix
h_wait_for 5 test -S "$sock" || bail "mdauthd did not create $sock"
is "$(stat -c %a "$sock")" 600 "listen_mode = 0600: the socket's mode is 0600"
is "$(h_health_at "$sock")" 200 "listen_mode = 0600: the daemon answers"

# A daemon killed outright leaves its socket behind.
mapfile -t victims < <(h_children "$H_PID")
kill -KILL "$H_PID" "${victims[@]}"
wait "$H_PID" 2>/dev/null
h_victims_gone() {
	local p
	for p in "${victims[@]}"; do
		stack_proc_gone "$p" || return 1
	done
}
h_wait_for 5 h_victims_gone || bail "the killed daemon's workers did not exit"
[ -S "$sock" ] || bail "SIGKILL did not leave a stale socket at $sock"
h_dead_socket() { [ "$(h_health_at "$sock")" != 200 ]; }
h_dead_socket || bail "the stale socket at $sock still answers"
h_start unix
# The stale socket exists from the start: wait for an answer, not a file.
h_answers() { [ "$(h_health_at "$sock")" = 200 ]; }
ok "a stale socket at the listen path is replaced: the path answers again within 3 s" \
	h_wait_for 3 h_answers
ok "a stale socket at the listen path: the new daemon is still running" kill -0 "$H_PID"
h_stopped_ok "after a stale socket"

printf 'not a socket\n' >"$sock"
start=$(h_now)
out=$(timeout 10 "$MDAUTHD" -c "$H_DIR/unix.conf" </dev/null 2>&1)
rc=$?
elapsed=$(h_elapsed "$start")
ok "a regular file at the listen path: mdauthd exits non-zero (status $rc)" \
	test "$rc" -ne 0 -a "$rc" -ne 124
ok "a regular file at the listen path: it exits at once (${elapsed}s)" h_lt "$elapsed" 2
like "$out" "$sock.*not a socket" "a regular file at the listen path: the message names the path"
is "$(cat "$sock")" 'not a socket' "a regular file at the listen path is left as it was"

done_testing

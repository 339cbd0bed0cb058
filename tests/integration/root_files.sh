#!/bin/bash
# What mdauthd does to files as root, in a directory its user may own
# (systemd's RuntimeDirectory=, /run/mdauth), follows no link put there:
# a symbolic link or a hard link at pid_file makes "mdauthd -d" refuse,
# with a message, and leaves the file it points to alone; the socket is
# born with listen_mode (a umask around bind) and a symbolic link swapped
# in for it between bind and chown is not followed.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || skip_all "the root-time file operations need root"
id nobody >/dev/null 2>&1 || skip_all "no user nobody"
getent group nogroup >/dev/null 2>&1 || skip_all "no group nogroup"
h_setup_db

run_dir=$H_DIR/run
mkdir -m 0755 "$run_dir"
chown nobody:nogroup "$run_dir"
# A root-owned file the daemon's user must not be able to have written.
victim=$H_DIR/victim
printf 'precious\n' >"$victim"
chmod 0600 "$victim"
victim_state() {
	stat -c '%U:%G %a %s' "$victim"
	cat "$victim"
}
victim_before=$(victim_state)

# start_d NAME: mdauthd -d -c $H_DIR/NAME.conf; sets RC and ERR.
start_d() {
	ERR=$(timeout 30 "$MDAUTHD" -d -c "$H_DIR/$1.conf" </dev/null 2>&1 >/dev/null)
	RC=$?
}
# stop_pidfile_daemon NAME: stop a daemon started from NAME.conf that
# did start (the code before the fix did).
stop_d() {
	local pid
	for pid in $(pgrep -f -x "$MDAUTHD -d -c $H_DIR/$1.conf"); do
		h_stop_master "$pid"
	done
}

# --- pid_file -----------------------------------------------------------------
sock=$run_dir/mdauthd.sock
pidf=$run_dir/mdauthd.pid

ln -s "$victim" "$pidf"
h_conf pidlink "listen = $sock" "pid_file = $pidf" "workers = 1"
start_d pidlink
stop_d pidlink
ok "pid_file is a symbolic link: mdauthd -d exits non-zero (status $RC)" \
	test "$RC" -ne 0 -a "$RC" -ne 124
like "$ERR" 'pid_file .* is a symbolic link' \
	"pid_file is a symbolic link: the starting command says so"
is "$(victim_state)" "$victim_before" \
	"pid_file is a symbolic link: the file it points to is unchanged"
ok "pid_file is a symbolic link: the link is left in place" test -L "$pidf"
rm -f "$pidf" "$sock"

ln "$victim" "$pidf"
start_d pidlink
stop_d pidlink
ok "pid_file is a hard link: mdauthd -d exits non-zero (status $RC)" \
	test "$RC" -ne 0 -a "$RC" -ne 124
like "$ERR" 'pid_file .* not a regular file with a single name' \
	"pid_file is a hard link: the starting command says so"
is "$(victim_state)" "$victim_before" \
	"pid_file is a hard link: the other name's file is unchanged"
rm -f "$pidf" "$sock"

# A stale pid file (longer than the new pid) is replaced, not overwritten.
printf '99999999999999\nstale\n' >"$pidf"
start_d pidlink
is "$RC" 0 "a stale regular pid_file: mdauthd -d starts"
master=$(cat "$pidf" 2>/dev/null)
like "$master" '^[0-9]+$' "a stale regular pid_file: it now holds one pid, nothing else" 
is "$(grep -c . "$pidf")" 1 "a stale regular pid_file: one line"
[ -n "$master" ] && h_stop_master "$master"
stop_d pidlink
rm -f "$pidf" "$sock"

# --- the socket -----------------------------------------------------------------
# strace holds the daemon for 2 s after bind(2) returns: the window in
# which its user could swap a link in for the socket.  The socket must
# already have its mode then, and what is at its path when the daemon goes
# on must not be followed.
if ! strace -o /dev/null -e trace=bind -e inject=bind:delay_exit=1000 true \
	2>/dev/null; then
	skip "the socket's mode and owner without following a link" \
		"strace with syscall delay injection is not available"
	done_testing
	exit 0
fi
h_conf swap "listen = $sock" "listen_mode = 0660" "workers = 1" \
	"user = nobody" "group = nogroup"
(umask 022; exec setsid strace -o "$H_DIR/strace.out" -e trace=bind \
	-e inject=bind:delay_exit=2000000 "$MDAUTHD" -c "$H_DIR/swap.conf" \
	</dev/null >>"$H_DIR/mdauthd-swap.log" 2>&1) &
tracer=$!
h_track "$tracer"
h_wait_for 5 test -S "$sock" || bail "mdauthd did not create $sock"
is "$(stat -c %a "$sock")" 660 "the socket has listen_mode 0660 as soon as bind returns"
ln -s "$victim" "$run_dir/swap.tmp"
mv -T "$run_dir/swap.tmp" "$sock"
h_wait_for 5 stack_proc_gone "$tracer"
master=$(pgrep -P "$tracer")
[ -z "$master" ] || h_stop_master "$master"
wait "$tracer"
status=$?	# strace's is the daemon's
is "$(victim_state)" "$victim_before" \
	"a link swapped in for the socket: the file it points to keeps its owner and mode"
ok "a link swapped in for the socket: mdauthd refuses to start (status $status)" \
	test "$status" -ne 0
ok "a link swapped in for the socket: the log says why" \
	grep -q 'no longer a socket' "$H_DIR/mdauthd-swap.log"
rm -f "$sock"

# Without a swap: owner and mode as configured, and the umask is restored.
(umask 022; exec setsid "$MDAUTHD" -c "$H_DIR/swap.conf" </dev/null \
	>>"$H_DIR/mdauthd-swap.log" 2>&1) &
master=$!
h_track "$master"
h_wait_for 5 test -S "$sock" || bail "mdauthd did not create $sock"
is "$(stat -c '%U:%G %a' "$sock")" "nobody:nogroup 660" \
	"without a swap: the socket is nobody:nogroup, mode 0660"
is "$(awk '/^Umask:/ { print $2 }' "/proc/$master/status")" 0022 \
	"the daemon's umask is restored after bind"
h_stop_master "$master"

done_testing

#!/bin/bash
# Started as root with user = nobody and group = nogroup, mdauthd hands
# its socket to nobody:nogroup and then runs, master and workers, as
# nobody with no other group, and still reaches PostgreSQL.  A user or
# group that does not exist stops it with a message naming it.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || skip_all "the privilege drop needs root"
id nobody >/dev/null 2>&1 || skip_all "no user nobody"
getent group nogroup >/dev/null 2>&1 || skip_all "no group nogroup"
h_setup_db
h_user_add alice 'correct horse battery staple'
nobody_uid=$(id -u nobody)
nogroup_gid=$(getent group nogroup | cut -d: -f3)

# The socket and pid file go where an init system would put them: a
# run directory of the daemon's user (systemd's RuntimeDirectory=), so
# that the daemon can still remove them after dropping root.
run_dir=$H_DIR/run
mkdir -m 0755 "$run_dir"
chown nobody:nogroup "$run_dir"
sock=$run_dir/mdauthd.sock
pidf=$run_dir/mdauthd.pid
h_conf drop "listen = $sock" "pid_file = $pidf" "workers = 2" \
	"user = nobody" "group = nogroup"
h_start drop
master=$H_PID
h_wait_for 5 test -S "$sock" || bail "mdauthd did not create $sock"
h_wait_for 3 h_has_children "$master" 2 ||
	bail "mdauthd did not start 2 workers"
workers=$(h_children "$master")

is "$(ps -o uid= -p "$master" | tr -d ' ')" "$nobody_uid" "the master runs as nobody"
is "$(ps -o gid= -p "$master" | tr -d ' ')" "$nogroup_gid" "the master's group is nogroup"
is "$(awk '/^Groups:/ { $1 = ""; print }' "/proc/$master/status" | tr -s ' ' | sed 's/^ //; s/ $//')" \
	"$nogroup_gid" "the master has no supplementary group but nogroup"
# Real, effective and saved ids: root must be out of reach.
is "$(awk '/^Uid:/ { print $2, $3, $4 }' "/proc/$master/status")" \
	"$nobody_uid $nobody_uid $nobody_uid" "the master's real, effective and saved uids are nobody's"
bad=
for w in $workers; do
	[ "$(ps -o uid= -p "$w" | tr -d ' ')" = "$nobody_uid" ] || bad="$bad $w"
done
is "$bad" "" "every worker runs as nobody"
is "$(stat -c %U:%G "$sock")" nobody:nogroup "the socket is owned by nobody:nogroup"
is "$(stat -c %a "$sock")" 660 "the socket keeps mode 0660"
is "$(cat "$pidf" 2>/dev/null)" "$master" "pid_file holds the master's pid"

# PostgreSQL's socket directory must be reachable for nobody; that is the
# stack's doing, not the daemon's, so check it before blaming the daemon.
if runuser -u nobody -- test -x "$STACK_PG_SOCKDIR" &&
	runuser -u nobody -- test -w "$STACK_PG_SOCKDIR/.s.PGSQL.5432"; then
	is "$(h_health_at "$sock")" 200 "as nobody: GET /health (a database round trip) answers 200"
	body='{"username":"alice","password":"correct horse battery staple"}'
	printf '%s' "$body" | fcgi_raw_at "$sock" REQUEST_METHOD=POST PATH_INFO=/login \
		HTTPS=on REMOTE_ADDR=127.0.0.1 CONTENT_TYPE=application/json \
		CONTENT_LENGTH=${#body}
	is "$(fcgi_status)" 200 "as nobody: a login answers 200"
	token=$(fcgi_raw_body | jq -r .token 2>/dev/null)
	fcgi_raw_at "$sock" REQUEST_METHOD=GET PATH_INFO=/validate HTTPS=on \
		REMOTE_ADDR=127.0.0.1 "HTTP_AUTHORIZATION=Bearer $token" </dev/null
	is "$(fcgi_status)" 200 "as nobody: validating the new token answers 200"
else
	skip "as nobody: requests that need the database" \
		"user nobody cannot reach $STACK_PG_SOCKDIR"
fi

h_stop_master "$master"
is "$H_MASTER_EXIT_STATUS" 0 "after the drop, SIGTERM stops the daemon with status 0"
ok "after the drop, SIGTERM removes the socket" test ! -e "$sock"
ok "after the drop, SIGTERM removes pid_file" test ! -e "$pidf"
rm -f "$sock" "$pidf"

# --- unknown user or group -------------------------------------------------
# run NAME: mdauthd -c $H_DIR/NAME.conf in the foreground; sets RC and ERR.
run() {
	ERR=$(timeout 10 "$MDAUTHD" -c "$H_DIR/$1.conf" </dev/null 2>&1 >/dev/null)
	RC=$?
}

h_conf nouser "listen = $sock" "workers = 1" "user = no-such-user"
run nouser
ok "user = no-such-user (Unix socket): mdauthd exits non-zero (status $RC)" \
	test "$RC" -ne 0 -a "$RC" -ne 124
like "$ERR" 'no-such-user' "user = no-such-user (Unix socket): the message names the user"

port=$(stack_free_port) || bail "no free TCP port"
h_conf nouser "listen = 127.0.0.1:$port" "workers = 1" "user = no-such-user"
run nouser
ok "user = no-such-user (host:port): mdauthd exits non-zero (status $RC)" \
	test "$RC" -ne 0 -a "$RC" -ne 124
like "$ERR" 'no-such-user' "user = no-such-user (host:port): the message names the user"

h_conf nogroup "listen = 127.0.0.1:$port" "workers = 1" "user = nobody" \
	"group = no-such-group"
run nogroup
ok "group = no-such-group: mdauthd exits non-zero (status $RC)" \
	test "$RC" -ne 0 -a "$RC" -ne 124
like "$ERR" 'no-such-group' "group = no-such-group: the message names the group"

done_testing

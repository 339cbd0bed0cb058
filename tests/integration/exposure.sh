#!/bin/bash
# What the daemon's memory and configuration give away.
# - Outside systemd, master and workers run with RLIMIT_CORE 0 (no core
#   file holding the database password or a token) and not "dumpable":
#   their /proc files, /proc/PID/mem included, belong to root, so another
#   process of the same user cannot read or ptrace them.  Under systemd
#   (INVOCATION_ID set) the unit decides (LimitCORE=0).
# - A configuration file readable by others while it holds a database
#   password (password= or a URI's user:password@) is warned of, once at
#   start and once at each reload; mode 0640 gets no warning; the
#   password itself is never logged.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || skip_all "starting mdauthd as another user needs root"
id nobody >/dev/null 2>&1 || skip_all "no user nobody"
command -v setpriv >/dev/null 2>&1 || skip_all "no setpriv (util-linux)"
h_setup_db
nobody_uid=$(id -u nobody)

run_dir=$H_DIR/run
mkdir -m 0755 "$run_dir"
chown nobody "$run_dir"

# --- no core, not dumpable -------------------------------------------------------
# Started as nobody (no change of user inside, which would by itself make
# the process not dumpable), with a core limit to lose.
cat >"$run_dir/core.conf" <<EOF
database = host=$STACK_PG_SOCKDIR dbname=mdauth user=mdauth
listen = $run_dir/core.sock
workers = 1
EOF
chmod 0644 "$run_dir/core.conf"
# start_nobody [ENV...]: mdauthd as nobody, core limit unlimited; sets master.
start_nobody() {
	(ulimit -c unlimited; exec setsid env -u INVOCATION_ID "$@" \
		setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups \
		"$MDAUTHD" -c "$run_dir/core.conf" \
		</dev/null >>"$H_DIR/mdauthd-core.log" 2>&1) &
	master=$!
	h_track "$master"
	h_wait_for 5 test -S "$run_dir/core.sock" || bail "mdauthd did not create its socket"
	h_wait_for 5 h_has_children "$master" 1 || bail "mdauthd did not start its worker"
	[ "$(ps -o uid= -p "$master" | tr -d ' ')" = "$nobody_uid" ] ||
		bail "the process started is not mdauthd as nobody"
	worker=$(h_children "$master")
}
core_limit() {
	awk '/^Max core file size/ { print $5, $6 }' "/proc/$1/limits"
}

start_nobody
is "$(core_limit "$master")" "0 0" "the master's core file size limit is 0"
is "$(core_limit "$worker")" "0 0" "the worker's core file size limit is 0"
is "$(stat -c %u "/proc/$master/mem")" 0 \
	"the master is not dumpable: /proc/PID/mem belongs to root, not nobody"
is "$(stat -c %u "/proc/$worker/mem")" 0 \
	"the worker is not dumpable: /proc/PID/mem belongs to root, not nobody"
if runuser -u nobody -- cat "/proc/$worker/environ" >/dev/null 2>&1; then
	fail "a process of the same user cannot read the worker's environment"
else
	pass "a process of the same user cannot read the worker's environment"
fi
isnt "$(head -n 1 "/proc/$worker/maps")" "" "root can still read the worker's memory map"
h_stop_master "$master"
rm -f "$run_dir/core.sock"

start_nobody INVOCATION_ID=0123456789abcdef0123456789abcdef
# The hard limit: AddressSanitizer lowers the soft one to 0 by itself.
is "$(core_limit "$master" | cut -d' ' -f2)" unlimited \
	"under systemd (INVOCATION_ID): the core limit is left to the unit"
is "$(stat -c %u "/proc/$master/mem")" "$nobody_uid" \
	"under systemd (INVOCATION_ID): dumpable is left to the unit"
h_stop_master "$master"
rm -f "$run_dir/core.sock"

# --- a password in a file others can read ------------------------------------------
warning='holds a database password and is readable by others'
conf=$H_DIR/pw.conf
# write_conf DATABASE MODE
write_conf() {
	cat >"$conf" <<EOF
database = $1
listen = $H_DIR/pw.sock
workers = 1
log_level = info
EOF
	chmod "$2" "$conf"
}
start_pw() {
	rm -f "$H_DIR/pw.sock"
	: >"$H_DIR/mdauthd-pw.log"
	h_start pw
	h_wait_for 5 test -S "$H_DIR/pw.sock" || bail "mdauthd did not create its socket"
	h_wait_for 5 grep -q 'serving on' "$H_DIR/mdauthd-pw.log"
}
warnings() {
	grep -c -F "$warning" "$H_DIR/mdauthd-pw.log"
}

write_conf "host=$STACK_PG_SOCKDIR dbname=mdauth user=mdauth password=Sw0rdf1shPw" 0644
start_pw
is "$(warnings)" 1 "password= in a file of mode 0644: one warning at start"
like "$(grep -F "$warning" "$H_DIR/mdauthd-pw.log")" 'warn' "it is logged at warning level"
ok "the warning names the file" grep -q -F "$conf" "$H_DIR/mdauthd-pw.log"
is "$(grep -c Sw0rdf1shPw "$H_DIR/mdauthd-pw.log")" 0 "the password itself is not logged"
kill -HUP "$H_PID"
h_wait_for 10 grep -q 'reload: configuration reloaded' "$H_DIR/mdauthd-pw.log"
is "$(warnings)" 2 "a reload with the file still readable by others warns again"
chmod 0640 "$conf"
kill -HUP "$H_PID"
h_wait_for 10 test "$(grep -c 'reload: configuration reloaded' "$H_DIR/mdauthd-pw.log")" -ge 2
is "$(warnings)" 2 "a reload after chmod 0640: no new warning"
h_stop_master "$H_PID"

start_pw
is "$(warnings)" 0 "password= in a file of mode 0640: no warning at start"
h_stop_master "$H_PID"

write_conf "postgresql://mdauth:Sw0rdf1shPw@/mdauth?host=$STACK_PG_SOCKDIR" 0644
start_pw
is "$(warnings)" 1 "a URI with user:password@ in a file of mode 0644: one warning"
h_stop_master "$H_PID"

write_conf "host=$STACK_PG_SOCKDIR dbname=mdauth user=mdauth" 0644
start_pw
is "$(warnings)" 0 "no password in a file of mode 0644: no warning"
h_stop_master "$H_PID"

done_testing

#!/bin/bash
# Crash-loop backoff: workers that die right after they start (here: the
# configuration asks argon2id for more memory than the process may have,
# so each new worker fails to make its dummy hash and exits 1) are
# restarted after delays that double, each logged, instead of in a tight
# loop; the master stays up, a SIGHUP with a working configuration brings
# the pool back at once, and SIGTERM still stops it with status 0.
. "$(dirname "$0")/lib.sh"

h_setup workers=2
master_log=$H_DIR/mdauthd.log

# 2 GiB per hash, in a process that may not have it.
if [ "${MDAUTH_SANITIZERS:-0}" = 1 ]; then
	# AddressSanitizer reserves far more address space than any limit
	# that would stop argon2, so there its allocator refuses instead.
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}allocator_may_return_null=1:max_allocation_size_mb=1024"
	export ASAN_OPTIONS
	h_restart_mdauthd workers=2 argon2_memory=2097152
else
	command -v prlimit >/dev/null 2>&1 || skip_all "prlimit not installed"
	cat >"$H_DIR/mdauthd-limited" <<EOF
#!/bin/sh
exec prlimit --as=1500000000 -- "$MDAUTHD" "\$@"
EOF
	chmod +x "$H_DIR/mdauthd-limited"
	MDAUTHD=$H_DIR/mdauthd-limited h_restart_mdauthd workers=2 argon2_memory=2097152
fi
master=$STACK_MDAUTHD_PID
start=$(h_now)
sleep 4.5
elapsed=$(h_elapsed "$start")

# "master: worker PID exited with status 1 after 0.0s; replacing it in 0.4s"
grep 'master: worker [0-9]* exited with status 1 after' "$master_log" >"$H_DIR/deaths"
deaths=$(grep -c . "$H_DIR/deaths")
diag "$deaths worker deaths in $elapsed s:" "$(sed 's/.*master: //' "$H_DIR/deaths")"
ok "the workers die at start (cannot make the dummy hash)" \
	grep -q 'worker: cannot make the dummy password hash' "$master_log"
ok "2 slots over ${elapsed} s: at most 14 restarts, not a tight loop ($deaths)" \
	test "$deaths" -ge 4 -a "$deaths" -le 14
delays=$(sed -n 's/.*replacing it in \([0-9.]*\)s$/\1/p' "$H_DIR/deaths" | sort -n | uniq | tr '\n' ' ')
like "$delays" '^0\.1 0\.2 0\.4 0\.8 ' "each slot's delay doubles: 0.1 s, 0.2 s, 0.4 s, 0.8 s, ... (seen: $delays)"
ok "the master is still running" kill -0 "$master"

# A working configuration: SIGHUP starts a new pool at once, without the
# delays of the old one.
stack_mdauthd_config log_level=debug workers=2 || bail "cannot write mdauthd.conf"
kill -HUP "$master"
h_served() {
	req GET /health
	[ "$STATUS" = 200 ]
}
start=$(h_now)
ok "after SIGHUP with a working configuration the daemon serves within 2 s" \
	h_wait_for 2 h_served
diag "served again after $(h_elapsed "$start") s"
ok "the workers of the new configuration stay up" h_wait_for 5 h_has_children "$master" 2
sleep 2.5
now=$(grep -c 'master: worker [0-9]* exited with status 1 after' "$master_log")
is "$now" "$deaths" "no worker died since the reload"

stack_mdauthd_stop
is "$STACK_MDAUTHD_EXIT_STATUS" 0 "SIGTERM stops the master with status 0"

done_testing

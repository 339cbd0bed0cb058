# tests/integration/standby.sh -- a streaming standby of the stack's
# PostgreSQL, for the failover test.
# shellcheck shell=bash
#
# Sourced after lib.sh, once the stack runs.  The standby is a copy made
# with pg_basebackup, run by the same system user as the primary, on a
# Unix socket only, in a private directory:
#
#   DIR/pg2/        its data directory
#   DIR/pgrun2/     its socket (.s.PGSQL.$STANDBY_PORT)
#   DIR/standby.log its log
#
#   standby_start        make it (first time) and start it; returns once
#                        it streams from the primary
#   standby_psql [ARGS]  psql as postgres on its database mdauth
#   standby_caught_up    true when it has replayed all the primary has written
#   standby_promote      pg_ctl promote, waiting until it accepts writes
#   standby_stop         stop it (fast); safe when it does not run
#
# The primary's pg_hba.conf (initdb --auth=trust) already lets local
# sockets replicate.

STANDBY_PORT=5433
STANDBY_DATA=
STANDBY_SOCKDIR=

standby_start() {
	local bindir
	bindir=$(stack_pg_bindir) || return 1
	STANDBY_DATA=$STACK_DIR/pg2
	STANDBY_SOCKDIR=$STACK_DIR/pgrun2
	if [ ! -f "$STANDBY_DATA/PG_VERSION" ]; then
		stack_pg_dirs "$STANDBY_DATA" "$STANDBY_SOCKDIR" \
			"$STACK_DIR/standby.log" || return 1
		# -R writes standby.signal and primary_conninfo (the primary's
		# socket); -X stream also copies the WAL written meanwhile.
		stack_as_pg "$bindir/pg_basebackup" -h "$STACK_PG_SOCKDIR" -p 5432 \
			-U postgres -D "$STANDBY_DATA" -R -X stream -c fast --no-sync \
			>"$STACK_DIR/basebackup.log" 2>&1 || {
			stack_log "pg_basebackup failed:"
			cat "$STACK_DIR/basebackup.log" >&2
			return 1
		}
		# The copy has the primary's settings; later lines win.
		cat >>"$STANDBY_DATA/postgresql.conf" <<EOF

# streaming standby (tests/integration/standby.sh)
port = $STANDBY_PORT
unix_socket_directories = '$STANDBY_SOCKDIR'
hot_standby = on
EOF
	fi
	stack_as_pg "$bindir/pg_ctl" -D "$STANDBY_DATA" -l "$STACK_DIR/standby.log" \
		-w -t 30 start >/dev/null || {
		stack_log "the standby did not start; its log:"
		tail -n 20 "$STACK_DIR/standby.log" >&2
		return 1
	}
	h_wait_for 10 standby_streaming || {
		stack_log "the standby does not stream; its log:"
		tail -n 20 "$STACK_DIR/standby.log" >&2
		return 1
	}
}

standby_psql() {
	psql -X -q -At -v ON_ERROR_STOP=1 -h "$STANDBY_SOCKDIR" -p "$STANDBY_PORT" \
		-U postgres -d mdauth "$@"
}

standby_streaming() {
	[ "$(standby_psql -c 'SELECT status FROM pg_stat_wal_receiver' 2>/dev/null)" = streaming ]
}

standby_caught_up() {
	local lsn
	lsn=$(stack_psql -c 'SELECT pg_current_wal_lsn()') || return 1
	[ "$(standby_psql -v lsn="$lsn" <<<"SELECT pg_last_wal_replay_lsn() >= :'lsn'::pg_lsn" 2>/dev/null)" = t ]
}

standby_promote() {
	local bindir
	bindir=$(stack_pg_bindir) || return 1
	stack_as_pg "$bindir/pg_ctl" -D "$STANDBY_DATA" -w -t 30 promote >/dev/null
}

standby_stop() {
	local bindir
	[ -n "$STANDBY_DATA" ] && [ -f "$STANDBY_DATA/postmaster.pid" ] || return 0
	bindir=$(stack_pg_bindir) || return 1
	stack_as_pg "$bindir/pg_ctl" -D "$STANDBY_DATA" -m fast -w -t 30 stop >/dev/null 2>&1
}

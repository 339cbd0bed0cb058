# deploy/stack.sh -- start and stop a private mdauth stack in one directory.
# shellcheck shell=bash disable=SC2034,SC2119,SC2120
#
# A bash library, sourced (not executed) by deploy/demo.sh and by the
# integration tests (tests/integration/lib.sh).  Everything it starts lives
# under one state directory, talks over Unix sockets or 127.0.0.1, and is
# recorded in pid files there, so that stack_stop_all (or `demo.sh stop`
# from another shell) can end exactly what was started:
#
#   DIR/pg/                PostgreSQL data directory (initdb)
#   DIR/pgrun/             PostgreSQL's Unix socket (listen_addresses = '')
#   DIR/postgresql.log     PostgreSQL's log
#   DIR/mdauthd.conf       the daemon's configuration (stack_mdauthd_config)
#   DIR/mdauthd.sock       the daemon's FastCGI socket (DIR/run/mdauthd.sock
#                          with STACK_RUN_USER)
#   DIR/mdauthd.log        the daemon's stderr
#   DIR/mdauthd.pid        the daemon's master pid
#   DIR/tls/{cert,key}.pem throwaway self-signed certificate for localhost
#   DIR/SERVER.conf        the web server's configuration, rendered from
#                          deploy/SERVER/mdauth-SERVER.conf.in (SERVER:
#                          lighttpd, apache or nginx, as STACK_WEB says)
#   DIR/SERVER-*.log       its error and access logs
#   DIR/web.pid            its pid
#   DIR/www/               an empty document root
#   DIR/app/api/           the example protected application (deploy/app/)
#   DIR/app-server.*       nginx only: the application server it proxies to
#   DIR/mdauthd-authz.*    Apache only: the second mdauthd, on TCP, that
#                          mod_authnz_fcgi asks
#   DIR/ports              STACK_HTTPS_PORT=N and STACK_HTTP_PORT=N lines
#                          (parsed, never sourced: stack_state_number)
#
# Functions (each returns 0 on success, non-zero with a message on stderr):
#
#   stack_init DIR             choose DIR as the state directory (creates it)
#   stack_start_all DIR [KEY=VALUE...]
#                              all of the below, in order; the arguments
#                              override mdauthd.conf keys
#   stack_pg_start [DIR]       initdb on first use, then start PostgreSQL
#                              (DIR: stack_init DIR first)
#   stack_pg_stop              stop PostgreSQL (fast shutdown)
#   stack_pg_restart           stop, then start again
#   stack_pg_running           true when PostgreSQL runs
#   stack_psql [ARGS...]       psql as superuser postgres on database mdauth
#   stack_admin_conninfo       print that superuser's libpq conninfo
#   stack_db_setup             create database mdauth, run `mdauthctl migrate`,
#                              create the daemon's login role mdauth
#   stack_mdauthd_config [KEY=VALUE...]
#                              write DIR/mdauthd.conf: the defaults in the
#                              function, each KEY=VALUE replacing or adding
#                              one line
#   stack_mdauthd_start        start mdauthd -c DIR/mdauthd.conf, wait for
#                              its socket; STACK_MDAUTHD_PID is the master
#   stack_mdauthd_stop         SIGTERM, wait; STACK_MDAUTHD_EXIT_STATUS is its
#                              exit status when this shell started it
#   stack_cert [DIR]           make DIR/tls/cert.pem and key.pem if missing
#   stack_web_start            render the web server's configuration and start
#                              it on free ports (HTTPS and plain HTTP)
#   stack_web_stop
#   stack_stop_all             stop whatever of the above is running; safe to
#                              call twice and from an EXIT trap
#   stack_free_port            print a free TCP port in 20000-60000
#   stack_proc_gone PID        true when PID has exited
#
# Environment read (all optional):
#   MDAUTHD, MDAUTHCTL   the binaries (default: found in PATH)
#   MDAUTH_SQL_DIR       the migrations (default: ../sql next to this file)
#   PG_BINDIR            PostgreSQL's server binaries (default: pg_config
#                        --bindir, else the newest /usr/lib/postgresql/*/bin)
#   STACK_WEB            lighttpd (default), apache or nginx
#   LIGHTTPD, APACHE2, NGINX
#                        the server binaries (default: found in PATH or /usr/sbin)
#   STACK_APACHE_MODULES Apache's modules (default /usr/lib/apache2/modules)
#   STACK_PG_FSYNC       "off" makes PostgreSQL skip fsync (tests); default "on"
#   STACK_BIND           address the web server listens on (default 127.0.0.1)
#   STACK_MDAUTHD_CACHE  when set (yes or no), the cache key of mdauthd.conf
#                        (before the arguments, which override it); the
#                        test suite runs again with "no"
#   STACK_RUN_USER       as root: a system user that mdauthd drops to (user
#                        and group in mdauthd.conf), with its socket in
#                        DIR/run/; PostgreSQL then accepts only peer
#                        connections (see stack_pg_auth) and mdauthd logs in
#                        as the role of that name.  Default: none (the
#                        daemon runs as the caller; PostgreSQL trusts
#                        every connection that reaches DIR/pgrun)
#
# PostgreSQL refuses to run as root.  When this runs as root, initdb, pg_ctl
# and the server run as the `postgres` system user (runuser), which owns
# DIR/pg and DIR/pgrun; DIR itself is made searchable (go+x) for it.

STACK_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

STACK_DIR=
STACK_PG_DATA=
STACK_PG_SOCKDIR=
STACK_MDAUTHD_CONF=
STACK_MDAUTHD_SOCKET=
STACK_MDAUTHD_PID=
STACK_MDAUTHD_EXIT_STATUS=
STACK_AUTHZ_PORT=
STACK_APP_PORT=
STACK_HTTPS_PORT=
STACK_HTTP_PORT=
STACK_CERT=
STACK_KEY=

stack_log() {
	printf 'stack: %s\n' "$*" >&2
}

# stack_state_number FILE [KEY]: print the number that DIR/FILE holds (a
# pid file: one line of digits), or with KEY the digits of its line
# KEY=DIGITS.  A file that is missing or holds anything else prints
# nothing (and a line on stderr): state files are parsed, never sourced
# or executed.
stack_state_number() {
	local file=$STACK_DIR/$1 line value=
	[ -f "$file" ] || return 0
	while IFS= read -r line || [ -n "$line" ]; do
		if [ $# -eq 1 ]; then
			value=$line
			break
		fi
		case $line in
		"$2="*) value=${line#"$2="} ;;
		esac
	done <"$file"
	case $value in
	"") return 0 ;;
	*[!0-9]* | ?????????*)
		stack_log "ignoring $file${2:+ ($2)}: not a number"
		return 0
		;;
	esac
	printf '%s\n' "$value"
}

# stack_state_pid FILE: the pid that DIR/FILE holds, only while that
# process is one this stack started: its command line names a file in
# DIR (each daemon is started with its configuration there).  A stale pid
# file (after a reboot, say) must never make us signal a stranger.
stack_state_pid() {
	local pid
	pid=$(stack_state_number "$1")
	[ -n "$pid" ] && [ "$pid" -gt 1 ] || return 0
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null |
		grep -qF -- " $STACK_DIR/" || return 0
	printf '%s\n' "$pid"
}

# stack_init DIR: make DIR the state directory of the following calls.
stack_init() {
	local dir=${1:?stack_init: state directory required}
	mkdir -p "$dir" || return 1
	STACK_DIR=$(cd "$dir" && pwd) || return 1
	STACK_PG_DATA=$STACK_DIR/pg
	STACK_PG_SOCKDIR=$STACK_DIR/pgrun
	STACK_MDAUTHD_CONF=$STACK_DIR/mdauthd.conf
	STACK_MDAUTHD_SOCKET=$STACK_DIR/mdauthd.sock
	# A daemon that drops to STACK_RUN_USER removes its socket when it
	# stops: the socket lives in a directory of that user's.
	[ -z "${STACK_RUN_USER:-}" ] || STACK_MDAUTHD_SOCKET=$STACK_DIR/run/mdauthd.sock
	STACK_CERT=$STACK_DIR/tls/cert.pem
	STACK_KEY=$STACK_DIR/tls/key.pem

	# Unix socket paths are limited to 107 bytes (sun_path).
	if [ ${#STACK_PG_SOCKDIR} -gt 80 ]; then
		stack_log "state directory path too long for Unix sockets: $STACK_DIR"
		return 1
	fi

	# The state files are data: read as numbers, never sourced.
	STACK_HTTPS_PORT=$(stack_state_number ports STACK_HTTPS_PORT)
	STACK_HTTP_PORT=$(stack_state_number ports STACK_HTTP_PORT)
	STACK_MDAUTHD_PID=$(stack_state_pid mdauthd.pid)
	STACK_WEB_PID=$(stack_state_pid web.pid)
	STACK_APP_PID=$(stack_state_pid app-server.pid)
	STACK_AUTHZ_PID=$(stack_state_pid mdauthd-authz.pid)
	: "${MDAUTHD:=$(command -v mdauthd)}"
	: "${MDAUTHCTL:=$(command -v mdauthctl)}"
	: "${MDAUTH_SQL_DIR:=$STACK_LIB_DIR/../sql}"
	return 0
}

# stack_pg_bindir: print the directory holding initdb, pg_ctl, postgres.
stack_pg_bindir() {
	local d
	if [ -n "${PG_BINDIR:-}" ]; then
		[ -x "$PG_BINDIR/initdb" ] || return 1
		printf '%s\n' "$PG_BINDIR"
		return 0
	fi
	d=$(pg_config --bindir 2>/dev/null)
	if [ -n "$d" ] && [ -x "$d/initdb" ]; then
		printf '%s\n' "$d"
		return 0
	fi
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
	if [ -n "$d" ] && [ -x "$d/initdb" ]; then
		printf '%s\n' "$d"
		return 0
	fi
	if command -v initdb >/dev/null 2>&1; then
		dirname "$(command -v initdb)"
		return 0
	fi
	return 1
}

# Run a command as the owner of the PostgreSQL cluster: the `postgres`
# system user when we are root, ourselves otherwise.  It runs from DIR so
# that the postgres user never starts in a directory it cannot read.
stack_as_pg() {
	if [ "$(id -u)" -eq 0 ]; then
		(cd "$STACK_DIR" && runuser -u postgres -- "$@")
	else
		(cd "$STACK_DIR" && "$@")
	fi
}

# stack_pg_dirs DATA SOCKDIR LOG: a cluster's data directory (0700), its
# socket directory and its log file, owned by the user the server runs as
# (see stack_as_pg).  The socket directory is 0755, or with STACK_RUN_USER
# postgres:STACK_RUN_USER 0750: only root, postgres and that user's group
# reach the socket.
stack_pg_dirs() {
	mkdir -p "$1" "$2" || return 1
	: >"$3"
	chmod 0700 "$1"
	chmod 0755 "$2"
	[ "$(id -u)" -ne 0 ] || chown postgres: "$1" "$2" "$3" || return 1
	if [ -n "${STACK_RUN_USER:-}" ]; then
		chown "postgres:$STACK_RUN_USER" "$2" && chmod 0750 "$2"
	fi
}

# stack_pg_auth: the cluster's pg_hba.conf and pg_ident.conf.  By default
# every local connection is trusted (a test cluster, reached only through
# DIR).  With STACK_RUN_USER, only peer authentication: root and postgres
# may be the superuser postgres, STACK_RUN_USER only its own role.
stack_pg_auth() {
	[ -n "${STACK_RUN_USER:-}" ] || return 0
	printf '# mdauth private stack (deploy/stack.sh): peer only\nlocal all all peer map=stack\n' \
		>"$STACK_PG_DATA/pg_hba.conf" &&
		printf 'stack root postgres\nstack postgres postgres\nstack %s %s\n' \
			"$STACK_RUN_USER" "$STACK_RUN_USER" >"$STACK_PG_DATA/pg_ident.conf"
}

# stack_pg_start: initdb into DIR/pg on first use, then start the server
# with pg_ctl -w (returns once it accepts connections).
stack_pg_start() {
	local bindir
	[ $# -eq 0 ] || stack_init "$1" || return 1
	[ -n "$STACK_DIR" ] || { stack_log "stack_init first"; return 1; }
	bindir=$(stack_pg_bindir) || {
		stack_log "PostgreSQL server binaries (initdb) not found; set PG_BINDIR"
		return 1
	}

	if [ ! -f "$STACK_PG_DATA/PG_VERSION" ]; then
		stack_pg_dirs "$STACK_PG_DATA" "$STACK_PG_SOCKDIR" \
			"$STACK_DIR/postgresql.log" || return 1
		if [ "$(id -u)" -eq 0 ]; then
			# postgres must reach DIR/pg and DIR/pgrun: search, not read.
			chmod go+x "$STACK_DIR"
			if ! runuser -u postgres -- test -x "$STACK_DIR"; then
				stack_log "user postgres cannot reach $STACK_DIR (a parent directory is not traversable); use a state directory under /tmp or /var/tmp"
				return 1
			fi
		fi
		# --no-sync: a throwaway cluster need not survive a power cut
		# during initdb.
		if ! stack_as_pg "$bindir/initdb" -D "$STACK_PG_DATA" -U postgres \
			--auth=trust -E UTF8 --no-locale --no-sync --no-instructions \
			>"$STACK_DIR/initdb.log" 2>&1; then
			stack_log "initdb failed:"
			cat "$STACK_DIR/initdb.log" >&2
			return 1
		fi
		stack_pg_auth || return 1
		# Unix socket only: nothing listens on TCP.  The port number only
		# names the socket file (.s.PGSQL.5432) in the private directory.
		cat >>"$STACK_PG_DATA/postgresql.conf" <<EOF

# mdauth private stack (deploy/stack.sh)
listen_addresses = ''
port = 5432
unix_socket_directories = '$STACK_PG_SOCKDIR'
unix_socket_permissions = 0777	# the directory's mode decides
max_connections = 40
shared_buffers = 32MB
fsync = ${STACK_PG_FSYNC:-on}
synchronous_commit = ${STACK_PG_FSYNC:-on}
log_min_messages = warning
EOF
	fi

	if stack_pg_running; then
		return 0
	fi
	if ! stack_as_pg "$bindir/pg_ctl" -D "$STACK_PG_DATA" \
		-l "$STACK_DIR/postgresql.log" -w -t 30 start >/dev/null; then
		stack_log "PostgreSQL did not start; its log:"
		tail -n 20 "$STACK_DIR/postgresql.log" >&2
		return 1
	fi
	return 0
}

# stack_pg_running: true when the cluster's postmaster is up.
stack_pg_running() {
	local bindir
	[ -f "$STACK_PG_DATA/postmaster.pid" ] || return 1
	bindir=$(stack_pg_bindir) || return 1
	stack_as_pg "$bindir/pg_ctl" -D "$STACK_PG_DATA" status >/dev/null 2>&1
}

# stack_pg_stop: fast shutdown (open connections are terminated, which is
# what a client sees in a database outage).
stack_pg_stop() {
	local bindir
	[ -n "$STACK_PG_DATA" ] || return 0
	stack_pg_running || return 0
	bindir=$(stack_pg_bindir) || return 1
	stack_as_pg "$bindir/pg_ctl" -D "$STACK_PG_DATA" -m fast -w -t 30 \
		stop >/dev/null
}

stack_pg_restart() {
	stack_pg_stop && stack_pg_start
}

# stack_psql [ARGS...]: psql as superuser postgres on database mdauth, over
# the private socket; unaligned, tuples only, stop on the first error.
# Later -d/-c/-f/-v arguments are passed through.
stack_psql() {
	psql -X -q -At -v ON_ERROR_STOP=1 -h "$STACK_PG_SOCKDIR" -U postgres \
		-d mdauth "$@"
}

# The superuser conninfo, for mdauthctl commands that need more than the
# daemon's least-privilege role (migrate, user add).
stack_admin_conninfo() {
	printf 'host=%s dbname=mdauth user=postgres\n' "$STACK_PG_SOCKDIR"
}

# stack_db_setup: database mdauth, the migrations, the daemon's role.
# Idempotent, so that a demo can be started again on the same directory.
stack_db_setup() {
	local exists
	exists=$(stack_psql -d postgres \
		-c "SELECT 1 FROM pg_database WHERE datname = 'mdauth'") || return 1
	if [ "$exists" != 1 ]; then
		stack_psql -d postgres -c 'CREATE DATABASE mdauth' || return 1
	fi
	[ -f "$STACK_MDAUTHD_CONF" ] || stack_mdauthd_config || return 1
	if [ -z "$MDAUTHCTL" ] || [ ! -x "$MDAUTHCTL" ]; then
		stack_log "mdauthctl not found (set MDAUTHCTL)"
		return 1
	fi
	if ! "$MDAUTHCTL" -c "$STACK_MDAUTHD_CONF" -D "$(stack_admin_conninfo)" \
		migrate --sql-dir "$MDAUTH_SQL_DIR" >"$STACK_DIR/migrate.log" 2>&1; then
		stack_log "mdauthctl migrate failed:"
		cat "$STACK_DIR/migrate.log" >&2
		return 1
	fi
	# The migrations create the NOLOGIN role mdauth_app holding the
	# daemon's grants; the daemon logs in as a member of it.
	stack_psql <<'EOF' || return 1
DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'mdauth') THEN
		CREATE ROLE mdauth LOGIN IN ROLE mdauth_app;
	END IF;
END
$$;
EOF
}

# stack_mdauthd_config [KEY=VALUE...]: write DIR/mdauthd.conf.  Each
# argument replaces the default line for KEY, or is appended when KEY has
# no default.  Only one line per key is written.
stack_mdauthd_config() {
	local conf=$STACK_MDAUTHD_CONF arg key value
	cat >"$conf.tmp" <<EOF
# mdauthd configuration written by deploy/stack.sh
listen = $STACK_MDAUTHD_SOCKET
workers = 2
database = host=$STACK_PG_SOCKDIR dbname=mdauth user=mdauth
db_timeout = 5
require_tls = yes
realm = mdauth
log_level = info
EOF
	# The test suite runs a second time with the validate cache off.
	[ -z "${STACK_MDAUTHD_CACHE:-}" ] ||
		printf 'cache = %s\n' "$STACK_MDAUTHD_CACHE" >>"$conf.tmp"
	# The web server's children run as www-data (stack_web_user): as root,
	# give them the socket's group.  With STACK_RUN_USER the daemon keeps
	# its own group (for PostgreSQL's socket directory and mdauthd.conf),
	# and the directory of its socket, DIR/run (STACK_RUN_USER:www-data
	# 0750, see stack_mdauthd_start), decides who may connect.
	if [ -n "${STACK_RUN_USER:-}" ]; then
		printf 'user = %s\ngroup = %s\nlisten_mode = 0666\n' \
			"$STACK_RUN_USER" "$STACK_RUN_USER" >>"$conf.tmp"
	elif [ "$(id -u)" -eq 0 ]; then
		printf 'group = %s\n' "$(stack_web_group)" >>"$conf.tmp"
	fi
	for arg in "$@"; do
		key=${arg%%=*}
		value=${arg#*=}
		if [ "$key" = "$arg" ] || [ -z "$key" ]; then
			stack_log "stack_mdauthd_config: not KEY=VALUE: $arg"
			rm -f "$conf.tmp"
			return 1
		fi
		if grep -q "^$key = " "$conf.tmp"; then
			# Replace in place; awk avoids sed's trouble with / and & in
			# values such as conninfo strings.
			awk -v k="$key" -v v="$value" \
				'index($0, k " = ") == 1 { print k " = " v; next } { print }' \
				"$conf.tmp" >"$conf.tmp2" && mv "$conf.tmp2" "$conf.tmp"
		else
			printf '%s = %s\n' "$key" "$value" >>"$conf.tmp"
		fi
	done
	# Read again as STACK_RUN_USER on SIGHUP.
	if [ -n "${STACK_RUN_USER:-}" ]; then
		chgrp "$STACK_RUN_USER" "$conf.tmp" && chmod 0640 "$conf.tmp" ||
			return 1
	fi
	mv "$conf.tmp" "$conf"
}

# stack_proc_gone PID: true when PID no longer runs (absent or a zombie).
stack_proc_gone() {
	local state
	state=$(ps -o stat= -p "$1" 2>/dev/null) || return 0
	case $state in
	Z*) return 0 ;;
	esac
	return 1
}

# stack_group_alive PGID: print the pids of the live (not zombie)
# processes of process group PGID.
stack_group_alive() {
	ps -e -o pid=,pgid=,stat= 2>/dev/null |
		awk -v g="$1" '$2 == g && $3 !~ /^Z/ { print $1 }'
}

# stack_proc_stop PID SECONDS: SIGTERM, wait up to SECONDS, then SIGKILL its
# process group (the daemons are started with setsid, so the group is the
# daemon and its children).  Sets STACK_PROC_EXIT_STATUS when PID is a child
# of this shell, to "" otherwise.
STACK_PROC_EXIT_STATUS=
stack_proc_stop() {
	local pid=$1 limit=$2 i=0
	STACK_PROC_EXIT_STATUS=
	# Never init, and never "every process" (kill -- -1).
	[ "$pid" -gt 1 ] 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null
	while ! stack_proc_gone "$pid"; do
		if [ "$i" -eq $((limit * 10)) ]; then
			stack_log "pid $pid ignored SIGTERM for ${limit}s; killing its process group"
			kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
		fi
		[ "$i" -lt $((limit * 10 + 50)) ] || break
		sleep 0.1
		i=$((i + 1))
	done
	# Reap it if it is our child; `wait` fails with 127 otherwise.
	wait "$pid" 2>/dev/null
	STACK_PROC_EXIT_STATUS=$?
	[ "$STACK_PROC_EXIT_STATUS" -ne 127 ] || STACK_PROC_EXIT_STATUS=
	# Children left behind by the leader (a daemon's workers) must not
	# outlive the stack.
	if [ -n "$(stack_group_alive "$pid")" ]; then
		stack_log "processes of group $pid outlived their leader; killing them"
		kill -KILL -- "-$pid" 2>/dev/null
	fi
	return 0
}

# stack_mdauthd_start: start the daemon in the foreground mode, in the
# background of this shell, in its own session (setsid) so that it outlives
# a demo script and ignores the terminal's signals; wait for its socket.
stack_mdauthd_start() {
	local i
	if [ -z "$MDAUTHD" ] || [ ! -x "$MDAUTHD" ]; then
		stack_log "mdauthd not found (set MDAUTHD)"
		return 1
	fi
	[ -f "$STACK_MDAUTHD_CONF" ] || stack_mdauthd_config || return 1
	if [ -n "$STACK_MDAUTHD_PID" ] && ! stack_proc_gone "$STACK_MDAUTHD_PID"; then
		stack_log "mdauthd already running (pid $STACK_MDAUTHD_PID)"
		return 1
	fi
	if [ -n "${STACK_RUN_USER:-}" ]; then
		mkdir -p "$STACK_DIR/run" &&
			chown "$STACK_RUN_USER:$(stack_web_group)" "$STACK_DIR/run" &&
			chmod 0750 "$STACK_DIR/run" || return 1
	fi
	rm -f "$STACK_MDAUTHD_SOCKET"
	setsid "$MDAUTHD" -c "$STACK_MDAUTHD_CONF" </dev/null \
		>>"$STACK_DIR/mdauthd.log" 2>&1 &
	STACK_MDAUTHD_PID=$!
	STACK_MDAUTHD_EXIT_STATUS=
	printf '%s\n' "$STACK_MDAUTHD_PID" >"$STACK_DIR/mdauthd.pid"
	for i in $(seq 100); do
		[ -S "$STACK_MDAUTHD_SOCKET" ] && return 0
		if stack_proc_gone "$STACK_MDAUTHD_PID"; then
			break
		fi
		sleep 0.1
	done
	stack_log "mdauthd did not create $STACK_MDAUTHD_SOCKET; its log:"
	tail -n 20 "$STACK_DIR/mdauthd.log" >&2
	stack_mdauthd_stop
	return 1
}

# stack_mdauthd_stop: SIGTERM to the master and wait for it (graceful stop
# lets in-flight requests finish; 15 s is above the default
# shutdown_timeout).
stack_mdauthd_stop() {
	[ -n "$STACK_MDAUTHD_PID" ] || return 0
	stack_proc_stop "$STACK_MDAUTHD_PID" 15
	STACK_MDAUTHD_EXIT_STATUS=$STACK_PROC_EXIT_STATUS
	STACK_MDAUTHD_PID=
	rm -f "$STACK_DIR/mdauthd.pid"
	return 0
}

# stack_cert: a throwaway self-signed certificate for localhost, made again
# when missing or about to expire.  Clients trust it with --cacert.
stack_cert() {
	[ $# -eq 0 ] || stack_init "$1" || return 1
	# The certificate is public: curl --cacert from any user (the key
	# stays 0600).
	mkdir -p "$STACK_DIR/tls" && chmod 0755 "$STACK_DIR/tls" || return 1
	if [ -f "$STACK_CERT" ] && [ -f "$STACK_KEY" ] &&
		openssl x509 -in "$STACK_CERT" -noout -checkend 3600 >/dev/null 2>&1; then
		return 0
	fi
	(umask 077 && openssl req -x509 -newkey ec \
		-pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 7 \
		-subj /CN=localhost \
		-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
		-keyout "$STACK_KEY" -out "$STACK_CERT" && chmod 0644 "$STACK_CERT") \
		>"$STACK_DIR/tls/openssl.log" 2>&1 || {
		stack_log "openssl req failed:"
		cat "$STACK_DIR/tls/openssl.log" >&2
		return 1
	}
}

# stack_port_listening PORT: true when something listens on TCP PORT.
stack_port_listening() {
	[ -n "$(ss -Htln "sport = :$1" 2>/dev/null)" ]
}

# stack_free_port [EXCEPT]: print a random TCP port in 20000-60000 on which
# nothing listens (and that is not EXCEPT).  Another process may take it
# before we bind: callers retry on failure.
stack_free_port() {
	local i port
	for i in $(seq 50); do
		port=$(((RANDOM * 32768 + RANDOM) % 40001 + 20000))
		[ "$port" != "${1:-}" ] || continue
		if ! stack_port_listening "$port"; then
			printf '%s\n' "$port"
			return 0
		fi
	done
	stack_log "no free TCP port found"
	return 1
}

# The web servers.  STACK_WEB (lighttpd, apache or nginx; default
# lighttpd) chooses which one stack_web_start runs, with the configuration
# shipped in deploy/SERVER/ rendered by stack_render.  Each server has
# three functions: stack_SERVER_bin (print its binary), stack_SERVER_render
# HTTPS HTTP (write DIR/SERVER.conf) and stack_SERVER_cmd (set
# STACK_SERVER_CHECK and STACK_SERVER_RUN: the commands that check the
# configuration and run the server in the foreground).

stack_web() {
	printf '%s\n' "${STACK_WEB:-lighttpd}"
}

# stack_web_user, stack_web_group: what the server's children run as.  As
# root: Debian's www-data, which must be able to reach mdauthd's socket
# (stack_mdauthd_config gives it the socket's group); otherwise ourselves.
stack_web_user() {
	if [ "$(id -u)" -eq 0 ]; then echo www-data; else id -un; fi
}
stack_web_group() {
	if [ "$(id -u)" -eq 0 ]; then echo www-data; else id -gn; fi
}

# stack_render TEMPLATE OUT HTTPS_PORT HTTP_PORT: replace the placeholders
# the configurations in deploy/ use (each documents its own).
stack_render() {
	local d sock lsock
	mkdir -p "$STACK_DIR/www" && chmod 0755 "$STACK_DIR/www" || return 1
	# Paths go into a sed replacement: escape its specials (| & \).
	d=$(printf '%s' "$STACK_DIR" | sed 's/[|&\\]/\\&/g')
	sock=$(printf '%s' "$STACK_MDAUTHD_SOCKET" | sed 's/[|&\\]/\\&/g')
	# Logins go to login_listen when the daemon has one (a Unix path).
	lsock=$(sed -n 's|^login_listen = \(/.*\)$|\1|p' "$STACK_MDAUTHD_CONF" 2>/dev/null |
		tail -n 1 | sed 's/[|&\\]/\\&/g')
	sed -e "s|@BIND@|${STACK_BIND:-127.0.0.1}|g" \
		-e "s|@PORT@|$3|g" \
		-e "s|@HTTP_PORT@|$4|g" \
		-e "s|@SERVER_NAME@|localhost|g" \
		-e "s|@USER@|$(stack_web_user)|g" \
		-e "s|@GROUP@|$(stack_web_group)|g" \
		-e "s|@MODULES@|${STACK_APACHE_MODULES:-/usr/lib/apache2/modules}|g" \
		-e "s|@DOCROOT@|$d/www|g" \
		-e "s|@CERT@|$d/tls/cert.pem|g" \
		-e "s|@KEY@|$d/tls/key.pem|g" \
		-e "s|@FCGI_SOCKET@|$sock|g" \
		-e "s|@FCGI_LOGIN_SOCKET@|${lsock:-$sock}|g" \
		-e "s|@AUTHZ_ADDR@|127.0.0.1:${STACK_AUTHZ_PORT:-}|g" \
		-e "s|@APP_DIR@|$d/app|g" \
		-e "s|@APP_URL@|http://127.0.0.1:${STACK_APP_PORT:-}|g" \
		-e "s|@STATEDIR@|$d|g" \
		"$1" >"$2"
}

# stack_sbin NAME [VAR]: print the path of a server binary: the value of
# the variable VAR when set, else NAME in PATH or in /usr/sbin.
stack_sbin() {
	local v=
	[ -z "${2:-}" ] || v=${!2:-}
	if [ -n "$v" ]; then
		[ -x "$v" ] || return 1
		printf '%s\n' "$v"
	elif command -v "$1" >/dev/null 2>&1; then
		command -v "$1"
	elif [ -x "/usr/sbin/$1" ]; then
		printf '%s\n' "/usr/sbin/$1"
	else
		return 1
	fi
}

stack_lighttpd_bin() { stack_sbin lighttpd LIGHTTPD; }
stack_apache_bin() { stack_sbin apache2 APACHE2; }
stack_nginx_bin() { stack_sbin nginx NGINX; }

# stack_lighttpd_render HTTPS_PORT HTTP_PORT: write DIR/lighttpd.conf.
stack_lighttpd_render() {
	stack_render "$STACK_LIB_DIR/lighttpd/mdauth-lighttpd.conf.in" \
		"$STACK_DIR/lighttpd.conf" "$@" && stack_lighttpd_logs
}

# stack_lighttpd_logs: lighttpd opens its logs once it has become
# stack_web_user: make them beforehand, that user's.
stack_lighttpd_logs() {
	local f
	[ "$(id -u)" -eq 0 ] || return 0
	for f in lighttpd-error.log lighttpd-access.log; do
		touch "$STACK_DIR/$f" && chown "$(stack_web_user):" "$STACK_DIR/$f" ||
			return 1
	done
}
stack_apache_render() {
	stack_render "$STACK_LIB_DIR/apache/mdauth-apache.conf.in" \
		"$STACK_DIR/apache.conf" "$@"
}
stack_nginx_render() {
	stack_render "$STACK_LIB_DIR/nginx/mdauth-nginx.conf.in" \
		"$STACK_DIR/nginx.conf" "$@"
}

STACK_SERVER_CHECK=()
STACK_SERVER_RUN=()
stack_lighttpd_cmd() {
	local bin
	bin=$(stack_lighttpd_bin) || return 1
	STACK_SERVER_CHECK=("$bin" -tt -f "$STACK_DIR/lighttpd.conf")
	STACK_SERVER_RUN=("$bin" -D -f "$STACK_DIR/lighttpd.conf")
}
stack_apache_cmd() {
	local bin
	bin=$(stack_apache_bin) || return 1
	STACK_SERVER_CHECK=("$bin" -t -f "$STACK_DIR/apache.conf")
	STACK_SERVER_RUN=("$bin" -f "$STACK_DIR/apache.conf" -DFOREGROUND)
}
stack_nginx_cmd() {
	local bin
	bin=$(stack_nginx_bin) || return 1
	# -e: nginx opens an error log before it reads the configuration;
	# keep even that one in DIR.
	STACK_SERVER_CHECK=("$bin" -t -e "$STACK_DIR/nginx-error.log"
		-c "$STACK_DIR/nginx.conf")
	STACK_SERVER_RUN=("$bin" -e "$STACK_DIR/nginx-error.log"
		-c "$STACK_DIR/nginx.conf" -g "daemon off;")
}

# stack_app_install: the example protected application (deploy/app/) in
# DIR/app/api/, where the configurations serve /api/ from once mdauth has
# let a request through.  The server's user must be able to read it.
stack_app_install() {
	mkdir -p "$STACK_DIR/app/api" &&
		cp "$STACK_LIB_DIR/app/whoami.cgi" "$STACK_DIR/app/api/whoami.cgi" &&
		chmod 755 "$STACK_DIR/app" "$STACK_DIR/app/api" \
			"$STACK_DIR/app/api/whoami.cgi"
}

# stack_wait_port PORT PID NAME LOG: wait up to 10 s until something
# listens on PORT; fail early if PID exits, showing LOG.
stack_wait_port() {
	local i
	for i in $(seq 100); do
		stack_port_listening "$1" && return 0
		stack_proc_gone "$2" && break
		sleep 0.1
	done
	stack_log "$3 did not start listening on port $1; its log:"
	tail -n 20 "$4" >&2
	return 1
}

# stack_app_server_start: for nginx, which proxies to an HTTP application:
# a plain lighttpd on a free loopback port (STACK_APP_PORT) running the
# example application as CGI for every /api/ path.  It stands for the
# user's own application server, so its configuration is written here.
STACK_APP_PID=
stack_app_server_start() {
	local bin conf=$STACK_DIR/app-server.conf
	bin=$(stack_lighttpd_bin) || { stack_log "lighttpd not found"; return 1; }
	STACK_APP_PORT=$(stack_free_port) || return 1
	{
		printf 'server.modules = ("mod_cgi", "mod_rewrite")\n'
		printf 'server.document-root = "%s/app"\n' "$STACK_DIR"
		printf 'server.bind = "127.0.0.1"\nserver.port = %s\n' "$STACK_APP_PORT"
		printf 'server.errorlog = "%s/app-server-error.log"\n' "$STACK_DIR"
		printf 'url.rewrite-once = ("^/api/whoami\\.cgi(.*)$" => "/api/whoami.cgi$1",\n'
		printf '    "^/api/(.*)$" => "/api/whoami.cgi/$1")\n'
		printf 'cgi.assign = (".cgi" => "")\n'
	} >"$conf" || return 1
	setsid "$bin" -D -f "$conf" </dev/null \
		>>"$STACK_DIR/app-server-error.log" 2>&1 &
	STACK_APP_PID=$!
	printf '%s\n' "$STACK_APP_PID" >"$STACK_DIR/app-server.pid"
	stack_wait_port "$STACK_APP_PORT" "$STACK_APP_PID" "the application server" \
		"$STACK_DIR/app-server-error.log"
}

# stack_mdauthd_authz_start: for Apache, whose mod_authnz_fcgi speaks
# TCP only: a second mdauthd with the same configuration but listening on
# 127.0.0.1:STACK_AUTHZ_PORT (DIR/mdauthd-authz.conf, .log, .pid).
STACK_AUTHZ_PID=
stack_mdauthd_authz_start() {
	local conf=$STACK_DIR/mdauthd-authz.conf
	STACK_AUTHZ_PORT=$(stack_free_port) || return 1
	# It serves no logins: no login_listen, which the stack's has.
	awk -v l="listen = 127.0.0.1:$STACK_AUTHZ_PORT" \
		'/^listen = / { print l; next } /^login_listen = / { next }
		{ print }' \
		"$STACK_MDAUTHD_CONF" >"$conf" || return 1
	setsid "$MDAUTHD" -c "$conf" </dev/null \
		>>"$STACK_DIR/mdauthd-authz.log" 2>&1 &
	STACK_AUTHZ_PID=$!
	printf '%s\n' "$STACK_AUTHZ_PID" >"$STACK_DIR/mdauthd-authz.pid"
	stack_wait_port "$STACK_AUTHZ_PORT" "$STACK_AUTHZ_PID" \
		"the authorizer mdauthd" "$STACK_DIR/mdauthd-authz.log"
}

# stack_web_start: render the configuration of the server STACK_WEB names
# and start it on two free ports, HTTPS (STACK_HTTPS_PORT) and plain HTTP
# (STACK_HTTP_PORT), with what it needs beside it: the example
# application, and for nginx its application server, for Apache the
# authorizer daemon.  Ports recorded in DIR/ports are reused when still
# free.  Returns once the HTTPS port completes a TLS handshake with our
# certificate.
STACK_WEB_PID=
stack_web_start() {
	local web try i https http
	web=$(stack_web)
	case $web in
	lighttpd|apache|nginx) ;;
	*) stack_log "STACK_WEB: unknown web server '$web'"; return 1 ;;
	esac
	"stack_${web}_cmd" || { stack_log "$web not found"; return 1; }
	[ -f "$STACK_CERT" ] || stack_cert || return 1
	if [ -n "$STACK_WEB_PID" ] && ! stack_proc_gone "$STACK_WEB_PID"; then
		stack_log "the web server is already running (pid $STACK_WEB_PID)"
		return 1
	fi
	stack_app_install || return 1
	case $web in
	nginx)
		if [ -z "$STACK_APP_PID" ] || stack_proc_gone "$STACK_APP_PID"; then
			stack_app_server_start || return 1
		fi ;;
	apache)
		if [ -z "$STACK_AUTHZ_PID" ] || stack_proc_gone "$STACK_AUTHZ_PID"; then
			stack_mdauthd_authz_start || return 1
		fi ;;
	esac
	https=$STACK_HTTPS_PORT
	http=$STACK_HTTP_PORT
	for try in 1 2 3 4 5; do
		if [ -z "$https" ] || stack_port_listening "$https"; then
			https=$(stack_free_port) || return 1
		fi
		if [ -z "$http" ] || [ "$http" = "$https" ] || stack_port_listening "$http"; then
			http=$(stack_free_port "$https") || return 1
		fi
		"stack_${web}_render" "$https" "$http" || return 1
		if ! "${STACK_SERVER_CHECK[@]}" >"$STACK_DIR/$web-check.log" 2>&1; then
			stack_log "$web rejects its configuration:"
			cat "$STACK_DIR/$web-check.log" >&2
			return 1
		fi
		setsid "${STACK_SERVER_RUN[@]}" </dev/null \
			>>"$STACK_DIR/$web-stderr.log" 2>&1 &
		STACK_WEB_PID=$!
		printf '%s\n' "$STACK_WEB_PID" >"$STACK_DIR/web.pid"
		for i in $(seq 100); do
			stack_proc_gone "$STACK_WEB_PID" && break
			if curl -s -o /dev/null --max-time 2 --cacert "$STACK_CERT" \
				--resolve "localhost:$https:127.0.0.1" \
				"https://localhost:$https/"; then
				STACK_HTTPS_PORT=$https
				STACK_HTTP_PORT=$http
				printf 'STACK_HTTPS_PORT=%s\nSTACK_HTTP_PORT=%s\n' \
					"$https" "$http" >"$STACK_DIR/ports"
				return 0
			fi
			sleep 0.1
		done
		# Most likely another process took a port between our check and
		# the server's bind: try other ports.
		stack_web_stop_server
		https='' http=''
		stack_log "$web did not come up (try $try); its error log:"
		tail -n 5 "$STACK_DIR/$web-error.log" "$STACK_DIR/$web-stderr.log" >&2 2>/dev/null
	done
	return 1
}

stack_web_stop_server() {
	[ -n "$STACK_WEB_PID" ] || return 0
	stack_proc_stop "$STACK_WEB_PID" 10
	STACK_WEB_PID=
	rm -f "$STACK_DIR/web.pid"
}

# stack_web_stop: the web server and what stack_web_start started with it.
stack_web_stop() {
	stack_web_stop_server
	if [ -n "$STACK_APP_PID" ]; then
		stack_proc_stop "$STACK_APP_PID" 10
		STACK_APP_PID=
		rm -f "$STACK_DIR/app-server.pid"
	fi
	if [ -n "$STACK_AUTHZ_PID" ]; then
		stack_proc_stop "$STACK_AUTHZ_PID" 15
		STACK_AUTHZ_PID=
		rm -f "$STACK_DIR/mdauthd-authz.pid"
	fi
	return 0
}

# stack_start_all DIR [KEY=VALUE...]: the whole stack; the arguments
# override mdauthd.conf keys (see stack_mdauthd_config).
stack_start_all() {
	local dir=${1:?stack_start_all: state directory required}
	shift
	stack_init "$dir" &&
		stack_pg_start &&
		stack_mdauthd_config "$@" &&
		stack_db_setup &&
		stack_mdauthd_start &&
		stack_cert &&
		stack_web_start
}

# stack_stop_all: stop what runs, web server first so that no request
# arrives at a stopping daemon.  Safe to call twice.
stack_stop_all() {
	[ -n "$STACK_DIR" ] || return 0
	stack_web_stop
	stack_mdauthd_stop
	stack_pg_stop
	return 0
}

#!/bin/bash
# deploy/demo.sh -- run mdauth on this machine in one command.
#
#   deploy/demo.sh [start] [STATEDIR]   start (or show) the demo
#   deploy/demo.sh stop [STATEDIR]      stop it
#   deploy/demo.sh status [STATEDIR]    say what runs
#
# It starts, under STATEDIR (default /var/tmp/mdauth-demo, or
# $MDAUTH_DEMO_DIR): a private PostgreSQL on a Unix socket, migrated by
# mdauthctl; mdauthd; and lighttpd with a throwaway certificate on
# https://localhost:PORT/api/auth (a free port, kept for later starts).
# It creates the user `demo` (password `demo-password-123`) and prints curl
# lines to try.  The services keep running after this script returns.
#
# On a fresh checkout it first installs the Debian packages it needs
# (deploy/install-deps.sh) and builds the tree.  The binaries come from
# $MDAUTHD and $MDAUTHCTL, else from the build tree this script is in, else
# from PATH.  The migrations come from $MDAUTH_SQL_DIR, else ../sql next
# to this script.

set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=stack.sh
. "$here/stack.sh"

DEMO_USER=demo
DEMO_PASSWORD=demo-password-123

usage() {
	sed -n '3,6s/^# \{0,1\}//p' "$0" >&2
	exit 2
}

# find_binary NAME: $NAME's path, from the build tree or PATH.
find_binary() {
	if [ -x "$here/../$1" ]; then
		printf '%s\n' "$here/../$1"
	elif command -v "$1" >/dev/null 2>&1; then
		command -v "$1"
	else
		printf '%s: %s not found: build it (./configure && make) or set %s\n' \
			"$0" "$1" "$(printf '%s' "$1" | tr '[:lower:]' '[:upper:]')" >&2
		exit 1
	fi
}

# demo_build: on a fresh checkout, install the Debian packages and build
# the tree this script belongs to (once; later starts reuse the build).
demo_build() {
	local top=$here/..
	sh "$here/install-deps.sh" || exit 1
	[ -n "${MDAUTHD:-}" ] && return 0
	[ -f "$top/configure.ac" ] && [ ! -x "$top/mdauthd" ] || return 0
	echo "Building mdauth ..."
	(cd "$top" &&
		{ [ -x configure ] || autoreconf -fi; } &&
		{ [ -f Makefile ] || ./configure; } &&
		make) || exit 1
}

running() {
	[ -n "$1" ] && ! stack_proc_gone "$1"
}

print_usage_lines() {
	local url=https://localhost:$STACK_HTTPS_PORT/api/auth
	local ca=$STACK_CERT
	cat <<EOF

mdauth is running: $url
  state, logs and configuration: $STACK_DIR
  the demo user: $DEMO_USER / $DEMO_PASSWORD

Log in (prints a token):
  curl --cacert $ca -H 'Content-Type: application/json' \\
       -d '{"username":"$DEMO_USER","password":"$DEMO_PASSWORD","device":"my laptop"}' \\
       $url/login

Use the token:
  TOKEN=\$(curl -s --cacert $ca -H 'Content-Type: application/json' \\
       -d '{"username":"$DEMO_USER","password":"$DEMO_PASSWORD"}' $url/login \\
       | sed -n 's/.*"token" *: *"\\([^"]*\\)".*/\\1/p')
  curl --cacert $ca -H "Authorization: Bearer \$TOKEN" $url/validate
  curl --cacert $ca -X POST -H "Authorization: Bearer \$TOKEN" -H 'Content-Length: 0' $url/logout
  curl --cacert $ca $url/health

The rest of /api/ is protected by mdauth (the example application
deploy/app/whoami.cgi shows whom it was given):
  curl --cacert $ca -H "Authorization: Bearer \$TOKEN" \\
       https://localhost:$STACK_HTTPS_PORT/api/whoami.cgi

Plain HTTP is refused on purpose (403 tls_required):
  curl http://127.0.0.1:$STACK_HTTP_PORT/api/auth/validate

Sessions are rows in PostgreSQL:
  psql -h $STACK_PG_SOCKDIR -U postgres mdauth \\
       -c 'SELECT * FROM mdauth.sessions'

Stop it all:
  $0 stop $STACK_DIR
EOF
}

demo_start() {
	demo_build
	MDAUTHD=${MDAUTHD:-$(find_binary mdauthd)} || exit 1
	MDAUTHCTL=${MDAUTHCTL:-$(find_binary mdauthctl)} || exit 1
	export MDAUTHD MDAUTHCTL
	stack_init "$STATEDIR" || exit 1

	if running "$STACK_MDAUTHD_PID" && running "$STACK_WEB_PID" &&
		stack_pg_running; then
		echo "mdauth demo already running."
		print_usage_lines
		return 0
	fi
	# Something is half up: start cleanly.
	stack_stop_all

	echo "Starting PostgreSQL in $STACK_DIR ..."
	stack_pg_start || fail_start
	[ -f "$STACK_MDAUTHD_CONF" ] || stack_mdauthd_config || fail_start
	echo "Migrating the database ..."
	stack_db_setup || fail_start
	if [ "$(stack_psql -c "SELECT count(*) FROM mdauth.users
		WHERE username = '$DEMO_USER'")" = 0 ]; then
		echo "Creating the user $DEMO_USER ..."
		printf '%s\n' "$DEMO_PASSWORD" |
			"$MDAUTHCTL" -c "$STACK_MDAUTHD_CONF" -D "$(stack_admin_conninfo)" \
				user add "$DEMO_USER" --password-stdin || fail_start
	fi
	echo "Starting mdauthd ..."
	stack_mdauthd_start || fail_start
	stack_cert || fail_start
	echo "Starting lighttpd ..."
	stack_web_start || fail_start
	print_usage_lines
}

fail_start() {
	echo "$0: the demo did not start; stopping what did (logs in $STACK_DIR)" >&2
	stack_stop_all
	exit 1
}

demo_stop() {
	if [ ! -d "$STATEDIR" ]; then
		echo "no demo in $STATEDIR"
		return 0
	fi
	stack_init "$STATEDIR" || exit 1
	stack_stop_all
	echo "mdauth demo stopped (state kept in $STACK_DIR; remove it to start afresh)."
}

demo_status() {
	local what=0
	stack_init "$STATEDIR" || exit 1
	if running "$STACK_MDAUTHD_PID"; then
		echo "mdauthd: running (pid $STACK_MDAUTHD_PID)"
	else
		echo "mdauthd: stopped"
		what=1
	fi
	if running "$STACK_WEB_PID"; then
		echo "lighttpd: running (pid $STACK_WEB_PID), https://localhost:$STACK_HTTPS_PORT/api/auth"
	else
		echo "lighttpd: stopped"
		what=1
	fi
	if stack_pg_running; then
		echo "postgresql: running (socket in $STACK_PG_SOCKDIR)"
	else
		echo "postgresql: stopped"
		what=1
	fi
	return "$what"
}

command=start
case ${1:-} in
start | stop | status)
	command=$1
	shift
	;;
-h | --help) usage ;;
esac
[ $# -le 1 ] || usage
STATEDIR=${1:-${MDAUTH_DEMO_DIR:-/var/tmp/mdauth-demo}}

case $command in
start) demo_start ;;
stop) demo_stop ;;
status) demo_status ;;
esac

#!/bin/bash
# deploy/demo.sh -- run mdauth on this machine in one command.
#
#   deploy/demo.sh [start] [STATEDIR]   start (or show) the demo
#   deploy/demo.sh stop [STATEDIR]      stop it
#   deploy/demo.sh status [STATEDIR]    say what runs
#
# Run it as root.  It starts, under STATEDIR (default /var/lib/mdauth-demo,
# or $MDAUTH_DEMO_DIR): a private PostgreSQL on a Unix socket, migrated by
# mdauthctl; mdauthd, running as the system user `mdauth` (created if
# missing); and lighttpd with a throwaway certificate on
# https://localhost:PORT/api/auth (a free port, kept for later starts).
# It creates the user `demo` (password `demo-password-123`) and prints curl
# lines to try.  The services keep running after this script returns.
#
# Nothing in STATEDIR can be turned against the machine: the directory is
# created root-owned (mode 0711: the postgres and mdauth users may reach
# their own subdirectories, nobody else may list or add anything), an
# existing one that is a symbolic link, not owned by root or writable by
# group or others is refused, and its state files are parsed as numbers,
# never sourced.  Its PostgreSQL accepts only peer connections, on a
# socket directory that only root, postgres and the group mdauth reach:
# root may connect as the superuser postgres, mdauthd only as its own role
# mdauth.
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
# The system user mdauthd runs as, and its PostgreSQL role.
STACK_RUN_USER=mdauth
export STACK_RUN_USER

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

# refuse DIR WHY: stop on a state directory that is not safe to use.
refuse() {
	printf '%s: refusing the state directory %s: %s\n' "$0" "$1" "$2" >&2
	printf '%s: it must be a directory owned by root and writable by root only; remove it or choose another (MDAUTH_DEMO_DIR)\n' "$0" >&2
	exit 1
}

# demo_state_dir DIR [create]: check that DIR and every directory above
# it belong to root alone before anything in DIR is read; with "create",
# make it (mode 0711) when it does not exist.
demo_state_dir() {
	local dir=$1 parent p owner mode
	parent=$(cd -P -- "$(dirname -- "$dir")" 2>/dev/null && pwd) ||
		refuse "$dir" "$(dirname -- "$dir") does not exist"
	# Whoever may rename entries in a directory above DIR could swap DIR
	# (or a directory between) for their own after the check: each must
	# be root's and writable by root only, or sticky (/tmp, /var/tmp).
	p=$parent
	while :; do
		owner=$(stat -c %u -- "$p") mode=$(stat -c %a -- "$p")
		[ "$owner" = 0 ] || refuse "$dir" "$p is owned by uid $owner, not by root"
		if [ $((8#$mode & 8#022)) -ne 0 ] && [ $((8#$mode & 8#1000)) -eq 0 ]; then
			refuse "$dir" "$p is writable by others and not sticky (mode $mode)"
		fi
		[ "$p" != / ] || break
		p=$(dirname -- "$p")
	done
	dir=$parent/$(basename -- "$dir")
	if [ "${2:-}" = create ] && [ ! -e "$dir" ] && [ ! -L "$dir" ]; then
		mkdir -m 0711 -- "$dir" || refuse "$dir" "cannot create it"
	fi
	if [ -L "$dir" ]; then
		refuse "$dir" "it is a symbolic link"
	elif [ ! -d "$dir" ]; then
		refuse "$dir" "it is not a directory"
	fi
	owner=$(stat -c %u -- "$dir") mode=$(stat -c %a -- "$dir")
	[ "$owner" = 0 ] || refuse "$dir" "it is owned by uid $owner, not by root"
	[ $((8#$mode & 8#022)) -eq 0 ] ||
		refuse "$dir" "it is writable by group or others (mode $mode)"
	# From here on, the path that was checked.
	STATEDIR=$dir
}

# demo_system_user: the system user and group mdauthd runs as.
demo_system_user() {
	getent passwd "$STACK_RUN_USER" >/dev/null && return 0
	echo "Creating the system user $STACK_RUN_USER ..."
	if getent group "$STACK_RUN_USER" >/dev/null; then
		set -- -g "$STACK_RUN_USER"
	else
		set -- --user-group
	fi
	useradd --system "$@" --home-dir /nonexistent --no-create-home \
		--shell /usr/sbin/nologin "$STACK_RUN_USER"
}

running() {
	[ -n "$1" ] && ! stack_proc_gone "$1"
}

# print_usage_lines: what to try, as lines to paste into a shell (the
# paths quoted for it).
print_usage_lines() {
	local url=https://localhost:$STACK_HTTPS_PORT/api/auth ca sockdir dir demo
	ca=$(printf '%q' "$STACK_CERT")
	sockdir=$(printf '%q' "$STACK_PG_SOCKDIR")
	dir=$(printf '%q' "$STACK_DIR")
	demo=$(printf '%q' "$here/demo.sh")
	cat <<EOF

mdauth is running: $url
  state, logs and configuration: $dir
  the demo user: $DEMO_USER / $DEMO_PASSWORD

Log in (prints the token and its session):
  curl --cacert $ca -H 'Content-Type: application/json' \\
       -d '{"username":"$DEMO_USER","password":"$DEMO_PASSWORD","device":"my laptop"}' \\
       $url/login

Log in, use the token, log out (paste these lines as they are):
  TOKEN=\$(curl -s --cacert $ca -H 'Content-Type: application/json' \\
       -d '{"username":"$DEMO_USER","password":"$DEMO_PASSWORD"}' $url/login \\
       | sed -n 's/.*"token" *: *"\\([^"]*\\)".*/\\1/p')
  curl -i --cacert $ca -H "Authorization: Bearer \$TOKEN" $url/validate
  # The rest of /api/ is protected by mdauth: an example application
  # (deploy/app/whoami.cgi) shows whom it was given
  curl --cacert $ca -H "Authorization: Bearer \$TOKEN" https://localhost:$STACK_HTTPS_PORT/api/whoami.cgi
  # A POST without a body still needs Content-Length: 0 (lighttpd answers 411 without it)
  curl -i --cacert $ca -X POST -H "Authorization: Bearer \$TOKEN" -H 'Content-Length: 0' $url/logout
  curl -i --cacert $ca -H "Authorization: Bearer \$TOKEN" $url/validate

Is it up, and is its database?
  curl --cacert $ca $url/health

Plain HTTP is refused on purpose (403 tls_required):
  curl http://127.0.0.1:$STACK_HTTP_PORT/api/auth/validate

Sessions are rows in PostgreSQL (as root; the demo's PostgreSQL accepts
only peer connections: root may be its superuser postgres):
  psql -h $sockdir -U postgres mdauth \\
       -c 'SELECT * FROM mdauth.sessions'

Stop it all:
  bash $demo stop $dir
EOF
}

demo_start() {
	demo_state_dir "$STATEDIR" create
	demo_build
	demo_system_user || exit 1
	# What the demo writes from here on is for root alone unless made
	# otherwise (the sockets' directories, mdauthd.conf, the web root).
	umask 077
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
	# Logins on a socket of their own (login_listen), beside the other,
	# where lighttpd sends them: a login flood cannot starve validate.
	[ -f "$STACK_MDAUTHD_CONF" ] || stack_mdauthd_config \
		"login_listen=$(dirname "$STACK_MDAUTHD_SOCKET")/login.sock" ||
		fail_start
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
	if [ ! -e "$STATEDIR" ] && [ ! -L "$STATEDIR" ]; then
		echo "no demo in $STATEDIR"
		return 0
	fi
	demo_state_dir "$STATEDIR"
	stack_init "$STATEDIR" || exit 1
	stack_stop_all
	echo "mdauth demo stopped (state kept in $STACK_DIR; remove it to start afresh)."
}

demo_status() {
	local what=0
	if [ ! -e "$STATEDIR" ] && [ ! -L "$STATEDIR" ]; then
		echo "no demo in $STATEDIR"
		return 1
	fi
	demo_state_dir "$STATEDIR"
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
STATEDIR=${1:-${MDAUTH_DEMO_DIR:-/var/lib/mdauth-demo}}
case $STATEDIR in
/*) ;;
*) STATEDIR=$PWD/$STATEDIR ;;
esac
if [ "$(id -u)" -ne 0 ]; then
	echo "$0: run it as root: it installs packages, creates the system user $STACK_RUN_USER and runs PostgreSQL as postgres" >&2
	exit 1
fi

case $command in
start) demo_start ;;
stop) demo_stop ;;
status) demo_status ;;
esac

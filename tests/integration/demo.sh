#!/bin/bash
# deploy/demo.sh as a new user runs it, as root: it refuses a state
# directory that someone else could have planted or can write, and runs
# nothing from the state files it finds; it starts PostgreSQL (peer
# connections only, on a socket directory for root, postgres and mdauth),
# mdauthd as the system user mdauth and lighttpd with TLS; the lines it
# prints work when pasted as they are; status and stop do what they say.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || skip_all "the demo runs as root"
h_need_fixtures
command -v runuser >/dev/null 2>&1 || skip_all "runuser not installed"
id nobody >/dev/null 2>&1 || skip_all "no user nobody to own a planted directory"

DEMO=$top_srcdir/deploy/demo.sh
MDAUTHD=$top_builddir/mdauthd MDAUTHCTL=$top_builddir/mdauthctl
export MDAUTHD MDAUTHCTL

work=$(mktemp -d "${TMPDIR:-/tmp}/mdauth-demo-test.XXXXXX") || bail "mktemp failed"
chmod 0755 "$work"
started=
# The demo creates the system user mdauth when it is missing; a test that
# made it removes it, so that the machine (and the package test after
# this suite, whose postinst creates it) is as it was.
had_user=$(getent passwd mdauth)
had_group=$(getent group mdauth)
cleanup() {
	local rc=$?
	[ -z "$started" ] || bash "$DEMO" stop "$started" >/dev/null 2>&1
	[ -n "$had_user" ] || userdel mdauth 2>/dev/null
	[ -n "$had_group" ] || groupdel mdauth 2>/dev/null
	if [ "$T_FAILED" -eq 0 ] && [ "$rc" -eq 0 ]; then
		rm -rf "$work"
	else
		printf '==== state kept in %s\n' "$work" >&2
	fi
}
trap cleanup EXIT

# plant DIR MARK: state files in DIR that would run `touch MARK*` if they
# were sourced or executed.
plant() {
	printf 'STACK_HTTPS_PORT=1; touch %s.1\ntouch %s.2\nSTACK_HTTP_PORT=$(touch %s.3)\n' \
		"$2" "$2" "$2" >"$1/ports"
	printf '$(touch %s.4)\n' "$2" >"$1/mdauthd.pid"
	printf '1; touch %s.5\n' "$2" >"$1/web.pid"
}

# marks MARK: the files a planted state file made (none expected).
marks() {
	ls "$1".* 2>/dev/null
}

# refused NAME DIR WHY-ERE [COMMAND]: the demo (start, or COMMAND) exits
# non-zero naming the directory and why, runs nothing from it and starts
# no PostgreSQL in it.
refused() {
	local out rc mark=$work/pwned-$1
	out=$(bash "$DEMO" "${4:-start}" "$2" 2>&1)
	rc=$?
	isnt "$rc" 0 "$1: demo ${4:-start} refuses the directory"
	like "$out" "refusing the state directory .*: $3" "$1: the message says why"
	is "$(marks "$mark")" "" "$1: nothing in its state files was run"
	ok "$1: no PostgreSQL cluster was made in it" test ! -e "$2/pg"
}

# A directory owned by another user, with state files that would run
# commands.
d=$work/owned-by-nobody
mkdir "$d" && plant "$d" "$work/pwned-nobody" && chown -R nobody "$d" ||
	bail "cannot plant $d"
refused nobody "$d" "it is owned by uid [0-9]+, not by root"
refused nobody "$d" "it is owned by uid" status
refused nobody "$d" "it is owned by uid" stop

# Root's, but anyone may write into it.
d=$work/world-writable
mkdir "$d" && chmod 1777 "$d" && plant "$d" "$work/pwned-writable" ||
	bail "cannot plant $d"
refused writable "$d" "it is writable by group or others \(mode 1777\)"

# A symbolic link to a directory that passes every other check.
mkdir -m 0700 "$work/target" && ln -s "$work/target" "$work/link" ||
	bail "cannot make the link"
plant "$work/target" "$work/pwned-link"
refused link "$work/link" "it is a symbolic link"

# In a directory where others may rename entries (world-writable, not
# sticky), a checked directory can be swapped after the check.
mkdir "$work/open" && chmod 0777 "$work/open" && mkdir -m 0700 "$work/open/demo" ||
	bail "cannot make $work/open"
plant "$work/open/demo" "$work/pwned-open"
refused open "$work/open/demo" "$work/open is writable by others and not sticky \(mode 777\)"

# Below a directory of another user's (even two levels up), who could
# swap what lies below it.
mkdir -p "$work/theirs/sub/demo" && chown nobody "$work/theirs" && chmod 0700 "$work/theirs/sub/demo" ||
	bail "cannot make $work/theirs"
plant "$work/theirs/sub/demo" "$work/pwned-theirs"
refused theirs "$work/theirs/sub/demo" "$work/theirs is owned by uid [0-9]+, not by root"

# A symbolic link on the way is followed before the checks: the real
# path is what must be root's.
ln -s "$work/theirs/sub" "$work/via-link" || bail "cannot make $work/via-link"
refused via-link "$work/via-link/demo" "$work/theirs is owned by uid [0-9]+, not by root"

# A root-owned 0700 directory is accepted, and its state files are read as
# data: the hostile lines are ignored, nothing runs.
d=$work/root-owned
mkdir -m 0700 "$d" && plant "$d" "$work/pwned-parsed" || bail "cannot plant $d"
# A stale pid file (left from before a reboot, say) naming a process that
# is not the demo's, and one naming init: neither may be signalled.
setsid sleep 300 </dev/null >/dev/null 2>&1 &
stranger=$!
printf '%s\n' "$stranger" >"$d/web.pid"
printf '1\n' >"$d/app-server.pid"
out=$(bash "$DEMO" status "$d" 2>&1)
rc=$?
is "$rc" 1 "a root-owned directory is accepted: status says nothing runs (exit 1)"
like "$out" "mdauthd: stopped" "status: mdauthd stopped"
like "$out" "ignoring .*/ports \(STACK_HTTPS_PORT\): not a number" \
	"a ports line that is not a number is ignored, with a message"
like "$out" "ignoring .*/mdauthd.pid: not a number" "a pid file that is not a number is ignored"
is "$(marks "$work/pwned-parsed")" "" "nothing in the state files was run by status"

# Start it for real in that directory.
started=$d
out=$(bash "$DEMO" start "$d" 2>&1)
rc=$?
is "$rc" 0 "the demo starts" || diag "$out"
is "$(marks "$work/pwned-parsed")" "" "nothing in the state files was run by start"
ok "a stale pid file naming another process: that process was not signalled" \
	kill -0 "$stranger"
kill "$stranger" 2>/dev/null
is "$(stat -c '%U %a' "$d")" "root 711" \
	"the directory stays root's, searchable by postgres and mdauth (0711)"
pg_sock=$d/pgrun
is "$(stat -c '%U:%G %a' "$pg_sock")" "postgres:mdauth 750" \
	"PostgreSQL's socket directory: postgres:mdauth 0750"
is "$(grep -v '^[[:space:]]*\(#\|$\)' "$d/pg/pg_hba.conf")" "local all all peer map=stack" \
	"pg_hba.conf: peer authentication only, on the local socket"
master=$(cat "$d/mdauthd.pid")
users=$(ps -o user= -p "$master" --ppid "$master" | sort -u | tr -d ' ')
is "$users" mdauth "mdauthd's master and workers run as the system user mdauth"
is "$(stat -c '%G %a' "$d/mdauthd.conf")" "mdauth 640" "mdauthd.conf: group mdauth, mode 0640"

# as USER PSQL-ARGS: psql over the demo's socket as a system user.
as() {
	local u=$1
	shift
	(cd / && runuser -u "$u" -- psql -X -At -h "$pg_sock" -d mdauth "$@" -c 'SELECT 1' 2>&1)
}
unlike "$(as nobody -U postgres)" '^1$' "another local user cannot reach PostgreSQL"
unlike "$(as mdauth -U postgres)" '^1$' "mdauth cannot connect as the superuser"
is "$(as mdauth -U mdauth)" 1 "mdauth connects as its own role (peer)"
is "$(psql -X -At -h "$pg_sock" -U postgres -d mdauth \
	-c 'SELECT rolsuper FROM pg_roles WHERE rolname = current_user' 2>&1)" t \
	"root connects as the superuser postgres (peer, mapped)"

# The lines the demo printed, pasted into a shell as they are.
paste=$(printf '%s\n' "$out" | sed -n '/paste these lines as they are/,/^$/{/paste these/d;s/^  //;p;}')
like "$paste" 'TOKEN=' "the demo prints lines to paste"
got=$(cd / && printf '%s\n' "$paste" | bash 2>/dev/null)
statuses=$(printf '%s\n' "$got" | sed -n 's/^HTTP\/[0-9.]* \([0-9]*\).*/\1/p' | tr '\n' ' ')
is "$statuses" "200 200 401 " "pasted: validate 200, logout 200, validate again 401"
like "$got" '"username":"demo"' "pasted: validate names the demo user"
like "$got" 'user=demo' "pasted: the protected application sees the demo user"
like "$got" '"status":"logged_out"' "pasted: logout answers logged_out"
like "$got" 'error="invalid_token"' "pasted: the revoked token is refused as invalid_token"

line=$(printf '%s\n' "$out" | sed -n '/^Log in (prints/,/^$/{/^Log in/d;s/^  //;p;}')
like "$(cd / && printf '%s\n' "$line" | bash 2>/dev/null)" '"token":"mda_' \
	"pasted: the login line prints a token"
like "$(cat "$d/mdauthd.log")" "logins on $d/run/login.sock too, by [0-9]* workers" \
	"the demo serves logins on a socket of their own (login_listen)"
served=$(grep 'info: POST /login 200' "$d/mdauthd.log" | tail -n 1 |
	sed -n 's/.*mdauthd\[\([0-9]*\)\].*/\1/p')
inode=$(awk -v p="$d/run/login.sock" '$NF == p && $6 == "01" { print $7; exit }' /proc/net/unix)
f_holds() { [ -n "$1" ] && [ -n "$2" ] && ls -l "/proc/$1/fd" 2>/dev/null | grep -q "socket:\[$2\]"; }
ok "... where lighttpd sent the pasted login (worker $served holds that socket)" \
	f_holds "$served" "$inode"

out=$(bash "$DEMO" start "$d" 2>&1)
is "$?" 0 "starting it again while it runs succeeds"
like "$out" "already running" "... and says it is already running"
out=$(bash "$DEMO" status "$d" 2>&1)
is "$?" 0 "status: exit 0 while everything runs"
like "$out" "mdauthd: running" "status: mdauthd running"

out=$(bash "$DEMO" stop "$d" 2>&1)
is "$?" 0 "stop succeeds"
started=
ok "stop: mdauthd is gone" stack_proc_gone "$master"
ok "stop: PostgreSQL is gone" test ! -e "$d/pg/postmaster.pid"
out=$(bash "$DEMO" status "$d" 2>&1)
is "$?" 1 "status after stop: exit 1"

done_testing

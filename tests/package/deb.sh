#!/bin/bash
# tests/package/deb.sh -- the Debian package from end to end, on this
# machine: build it from a copy of the distributed sources
# (make distdir, then dpkg-buildpackage -us -uc -b), check it with
# lintian, install it with apt-get, set up a throwaway PostgreSQL cluster
# with the commands of the installed README.Debian (as user postgres, under
# peer authentication like Debian's default pg_hba.conf), start
# /usr/sbin/mdauthd with the packaged /etc/mdauth/mdauth.conf edited as an
# operator would, log in through lighttpd with TLS (the packaged lighttpd
# configuration), then purge the package and show that nothing it had is
# left: only the system user and group mdauth stay, as Debian keeps them.
#
#   bash tests/package/deb.sh       as root, from a configured source tree
#
# Prints TAP on stdout (the plan last), diagnostics on stderr; exits 0
# when every test passed.  Not part of "make check": it installs a
# package into the machine, so it runs once (tests/run.sh).  It refuses
# to run (Bail out!) when mdauth is installed, or was and left its
# configuration, or when a file of the package exists already: purging
# at the end would remove what the operator had.  Whatever happens, the
# EXIT trap stops what was started and purges the package it installed;
# the user and group mdauth are removed too when this script's install
# created them.
#
# Environment: top_builddir (the configured tree that "make distdir" runs
# in; default: the source tree holding this file), MDAUTH_REQUIRE_FIXTURES
# (a missing tool is an error, not a skip), MDAUTH_KEEP_TEST_DIR.
# Needs: dpkg-dev, debhelper, lintian, apt, the build dependencies of
# debian/control, and what the integration tests use (PostgreSQL,
# lighttpd with mod_openssl, curl, jq, openssl).

# shellcheck disable=SC2034  # globals read by lib.sh and stack.sh
top_srcdir=$(cd "$(dirname "$0")/../.." && pwd) || exit 99
: "${top_builddir:=$top_srcdir}"
# shellcheck source=../integration/lib.sh
. "$top_srcdir/tests/integration/lib.sh"

PKG=mdauth
MDAUTHD=/usr/sbin/mdauthd
MDAUTHCTL=/usr/sbin/mdauthctl
MDAUTH_SQL_DIR=/usr/share/mdauth/sql
CONF=/etc/mdauth/mdauth.conf
STACK_WEB=lighttpd
export DEBIAN_FRONTEND=noninteractive

# ---------------------------------------------------------------------------
# Preconditions: root, the tools, and nothing of mdauth on the machine.

[ "$(id -u)" -eq 0 ] || skip_all "installs a package: run as root"
for cmd in dpkg-buildpackage dh lintian apt-get setpriv curl jq openssl psql ss setsid; do
	command -v "$cmd" >/dev/null 2>&1 || skip_all "$cmd not installed"
done
stack_pg_bindir >/dev/null || skip_all "PostgreSQL server (initdb) not installed"
stack_lighttpd_bin >/dev/null || skip_all "lighttpd not installed"
ls /usr/lib*/lighttpd/mod_openssl.so >/dev/null 2>&1 ||
	skip_all "lighttpd mod_openssl not installed (lighttpd-mod-openssl)"
id postgres >/dev/null 2>&1 || skip_all "no postgres system user to run PostgreSQL"
[ -f "$top_builddir/Makefile" ] ||
	bail "$top_builddir is not configured: run ./configure first (make distdir needs it)"

# deb_status: dpkg's status of the package, "not-installed" when unknown.
deb_status() {
	local s
	s=$(dpkg-query -W -f='${db:Status-Status}' "$PKG" 2>/dev/null)
	printf '%s\n' "${s:-not-installed}"
}
st=$(deb_status)
if [ "$st" != not-installed ]; then
	printf '%s: package %s is %s on this machine: not touching it\n' "$0" "$PKG" "$st" >&2
	bail "package $PKG is already $st here; this test would purge it (remove it first, keeping what you need)"
fi
USER_EXISTED=0
getent passwd mdauth >/dev/null && USER_EXISTED=1
GROUP_EXISTED=0
getent group mdauth >/dev/null && GROUP_EXISTED=1
# What belongs to mdauth before the install (say, a demo running from
# deploy/demo.sh, whose daemon is that user's too) is not the package's:
# the checks after the purge compare with these.
# mdauth_files, mdauth_procs: files of user or group mdauth, processes of
# user mdauth, one a line, sorted.
mdauth_files() {
	find /etc /usr /var /run /lib /opt /srv -xdev \( -user mdauth -o -group mdauth \) \
		-print 2>/dev/null | grep -v "^${H_DIR:-/nonexistent}/" | LC_ALL=C sort
}
mdauth_procs() {
	pgrep -u mdauth 2>/dev/null | LC_ALL=C sort
}
FILES_BEFORE=
PROCS_BEFORE=
if [ "$USER_EXISTED" = 1 ] || [ "$GROUP_EXISTED" = 1 ]; then
	FILES_BEFORE=$(mdauth_files)
	PROCS_BEFORE=$(mdauth_procs)
fi

# ---------------------------------------------------------------------------
# Cleanup, on any exit: stop the stack, purge what this script installed,
# remove the user and group if the install created them.  lib.sh's
# h_teardown then keeps the directory and shows the logs when a test
# failed, and removes it otherwise.

DEB_INSTALLING=0
# shellcheck disable=SC2317  # called from the EXIT trap
deb_cleanup() {
	stack_stop_all
	if [ "$DEB_INSTALLING" = 1 ] && [ "$(deb_status)" != not-installed ]; then
		printf '%s: cleanup: purging %s\n' "$0" "$PKG" >&2
		apt-get purge -y -q "$PKG" >"$H_DIR/cleanup-purge.log" 2>&1 ||
			dpkg --purge --force-remove-reinstreq "$PKG" >>"$H_DIR/cleanup-purge.log" 2>&1 ||
			printf '%s: cleanup: could not purge %s: see %s\n' "$0" "$PKG" \
				"$H_DIR/cleanup-purge.log" >&2
	fi
	if [ "$DEB_INSTALLING" = 1 ]; then
		[ "$USER_EXISTED" = 1 ] || ! getent passwd mdauth >/dev/null ||
			userdel mdauth >&2
		[ "$GROUP_EXISTED" = 1 ] || ! getent group mdauth >/dev/null ||
			groupdel mdauth >&2
	fi
}

H_DIR=$(mktemp -d "${TMPDIR:-/tmp}/mdauth-deb.XXXXXX") || bail "mktemp failed"
# Readable by _apt (apt-get install ./FILE) and postgres (the cluster).
chmod 0755 "$H_DIR"
h_on_teardown deb_cleanup
trap h_teardown EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# tail_log FILE: the end of FILE, for a diagnostic.
tail_log() {
	printf '(end of %s)\n' "$1"
	tail -n 25 "$1" 2>/dev/null
}

# ---------------------------------------------------------------------------
# Build from a copy of the distributed sources: the tree here is
# configured in place, and a package is built from sources as released.

t_start=$(date +%s)
src=$H_DIR/build/$PKG-src
mkdir -p "$H_DIR/build"
if make -C "$top_builddir" distdir distdir="$src" >"$H_DIR/distdir.log" 2>&1; then
	pass "make distdir copies the sources, debian/ included"
else
	fail "make distdir copies the sources, debian/ included" "$(tail_log "$H_DIR/distdir.log")"
	done_testing
fi
if (cd "$src" && dpkg-buildpackage -us -uc -b) >"$H_DIR/build.log" 2>&1; then
	pass "dpkg-buildpackage -us -uc -b builds the package"
else
	fail "dpkg-buildpackage -us -uc -b builds the package" "$(tail_log "$H_DIR/build.log")"
	done_testing
fi
diag "built in $(($(date +%s) - t_start)) s"

debs=("$H_DIR"/build/"$PKG"_*.deb)
changes=("$H_DIR"/build/"$PKG"_*.changes)
if [ ${#debs[@]} -ne 1 ] || [ ! -f "${debs[0]}" ] || [ ! -f "${changes[0]}" ]; then
	bail "expected one ${PKG}_*.deb and its .changes in $H_DIR/build: $(ls "$H_DIR/build")"
fi
deb=${debs[0]}

# Every non-directory the package holds must be absent now: it would be
# the operator's, and the purge at the end would take it.
dpkg-deb --fsys-tarfile "$deb" | tar -tf - | sed -n 's|^\./|/|p' |
	grep -v '/$' >"$H_DIR/deb-files"
while IFS= read -r f; do
	if [ -e "$f" ] || [ -L "$f" ]; then
		bail "$f exists already (not from the package): this test would install over it and purge it"
	fi
done <"$H_DIR/deb-files"

# lintian on the .changes (the binary packages and the build).  An error
# fails; warnings and information are shown.
lintian --display-info "${changes[0]}" >"$H_DIR/lintian.out" 2>"$H_DIR/lintian.err"
lintian_rc=$?
if [ "$lintian_rc" -le 1 ] && ! grep -q '^E: ' "$H_DIR/lintian.out"; then
	pass "lintian reports no error"
else
	fail "lintian reports no error" "exit $lintian_rc" "$(grep -v '^N:' "$H_DIR/lintian.out")" \
		"$(cat "$H_DIR/lintian.err")"
fi
if grep -q '^[WI]: ' "$H_DIR/lintian.out"; then
	diag "lintian's warnings and information:" "$(grep '^[WI]: ' "$H_DIR/lintian.out")"
fi

# ---------------------------------------------------------------------------
# Install

DEB_INSTALLING=1
if (cd "$H_DIR/build" && apt-get install -y -q --no-install-recommends "./$(basename "$deb")") \
	>"$H_DIR/install.log" 2>&1; then
	pass "apt-get install ./$(basename "$deb") installs the package"
else
	fail "apt-get install ./$(basename "$deb") installs the package" "$(tail_log "$H_DIR/install.log")"
	done_testing
fi
is "$(deb_status)" installed "dpkg: $PKG is installed"

ok "mdauthd and mdauthctl are in /usr/sbin and run" \
	sh -c "$MDAUTHD -V && $MDAUTHCTL -V"
is "$(cd "$MDAUTH_SQL_DIR" && ls)" "$(cd "$top_srcdir/sql" && ls -- *.sql)" \
	"the migrations are in $MDAUTH_SQL_DIR"
for f in lighttpd/mdauth-lighttpd.conf.in apache/mdauth-apache.conf.in \
	nginx/mdauth-nginx.conf.in app/whoami.cgi; do
	ok "/usr/share/mdauth/$f is installed" cmp "$top_srcdir/deploy/$f" "/usr/share/mdauth/$f"
done
for u in mdauthd.service mdauthd.socket mdauth-prune.service mdauth-prune.timer; do
	ok "systemd unit $u is installed" test -f "/lib/systemd/system/$u"
done
for m in mdauthd.8 mdauthctl.8 mdauth.conf.5 mdauth.7; do
	if [ -f "$top_srcdir/doc/man/$m" ]; then
		ok "man page $m is installed" test -f "/usr/share/man/man${m##*.}/$m.gz"
	else
		skip "man page $m is installed" "doc/man/$m is not in this source tree"
	fi
done
is "$(find /etc/systemd/system -name 'mdauth*' 2>/dev/null)" "" \
	"no unit is enabled at install (the database comes first)"
ok "the cron job is off until the operator turns it on" \
	sh -c "! grep -v '^#' /etc/cron.d/mdauth-prune | grep -q ' mdauthctl '"

# The system user and group.
pw=$(getent passwd mdauth)
[ "$USER_EXISTED" = 0 ] || diag "the user mdauth existed before the install"
like "$pw" '^mdauth:x:[0-9]+:[0-9]+:[^:]*:/nonexistent:/usr/sbin/nologin$' \
	"the system user mdauth exists, without home or shell"
uid=$(printf '%s' "$pw" | cut -d: -f3)
if [ -n "$uid" ] && [ "$uid" -lt 1000 ]; then
	pass "mdauth's uid ($uid) is a system uid"
else
	fail "mdauth's uid ($uid) is a system uid"
fi
is "$(id -gn mdauth 2>/dev/null)" mdauth "mdauth's primary group is mdauth"

# The configuration: a conffile, root:mdauth 0640 through dpkg-statoverride.
like "$(dpkg-query -W -f='${Conffiles}' "$PKG")" " $CONF [0-9a-f]{32}" \
	"$CONF is a conffile"
is "$(stat -c '%U:%G %a' "$CONF")" "root:mdauth 640" "$CONF is root:mdauth 0640"
is "$(dpkg-statoverride --list "$CONF")" "root mdauth 640 $CONF" \
	"the ownership is a dpkg-statoverride (kept across upgrades)"
ok "user mdauth can read it: mdauthd -t as mdauth accepts it" \
	setpriv --reuid=mdauth --regid=mdauth --init-groups "$MDAUTHD" -t -c "$CONF"
ok "another user cannot read it" \
	sh -c "! setpriv --reuid=nobody --regid=nogroup --clear-groups cat $CONF"

# ---------------------------------------------------------------------------
# The database, with the commands of the installed README.Debian, as
# postgres over the local socket with peer authentication only (Debian's
# default pg_hba.conf for local connections).

STACK_PG_FSYNC=off
# The daemon runs as mdauth (deploy/stack.sh: its socket in DIR/run, the
# cluster's socket directory open to the group mdauth).
STACK_RUN_USER=mdauth
{ stack_init "$H_DIR" && stack_pg_start; } || bail "PostgreSQL did not start"
{ printf 'local all all peer\n' >"$STACK_PG_DATA/pg_hba.conf" &&
	stack_as_pg "$(stack_pg_bindir)/pg_ctl" -D "$STACK_PG_DATA" reload >/dev/null; } ||
	bail "cannot set peer authentication"
sleep 0.5

# as_postgres COMMAND...: as the postgres user, libpq aimed at the cluster.
as_postgres() {
	stack_as_pg env PGHOST="$STACK_PG_SOCKDIR" "$@"
}
pg_sql() {
	as_postgres psql -X -q -At -v ON_ERROR_STOP=1 -d mdauth -c "$1"
}

# Step 1 of README.Debian: the "runuser -u postgres -- ..." lines before "A
# first user" (that one prompts for a password; it is done below with
# --password-stdin).
zcat /usr/share/doc/$PKG/README.Debian.gz >"$H_DIR/README.Debian" ||
	bail "README.Debian is not installed"
sed -n '/^1\. The database/,/A first user/s/^ *runuser -u postgres -- //p' \
	"$H_DIR/README.Debian" >"$H_DIR/setup-commands"
is "$(cut -d' ' -f1 "$H_DIR/setup-commands" | tr '\n' ' ')" \
	"createdb mdauthctl createuser psql " "README.Debian: four commands set up the database"
while IFS= read -r cmd; do
	if eval "as_postgres $cmd" >"$H_DIR/setup.log" 2>&1; then
		pass "README.Debian, as postgres: $cmd"
	else
		fail "README.Debian, as postgres: $cmd" "$(cat "$H_DIR/setup.log")"
	fi
done <"$H_DIR/setup-commands"
is "$(pg_sql 'SELECT name FROM mdauth.schema_migrations ORDER BY version')" \
	"$(cd "$MDAUTH_SQL_DIR" && ls)" "mdauthctl migrate applied every migration of $MDAUTH_SQL_DIR"
is "$(pg_sql "SELECT pg_has_role('mdauth', 'mdauth_app', 'MEMBER')")" t \
	"the role mdauth is a member of mdauth_app"
printf '%s\n' 'correct horse battery' |
	as_postgres "$MDAUTHCTL" -D dbname=mdauth user add alice --password-stdin \
	>"$H_DIR/user-add.log" 2>&1 ||
	bail "mdauthctl user add alice failed: $(cat "$H_DIR/user-add.log")"

# ---------------------------------------------------------------------------
# The daemon, with the packaged configuration edited in place: the
# socket where the web server looks, the test cluster's socket, and (no
# systemd here) started as root, dropping to mdauth.  Its workers connect
# as OS user mdauth, so peer authentication lets them in as role mdauth.
# lighttpd runs as www-data: the socket is in a directory that only mdauth
# and the group www-data may enter (as /run/mdauth is with the packaged
# units), and open to whoever enters it: stack_mdauthd_start makes
# DIR/run so (STACK_RUN_USER, set above).

cat >>"$CONF" <<EOF

# Set by tests/package/deb.sh.
listen = $STACK_MDAUTHD_SOCKET
listen_mode = 0666
user = mdauth
group = mdauth
database = host=$STACK_PG_SOCKDIR dbname=mdauth user=mdauth
workers = 2
log_level = debug
EOF
STACK_MDAUTHD_CONF=$CONF
if stack_mdauthd_start; then
	pass "/usr/sbin/mdauthd starts with $CONF"
else
	fail "/usr/sbin/mdauthd starts with $CONF" "$(tail_log "$H_DIR/mdauthd.log")"
	done_testing
fi
like "$(grep -c 'running as mdauth' "$H_DIR/mdauthd.log")" '^[1-9]' \
	"mdauthd runs as user mdauth"

# The web server, with the packaged lighttpd configuration.
# shellcheck disable=SC2317  # called by stack_web_start
stack_lighttpd_render() {
	stack_render /usr/share/mdauth/lighttpd/mdauth-lighttpd.conf.in \
		"$STACK_DIR/lighttpd.conf" "$@" && stack_lighttpd_logs
}
{ stack_cert && stack_web_start; } || bail "lighttpd did not start"
h_urls

login alice 'correct horse battery'
if [[ $STATUS = 200 && $TOKEN =~ $H_TOKEN_RE ]]; then
	pass "login through lighttpd with TLS: 200 and a token"
else
	fail "login through lighttpd with TLS: 200 and a token" "$(h_last_response)"
fi
req_bearer GET /validate "$TOKEN"
is "$STATUS" 200 "GET /validate with the token: 200"
req_url GET "https://localhost:$STACK_HTTPS_PORT/api/whoami.cgi" \
	-H "Authorization: Bearer $TOKEN"
is "$(printf '%s\n' "$BODY" | sed -n 's/^user=//p')" alice \
	"the protected application sees user alice"

# A reload re-reads the configuration as user mdauth (group read).
kill -HUP "$STACK_MDAUTHD_PID"
if h_wait_for 10 grep -q 'reload: configuration reloaded' "$H_DIR/mdauthd.log"; then
	pass "SIGHUP: mdauthd, now user mdauth, re-reads $CONF"
else
	fail "SIGHUP: mdauthd, now user mdauth, re-reads $CONF" "$(tail_log "$H_DIR/mdauthd.log")"
fi
req POST /logout -H "Authorization: Bearer $TOKEN" -H 'Content-Length: 0'
is "$STATUS" 200 "POST /logout: 200"
req_bearer GET /validate "$TOKEN"
is "$STATUS" 401 "GET /validate after logout: 401"

# The packaged prune job, as its unit runs it: ExecStart as User=.
unit=/lib/systemd/system/mdauth-prune.service
prune_user=$(sed -n 's/^User=//p' "$unit")
prune_cmd=$(sed -n 's/^ExecStart=//p' "$unit")
is "$prune_user" postgres "mdauth-prune.service runs as postgres"
out=$(eval "as_postgres $prune_cmd" 2>&1)
like "$out" '^pruned [0-9]+ sessions and [0-9]+ events$' \
	"the packaged prune job works as shipped: $prune_cmd"

stack_stop_all
is "$STACK_MDAUTHD_EXIT_STATUS" 0 "mdauthd stops cleanly on SIGTERM"
is "$(LC_ALL=C comm -13 <(printf '%s\n' "$PROCS_BEFORE") <(mdauth_procs) | tr '\n' ' ')" "" \
	"no process of user mdauth is left (but those it had before)"

# Installing the package again (as an upgrade would) keeps the edited
# configuration, its owner and its mode.
sum=$(md5sum <"$CONF")
if dpkg -i "$deb" >"$H_DIR/reinstall.log" 2>&1; then
	pass "dpkg -i of the package over itself succeeds"
else
	fail "dpkg -i of the package over itself succeeds" "$(tail_log "$H_DIR/reinstall.log")"
fi
is "$(md5sum <"$CONF") $(stat -c '%U:%G %a' "$CONF")" "$sum root:mdauth 640" \
	"the edited $CONF is kept, root:mdauth 0640"

# ---------------------------------------------------------------------------
# Purge, and nothing left.

dpkg -L "$PKG" | sort >"$H_DIR/deb-paths"
if apt-get purge -y -q "$PKG" >"$H_DIR/purge.log" 2>&1; then
	pass "apt-get purge $PKG succeeds"
else
	fail "apt-get purge $PKG succeeds" "$(tail_log "$H_DIR/purge.log")"
fi
is "$(deb_status)" not-installed "dpkg: $PKG is not installed, no configuration kept"

# Every path the package listed is gone, but directories that other
# packages own too (/usr/sbin, /lib/systemd/system, ...).
left=
while IFS= read -r p; do
	[ "$p" != /. ] || continue
	[ -e "$p" ] || [ -L "$p" ] || continue
	# (-d follows a symbolic link: /lib is one to usr/lib on a merged /usr.)
	if [ -d "$p" ] && dpkg-query -S "$p" >/dev/null 2>&1; then
		continue
	fi
	left="$left $p"
done <"$H_DIR/deb-paths"
is "$left" "" "every path of dpkg -L $PKG ($(wc -l <"$H_DIR/deb-paths")) is gone, but shared directories"
ok "/etc/mdauth is gone, the edited conffile with it" test ! -e /etc/mdauth
is "$(dpkg-statoverride --list "$CONF")" "" "no dpkg-statoverride is left"
is "$(ls /var/lib/dpkg/info/"$PKG".* /var/lib/dpkg/info/"$PKG":* 2>/dev/null)" "" \
	"dpkg keeps no file of $PKG"
is "$(find /var/lib/systemd/deb-systemd-helper-enabled \
	/var/lib/systemd/deb-systemd-helper-masked -name '*mdauth*' 2>/dev/null)" "" \
	"no systemd enablement state is left"
is "$(LC_ALL=C comm -13 <(printf '%s\n' "$FILES_BEFORE") <(mdauth_files) | head -n 5)" "" \
	"no file owned by user or group mdauth is left (but those it had before)"
ok "the system user and group mdauth stay (Debian keeps system users)" \
	sh -c 'getent passwd mdauth && getent group mdauth'
diag "whole run: $(($(date +%s) - t_start)) s"

done_testing

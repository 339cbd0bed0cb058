#!/bin/bash
# "make install DESTDIR=..." puts every file where it belongs, with the
# paths the systemd units and the cron file name filled in, and the
# configuration 0640; "make uninstall DESTDIR=..." takes every file away
# again.  An edited mdauth.conf survives both a reinstall and an
# uninstall.  A new mdauth.conf goes to the group mdauth when that group
# exists and there is no DESTDIR.  The make runs in the build tree (make
# distcheck builds outside a read-only source tree).
. "$(dirname "$0")/lib.sh"

command -v make >/dev/null 2>&1 || skip_all "make not installed"
[ -f "$top_builddir/Makefile" ] || bail "no Makefile in $top_builddir"
[ -x "$MDAUTHD" ] && [ -x "$MDAUTHCTL" ] || bail "the binaries are not built"

work=$(mktemp -d "${TMPDIR:-/tmp}/mdauth-install.XXXXXX") || bail "mktemp failed"
trap 'rm -rf "$work"' EXIT
dest=$work/root
log=$work/make.log

# h_make ARGS...: make ARGS in the build tree, on its own: not as a part of
# the make that runs this test (no jobserver, no TESTS=...).  Output in $log.
h_make() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES \
		make -C "$top_builddir" "$@" >>"$log" 2>&1
}

# h_var NAME: the value of the Makefile's variable NAME, expanded.
h_var() {
	printf 'h-print-%%:\n\t@echo $($*)\n' |
		env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES \
			make -s -C "$top_builddir" -f Makefile -f - "h-print-$1"
}

# h_files DIR: every file (not directory) under DIR, one a line, sorted.
h_files() {
	(cd "$1" && find . ! -type d | sed 's|^\./|/|' | LC_ALL=C sort)
}

sbindir=$(h_var sbindir)
sysconfdir=$(h_var sysconfdir)
pkgdatadir=$(h_var pkgdatadir)
unitdir=$(h_var systemdsystemunitdir)
like "$sbindir" '^/' "the Makefile knows sbindir ($sbindir)"
conf=$sysconfdir/mdauth/mdauth.conf

# --- make install DESTDIR=... --------------------------------------------------
h_make install DESTDIR="$dest"
rc=$?
is "$rc" 0 "make install DESTDIR=... succeeds"
[ "$rc" = 0 ] || diag "$(tail -n 20 "$log")"
ok "mdauthd is installed in sbindir" test -x "$dest$sbindir/mdauthd"
ok "mdauthctl is installed in sbindir" test -x "$dest$sbindir/mdauthctl"
ok "the migrations are installed in pkgdatadir/sql" test -f "$dest$pkgdatadir/sql/001_schema.sql"
ok "mdauth.conf is installed in sysconfdir/mdauth" test -f "$dest$conf"
ok "mdauth.conf.sample is installed beside it" cmp -s "$dest$conf" "$dest$conf.sample"
is "$(stat -c %a "$dest$conf" 2>/dev/null)" 640 "mdauth.conf is mode 0640 (it may hold a password)"
if [ "$(id -u)" = 0 ]; then
	is "$(stat -c %U:%G "$dest$conf" 2>/dev/null)" root:root \
		"with DESTDIR, mdauth.conf stays root:root (the package or the operator sets its group)"
else
	skip "with DESTDIR, mdauth.conf stays root:root" "not running as root"
fi
like "$(cat "$dest$pkgdatadir/cron.d/mdauth-prune" 2>/dev/null)" \
	" postgres test -x $sbindir/mdauthctl && $sbindir/mdauthctl -D \"dbname=mdauth\" prune " \
	"the cron file is installed in pkgdatadir/cron.d and runs the installed mdauthctl"
if [ -n "$unitdir" ]; then
	for u in mdauthd.service mdauthd.socket mdauth-prune.service mdauth-prune.timer; do
		ok "$u is installed in $unitdir" test -f "$dest$unitdir/$u"
	done
	is "$(sed -n 's/^ExecStart=//p' "$dest$unitdir/mdauthd.service" 2>/dev/null)" \
		"$sbindir/mdauthd -c $conf" \
		"the installed mdauthd.service runs the installed mdauthd with the installed mdauth.conf"
	is "$(sed -n 's/^ExecStart=//p' "$dest$unitdir/mdauth-prune.service" 2>/dev/null)" \
		"$sbindir/mdauthctl -D \"dbname=mdauth\" prune" \
		"the installed mdauth-prune.service runs the installed mdauthctl"
else
	skip "the systemd units are installed" "configured --without-systemdsystemunitdir"
fi
left=$(grep -rlE '@(sbindir|sysconfdir|pkgdatadir|prefix)@' "$dest" 2>/dev/null)
is "$left" "" "no installed file holds an unfilled @placeholder@"
diag "installed:" "$(h_files "$dest")"

# --- an edited mdauth.conf -----------------------------------------------------
printf '# edited\n' >>"$dest$conf"
h_make install DESTDIR="$dest"
is "$?:$(tail -n 1 "$dest$conf")" "0:# edited" "installing again keeps an edited mdauth.conf"

# --- make uninstall DESTDIR=... ------------------------------------------------
h_make uninstall DESTDIR="$dest"
is "$?" 0 "make uninstall DESTDIR=... succeeds"
is "$(h_files "$dest")" "$conf" "make uninstall keeps an edited mdauth.conf, and only that"
rm -f "$dest$conf"

h_make install DESTDIR="$dest" && h_make uninstall DESTDIR="$dest"
is "$?" 0 "make install, then make uninstall, DESTDIR=... succeed"
left=$(h_files "$dest")
is "$left" "" "make install then make uninstall leaves no file behind"
dirs=$(cd "$dest" && find . -mindepth 1 -type d | sed 's|^\./|/|' | LC_ALL=C sort)
own=
for d in "$sysconfdir/mdauth" "$pkgdatadir"; do
	[ ! -d "$dest$d" ] || own="$own $d"
done
is "$own" "" "... nor a directory of mdauth's own ($sysconfdir/mdauth, $pkgdatadir)"
[ -z "$dirs" ] || diag "empty directories left (shared ones, kept):" "$dirs"

# --- the group of a new mdauth.conf --------------------------------------------
# Without DESTDIR, only the configuration is installed, into a directory of
# the test's own (install-data-local with mdauthconfdir set: nothing else
# is made or installed), with MDAUTH_CONF_GROUP (default mdauth) naming a
# group that exists, then one that does not.
h_conf_group() {
	rm -rf "$work/etc"
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES \
		make -C "$top_builddir" install-data-local DESTDIR= \
		mdauthconfdir="$work/etc/mdauth" MDAUTH_CONF_GROUP="$1" >>"$log" 2>&1
	printf '%s:%s\n' "$?" "$(stat -c %u:%g:%a "$work/etc/mdauth/mdauth.conf" 2>/dev/null)"
}
if [ "$(id -u)" != 0 ]; then
	skip "without DESTDIR, a new mdauth.conf is root:mdauth" "not running as root"
	skip "without DESTDIR and no group mdauth, it stays root:root" "not running as root"
else
	group=$(id -gn nobody 2>/dev/null || echo nogroup)
	gid=$(getent group "$group" | cut -d: -f3)
	is "$(h_conf_group "$group")" "0:0:$gid:640" \
		"without DESTDIR, a new mdauth.conf is root:mdauth 0640 when the group mdauth exists (here: $group)"
	is "$(h_conf_group no-such-group-mdauth-test)" "0:0:0:640" \
		"without DESTDIR and no group mdauth, it stays root:root 0640"
fi

done_testing

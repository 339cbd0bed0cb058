#!/bin/bash
# The systemd units, made by make from deploy/systemd/*.in:
# `systemd-analyze verify` finds nothing to say about them (with ExecStart
# pointed at the binaries under test), they name the installed paths and
# the man pages, the daemon's service is socket-activated on fd 0 as a
# dedicated user, and `systemd-analyze security` rates its hardening.
# Without a running systemd the activation itself is not exercised here;
# the same fd 0 path is, by spawn-fcgi and lighttpd's bin-path (listen.sh).
. "$(dirname "$0")/lib.sh"

command -v systemd-analyze >/dev/null 2>&1 || skip_all "systemd-analyze not installed"
[ -x "$MDAUTHD" ] && [ -x "$MDAUTHCTL" ] || bail "the binaries are not built"

units=$top_builddir/deploy/systemd
work=$(mktemp -d "${TMPDIR:-/tmp}/mdauth-units.XXXXXX") || bail "mktemp failed"
trap 'rm -rf "$work"' EXIT
# The file mdauthd and mdauthctl read by default: $(sysconfdir)/mdauth/mdauth.conf.
conf_default=$("$MDAUTHCTL" -h | sed -n 's/^  -c file .*(default \([^;)]*\)[;)]*$/\1/p')
for f in mdauthd.service mdauthd.socket mdauth-prune.service mdauth-prune.timer; do
	[ -f "$units/$f" ] || bail "$units/$f is missing (make builds it from $f.in)"
	unlike "$(cat "$units/$f")" '@[a-z_]+@' "$f: every @placeholder@ of $f.in is filled in"
	sed -e "s|^ExecStart=/[^ ]*/mdauthd |ExecStart=$MDAUTHD |" \
		-e "s|^ExecStart=/[^ ]*/mdauthctl |ExecStart=$MDAUTHCTL |" \
		"$units/$f" >"$work/$f"
done
sbin=$(sed -n 's|^ExecStart=\(/[^ ]*\)/mdauthd .*|\1|p' "$units/mdauthd.service")
is "$(sed -n 's/^ExecStart=//p' "$units/mdauth-prune.service")" \
	"$sbin/mdauthctl -D \"dbname=mdauth\" prune" \
	"mdauth-prune.service: runs mdauthctl -D \"dbname=mdauth\" prune, from mdauthd's directory"
is "$(sed -n 's/^User=//p' "$units/mdauth-prune.service")" postgres \
	"mdauth-prune.service: runs as postgres, the database owner"
like "$(cat "$top_builddir/deploy/cron/mdauth-prune")" \
	"(^|"$'\n'")[0-9]+ [0-9]+ \\* \\* \\* postgres test -x $sbin/mdauthctl && $sbin/mdauthctl -D \"dbname=mdauth\" prune " \
	"the cron file runs the same command as postgres"

# Documentation=: man pages that the tree installs (doc/man).
for f in mdauthd.service mdauthd.socket mdauth-prune.service mdauth-prune.timer; do
	docs=$(sed -n 's/^Documentation=//p' "$units/$f")
	like "$docs" '^man:' "$f: Documentation= names man pages"
	if [ ! -d "$top_srcdir/doc/man" ]; then
		skip "$f: its man pages are in doc/man" "no doc/man in this tree"
		continue
	fi
	missing=
	for d in $docs; do
		page=${d#man:}
		page=${page%%(*}.$(sed 's/.*(\(.*\))/\1/' <<<"$d")
		[ -f "$top_srcdir/doc/man/$page" ] || missing="$missing $d"
	done
	is "$missing" "" "$f: its man pages are in doc/man"
done

# verify UNIT...: systemd-analyze verify, which exits 0 even for a
# directive it ignores; a clean unit makes it print nothing at all.
# --man=no: the man pages are checked above, against the tree.
verify() {
	(cd "$work" && systemd-analyze verify --man=no "$@" 2>&1)
}

for f in mdauthd.socket mdauthd.service mdauth-prune.service mdauth-prune.timer; do
	out=$(verify "./$f")
	rc=$?
	is "$rc:$out" "0:" "systemd-analyze verify $f: no error and nothing to report"
done

# The authorizer service for Apache, made from mdauthd.service by the
# command in doc/deployment.md (section "Apache"): from its sed line to
# the line that ends in mdauthd-authz.service, whatever the indentation.
cmd=$(sed -n '/^ *sed -e .\/^#\/d. -e .s|\/mdauth.conf|/,/mdauthd-authz.service$/p' \
	"$top_srcdir/doc/deployment.md" | sed 's/^ *//')
like "$cmd" 'mdauthd-authz.service$' "the documentation has the command that makes mdauthd-authz.service"
# Its input, wherever the documentation takes it from, is the unit made here.
cmd=$(sed -e "s|[^ ]*/mdauthd\.service |$work/mdauthd.service |" \
	-e "s|/etc/systemd/system/|$work/|" <<<"$cmd")
(cd "$work" && eval "$cmd") || bail "the documentation's command failed: $cmd"
out=$(verify ./mdauthd-authz.service)
is "$?:$out" "0:" "systemd-analyze verify mdauthd-authz.service (from the documentation): nothing to report"
authz=$work/mdauthd-authz.service
is "$(sed -n 's/^ExecStart=//p' "$authz")" "$MDAUTHD -c ${conf_default%.conf}-authz.conf" \
	"mdauthd-authz.service: runs with mdauth-authz.conf"
ok "mdauthd-authz.service: no socket activation" \
	sh -c "! grep -q 'socket' '$authz'"
ok "mdauthd-authz.service: as hardened as mdauthd.service" \
	grep -qx 'ProtectSystem=strict' "$authz"

# The check can fail: a misspelt value is reported.
sed 's/^KillMode=mixed/KillMode=mixd/' "$work/mdauthd.service" >"$work/broken.service"
out=$(verify ./broken.service)
like "$out" 'kill mode' "systemd-analyze verify reports a bad directive (the check can fail)"

svc=$work/mdauthd.service
sock=$work/mdauthd.socket
# directive FILE NAME: the value of the last NAME= line of FILE.
directive() {
	sed -n "s/^$2=//p" "$1" | tail -n 1
}
is "$(directive "$svc" StandardInput)" socket "mdauthd.service: the socket arrives on fd 0"
is "$(directive "$svc" ExecStart)" "$MDAUTHD -c $conf_default" \
	"mdauthd.service: runs mdauthd in the foreground with the file it reads by default"
is "$(directive "$svc" User)/$(directive "$svc" Group)" mdauth/mdauth \
	"mdauthd.service: runs as the dedicated user mdauth, never root"
is "$(directive "$svc" KillMode)" mixed \
	"mdauthd.service: SIGTERM goes to the master, which stops its workers"
is "$(directive "$svc" ExecReload)" '/bin/kill -HUP $MAINPID' \
	"mdauthd.service: reload is SIGHUP"
for d in NoNewPrivileges=yes ProtectSystem=strict PrivateTmp=yes ProtectHome=yes \
	PrivateDevices=yes RestrictSUIDSGID=yes CapabilityBoundingSet=; do
	ok "mdauthd.service: $d" grep -qx "$d" "$svc"
done
is "$(directive "$sock" ListenStream)" /run/mdauth/mdauthd.sock "mdauthd.socket: a Unix socket"
is "$(directive "$sock" SocketMode)" 0660 "mdauthd.socket: mode 0660, for the web server's group"
is "$(directive "$sock" Accept)" no "mdauthd.socket: the daemon accepts, not systemd"

# systemd-analyze security rates a unit from 0 (locked down) to 10.
line=$(cd "$work" && systemd-analyze security --offline=true ./mdauthd.service 2>&1 |
	grep 'Overall exposure level')
score=$(sed -n 's/.*: \([0-9.]*\) .*/\1/p' <<<"$line")
diag "$line"
ok "systemd-analyze security: mdauthd.service exposure $score is at most 2.0" \
	h_lt "${score:-99}" 2.01

done_testing

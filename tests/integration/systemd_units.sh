#!/bin/bash
# The systemd units in deploy/systemd/: `systemd-analyze verify` finds
# nothing to say about them (with ExecStart pointed at the binaries under
# test), the daemon's service is socket-activated on fd 0 as a dedicated
# user, and `systemd-analyze security` rates its hardening.  Without a
# running systemd the activation itself is not exercised here; the same
# fd 0 path is, by spawn-fcgi and lighttpd's bin-path (listen.sh).
. "$(dirname "$0")/lib.sh"

command -v systemd-analyze >/dev/null 2>&1 || skip_all "systemd-analyze not installed"
[ -x "$MDAUTHD" ] && [ -x "$MDAUTHCTL" ] || bail "the binaries are not built"

units=$top_srcdir/deploy/systemd
work=$(mktemp -d "${TMPDIR:-/tmp}/mdauth-units.XXXXXX") || bail "mktemp failed"
trap 'rm -rf "$work"' EXIT
for f in mdauthd.service mdauthd.socket mdauth-prune.service mdauth-prune.timer; do
	[ -f "$units/$f" ] || bail "$units/$f is missing"
	sed -e "s|/usr/sbin/mdauthd |$MDAUTHD |" -e "s|/usr/sbin/mdauthctl |$MDAUTHCTL |" \
		"$units/$f" >"$work/$f"
done

# verify UNIT...: systemd-analyze verify, which exits 0 even for a
# directive it ignores; a clean unit makes it print nothing at all.
verify() {
	(cd "$work" && systemd-analyze verify "$@" 2>&1)
}

for f in mdauthd.socket mdauthd.service mdauth-prune.service mdauth-prune.timer; do
	out=$(verify "./$f")
	rc=$?
	is "$rc:$out" "0:" "systemd-analyze verify $f: no error and nothing to report"
done

# The authorizer service for Apache, made from mdauthd.service by the
# command in doc/deployment.md (section "Apache").
cmd=$(sed -n '/^    sed -e .\/^#\/d. -e .s|\/mdauth.conf|/,/mdauthd-authz.service$/p' \
	"$top_srcdir/doc/deployment.md" | sed 's/^    //')
like "$cmd" 'mdauthd-authz.service$' "doc/deployment.md has the command that makes mdauthd-authz.service"
cmd=${cmd//deploy\/systemd\/mdauthd.service/$work/mdauthd.service}
cmd=${cmd//\/etc\/systemd\/system\//$work/}
(cd "$work" && eval "$cmd") || bail "the command of doc/deployment.md failed: $cmd"
out=$(verify ./mdauthd-authz.service)
is "$?:$out" "0:" "systemd-analyze verify mdauthd-authz.service (from doc/deployment.md): nothing to report"
authz=$work/mdauthd-authz.service
is "$(sed -n 's/^ExecStart=//p' "$authz")" "$MDAUTHD -c /etc/mdauth/mdauth-authz.conf" \
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
is "$(directive "$svc" ExecStart)" "$MDAUTHD -c /etc/mdauth/mdauth.conf" \
	"mdauthd.service: runs mdauthd -c /etc/mdauth/mdauth.conf in the foreground"
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

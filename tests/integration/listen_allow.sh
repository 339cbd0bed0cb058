#!/bin/bash
# A TCP listener serves only the peers listen_allow names (default:
# loopback), and those of FCGI_WEB_SERVER_ADDRS as well when it is set:
# FastCGI has no authentication, and a peer that may connect can claim
# HTTPS=on and any REMOTE_ADDR.  A refused peer is closed before a byte is
# read, with a log line naming it.  Peers come from 127.0.0.1 and, bound
# with bind(2), from the second loopback address 127.0.0.2.
. "$(dirname "$0")/lib.sh"

peer=$(dirname "$0")/../fcgi-peer.py
h_setup_db

# h_tcp NAME [LINE...]: mdauthd NAME listening on a free loopback port,
# with the configuration LINEs; PORT is the port.  [ENV=VALUE] before the
# call reaches the daemon's environment.
h_tcp() {
	local name=$1 _
	shift
	for _ in 1 2 3; do
		PORT=$(stack_free_port) || bail "no free TCP port"
		h_conf "$name" "listen = 127.0.0.1:$PORT" "workers = 1" "$@"
		h_start "$name"
		h_wait_for 5 stack_port_listening "$PORT" && return 0
		h_stop_master "$H_PID"
	done
	bail "mdauthd $name did not listen"
}
from() { python3 "$peer" request "127.0.0.1:$PORT" --from "$1"; }

# --- the default: loopback ----------------------------------------------------
h_tcp default
is "$(from 127.0.0.1)" "Status: 200 OK" "listen_allow unset: a peer at 127.0.0.1 is served"
is "$(from 127.0.0.2)" "Status: 200 OK" "listen_allow unset: 127.0.0.2 is loopback too, and served"
h_stop_master "$H_PID"

# --- a list that leaves 127.0.0.2 out -------------------------------------------
h_tcp narrow "listen_allow = 127.0.0.1/32, ::1"
is "$(from 127.0.0.1)" "Status: 200 OK" "listen_allow = 127.0.0.1/32, ::1: a peer at 127.0.0.1 is served"
is "$(from 127.0.0.2)" closed "... a peer at 127.0.0.2 is closed without an answer"
like "$(cat "$H_DIR/mdauthd-narrow.log")" 'warning: worker: refused 127\.0\.0\.2:[0-9]+ \(not in listen_allow\)' \
	"... and named in the log"
sleep 1.1
python3 "$peer" request "127.0.0.1:$PORT" --from 127.0.0.2 --count 50 >"$H_DIR/burst"
is "$(grep -c closed "$H_DIR/burst")" 50 "a burst of 50 connections from 127.0.0.2 is refused"
n=$(grep -c 'refused 127\.0\.0\.2' "$H_DIR/mdauthd-narrow.log")
ok "... in a few log lines, not 50 ($n lines)" test "$n" -le 5
sleep 1.1
from 127.0.0.2 >/dev/null
h_more() {
	sed -n 's/.*and \([0-9]*\) more connections since the last such line.*/\1/p' \
		"$H_DIR/mdauthd-narrow.log" | awk '{ s += $1 } END { print s + 0 }'
}
is "$(($(h_more) + n + 1))" 52 "... each line counting the refusals it stands for (52 in all)"
is "$(from 127.0.0.1)" "Status: 200 OK" "... and the allowed peer is still served after them"
h_stop_master "$H_PID"

h_tcp other "listen_allow = 10.0.0.0/8"
is "$(from 127.0.0.1)" closed "listen_allow = 10.0.0.0/8: even a loopback peer is refused"
h_stop_master "$H_PID"

# --- FCGI_WEB_SERVER_ADDRS: a second list a peer must also be in ---------------
export FCGI_WEB_SERVER_ADDRS=127.0.0.1
h_tcp env
is "$(from 127.0.0.1)" "Status: 200 OK" "FCGI_WEB_SERVER_ADDRS=127.0.0.1: that peer is served"
is "$(from 127.0.0.2)" closed "... 127.0.0.2, in the default listen_allow but not in it, is refused"
like "$(cat "$H_DIR/mdauthd-env.log")" 'refused 127\.0\.0\.2:[0-9]+ \(not in FCGI_WEB_SERVER_ADDRS\)' \
	"... and the log says which list refused it"
h_stop_master "$H_PID"
FCGI_WEB_SERVER_ADDRS=not-an-address
h_conf badenv "listen = 127.0.0.1:1" "workers = 1"
out=$("$MDAUTHD" -t -c "$H_DIR/badenv.conf" 2>&1)
isnt "$?" 0 "a malformed FCGI_WEB_SERVER_ADDRS is refused (mdauthd -t fails)"
like "$out" 'FCGI_WEB_SERVER_ADDRS.*not an IPv4 or IPv6 address' "... with a message naming it"
unset FCGI_WEB_SERVER_ADDRS

# --- bad values are refused with the line ------------------------------------------
for bad in "" "localhost" "10.0.0.1/8" "10.0.0.0/33" "::1/129" "127.0.0.1/x"; do
	h_conf bad "listen_allow = $bad"
	out=$("$MDAUTHD" -t -c "$H_DIR/bad.conf" 2>&1)
	rc=$?
	isnt "$rc" 0 "listen_allow = '$bad' is refused"
	like "$out" 'bad\.conf:4: listen_allow' "... naming the file, line and key"
done
h_conf good "listen_allow = 192.0.2.0/24 2001:db8::/32,::ffff:10.1.2.3"
"$MDAUTHD" -t -c "$H_DIR/good.conf" >/dev/null 2>&1
is "$?" 0 "a list of IPv4 and IPv6 prefixes separated by commas and spaces is taken"
done_testing

#!/bin/bash
# login_listen: a second FastCGI socket, served by login_workers workers of
# their own, so that the web server can send logins there and a login
# flood waits in that socket's queue instead of taking the workers of
# validate.  Which worker holds which socket (by the socket's inode in
# /proc/net/unix), their nice values (login_nice), a login through it, any route through it, a killed
# login worker replaced on the same socket, a reload keeping the split,
# a second daemon refused the socket, both socket files gone after
# SIGTERM, the configuration errors, and
# the routes of the shipped lighttpd, Apache and nginx configurations
# (logins to login_listen, the rest to listen).
. "$(dirname "$0")/lib.sh"

login_sock=$(mktemp -u "${TMPDIR:-/tmp}/mdauth-login.XXXXXX").sock
h_on_teardown "rm -f '$login_sock'"
h_setup workers=2 "login_listen=$login_sock" login_workers=2 \
	max_concurrent_hashes=2
master=$STACK_MDAUTHD_PID
h_user_add alice 'correct horse battery staple'

# f_inode PATH: the inode of the listening Unix socket bound at PATH.
f_inode() {
	awk -v p="$1" '$NF == p && $6 == "01" { print $7; exit }' /proc/net/unix
}
# f_holders INODE: the master's workers that hold that socket, one a line.
f_holders() {
	local kid
	for kid in $(h_children "$master"); do
		if ls -l "/proc/$kid/fd" 2>/dev/null | grep -q "socket:\[$1\]"; then
			echo "$kid"
		fi
	done
}
f_count() { f_holders "$1" | grep -c .; }
# f_outside PID LIST: PID is set and not one of LIST's.
f_outside() {
	[ -n "$1" ] || return 1
	case " $2 " in *" $1 "*) return 1 ;; esac
}
# f_split MAIN LOGIN: true when that many workers hold each socket and
# none holds both.
f_split() {
	[ "$(f_count "$main_inode")" = "$1" ] &&
		[ "$(f_count "$login_inode")" = "$2" ] &&
		[ -z "$(comm -12 <(f_holders "$main_inode") <(f_holders "$login_inode"))" ]
}

main_inode=$(f_inode "$STACK_MDAUTHD_SOCKET")
login_inode=$(f_inode "$login_sock")
ok "the daemon listens on login_listen ($login_sock)" test -n "$login_inode"
ok "workers=2 and login_workers=2: the master has 4 workers" \
	h_wait_for 5 h_has_children "$master" 4
ok "2 workers hold listen's socket, 2 others login_listen's, none both" \
	h_wait_for 5 f_split 2 2
logins=$(f_holders "$login_inode" | tr '\n' ' ')
like "$(cat "$H_DIR/mdauthd.log")" "logins on $login_sock too, by 2 workers of their own" \
	"the start says where logins are served, and by how many workers"
# f_nices INODE: the nice values of the workers holding that socket.
f_nices() {
	local kid
	for kid in $(f_holders "$1"); do
		ps -o ni= -p "$kid" | tr -d ' '
	done | sort -u | tr '\n' ' '
}
is "$(f_nices "$login_inode")" "19 " "the login workers run at nice 19 (login_nice's default)"
# f_private PID: resident memory of PID not shared (kB).
f_private() {
	awk '$1 == "VmRSS:" { r = $2 } $1 == "RssShmem:" { s = $2 }
		END { print r - s }' "/proc/$1/status"
}
most=0
for kid in $(f_holders "$main_inode"); do
	[ "$(f_private "$kid")" -le "$most" ] || most=$(f_private "$kid")
done
least=
for kid in $(f_holders "$login_inode"); do
	[ -n "$least" ] && [ "$(f_private "$kid")" -ge "$least" ] || least=$(f_private "$kid")
done
diag "private RSS: workers of listen at most $most kB, login workers at least $least kB"
if [ "${MDAUTH_SANITIZERS:-0}" = 1 ]; then
	diag "not asserted in a sanitizer build: only login workers map the argon2id area"
else
	ok "only the login workers map the argon2id area (19 MiB): they hold 10 MiB more" \
		test "$((least - most))" -ge 10240
fi
is "$(f_nices "$main_inode")" "$(ps -o ni= -p "$master" | tr -d ' ') " \
	"the workers of listen run at the master's nice value"

# A login through the login socket, as the web server sends it.
body='{"username":"alice","password":"correct horse battery staple"}'
printf '%s' "$body" | fcgi_raw_at "$login_sock" REQUEST_METHOD=POST \
	PATH_INFO=/login CONTENT_TYPE=application/json \
	CONTENT_LENGTH=${#body} HTTPS=on REMOTE_ADDR=127.0.0.1
is "$(fcgi_status)" 200 "POST /login through login_listen: 200"
token=$(fcgi_raw_body | sed -n 's/.*"token": *"\([^"]*\)".*/\1/p')
ok "it issued a token" test -n "$token"
server=$(grep -o "mdauthd\[[0-9]*\]: info: POST /login 200" "$H_DIR/mdauthd.log" |
	tail -n 1 | sed 's/mdauthd\[\([0-9]*\)\].*/\1/')
like " $logins" " $server " "a login worker served it (worker $server of $logins)"
req GET /validate -H "Authorization: Bearer $token"
is "$STATUS" 200 \
	"the token validates through the web server, on listen's workers"
is "$(h_health_at "$login_sock")" 200 \
	"login_listen serves every route: GET /health there answers 200"

# Through each web server, as configured in deploy/: POST /api/auth/login
# reaches a login worker, validate the others.
for web in lighttpd apache nginx; do
	stack_web_stop
	if ! STACK_WEB=$web stack_web_start; then
		ok "$web: the web server starts with the shipped configuration" false
		continue
	fi
	h_urls
	before=$(grep -c "info: POST /login 200" "$H_DIR/mdauthd.log")
	login alice 'correct horse battery staple' "$web"
	is "$STATUS" 200 "$web: POST /api/auth/login answers 200"
	served=$(grep -o "mdauthd\[[0-9]*\]: info: POST /login 200" "$H_DIR/mdauthd.log" |
		sed -n "$((before + 1))p" | sed 's/mdauthd\[\([0-9]*\)\].*/\1/')
	like " $logins" " $served " "$web: a login worker served it (worker $served of $logins)"
	before=$(grep -c "info: GET /validate 200" "$H_DIR/mdauthd.log")
	req_bearer GET /validate "$TOKEN"
	is "$STATUS" 200 "$web: the token validates"
	served=$(grep -o "mdauthd\[[0-9]*\]: info: GET /validate 200" "$H_DIR/mdauthd.log" |
		sed -n "$((before + 1))p" | sed 's/mdauthd\[\([0-9]*\)\].*/\1/')
	ok "$web: a worker of listen served the validate (worker $served)" \
		f_outside "$served" "$logins"
done
stack_web_stop
STACK_WEB=lighttpd stack_web_start || bail "lighttpd does not start again"
h_urls

# A login worker killed: its replacement serves the same socket.
victim=${logins%% *}
kill -KILL "$victim"
f_replaced() { f_split 2 2 && ! f_holders "$login_inode" | grep -qx "$victim"; }
ok "a login worker killed with SIGKILL is replaced by another on login_listen" \
	h_wait_for 10 f_replaced

# A reload: the new generation splits the same way.
old=$(h_children "$master" | tr '\n' ' ')
kill -HUP "$master"
f_new_generation() {
	local kid
	for kid in $old; do
		stack_proc_gone "$kid" || return 1
	done
	f_split 2 2
}
ok "after SIGHUP the new generation is 2 workers on listen and 2 on login_listen" \
	h_wait_for 15 f_new_generation
like "$(cat "$H_DIR/mdauthd.log")" "reload: new worker [0-9]* ready; stopping 2 old workers of login_listen" \
	"the old login workers were stopped once a new login worker was ready, apart from the others"
ok "... and the old workers of listen once a new one of listen was" \
	grep -qE "reload: new worker [0-9]+ ready; stopping 2 old workers\$" "$H_DIR/mdauthd.log"
is "$(f_nices "$login_inode")" "19 " "the new login workers run at nice 19 too"
printf '%s' "$body" | fcgi_raw_at "$login_sock" REQUEST_METHOD=POST \
	PATH_INFO=/login CONTENT_TYPE=application/json \
	CONTENT_LENGTH=${#body} HTTPS=on REMOTE_ADDR=127.0.0.1
is "$(fcgi_status)" 200 "after the reload a login through login_listen: 200"

# A second daemon naming the same login_listen must not take it over.
h_conf second "listen = $H_DIR/second.sock" "login_listen = $login_sock"
out=$(timeout 10 "$MDAUTHD" -c "$H_DIR/second.conf" 2>&1)
st=$?
ok "a second daemon with the same login_listen exits with an error" \
	test "$st" -ne 0 -a "$st" -ne 124
like "$out" "$login_sock: another process listens on it" "... and says why"
is "$(h_health_at "$login_sock")" 200 "the first daemon still answers on login_listen"

h_stop_master "$master"
is "$H_MASTER_EXIT_STATUS" 0 "SIGTERM stops the daemon with status 0"
ok "SIGTERM removes the login_listen socket file" test ! -e "$login_sock"

# Configuration errors: refused before anything starts.
h_conf same "login_listen = $STACK_MDAUTHD_SOCKET" \
	"listen = $STACK_MDAUTHD_SOCKET"
out=$("$MDAUTHD" -t -c "$H_DIR/same.conf" 2>&1)
st=$?
ok "login_listen = listen: mdauthd -t fails" test "$st" -ne 0
like "$out" "login_listen must be another socket than listen" \
	"... and says why"
h_conf relative "login_listen = login.sock"
out=$("$MDAUTHD" -t -c "$H_DIR/relative.conf" 2>&1)
st=$?
ok "login_listen = a relative path: mdauthd -t fails" test "$st" -ne 0
like "$out" "login_listen: expected an absolute socket path or host:port" \
	"... and says why"
h_conf zero "login_listen = $login_sock" "login_workers = -1"
out=$("$MDAUTHD" -t -c "$H_DIR/zero.conf" 2>&1)
ok "login_workers = -1 is refused" test $? -ne 0

done_testing

#!/bin/bash
# Every read from a FastCGI connection has a deadline (request_timeout):
# peers that send nothing, half their parameters, a body slower than a
# byte a second, every byte of the stream slowly, or bytes after their
# request so that the graceful close never sees the end, are closed when
# it passes, with a log line naming the peer, and a pool full of them serves
# validate again at full speed; a kept connection left idle is closed too.
. "$(dirname "$0")/lib.sh"

peer=$(dirname "$0")/../fcgi-peer.py
FCGI_REQUEST=$top_builddir/tests/fcgi-request
timeout=2
h_setup workers=2 request_timeout=$timeout
h_user_add alice 'correct horse battery staple'
h_login_ok alice 'correct horse battery staple'
token=$TOKEN

# --- 2 x workers idle and slow peers, and then some -------------------------
# Two of each kind: 10 connections for 2 workers, served two at a time, so
# the last are closed about 5 deadlines after they were opened.
h_log_mark
python3 "$peer" hold "$STACK_MDAUTHD_SOCKET" idle:2 half:2 slow:2 drip:2 linger:2 \
	--max 40 >"$H_DIR/held" 2>"$H_DIR/held.err" &
held=$!
sleep 0.5
# Meanwhile, through the web server: a validate waits behind them at most.
start=$(h_now)
req_bearer GET /validate "$token" --max-time 30
is "$STATUS" 200 "a validate sent while 10 silent or slow peers hold the pool still answers 200"
waited=$(h_elapsed "$start")
ok "... and within 6 deadlines (${waited} s)" h_lt "$waited" $((6 * timeout))
wait "$held"
diag "$(cat "$H_DIR/held" "$H_DIR/held.err")"
is "$(grep -c ' closed ' "$H_DIR/held")" 10 "all 10 silent or slow connections were closed by the daemon"
for mode in idle half slow drip linger; do
	is "$(grep -c "^$mode closed " "$H_DIR/held")" 2 "both '$mode' connections were closed"
done
# None before its deadline: the first two were accepted at once.
first=$(awk '$2 == "closed" { print $3 }' "$H_DIR/held" | sort -n | head -n 1)
ok "no connection was closed before request_timeout ($first s >= $timeout s, less scheduling slack)" \
	h_lt "$((timeout - 1)).8" "$first"
last=$(awk '$2 == "closed" { print $3 }' "$H_DIR/held" | sort -n | tail -n 1)
ok "the last was closed within 6 deadlines of its opening ($last s)" h_lt "$last" $((6 * timeout))

log_since() { tail -c +$((H_LOG_MARK + 1)) "$H_DIR/mdauthd.log"; }
n=$(log_since | grep -c 'closing the connection of unix peer pid [0-9]* uid [0-9]*: no complete request within request_timeout (2 s)')
ok "the log names the peer of each connection closed before its parameters were whole ($n lines)" \
	test "$n" -ge 6
n=$(log_since | grep -c 'closing the connection of unix peer pid [0-9]* uid [0-9]*: its body did not come within request_timeout (2 s)')
is "$n" 2 "the log has one line for each peer whose body was too slow"
unlike "$(log_since)" 'POST /login [0-9]' "no response was logged for the slow bodies: nobody was answered"
is "$(log_since | grep -c 'GET /health 200')" 2 "the peers that dripped after their request were answered first"

# --- after the deadline, at full speed ---------------------------------------
# Once the deadline has passed the pool is free: 40 validates, none slow.
: >"$H_DIR/times"
for i in $(seq 40); do
	curl -sk -o /dev/null -w '%{http_code} %{time_total}\n' \
		-H "Authorization: Bearer $token" "$H_URL/validate" >>"$H_DIR/times"
done
is "$(awk '$1 != 200' "$H_DIR/times" | wc -l)" 0 "40 validates after the deadline all answer 200"
slowest=$(awk '{ print $2 }' "$H_DIR/times" | sort -n | tail -n 1)
ok "the slowest of them took under 1 s ($slowest s)" h_lt "$slowest" 1

# --- while they come again ----------------------------------------------------
# Peers that keep coming cost each worker one deadline at a time, never
# the pool: with 2 idle peers held open, validate still gets through.
python3 "$peer" hold "$STACK_MDAUTHD_SOCKET" idle:1 --max 10 >"$H_DIR/held2" &
held=$!
sleep 0.3
start=$(h_now)
req_bearer GET /validate "$token" --max-time 30
is "$STATUS" 200 "with one worker held by an idle peer, validate answers from the other"
waited=$(h_elapsed "$start")
ok "... without waiting for the deadline (${waited} s)" h_lt "$waited" 1.5
wait "$held"

# --- a kept connection left idle ---------------------------------------------
# The web server keeps the connection (FCGI_KEEP_CONN) and sends nothing
# more: closed after request_timeout, not kept forever.
h_log_mark
start=$(h_now)
FCGI_REQUEST_KEEP=1 "$FCGI_REQUEST" "$STACK_MDAUTHD_SOCKET" 1 REQUEST_METHOD=GET \
	PATH_INFO=/health HTTPS=on REMOTE_ADDR=127.0.0.1 >"$H_DIR/kept-out" 2>"$H_DIR/kept-err"
rc=$?
took=$(h_elapsed "$start")
is "$rc" 0 "an idle kept connection is closed by the daemon"
like "$(cat "$H_DIR/kept-err")" closed "... as the client saw"
ok "... after request_timeout, not before ($took s)" h_lt "$((timeout - 1)).8" "$took"
ok "... and not much after ($took s)" h_lt "$took" $((timeout + 2))
like "$(log_since)" 'closing the kept connection of unix peer pid [0-9]* uid [0-9]*: idle for request_timeout \(2 s\)' \
	"the log says why, naming the peer"

# --- the daemon is whole ------------------------------------------------------
is "$(h_workers | grep -c .)" 2 "both workers are still the daemon's (none crashed)"
req_bearer GET /validate "$token"
is "$STATUS" 200 "validate still answers 200"
done_testing

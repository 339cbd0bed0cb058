#!/bin/bash
# GET /health, and a PostgreSQL outage: every endpoint that needs the
# database answers 503 with Retry-After within db_timeout (no hang, no
# crash), and service resumes by itself when PostgreSQL returns.
. "$(dirname "$0")/lib.sh"

h_setup db_timeout=2
h_user_add alice 'correct horse battery staple'

req GET /health
is "$STATUS" 200 "health answers 200 when the database is up"
is "$(json status)" ok "health reports status ok"
is "$(json database)" ok "health reports database ok"
ok "health answers Content-Type application/json" is_json_content_type
is "$(header Cache-Control)" no-store "health answers Cache-Control: no-store"

h_login_ok alice 'correct horse battery staple'
token=$TOKEN
workers_before=$(h_workers)

# --- outage ----------------------------------------------------------------
stack_pg_stop || bail "cannot stop PostgreSQL"

# h_expect_503 NAME: the last response is 503 service_unavailable with a
# positive Retry-After, and came within db_timeout plus a margin.
h_expect_503() {
	expect_error 503 service_unavailable "$1: 503 service_unavailable"
	like "$(header Retry-After)" '^[1-9][0-9]*$' "$1: Retry-After is a positive number of seconds"
	ok "$1: answered within db_timeout + 2 s (took ${elapsed}s)" h_lt "$elapsed" 4
}

start=$(h_now)
req GET /health
elapsed=$(h_elapsed "$start")
h_expect_503 "health during an outage"

start=$(h_now)
req_bearer GET /validate "$token"
elapsed=$(h_elapsed "$start")
h_expect_503 "validate during an outage"

start=$(h_now)
login alice 'correct horse battery staple'
elapsed=$(h_elapsed "$start")
h_expect_503 "login during an outage"

# Again, now that every worker has seen its connection die.
for i in 1 2 3 4; do
	req_bearer GET /validate "$token"
	printf '%s ' "$STATUS"
done >"$H_DIR/outage-codes"
is "$(cat "$H_DIR/outage-codes")" "503 503 503 503 " \
	"repeated requests during the outage all answer 503"

ok "the master survived the outage" kill -0 "$STACK_MDAUTHD_PID"
is "$(h_workers)" "$workers_before" "no worker died during the outage"

# --- recovery --------------------------------------------------------------
stack_pg_start || bail "cannot start PostgreSQL again"
start=$(h_now)
for i in $(seq 50); do
	req_bearer GET /validate "$token"
	[ "$STATUS" != 200 ] || break
	sleep 0.2
done
elapsed=$(h_elapsed "$start")
is "$STATUS" 200 "a token issued before the outage validates again after it (after ${elapsed}s)"
ok "service resumed within 5 s of PostgreSQL's return" h_lt "$elapsed" 5
is "$(json username)" alice "the recovered validate names the user"

req GET /health
is "$STATUS" 200 "health answers 200 again after the outage"
is "$(json database)" ok "health reports database ok again"
# Several requests, so that every worker has to have reconnected.
for i in 1 2 3 4 5 6; do
	req_bearer GET /validate "$token"
	printf '%s ' "$STATUS"
done >"$H_DIR/after-codes"
is "$(cat "$H_DIR/after-codes")" "200 200 200 200 200 200 " \
	"every worker serves again after the outage"
login alice 'correct horse battery staple'
is "$STATUS" 200 "login works again after the outage"
is "$(h_workers)" "$workers_before" "the same workers serve after the outage (no restart)"

# --- a hung database --------------------------------------------------------
# SIGSTOP freezes PostgreSQL with its sockets open, like a server that
# stopped answering: connections and queries neither fail nor finish.  The
# daemon must still answer 503 within db_timeout rather than hang.  A
# token never validated is not in the validate cache: its validate asks
# the database.  ($token is, with the cache on: it is checked after, once
# the cache's listener has missed its round trips.)
login alice 'correct horse battery staple'
fresh=$TOKEN
postmaster=$(head -n 1 "$STACK_PG_DATA/postmaster.pid")
read -r -a frozen <<<"$postmaster $(pgrep -P "$postmaster" | tr '\n' ' ')"
h_on_teardown "kill -CONT ${frozen[*]} 2>/dev/null"
kill -STOP "${frozen[@]}"

start=$(h_now)
req_bearer GET /validate "$fresh"
elapsed=$(h_elapsed "$start")
h_expect_503 "validate while PostgreSQL hangs"

# By now (db_timeout = 2 s) the listener has gone 3 s without a round
# trip: the cache is bypassed, and a cached token asks the database too.
sleep 1.5
start=$(h_now)
req_bearer GET /validate "$token"
elapsed=$(h_elapsed "$start")
h_expect_503 "validate of a token validated before, while PostgreSQL hangs"

start=$(h_now)
req GET /health
elapsed=$(h_elapsed "$start")
h_expect_503 "health while PostgreSQL hangs"

kill -CONT "${frozen[@]}"
start=$(h_now)
for i in $(seq 50); do
	req_bearer GET /validate "$token"
	[ "$STATUS" != 200 ] || break
	sleep 0.2
done
elapsed=$(h_elapsed "$start")
is "$STATUS" 200 "validate answers 200 again once PostgreSQL resumes (after ${elapsed}s)"
is "$(h_workers)" "$workers_before" "no worker died while PostgreSQL hung"

done_testing

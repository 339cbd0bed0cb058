#!/bin/bash
# The log: one line per request at info (method, path, status, duration,
# user id; never a token or password), errors with their context, and
# log_level honoured, also when SIGHUP changes it.
. "$(dirname "$0")/lib.sh"

PW='correct horse battery staple'
h_setup workers=1 log_level=info
h_user_add alice "$PW"
log=$H_DIR/mdauthd.log

# since MARK: the log lines after line MARK.
since() {
	tail -n +"$(($1 + 1))" "$log"
}
mark() {
	grep -c '' "$log"
}

# --- info: one line per request ---------------------------------------------
m=$(mark)
h_login_ok alice "$PW"
token=$TOKEN
id=$(sql "SELECT id FROM mdauth.users WHERE username = 'alice'")
req_bearer GET /validate "$token"
req_bearer GET /validate "$(h_random_token)"
req GET '/nowhere?access_token=secret'
sleep 0.2
lines=$(since "$m")
like "$(grep -c ': info: POST /login ' <<<"$lines")" '^1$' "info: one line for the login"
like "$lines" ": info: POST /login 200 [0-9]+\.[0-9]ms user=$id" \
	"info: the login's line has method, path, status, duration and user id"
like "$lines" ": info: GET /validate 200 [0-9]+\.[0-9]ms user=$id" "info: a validate's line names its user"
like "$lines" ': info: GET /validate 401 [0-9]+\.[0-9]ms user=-' "info: a refused validate's line has no user"
like "$lines" ': info: GET /nowhere 404 ' "info: the path is logged without its query string"
unlike "$lines" 'access_token|secret' "info: the query string is not logged"
unlike "$lines" ': debug: ' "info: no debug lines"
ok "info: neither the token nor the password is in the log" \
	bash -c '! grep -qF -e "$1" -e "$2" "$3"' _ "$token" "$PW" "$log"

# --- warning: no request lines; SIGHUP to debug -----------------------------
h_restart_mdauthd workers=1 log_level=warning
m=$(mark)
req_bearer GET /validate "$token"
is "$STATUS" 200 "warning: the validate is served"
sleep 0.2
unlike "$(since "$m")" ': (info|debug): ' "warning: no info or debug line"

stack_mdauthd_config workers=1 log_level=debug || bail "cannot write mdauthd.conf"
kill -HUP "$STACK_MDAUTHD_PID"
h_debug_on() {
	req_bearer GET /validate "$token"
	since "$m" | grep -q ': info: GET /validate 200 '
}
ok "SIGHUP to log_level = debug: request lines come back" h_wait_for 5 h_debug_on
m=$(mark)
login alice "$PW"
sleep 0.2
like "$(since "$m")" ': debug: login: status 200 after 1 argon2id computations' \
	"debug: the login's work is logged"

# --- errors, with their context ---------------------------------------------
m=$(mark)
stack_pg_stop || bail "cannot stop PostgreSQL"
req_bearer GET /validate "$token"
is "$STATUS" 503 "database down: 503"
sleep 0.2
like "$(since "$m")" ": error: db: connect: connection to server on socket \"$STACK_PG_SOCKDIR/\.s\.PGSQL\.5432\" failed: " \
	"error: a failed connect names the server and libpq's reason"
stack_pg_start || bail "cannot start PostgreSQL"
h_back() {
	req_bearer GET /validate "$token"
	[ "$STATUS" = 200 ]
}
h_wait_for 5 h_back
like "$(since "$m")" ": info: db: connected to mdauth as mdauth on $STACK_PG_SOCKDIR, after [0-9]+ failed attempts" \
	"info: back, with the host and the number of failed attempts"

# --- a database without the schema: the prepare fails ------------------------
# Every request retries and fails; the log says why (with the hint) once,
# not once per request.
stack_psql -d postgres -c 'CREATE DATABASE empty' >/dev/null || bail "cannot create database empty"
m=$(mark)
h_restart_mdauthd workers=1 log_level=info \
	"database=host=$STACK_PG_SOCKDIR dbname=empty user=mdauth"
codes=
for _ in 1 2 3 4 5 6; do
	req_bearer GET /validate "$token"
	codes="$codes$STATUS "
done
is "$codes" "503 503 503 503 503 503 " "no schema: every request is 503"
sleep 0.2
n=$(since "$m" | grep -c ': error: db: prepare ')
is "$n" 1 "no schema: the failed prepare is logged once for the start and 6 requests"
like "$(since "$m" | grep ': error: db: prepare ')" \
	'does not exist.*\(is the schema migrated, and the role granted mdauth_app\?\)$' \
	"no schema: the message has PostgreSQL's reason and the hint, on one line"

# --- error: only errors ------------------------------------------------------
h_restart_mdauthd workers=1 log_level=error
m=$(mark)
req_bearer GET /validate "$token"
req_json POST /login '{"username":"alice","password":"wrong"}'
sleep 0.2
is "$(since "$m" | grep -v ': error: ' | grep -c .)" 0 "error: nothing but errors is logged"

done_testing

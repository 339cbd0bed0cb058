#!/bin/bash
# doc/examples/php/mdauth-client.php against the stack (lighttpd with
# TLS, the example application deploy/app/whoami.cgi behind it): it logs
# in, calls the protected resource, refreshes when the token has less
# than its margin left, logs out, and finds the logged-out token refused.
# Each step is checked by the client's output and by the daemon's log.
. "$(dirname "$0")/lib.sh"

CLIENT=$top_srcdir/doc/examples/php/mdauth-client.php
command -v php >/dev/null 2>&1 || skip_all "php not installed (php-cli)"
php -r 'exit(function_exists("curl_init") ? 0 : 1);' ||
	skip_all "php's curl extension not installed (php-curl)"

h_setup token_ttl=600
PW='correct horse battery staple'
h_user_add alice "$PW"
BASE=https://localhost:$STACK_HTTPS_PORT
USER_ID=$(sql "SELECT id FROM mdauth.users WHERE username = 'alice'")

# client NAME [VAR=VALUE...]: run the client as alice, with the settings
# given; its output in $H_DIR/NAME.out and .err, its exit status in RC.
RC=
client() {
	local name=$1
	shift
	env MDAUTH_URL="$BASE" MDAUTH_USER=alice MDAUTH_PASSWORD="$PW" \
		MDAUTH_CA="$STACK_CERT" "$@" php "$CLIENT" \
		>"$H_DIR/$name.out" 2>"$H_DIR/$name.err"
	RC=$?
}

# out NAME PREFIX: the lines of NAME's output that start with PREFIX.
out() {
	grep "^$2" "$H_DIR/$1.out"
}

# daemon_requests: the requests mdauthd logged since h_log_mark, one
# "METHOD PATH STATUS" per line (an authorizer check: "authorizer ...").
daemon_requests() {
	tail -c +$((H_LOG_MARK + 1)) "$H_DIR/mdauthd.log" |
		sed -n 's/.*mdauthd\[[0-9]*\]: info: \(authorizer \)\{0,1\}\([A-Z]* [^ ]* [0-9]*\) .*/\1\2/p'
}

# --- a margin longer than the token's life: every call refreshes first ------
h_log_mark
client due MDAUTH_REFRESH_MARGIN=3600
is "$RC" 0 "the client succeeds (exit 0)" || diag "$(cat "$H_DIR/due.out" "$H_DIR/due.err")"
session=$(out due 'login: ok' | sed -n 's/^login: ok, session \([^,]*\),.*/\1/p')
like "$session" "$H_UUID_RE" "login: the client reports its session"
like "$(out due 'login:')" ', token expires in (599|600) s$' "login: the token lives token_ttl (600 s)"
is "$(out due 'refresh:' | grep -c ': refreshed, same session '"$session"',')" 2 \
	"refresh: taken before each of the two calls (less left than the 3600 s margin), same session"
is "$(out due 'resource:' | grep -c "^resource: GET /api/whoami.cgi -> 200, user=alice$")" 2 \
	"resource: both calls reach the application as alice"
is "$(out due 'logout:')" "logout: ok" "logout: 200 logged_out"
is "$(out due 'check:')" "check: the logged-out token is refused (401 invalid_token)" \
	"after logout, validate with the token answers 401 invalid_token"
is "$(tail -n 1 "$H_DIR/due.out")" "done" "the client gets to its end"
is "$(daemon_requests | tr '\n' ';')" \
	"POST /login 200;POST /refresh 200;authorizer GET /api/whoami.cgi 200;POST /refresh 200;authorizer GET /api/whoami.cgi 200;POST /logout 200;GET /validate 401;" \
	"the daemon saw: login, refresh, call, refresh, call, logout, validate refused"
is "$(sql "SELECT refresh_count FROM mdauth.sessions WHERE id = :'s'" s="$session")" 2 \
	"the database counts the two refreshes of the session"
is "$(sql "SELECT revoked_reason FROM mdauth.sessions WHERE id = :'s'" s="$session")" logout \
	"the session is revoked by the logout"
is "$(sql "SELECT count(*) FROM mdauth.sessions WHERE user_id = :'u' AND revoked_at IS NULL" \
	u="$USER_ID")" 0 "no live session is left behind"

# --- the default margin (60 s) with 600 s left: no refresh -------------------
h_log_mark
client fresh
is "$RC" 0 "with the default margin, the client succeeds" ||
	diag "$(cat "$H_DIR/fresh.out" "$H_DIR/fresh.err")"
is "$(out fresh 'refresh:' | grep -c ': not due$')" 2 \
	"with 600 s left and a 60 s margin, no refresh is due before either call"
is "$(daemon_requests | grep -c '^POST /refresh ')" 0 "... and none reached the daemon"

# --- failures are reported, not passed over --------------------------------
client wrong MDAUTH_PASSWORD='wrong password'
is "$RC" 1 "a wrong password: the client exits 1"
is "$(cat "$H_DIR/wrong.err")" "error: login: refused (401 invalid_credentials)" \
	"a wrong password: the client says why"
h_log_mark
client plain MDAUTH_URL="http://127.0.0.1:$STACK_HTTP_PORT"
is "$RC" 1 "a plain-HTTP URL: the client refuses to send the password in clear"
like "$(cat "$H_DIR/plain.err")" '^error: POST /api/auth/login: .*(not supported|disabled)' \
	"a plain-HTTP URL: the client says why"
is "$(daemon_requests)" "" "a plain-HTTP URL: no request reached the daemon"

ok "no token or password in the client's output" \
	bash -c '! grep -rqF -e "$1" -e mda_ "$2"/*.out "$2"/*.err' _ "$PW" "$H_DIR"

done_testing

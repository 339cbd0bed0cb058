#!/bin/bash
# The FastCGI Authorizer role straight on mdauthd's socket, with live
# tokens, in each form a web server sends it: lighttpd's (and Apache's
# authnz mode: FCGI_APACHE_ROLE unset), and Apache mod_authnz_fcgi's
# AUTHENTICATOR (Bearer, or Basic with a token as the password) and
# AUTHORIZER (after another module set REMOTE_USER).  The web servers'
# side of it runs in web_*.sh.
. "$(dirname "$0")/lib.sh"

FCGI_REQUEST=$top_builddir/tests/fcgi-request
[ -x "$FCGI_REQUEST" ] || bail "$FCGI_REQUEST not built"
h_setup
PW='correct horse battery staple'
h_user_add alice "$PW"
h_user_add bob "$PW"
h_login_ok alice "$PW"
alice=$TOKEN
alice_session=$SESSION_ID
alice_id=$(sql "SELECT id FROM mdauth.users WHERE username = 'alice'")
h_login_ok bob "$PW"
bob=$TOKEN

# authz [NAME=VALUE...]: one request in the Authorizer role (2), over
# HTTPS unless AZ_HTTPS is set to something else, for a path and method
# the API does not have.  Sets AZ_STATUS, AZ_OUT
# (the raw response: CGI headers, blank line, body) and AZ_BODY.
authz() {
	AZ_OUT=$("$FCGI_REQUEST" "$STACK_MDAUTHD_SOCKET" 2 REQUEST_METHOD=PUT \
		REQUEST_URI="${AZ_URI-/api/messages/7}" HTTPS="${AZ_HTTPS-on}" REMOTE_ADDR=127.0.0.1 "$@" |
		tr -d '\r')
	AZ_STATUS=$(sed -n 's/^Status: \([0-9]*\).*/\1/p' <<<"$AZ_OUT" | head -n 1)
	AZ_BODY=$(sed '1,/^$/d' <<<"$AZ_OUT")
}
# az_header NAME: a header of the last authz response.
az_header() {
	sed -n '/^$/q; s/^'"$1"': //p' <<<"$AZ_OUT"
}

# --- lighttpd, Apache authnz: the Bearer token ------------------------------
authz HTTP_AUTHORIZATION="Bearer $alice"
is "$AZ_STATUS" 200 "authorizer: a live token is 200 on any path and method"
is "$(az_header Variable-REMOTE_USER)" alice "authorizer: Variable-REMOTE_USER is the username"
is "$(az_header Variable-AUTH_USER_ID)" "$alice_id" "authorizer: Variable-AUTH_USER_ID is the user id"
is "$(az_header Variable-AUTH_SESSION_ID)" "$alice_session" \
	"authorizer: Variable-AUTH_SESSION_ID is the session"
is "$AZ_BODY" "" "authorizer: a 200 has no body"
is "$(az_header Cache-Control)" no-store "authorizer: Cache-Control: no-store"

authz
is "$AZ_STATUS" 401 "authorizer: no token is 401"
is "$(az_header WWW-Authenticate)" 'Bearer realm="mdauth"' "authorizer: ... with the plain challenge"
is "$(jq -r .error <<<"$AZ_BODY")" invalid_token "authorizer: ... and the JSON error body"
is "$(az_header Variable-REMOTE_USER)" "" "authorizer: a denial names no user"

authz HTTP_AUTHORIZATION="Bearer $(h_random_token)"
is "$AZ_STATUS" 401 "authorizer: an unknown token is 401"
like "$(az_header WWW-Authenticate)" 'error="invalid_token"' "authorizer: ... invalid_token"

AZ_HTTPS=off authz HTTP_AUTHORIZATION="Bearer $alice"
is "$AZ_STATUS" 403 "authorizer: not over HTTPS, with require_tls: 403 tls_required"

# --- Apache AUTHENTICATOR ----------------------------------------------------
authz FCGI_APACHE_ROLE=AUTHENTICATOR HTTP_AUTHORIZATION="Bearer $alice"
is "$AZ_STATUS/$(az_header Variable-REMOTE_USER)" 200/alice \
	"AUTHENTICATOR (check_user_id): the Bearer token decides"
authz FCGI_APACHE_ROLE=AUTHENTICATOR REMOTE_USER=alice REMOTE_PASSWD="$alice"
is "$AZ_STATUS/$(az_header Variable-REMOTE_USER)" 200/alice \
	"AUTHENTICATOR (Basic): the user's own token as the password is 200"
authz FCGI_APACHE_ROLE=AUTHENTICATOR REMOTE_USER=alice REMOTE_PASSWD="$bob"
is "$AZ_STATUS" 401 "AUTHENTICATOR (Basic): another user's token is 401"
authz FCGI_APACHE_ROLE=AUTHENTICATOR REMOTE_USER=alice REMOTE_PASSWD="$PW"
is "$AZ_STATUS" 401 "AUTHENTICATOR (Basic): the account password itself is 401"
authz FCGI_APACHE_ROLE=AUTHENTICATOR REMOTE_USER=alice REMOTE_PASSWD="$alice" \
	HTTP_AUTHORIZATION="Bearer $bob"
is "$AZ_STATUS/$(az_header Variable-REMOTE_USER)" 200/alice \
	"AUTHENTICATOR (Basic): the password is checked, not another header"

# --- Apache AUTHORIZER -------------------------------------------------------
authz FCGI_APACHE_ROLE=AUTHORIZER REMOTE_USER=alice HTTP_AUTHORIZATION="Bearer $alice"
is "$AZ_STATUS" 200 "AUTHORIZER: the token of the authenticated user is 200"
authz FCGI_APACHE_ROLE=AUTHORIZER REMOTE_USER=bob HTTP_AUTHORIZATION="Bearer $alice"
is "$AZ_STATUS" 401 "AUTHORIZER: a token of another user than REMOTE_USER is 401"
like "$(az_header WWW-Authenticate)" 'error="invalid_token"' "AUTHORIZER: ... invalid_token"

# --- what happens to the session ----------------------------------------------
sql "SELECT mdauth.revoke_session(:'id')" id="$alice_session" >/dev/null
authz HTTP_AUTHORIZATION="Bearer $alice"
is "$AZ_STATUS" 401 "authorizer: a token revoked by SQL is 401 at once"
authz FCGI_APACHE_ROLE=AUTHENTICATOR REMOTE_USER=alice REMOTE_PASSWD="$alice"
is "$AZ_STATUS" 401 "AUTHENTICATOR (Basic): a revoked token as the password is 401"

# The Filter role is not served.
authz_filter() {
	"$FCGI_REQUEST" "$STACK_MDAUTHD_SOCKET" 3 REQUEST_METHOD=GET \
		PATH_INFO=/health HTTPS=on | tr -d '\r' | sed -n 's/^Status: //p'
}
like "$(authz_filter)" '^500' "the Filter role is answered 500"

# The request log: one line, with the path of REQUEST_URI but never its
# query string, where a careless client may have put a token.
AZ_URI="/api/log-check?access_token=$bob" authz HTTP_AUTHORIZATION="Bearer $bob"
is "$AZ_STATUS" 200 "authorizer: a request with a query string is judged by its header"
like "$(grep -F ' /api/log-check ' "$H_DIR/mdauthd.log")" \
	'info: authorizer PUT /api/log-check 200 [0-9.]+ms user=[0-9]+$' \
	"authorizer: the request log line has the method, path, status, time and user id"

ok "no token or password in mdauthd's log" \
	bash -c '! grep -F -e "$1" -e "$2" -e "$3" "$4"' _ "$alice" "$bob" "$PW" "$H_DIR/mdauthd.log"

done_testing

#!/bin/sh
# whoami.cgi -- the example protected application: a CGI program that
# shows whom the web server let through.  It stands for your own API
# behind mdauth; the configurations in deploy/ serve it as /api/whoami.cgi.
#
# The user arrives as the CGI variables REMOTE_USER, AUTH_USER_ID and
# AUTH_SESSION_ID (lighttpd and Apache: mdauthd's Variable-* answer as a
# FastCGI authorizer), or as the request headers X-Auth-User,
# X-Auth-User-Id and X-Auth-Session-Id (nginx auth_request, which sets
# them itself so that a client cannot).  Those headers are only to be
# trusted behind a server that sets them, as deploy/nginx/ does: behind
# lighttpd or Apache a client can send its own, and only REMOTE_USER
# counts.  An application should read the one its server provides.
# It should not get the client's Authorization header (the token): the
# nginx and Apache configurations remove it once mdauth has let the
# request through; lighttpd cannot (deploy/lighttpd/ says why).
printf 'Content-Type: text/plain\r\nCache-Control: no-store\r\n\r\n'
printf 'user=%s\n' "${REMOTE_USER:-${HTTP_X_AUTH_USER:-}}"
printf 'user_id=%s\n' "${AUTH_USER_ID:-${HTTP_X_AUTH_USER_ID:-}}"
printf 'session_id=%s\n' "${AUTH_SESSION_ID:-${HTTP_X_AUTH_SESSION_ID:-}}"
printf 'path_info=%s\n' "${PATH_INFO:-}"
printf 'method=%s\n' "${REQUEST_METHOD:-}"
# The request body reaches the application too (an authorizer sees none).
printf 'body_bytes=%s\n' "$(head -c "${CONTENT_LENGTH:-0}" | wc -c)"
# Whether the client's Authorization header (the token) got here: it is
# not for the application, and the nginx and Apache configurations remove
# it once mdauth has checked it.  Last, so that user= stays the first line.
printf 'authorization=%s\n' "${HTTP_AUTHORIZATION:+present}"

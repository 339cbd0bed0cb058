#!/bin/bash
# Strict inputs beyond the cases of errors.sh: a body announced over
# max_body is refused before it is read (even when the client lies), the
# Authorization header's length on every Bearer path, field lengths in
# bytes, the JSON depth limit at its boundary, media types of the other
# POST bodies, raw NUL bytes, more kinds of invalid UTF-8, duplicate
# members (refused), trailing garbage; and require_tls = no.
. "$(dirname "$0")/lib.sh"

PW='correct horse battery staple'
h_setup max_body=4096 login_max_failures=1000 ip_max_failures=1000 max_sessions_per_user=50
h_user_add alice "$PW"
h_login_ok alice "$PW"
token=$TOKEN
workers_before=$(h_workers)

# h_bad_body NAME BODY: BODY (a string, or @FILE) at POST /login answers
# 400 invalid_request.
h_bad_body() {
	req POST /login -H 'Content-Type: application/json' --data-binary "$2"
	expect_error 400 invalid_request "$1 answers 400 invalid_request"
}

# h_file NAME FORMAT [ARGS...]: printf FORMAT into $H_DIR/NAME; prints
# @PATH for curl's --data-binary.
h_file() {
	local name=$1
	shift
	# shellcheck disable=SC2059  # the format is the point
	printf "$@" >"$H_DIR/$name"
	printf '@%s\n' "$H_DIR/$name"
}

# h_repeat N STRING: STRING N times.
h_repeat() {
	local i
	for ((i = 0; i < $1; i++)); do
		printf '%s' "$2"
	done
}

# --- a body announced over max_body is not read -----------------------------
# Straight to the daemon: lighttpd would wait for the whole body first.
# The client announces 1000000 bytes, sends 12 and keeps the connection
# open; the answer must come before the client is done.
rm -f "$H_DIR/lie.out"
(printf '{"username":'; sleep 5) |
	env -i REQUEST_METHOD=POST PATH_INFO=/login HTTPS=on REMOTE_ADDR=127.0.0.1 \
		CONTENT_TYPE=application/json CONTENT_LENGTH=1000000 timeout 10 \
		cgi-fcgi -bind -connect "$STACK_MDAUTHD_SOCKET" \
		>"$H_DIR/lie.out" 2>"$H_DIR/lie.err" &
lie_pid=$!
h_on_teardown "kill $lie_pid 2>/dev/null"
h_lie_answered() { grep -q '^Status: ' "$H_DIR/lie.out" 2>/dev/null; }
ok "Content-Length: 1000000 with 12 bytes sent: answered within 2 s, while the client still sends" \
	h_wait_for 2 h_lie_answered
is "$(tr -d '\r' <"$H_DIR/lie.out" | sed -n 's/^Status: \([0-9]*\).*/\1/p')" 413 \
	"the lying Content-Length gets Status: 413"
ok "its body is {\"error\":\"payload_too_large\",...}" \
	jq -e '.error == "payload_too_large"' <<<"$(sed '1,/^\r\{0,1\}$/d' "$H_DIR/lie.out")"
kill "$lie_pid" 2>/dev/null
wait "$lie_pid" 2>/dev/null

fcgi_raw REQUEST_METHOD=POST PATH_INFO=/login HTTPS=on REMOTE_ADDR=127.0.0.1 \
	CONTENT_TYPE=application/json CONTENT_LENGTH=4097
is "$(fcgi_status)" 413 "Content-Length: 4097 (max_body + 1) with no body sent answers 413"

# --- the Authorization header on every Bearer path ----------------------------
# validate.sh checks /validate at 4096 and 4097 bytes.
long=mda_$(head -c 4093 /dev/zero | tr '\0' A)
req_bearer POST /logout "$long" -H 'Content-Length: 0'
expect_error 400 invalid_request "POST /logout with a 4097-byte token answers 400 invalid_request"
req_bearer POST /refresh "$long" -H 'Content-Length: 0'
expect_error 400 invalid_request "POST /refresh with a 4097-byte token answers 400 invalid_request"
req_bearer GET /sessions "$long"
expect_error 400 invalid_request "GET /sessions with a 4097-byte token answers 400 invalid_request"
req_bearer DELETE "/sessions/$SESSION_ID" "$long"
expect_error 400 invalid_request "DELETE /sessions/{id} with a 4097-byte token answers 400 invalid_request"
req_bearer POST /logout-all "$long" -H 'Content-Length: 0'
expect_error 400 invalid_request "POST /logout-all with a 4097-byte token answers 400 invalid_request"
req_bearer GET /validate "mda_$(head -c 6000 /dev/zero | tr '\0' A)"
expect_error 400 invalid_request "a 6004-byte token answers 400 invalid_request"
req_bearer GET /validate "$token"
is "$STATUS" 200 "the session is untouched by the oversized tokens"

# --- field lengths, in bytes -------------------------------------------------
# errors.sh checks the password (1025 bytes), sessions.sh a 129-byte
# ASCII device.
req_json POST /login "{\"username\":\"$(h_repeat 128 u)\",\"password\":\"$PW\"}"
expect_error 401 invalid_credentials "a 128-byte username is checked (401, not 400)"
h_bad_body "a 129-byte username" "{\"username\":\"$(h_repeat 129 u)\",\"password\":\"$PW\"}"
req_json POST /login "{\"username\":\"$(h_repeat 64 é)\",\"password\":\"$PW\"}"
expect_error 401 invalid_credentials "a username of 64 two-byte characters (128 bytes) is checked (401)"
h_bad_body "a username of 65 two-byte characters (130 bytes)" \
	"{\"username\":\"$(h_repeat 65 é)\",\"password\":\"$PW\"}"
h_bad_body "a username of 65 escaped two-byte characters (130 bytes)" \
	"{\"username\":\"$(h_repeat 65 '\u00e9')\",\"password\":\"$PW\"}"
login alice "$PW" "$(h_repeat 42 ☕)xy"
is "$STATUS" 200 "a device of 42 three-byte characters and 2 letters (128 bytes) is accepted"
h_bad_body "a device of 43 three-byte characters (129 bytes)" \
	"{\"username\":\"alice\",\"password\":\"$PW\",\"device\":\"$(h_repeat 43 ☕)\"}"

# --- JSON depth: 8 levels ----------------------------------------------------
# Nesting in a member the daemon ignores, so that only the depth counts.
depth8="[[[[[[[1]]]]]]]"
req_json POST /login "{\"username\":\"alice\",\"password\":\"$PW\",\"extra\":$depth8}"
is "$STATUS" 200 "8 levels of JSON (the object and 7 arrays) are accepted"
h_bad_body "9 levels of JSON (the object and 8 arrays)" \
	"{\"username\":\"alice\",\"password\":\"$PW\",\"extra\":[$depth8]}"
h_bad_body "9 levels of JSON (9 nested objects)" \
	"{\"username\":\"alice\",\"password\":\"$PW\",\"extra\":$(h_repeat 8 '{"a":')1$(h_repeat 8 '}')}"
req POST /logout-all -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
	--data-binary "{\"keep_current\":true,\"extra\":[$depth8]}"
expect_error 400 invalid_request "POST /logout-all with 9 levels of JSON answers 400 invalid_request"

# --- media types of the other POST bodies -----------------------------------
# errors.sh checks /login, logout_all.sh /logout-all.
req POST /logout -H "Authorization: Bearer $(h_random_token)" \
	-H 'Content-Type: text/plain' --data-binary '{}'
expect_error 415 unsupported_media_type "POST /logout with a text/plain body answers 415"
req POST /refresh -H "Authorization: Bearer $token" \
	-H 'Content-Type: application/x-www-form-urlencoded' --data-binary 'a=b'
expect_error 415 unsupported_media_type "POST /refresh with a form body answers 415"
req_bearer GET /validate "$token"
is "$STATUS" 200 "the token survives a refresh refused for its media type"

# --- NUL bytes ---------------------------------------------------------------
# errors.sh checks \u0000 in username and password.
h_bad_body "a raw NUL byte inside the username" \
	"$(h_file nul-user '{"username":"al\000ice","password":"%s"}' "$PW")"
h_bad_body "a raw NUL byte inside the password" \
	"$(h_file nul-pw '{"username":"alice","password":"correct\000horse battery staple"}')"
h_bad_body "a raw NUL byte between members" \
	"$(h_file nul-between '{"username":"alice",\000"password":"%s"}' "$PW")"
h_bad_body "a raw NUL byte after the object" \
	"$(h_file nul-after '{"username":"alice","password":"%s"}\000' "$PW")"
h_bad_body "a device with \\u0000 inside" \
	"{\"username\":\"alice\",\"password\":\"$PW\",\"device\":\"pho\\u0000ne\"}"
h_bad_body "an ignored member with \\u0000 inside" \
	"{\"username\":\"alice\",\"password\":\"$PW\",\"extra\":\"a\\u0000b\"}"
# A member name is a C string, cut at its NUL: "username\u0000x" would be
# read as "username".
h_bad_body "a member name with \\u0000 inside (username\\u0000x)" \
	"{\"username\\u0000x\":\"alice\",\"password\":\"$PW\"}"

# --- invalid UTF-8 -------------------------------------------------------------
# errors.sh checks a stray byte and an overlong sequence in the username
# and a lone surrogate escape.
h_bad_body "a password with an invalid UTF-8 byte" \
	"$(h_file utf8-pw '{"username":"alice","password":"correct horse\377battery staple"}')"
h_bad_body "a device with a truncated UTF-8 sequence" \
	"$(h_file utf8-device '{"username":"alice","password":"%s","device":"caf\303"}' "$PW")"
h_bad_body "a username with an encoded UTF-16 surrogate (ED A0 80)" \
	"$(h_file utf8-surrogate '{"username":"al\355\240\200ice","password":"%s"}' "$PW")"
h_bad_body "a username with a code point above U+10FFFF (F4 90 80 80)" \
	"$(h_file utf8-toobig '{"username":"al\364\220\200\200ice","password":"%s"}' "$PW")"
h_bad_body "a member name with an invalid UTF-8 byte" \
	"$(h_file utf8-name '{"username":"alice","password":"%s","ex\377tra":1}' "$PW")"

# --- duplicate members: refused ----------------------------------------------
h_bad_body 'a duplicate username ({"username":"a","password":"x","username":"b"})' \
	'{"username":"a","password":"x","username":"b"}'
h_bad_body "a duplicate username whose last value is a real user with the right password" \
	"{\"username\":\"nobody\",\"password\":\"$PW\",\"username\":\"alice\"}"
h_bad_body "a duplicate password whose last value is the right one" \
	"{\"username\":\"alice\",\"password\":\"wrong password\",\"password\":\"$PW\"}"
h_bad_body "a duplicate device" \
	"{\"username\":\"alice\",\"password\":\"$PW\",\"device\":\"a\",\"device\":\"b\"}"
h_bad_body "a duplicate member the daemon otherwise ignores" \
	"{\"username\":\"alice\",\"password\":\"$PW\",\"extra\":1,\"extra\":2}"
h_bad_body "a duplicate username spelled with an escape (user\\u006eame)" \
	"{\"username\":\"alice\",\"password\":\"$PW\",\"user\\u006eame\":\"alice\"}"
req_json POST /login "{\"username\":\"alice\",\"password\":\"$PW\",\"extra\":{\"username\":\"x\",\"password\":\"y\"}}"
is "$STATUS" 200 "members named username and password inside a nested object are not duplicates"
req POST /logout-all -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
	--data-binary '{"keep_current":true,"keep_current":false}'
expect_error 400 invalid_request "POST /logout-all with a duplicate keep_current answers 400 invalid_request"
req_bearer GET /validate "$token"
is "$STATUS" 200 "the refused logout-all revoked nothing"

# --- trailing garbage ----------------------------------------------------------
# errors.sh checks " x" and a second object after the first.
h_bad_body "a trailing comma after the object" "{\"username\":\"alice\",\"password\":\"$PW\"},"
h_bad_body "a number after the object on the next line" \
	"$(h_file trailing-number '{"username":"alice","password":"%s"}\n1' "$PW")"
h_bad_body "a closing brace too many" "{\"username\":\"alice\",\"password\":\"$PW\"}}"
req POST /login -H 'Content-Type: application/json' \
	--data-binary "$(h_file trailing-space '{"username":"alice","password":"%s"} \r\n\t\n' "$PW")"
is "$STATUS" 200 "white space after the object is accepted"

is "$(h_workers)" "$workers_before" "no request in this script killed a worker"

# --- require_tls = no -----------------------------------------------------------
# errors.sh checks the 403 over plain HTTP with the default (yes).
h_restart_mdauthd require_tls=no
req_plain POST /login -H 'Content-Type: application/json' \
	--data-binary "{\"username\":\"alice\",\"password\":\"$PW\"}"
is "$STATUS" 200 "with require_tls = no, a login over plain HTTP answers 200"
plain_token=$(json token)
req_plain GET /validate -H "Authorization: Bearer $plain_token"
is "$STATUS" 200 "with require_tls = no, a validate over plain HTTP answers 200"
is "$(json username)" alice "with require_tls = no, the plain-HTTP validate names the user"
req_bearer GET /validate "$plain_token"
is "$STATUS" 200 "with require_tls = no, HTTPS still works"

done_testing

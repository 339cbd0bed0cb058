#!/bin/bash
# Secrets in memory: once a worker has answered, no copy of a token it
# issued, refreshed, validated or revoked, and no password it was sent
# (right or wrong), stays in its memory or in the master's.  A worker
# lives for max_requests requests; whatever it leaves in freed memory
# could be read back by anything that later reads that memory (a core
# dump, a bug that discloses heap contents).
#
# tests/memscan reads every private writable mapping of a process through
# /proc/PID/mem (heap, anonymous memory, stacks, libraries' data) and
# prints the index of each string it finds, never the string itself.
. "$(dirname "$0")/lib.sh"

# AddressSanitizer replaces the allocator and ignores M_PERTURB; it is
# told to fill freed blocks instead (its quarantine keeps them a while).
# valgrind's allocator keeps freed blocks as they were: under it the scans
# after the requests are skipped.
if [ "${MDAUTH_SANITIZERS:-0}" = 1 ]; then
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}max_free_fill_size=1048576:free_fill_byte=165"
	export ASAN_OPTIONS
fi

MEMSCAN=$top_builddir/tests/memscan
FCGI_REQUEST=$top_builddir/tests/fcgi-request
[ -x "$MEMSCAN" ] && [ -x "$FCGI_REQUEST" ] ||
	bail "tests/memscan or tests/fcgi-request not built"

# The password is long and needs no escaping in JSON, so that any copy of
# the request body, raw or parsed, holds its pieces.  The wrong one has
# characters JSON escapes: only its decoded copies (the parser's buffer,
# the parsed string) hold it as is.  BAD is sent in bodies that are
# refused, each differently, after the parser may have decoded the password.
PASSWORD='correct horse battery staple and then some more words to make it long'
WRONG='Tr0ub4dor&3 \ is "not" it, \ though "it" is \ a "long" enough \ password "as" well'
BAD='a third long password that only ever comes in a malformed body'


h_setup workers=1
master=$STACK_MDAUTHD_PID
h_user_add alice "$PASSWORD"
h_wait_for 5 h_has_children "$master" 1 || bail "expected 1 worker"
worker=$(h_children "$master")

# mdauthd turned glibc's per-thread cache off by starting itself again:
# the same process, under its own name.
like "$(tr '\0' '\n' <"/proc/$worker/environ" | grep '^GLIBC_TUNABLES=')" \
	'tcache_count=0' "the worker runs with glibc's per-thread cache off"
is "$(cat "/proc/$master/comm")" mdauthd "the master still runs as mdauthd"

# f_pieces SECRET...: every piece of WINDOW characters of each SECRET,
# starting every STEP characters (and its last piece): a copy of any
# STEP + WINDOW - 1 characters of a secret holds one of them.
WINDOW=12
STEP=2
f_pieces() {
	local s i
	for s in "$@"; do
		for ((i = 0; i + WINDOW < ${#s}; i += STEP)); do
			printf '%s\n' "${s:i:WINDOW}"
		done
		printf '%s\n' "${s: -WINDOW}"
	done
}

# f_clean NAME PID SECRET...: no piece of any SECRET is anywhere in PID's
# memory.
f_clean() {
	local name=$1 pid=$2 out rc
	shift 2
	if [ "${MDAUTH_VALGRIND:-0}" = 1 ]; then
		skip "$name" "valgrind keeps freed blocks unwiped"
		return
	fi
	mapfile -t pieces < <(f_pieces "$@")
	out=$("$MEMSCAN" "$pid" "${pieces[@]}" 2>&1)
	rc=$?
	is "$rc" 0 "$name"
	[ "$rc" = 0 ] || diag "memscan (secret index, address, mapping):" \
		"$(head -20 <<<"$out")"
}

# The scans must be able to find what they look for.  Both processes
# hold the socket's path, from the configuration they parsed; and while a
# validate is in flight (held at the session's row lock: an old
# last_used_at makes it write), the worker holds its token.
ok "memscan finds the socket's path in the master's memory" \
	sh -c "'$MEMSCAN' '$master' '$STACK_MDAUTHD_SOCKET' >/dev/null; [ \$? = 1 ]"
ok "memscan finds the socket's path in the worker's memory" \
	sh -c "'$MEMSCAN' '$worker' '$STACK_MDAUTHD_SOCKET' >/dev/null; [ \$? = 1 ]"
h_login_ok alice "$PASSWORD" probe
probe=$TOKEN
sql "UPDATE mdauth.sessions SET last_used_at = now() - interval '1 hour'
	WHERE id = :'sid'" sid="$SESSION_ID" >/dev/null
h_lock_rows 1 "SELECT 'locked' FROM mdauth.sessions WHERE id = '$SESSION_ID' FOR UPDATE"
h_bg probe /validate -H "Authorization: Bearer $probe"
probe_pid=$H_BG_PID
h_wait_for 10 h_lock_waiters 1 || bail "the validate did not reach the row lock"
"$MEMSCAN" "$worker" "$probe" >/dev/null
is "$?" 1 "memscan finds the token of a validate in flight in the worker's memory"
h_unlock_rows
wait "$probe_pid"
is "$(cat "$H_DIR/probe.status")" 200 "that validate then answers 200"

login alice "$WRONG"
is "$STATUS" 401 "a wrong password is refused"
for body in \
	'{"username":"alice","password":"'"$BAD"'",}' \
	'{"username":"alice","password":"'"$BAD"'","password":"'"$BAD"'"}' \
	'{"username":"alice","password":"'"$BAD"'"} {}' \
	'[{"username":"alice","password":"'"$BAD"'"}]' \
	'{"username":"alice","password":"'"$BAD"'","device":{"a":["'"$BAD"'"]}}' \
	'{"username":"alice","password":"'"$BAD"'"'; do
	req_json POST /login "$body"
	bad_statuses="${bad_statuses:-}$STATUS "
done
is "$bad_statuses" "400 400 400 400 400 400 " \
	"6 malformed login bodies (a trailing comma, a duplicate member, trailing data, an array, a nested device, cut short) are refused with 400"
h_login_ok alice "$PASSWORD" phone
phone=$TOKEN
h_login_ok alice "$PASSWORD" laptop
laptop=$TOKEN
req_bearer GET /validate "$phone"
is "$STATUS" 200 "the phone's token validates"
req_bearer POST /refresh "$laptop" -H 'Content-Length: 0'
is "$STATUS" 200 "the laptop's token is refreshed"
renewed=$(json token)
like "$renewed" "$H_TOKEN_RE" "... into a new token"
req_bearer GET /sessions "$renewed"
is "$STATUS" 200 "the renewed token lists the sessions"
req_bearer POST /logout "$phone" -H 'Content-Length: 0'
is "$STATUS" 200 "the phone logs out"
# The worker is the same one that served all of the above.
is "$(h_children "$master")" "$worker" "one worker served every request"

f_clean "the worker keeps no token it issued, refreshed, validated or revoked, and no password" \
	"$worker" "$probe" "$phone" "$laptop" "$renewed" "$PASSWORD" "$WRONG" "$BAD"
f_clean "the master keeps no token and no password" \
	"$master" "$probe" "$phone" "$laptop" "$renewed" "$PASSWORD" "$WRONG" "$BAD"

# The same through the Authorizer role, which lighttpd uses to protect the
# rest of the API: the token of a request it let through is gone too.
h_login_ok alice "$PASSWORD" tablet
tablet=$TOKEN
out=$("$FCGI_REQUEST" "$STACK_MDAUTHD_SOCKET" 2 REQUEST_METHOD=GET \
	REQUEST_URI=/api/messages HTTPS=on REMOTE_ADDR=127.0.0.1 \
	HTTP_AUTHORIZATION="Bearer $tablet" | head -n 1 | tr -d '\r')
is "$out" "Status: 200 OK" "the authorizer lets the tablet's token through"
f_clean "after an authorizer request, the worker keeps no token" \
	"$worker" "$probe" "$phone" "$laptop" "$renewed" "$tablet" "$PASSWORD" "$WRONG" "$BAD"

done_testing

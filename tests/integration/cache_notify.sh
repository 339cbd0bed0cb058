#!/bin/bash
# The cache's invalidation notifications (sql/011_cache_notify.sql): a
# session listening on channel mdauth_cache receives, for each change made
# by another connection, exactly the payloads of the contract:
#   t:<hex of the old token digest>  a session deleted, revoked, given
#                                    another token or user, or expiring
#                                    earlier
#   u:<user id>                      a user deleted, or changed in
#                                    disabled_at, username, password_hash
#   flush                            TRUNCATE of sessions or users
# whether the change comes from an operator's function, mdauthctl, the
# daemon's functions or raw SQL; and nothing for a touch (the hot path),
# for a login that opens a session under the cap, or for a change that is
# rolled back.
. "$(dirname "$0")/lib.sh"

h_setup_db
PW='correct horse battery staple'
for u in alice bob carol dave erin frank; do
	h_user_add "$u" "$PW"
done
uid() {
	sql "SELECT id FROM mdauth.users WHERE username = :'u'" u="$1"
}
ALICE=$(uid alice) BOB=$(uid bob) CAROL=$(uid carol) DAVE=$(uid dave)
ERIN=$(uid erin) FRANK=$(uid frank)

# --- the listener --------------------------------------------------------------
# One psql session, fed through a FIFO, LISTENs; psql prints each
# notification it has received after its next command.
mkfifo "$H_DIR/listen.fifo" || bail "mkfifo failed"
stack_psql <"$H_DIR/listen.fifo" >"$H_DIR/listen.out" 2>&1 &
h_on_teardown "kill $! 2>/dev/null"
exec {LFD}>"$H_DIR/listen.fifo"
printf 'LISTEN mdauth_cache;\n' >&"$LFD"

# h_payloads: every payload received on mdauth_cache so far, one a line.
h_payloads() {
	sed -n 's/^Asynchronous notification "mdauth_cache" with payload "\(.*\)" received from server process with PID [0-9]*\.$/\1/p' \
		"$H_DIR/listen.out"
}

# h_seen_end N: the listener has received end marker N (after a query).
h_seen_end() {
	printf 'SELECT 1;\n' >&"$LFD"
	h_payloads | grep -qx "end:$1"
}

# notified_by COMMAND [ARGS...]: run COMMAND (which changes the database
# through connections of its own), then send end marker N from a
# connection of its own.  Notifications are delivered in commit order, so
# what the listener gets between end markers N-1 and N is what COMMAND
# sent.  Sets NOTES to those payloads, sorted, space-separated.
N=0
NOTES=
notified_by() {
	N=$((N + 1))
	"$@" >"$H_DIR/notified.out" 2>&1 ||
		diag "command failed: $*" "$(cat "$H_DIR/notified.out")"
	sql "NOTIFY mdauth_cache, 'end:$N'"
	h_wait_for 10 h_seen_end "$N" || bail "end marker $N never arrived"
	NOTES=$(h_payloads | awk -v a="end:$((N - 1))" -v b="end:$N" '
		$0 == b { exit }
		on { print }
		$0 == a { on = 1 }' | sort | tr '\n' ' ' | sed 's/ $//')
}

# notified QUERY [NAME=VALUE...]: notified_by sql(), one connection and
# transaction of its own.
notified() {
	notified_by sql "$@"
}

# t NAME...: the payloads for the tokens named NAME (digest sha256(NAME)),
# sorted as NOTES is.
t() {
	local n
	for n in "$@"; do
		printf 't:%s\n' "$(sql "SELECT encode(sha256(convert_to(:'n', 'UTF8')), 'hex')" n="$n")"
	done | sort | tr '\n' ' ' | sed 's/ $//'
}

# login_sql USER_ID NAME [CAP [POLICY]]: the statement of a successful
# login (sql/012_login_commit.sql), as the daemon's role: a session of the
# user whose token's digest is sha256(NAME); its id.
login_sql() {
	printf "SET ROLE mdauth; SELECT session_id FROM mdauth.login_commit(%s, 'x',
		'127.0.0.1', sha256(convert_to('%s', 'UTF8')), '%s', '127.0.0.1', 'test',
		600, 3600, %s, '%s', NULL, NULL)" "$1" "$2" "$2" "${3:-10}" "${4:-evict_oldest}"
}

# open USER_ID NAME [CAP [POLICY]]: that login; prints the session's id.
open() {
	sql "$(login_sql "$@")"
}

# as_daemon QUERY: the query as the daemon's login role.
as_daemon() {
	printf 'SET ROLE mdauth; %s' "$1"
}

H='sha256(convert_to(:'"'"'n'"'"', '"'"'UTF8'"'"'))'

# A marker alone: the listener works, and nothing else is pending.
notified "SELECT 1"
is "$NOTES" "" "the listener receives the end markers and nothing else when nothing changed"

# --- nothing for a login, a touch, or what a cache cannot hold ------------------
notified "$(login_sql "$ALICE" a1)"
is "$NOTES" "" "a login (login_commit) of a fresh session under the cap sends nothing"
open "$ALICE" a2 >/dev/null
open "$ALICE" a3 >/dev/null
sql "UPDATE mdauth.sessions SET last_used_at = now() - interval '1 minute'"
before=$(sql "SELECT last_used_at || ' ' || expires_at FROM mdauth.sessions
	WHERE token_hash = $H" n=a1)
notified "$(as_daemon "SELECT state FROM mdauth.session_touch($H, 0, true, 900,
	'127.0.0.1', 'test')")" n=a1
is "$NOTES" "" "session_touch (touch_interval 0, sliding) sends nothing"
after=$(sql "SELECT last_used_at || ' ' || expires_at FROM mdauth.sessions
	WHERE token_hash = $H" n=a1)
isnt "$after" "$before" "... though it did write last_used_at and a later expires_at"
notified "UPDATE mdauth.sessions SET last_used_at = now(),
	expires_at = expires_at + interval '1 minute' WHERE token_hash = $H" n=a2
is "$NOTES" "" "a raw UPDATE of last_used_at and a later expires_at sends nothing"
notified "UPDATE mdauth.sessions SET absolute_expires_at = absolute_expires_at
	+ interval '1 hour' WHERE token_hash = $H" n=a2
is "$NOTES" "" "a later absolute_expires_at sends nothing"
notified "UPDATE mdauth.sessions SET device = 'renamed', refresh_count = refresh_count + 1,
	previous_token_hash = sha256('old') WHERE token_hash = $H" n=a2
is "$NOTES" "" "an UPDATE of columns validate does not answer from (device, refresh_count, previous_token_hash) sends nothing"
notified "UPDATE mdauth.users SET updated_at = now() WHERE id = $ALICE"
is "$NOTES" "" "an UPDATE of a user's updated_at alone sends nothing"
notified "BEGIN; SELECT mdauth.revoke_session(id) FROM mdauth.sessions
	WHERE token_hash = $H; ROLLBACK" n=a2
is "$NOTES" "" "a revocation rolled back sends nothing (delivered only at commit)"

# --- the operators' functions ---------------------------------------------------
notified "SELECT mdauth.revoke_session(id) FROM mdauth.sessions WHERE token_hash = $H" n=a1
is "$NOTES" "$(t a1)" "revoke_session sends t: of the session's token"
notified "SELECT mdauth.revoke_user_sessions('Alice')"
is "$NOTES" "$(t a2 a3)" "revoke_user_sessions sends t: of each live session it ended"

open "$BOB" b1 >/dev/null
open "$BOB" b2 >/dev/null
notified "SELECT mdauth.disable_user('bob')"
is "$NOTES" "$(printf '%s\n' "$(t b1)" "$(t b2)" "u:$BOB" | sort | tr '\n' ' ' | sed 's/ $//')" \
	"disable_user sends t: of each session it ended and u: of the user"
notified "SELECT mdauth.enable_user('bob')"
is "$NOTES" "u:$BOB" "enable_user sends u: of the user (disabled_at changed)"

open "$CAROL" c1 >/dev/null
hash2=$(h_ctl hash-password --password-stdin <<<"another password") ||
	bail "hash-password failed"
notified "SELECT mdauth.set_password('carol', :'h')" h="$hash2"
is "$NOTES" "$(printf '%s\n' "$(t c1)" "u:$CAROL" | sort | tr '\n' ' ' | sed 's/ $//')" \
	"set_password sends t: of each session it ended and u: of the user"
open "$CAROL" c2 >/dev/null
hash3=$(h_ctl hash-password --password-stdin <<<"a third password") ||
	bail "hash-password failed"
notified "SELECT mdauth.set_password('carol', :'h', true)" h="$hash3"
is "$NOTES" "u:$CAROL" "set_password keeping the sessions sends u: of the user only"
notified "SELECT mdauth.set_password('carol', :'h', true)" h="$hash3"
is "$NOTES" "" "set_password to the hash already stored (keeping the sessions) sends nothing"

dead=$(sql "SELECT encode(token_hash, 'hex') FROM mdauth.sessions s
	WHERE NOT EXISTS (SELECT 1 FROM mdauth.live_sessions l WHERE l.id = s.id)
	ORDER BY 1" | sed 's/^/t:/' | sort | tr '\n' ' ' | sed 's/ $//')
ok "there are sessions for prune to delete (so the check below checks something)" \
	test -n "$dead"
notified "SELECT sessions_deleted FROM mdauth.prune()"
is "$NOTES" "$dead" "prune sends t: of each session it deleted"

open "$DAVE" d1 >/dev/null
open "$DAVE" d2 >/dev/null
notified_by h_ctl user delete dave
is "$NOTES" "$(printf '%s\n' "$(t d1)" "$(t d2)" "u:$DAVE" | sort | tr '\n' ' ' | sed 's/ $//')" \
	"mdauthctl user delete sends t: of each of the user's sessions and u: of the user"

# --- the daemon's functions -----------------------------------------------------
open "$ERIN" e1 >/dev/null
e2=$(open "$ERIN" e2)
open "$ERIN" e3 >/dev/null
e4=$(open "$ERIN" e4)
open "$ERIN" e5 >/dev/null
notified "$(as_daemon "SELECT state FROM mdauth.session_logout($H, 'logout',
	'127.0.0.1', 'test')")" n=e1
is "$NOTES" "$(t e1)" "session_logout sends t: of the token"
notified "$(as_daemon "SELECT session_id FROM mdauth.session_revoke($ERIN, :'sid',
	'127.0.0.1', 'test')")" sid="$e2"
is "$NOTES" "$(t e2)" "session_revoke sends t: of the session's token"
notified "$(as_daemon "SELECT state FROM mdauth.session_refresh($H,
	sha256('e3 refreshed'), 600, '127.0.0.1', 'test')")" n=e3
is "$NOTES" "$(t e3)" "session_refresh sends t: of the old token"
notified "$(as_daemon "SELECT mdauth.session_logout_all($ERIN, true, :'sid',
	'127.0.0.1', 'test')")" sid="$e4"
is "$NOTES" "$(printf '%s\n' "$(t e5)" "t:$(sql "SELECT encode(sha256('e3 refreshed'), 'hex')")" |
	sort | tr '\n' ' ' | sed 's/ $//')" \
	"session_logout_all (keeping the current session) sends t: of each other live session"
notified "$(as_daemon "SELECT mdauth.session_logout_all($ERIN, false, :'sid',
	'127.0.0.1', 'test')")" sid="$e4"
is "$NOTES" "$(t e4)" "session_logout_all of every session sends t: of the last one"

# The cap: a login at the cap evicts the least recently used session.
open "$FRANK" f1 2 >/dev/null
open "$FRANK" f2 2 >/dev/null
sql "UPDATE mdauth.sessions SET last_used_at = now() - interval '1 hour'
	WHERE token_hash = $H" n=f1
notified "$(login_sql "$FRANK" f3 2)"
is "$NOTES" "$(t f1)" "a login at the cap sends t: of the evicted session only"
notified "$(login_sql "$FRANK" f4 2 reject)"
is "$NOTES" "" "a login refused at the cap (reject) sends nothing"
frank_hash=$(sql "SELECT password_hash FROM mdauth.users WHERE id = $FRANK")
notified "SET ROLE mdauth; SELECT rehashed FROM mdauth.login_commit($FRANK, 'frank',
	'127.0.0.1', sha256('f5'), 'f5', '127.0.0.1', 'test', 600, 3600, 10, 'evict_oldest',
	:'old', :'new')" old="$frank_hash" new="$hash3"
is "$NOTES" "u:$FRANK" "a login that re-hashes the password sends u: of the user"
notified "$(as_daemon "SELECT state FROM mdauth.session_touch($H, 0, true, 60,
	'127.0.0.1', 'test')")" n=f2
is "$NOTES" "$(t f2)" "a touch with a shorter ttl, which moves the expiry earlier, sends t:"

# --- raw SQL --------------------------------------------------------------------
for n in r1 r2 r3 r4 r5 r6 r7; do
	open "$FRANK" "$n" >/dev/null
done
notified "UPDATE mdauth.sessions SET revoked_at = now() WHERE token_hash = $H" n=r1
is "$NOTES" "$(t r1)" "a raw UPDATE of revoked_at sends t:"
notified "UPDATE mdauth.sessions SET expires_at = expires_at - interval '1 minute'
	WHERE token_hash = $H" n=r2
is "$NOTES" "$(t r2)" "a raw UPDATE of expires_at to an earlier time sends t:"
notified "UPDATE mdauth.sessions SET absolute_expires_at = now() WHERE token_hash = $H" n=r3
is "$NOTES" "$(t r3)" "a raw UPDATE of absolute_expires_at to an earlier time sends t:"
notified "UPDATE mdauth.sessions SET token_hash = sha256('r4 new') WHERE token_hash = $H" n=r4
is "$NOTES" "$(t r4)" "a raw UPDATE of token_hash sends t: of the old token"
notified "UPDATE mdauth.sessions SET user_id = $ALICE WHERE token_hash = $H" n=r5
is "$NOTES" "$(t r5)" "a raw UPDATE of user_id sends t:"
notified "DELETE FROM mdauth.sessions WHERE token_hash = $H" n=r6
is "$NOTES" "$(t r6)" "a raw DELETE of a session sends t:"
# An operator's role with no EXECUTE on the trigger functions.
sql "CREATE ROLE operator_x;
	GRANT USAGE ON SCHEMA mdauth TO operator_x;
	GRANT SELECT, UPDATE ON mdauth.sessions TO operator_x" >/dev/null
notified "SET ROLE operator_x; UPDATE mdauth.sessions SET revoked_at = now()
	WHERE token_hash = $H" n=r7
is "$NOTES" "$(t r7)" "a raw UPDATE by a role without EXECUTE on the trigger functions sends t: too"

notified "UPDATE mdauth.users SET disabled_at = now() WHERE id = $CAROL"
is "$NOTES" "u:$CAROL" "a raw UPDATE of a user's disabled_at sends u:"
notified "UPDATE mdauth.users SET username = 'Carol2' WHERE id = $CAROL"
is "$NOTES" "u:$CAROL" "a raw UPDATE of a username sends u:"
notified "UPDATE mdauth.users SET password_hash = :'h' WHERE id = $ALICE" h="$hash2"
is "$NOTES" "u:$ALICE" "a raw UPDATE of a password_hash sends u:"
open "$ALICE" a9 >/dev/null
alice_tokens=$(sql "SELECT 't:' || encode(token_hash, 'hex') FROM mdauth.sessions
	WHERE user_id = $ALICE" | sort)
ok "alice has sessions, revoked or not (so the check below checks something)" \
	test "$(grep -c . <<<"$alice_tokens")" -ge 2
notified "DELETE FROM mdauth.users WHERE id = $ALICE"
is "$NOTES" "$(printf '%s\n' "$alice_tokens" "u:$ALICE" | sort | tr '\n' ' ' | sed 's/ $//')" \
	"a raw DELETE of a user sends t: of each of its sessions (revoked or not) and u:"

# --- TRUNCATE -------------------------------------------------------------------
notified "TRUNCATE mdauth.sessions"
is "$NOTES" "flush" "TRUNCATE of mdauth.sessions sends flush, once"
open "$BOB" b9 >/dev/null
notified "TRUNCATE mdauth.users CASCADE"
is "$NOTES" "flush" "TRUNCATE of mdauth.users (cascading to sessions) sends flush, once"

# --- the queue ------------------------------------------------------------------
is "$(sql "SELECT pg_notification_queue_usage() < 0.01")" t \
	"the listener read everything: the notification queue is (nearly) empty"

printf '\\q\n' >&"$LFD"
exec {LFD}>&-
done_testing

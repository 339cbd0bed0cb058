#!/bin/bash
# The admin command's user and session commands: user disable, enable,
# delete and list; session list and revoke; prune.  Each one's output and
# exit status (0 done, 1 failed with the problem named, 2 usage), and its
# effect on the running daemon from the next request on.
. "$(dirname "$0")/lib.sh"

# Several sessions of one user: above the default cap of 5.
h_setup workers=2 max_sessions_per_user=10
PW='correct horse battery staple'
for u in alice bob carol dave; do
	h_user_add "$u" "$PW"
done
ALICE_ID=$(sql "SELECT id FROM mdauth.users WHERE username = 'alice'")

# h_run [ARGS...]: run a command, keeping its status in RC and its output
# in OUT and ERR.
h_run() {
	"$@" >"$H_DIR/run.out" 2>"$H_DIR/run.err"
	RC=$?
	OUT=$(cat "$H_DIR/run.out")
	ERR=$(cat "$H_DIR/run.err")
}

# h_cells: stdin's table with the columns (two blanks or more apart)
# joined by "|".
h_cells() {
	sed -E 's/[[:space:]]+$//; s/ {2,}/|/g'
}

# h_header: the header of the last command's table, as cells.
h_header() {
	head -n 1 <<<"$OUT" | h_cells
}

# h_rows_where COLUMN VALUE: the rows (as cells, without the header) of the
# last command's table whose COLUMN-th cell is VALUE.
h_rows_where() {
	tail -n +2 <<<"$OUT" | h_cells | awk -F '|' -v c="$1" -v v="$2" '$c == v'
}

# h_cell COLUMN VALUE WANT: cell WANT of the row whose cell COLUMN is VALUE.
h_cell() {
	h_rows_where "$1" "$2" | awk -F '|' -v w="$3" '{ print $w }'
}

# h_body_lines: how many lines the last table has below its header.
h_body_lines() {
	tail -n +2 <<<"$OUT" | grep -c .
}

h_login_ok alice "$PW" phone
a1_token=$TOKEN
a1=$SESSION_ID
h_login_ok alice "$PW"
a2_token=$TOKEN
a2=$SESSION_ID
h_login_ok alice "$PW" expired
a3=$SESSION_ID
sql "UPDATE mdauth.sessions SET expires_at = now() - interval '1 second' WHERE id = :'sid'" sid="$a3"
h_login_ok alice "$PW" 'logged out'
a4=$SESSION_ID
req_bearer POST /logout "$TOKEN" -H 'Content-Length: 0'
h_login_ok bob "$PW" 'bob phone'
b1_token=$TOKEN
b1=$SESSION_ID
h_login_ok carol "$PW" 'carol phone'
c1_token=$TOKEN
h_login_ok carol "$PW" 'carol laptop'
c2_token=$TOKEN

# --- user list ---------------------------------------------------------------
sql "UPDATE mdauth.users SET disabled_at = now() WHERE username = 'dave'"
h_run h_ctl user list
is "$RC" 0 "user list exits 0"
is "$(h_header)" "id|username|created_at|disabled_at|sessions" \
	"user list: the header names id, username, created_at, disabled_at, sessions"
is "$(h_body_lines)" 4 "user list: one line per user (4)"
is "$(h_cell 2 alice 1)" "$ALICE_ID" "user list: the id column holds the user's id"
is "$(h_cell 2 alice 5)" 2 "user list: the sessions column counts the user's live sessions (2)"
is "$(h_cell 2 carol 5)" 2 "user list: each user has their own count"
like "$(h_cell 2 alice 3)" '^[0-9]{4}-[0-9]{2}-[0-9]{2}' "user list: created_at is a date"
is "$(h_cell 2 alice 4)" - "user list: an enabled user's disabled_at is -"
like "$(h_cell 2 dave 4)" '^[0-9]{4}-[0-9]{2}-[0-9]{2}' "user list: a disabled user's disabled_at is a date"
sql "UPDATE mdauth.users SET disabled_at = NULL WHERE username = 'dave'"

# --- session list ------------------------------------------------------------
h_run h_ctl session list
is "$RC" 0 "session list exits 0"
is "$(h_header)" "session_id|username|device|ip|last_used_at|expires_at" \
	"session list: the header names session_id, username, device, ip, last_used_at, expires_at"
carol_sessions=$(sql "SELECT s.id FROM mdauth.sessions s JOIN mdauth.users u ON u.id = s.user_id
	WHERE u.username = 'carol'")
is "$(tail -n +2 <<<"$OUT" | h_cells | cut -d '|' -f 1 | sort)" \
	"$(printf '%s\n' "$a1" "$a2" "$b1" "$carol_sessions" | sort)" \
	"session list: exactly the live sessions of every user"
is "$(h_rows_where 1 "$a3")" "" "session list leaves out an expired session"
is "$(h_rows_where 1 "$a4")" "" "session list leaves out a revoked session"
is "$(h_cell 1 "$a1" 2)|$(h_cell 1 "$a1" 3)|$(h_cell 1 "$a1" 4)" "alice|phone|127.0.0.1" \
	"session list: a row has the username, the device and the ip"
is "$(h_cell 1 "$a2" 3)" - "session list: a session without a device shows -"
like "$(h_cell 1 "$a1" 5)" '^[0-9]{4}-[0-9]{2}-[0-9]{2}' "session list: last_used_at is a date"
like "$(h_cell 1 "$a1" 6)" '^[0-9]{4}-[0-9]{2}-[0-9]{2}' "session list: expires_at is a date"

h_run h_ctl session list --user alice
is "$RC" 0 "session list --user exits 0"
is "$(h_header)" "session_id|username|device|ip|last_used_at|expires_at" \
	"session list --user: the same header"
is "$(tail -n +2 <<<"$OUT" | h_cells | cut -d '|' -f 1 | sort)" \
	"$(printf '%s\n' "$a1" "$a2" | sort)" "session list --user alice: only alice's live sessions"
h_run h_ctl session list --user nosuchuser
is "$RC" 1 "session list --user of an unknown user exits 1"
like "$ERR" 'no such user: nosuchuser' "session list --user of an unknown user says no such user: NAME"

# --- session revoke ID ---------------------------------------------------------
is "$(validate_codes 3 "$a1_token")" "$(repeat_words 3 200)" "the session to revoke validates before"
h_run h_ctl session revoke "$a1"
is "$RC" 0 "session revoke ID exits 0"
is "$OUT" "revoked session $a1" "session revoke ID prints revoked session ID"
is "$(validate_codes 3 "$a1_token")" "$(repeat_words 3 401)" \
	"after session revoke its token is refused on every following request (all workers)"
is "$(validate_codes 3 "$a2_token" "$b1_token")" "$(repeat_words 6 200)" "session revoke leaves other sessions live"
is "$(sql "SELECT count(*) FROM mdauth.auth_events WHERE event = 'revoke' AND detail = 'admin'
	AND user_id = :'uid' AND session_id = :'sid'" uid="$ALICE_ID" sid="$a1")" 1 \
	"session revoke writes a revoke event with detail admin"

h_run h_ctl session revoke "$a1"
is "$RC" 1 "session revoke of an already revoked session exits 1"
like "$ERR" "no such live session: $a1" "it says no such live session: ID"
h_run h_ctl session revoke "$a3"
is "$RC" 1 "session revoke of an expired session exits 1"
like "$ERR" "no such live session: $a3" "it says no such live session: ID"
unknown=$(cat /proc/sys/kernel/random/uuid)
h_run h_ctl session revoke "$unknown"
is "$RC" 1 "session revoke of an unknown uuid exits 1"
like "$ERR" "no such live session: $unknown" "it says no such live session: ID"
h_run h_ctl session revoke abc
is "$RC" 1 "session revoke of a malformed id exits 1"
like "$ERR" 'not a session id: abc' "it says not a session id: X"
h_run h_ctl session revoke "${a2}0"
is "$RC" 1 "session revoke of a uuid with a character too many exits 1"
like "$ERR" "not a session id: ${a2}0" "it says not a session id: X"
is "$(validate_codes 3 "$a2_token")" "$(repeat_words 3 200)" "the failed revokes ended nothing"

# --- session revoke --user -----------------------------------------------------
h_login_ok alice "$PW" tablet
a5_token=$TOKEN
h_login_ok alice "$PW" watch
a6_token=$TOKEN
h_run h_ctl session revoke --user alice
is "$RC" 0 "session revoke --user exits 0"
is "$OUT" "revoked 3 sessions of alice" "session revoke --user prints revoked N sessions of NAME (3 live)"
is "$(validate_codes 3 "$a2_token" "$a5_token" "$a6_token")" "$(repeat_words 9 401)" \
	"after session revoke --user every token of the user is refused (all workers)"
is "$(validate_codes 3 "$b1_token")" "$(repeat_words 3 200)" "session revoke --user leaves other users' sessions live"
is "$(sql "SELECT count(DISTINCT session_id) FROM mdauth.auth_events
	WHERE event = 'revoke' AND detail = 'admin' AND user_id = :'uid'" uid="$ALICE_ID")" 4 \
	"session revoke --user writes a revoke event with detail admin per session (1 + 3)"
h_run h_ctl session revoke --user alice
is "$RC" 0 "session revoke --user of a user without live sessions exits 0"
is "$OUT" "revoked 0 sessions of alice" "it prints revoked 0 sessions of NAME"
h_run h_ctl session revoke --user nosuchuser
is "$RC" 1 "session revoke --user of an unknown user exits 1"
like "$ERR" 'no such user: nosuchuser' "it says no such user: NAME"

# --- user disable and enable ---------------------------------------------------
h_run h_ctl user disable bob
is "$RC" 0 "user disable exits 0"
is "$OUT" "disabled user bob" "user disable prints disabled user NAME"
is "$(sql "SELECT disabled_at IS NOT NULL FROM mdauth.users WHERE username = 'bob'")" t \
	"user disable sets disabled_at"
is "$(validate_codes 3 "$b1_token")" "$(repeat_words 3 401)" "after user disable the user's token is refused (all workers)"
login bob "$PW"
expect_error 401 invalid_credentials "a disabled user cannot log in"
is "$(sql "SELECT count(*) FROM mdauth.auth_events e JOIN mdauth.users u ON u.id = e.user_id
	WHERE e.event = 'user_disabled' AND u.username = 'bob'")" 1 \
	"user disable writes a user_disabled event"
h_run h_ctl user list
isnt "$(h_cell 2 bob 4)" - "user list shows the disabled user's disabled_at"
h_run h_ctl user disable nosuchuser
is "$RC" 1 "user disable of an unknown user exits 1"
like "$ERR" 'no such user: nosuchuser' "it says no such user: NAME"

h_run h_ctl user enable bob
is "$RC" 0 "user enable exits 0"
is "$OUT" "enabled user bob" "user enable prints enabled user NAME"
login bob "$PW"
is "$STATUS" 200 "an enabled user can log in again"
is "$(validate_codes 3 "$b1_token")" "$(repeat_words 3 401)" "the session ended by user disable stays dead"
h_run h_ctl user list
is "$(h_cell 2 bob 4)" - "user list shows - as the enabled user's disabled_at"
h_run h_ctl user enable nosuchuser
is "$RC" 1 "user enable of an unknown user exits 1"
like "$ERR" 'no such user: nosuchuser' "it says no such user: NAME"

# --- user delete ---------------------------------------------------------------
is "$(validate_codes 3 "$c1_token" "$c2_token")" "$(repeat_words 6 200)" "the user to delete has two live sessions"
h_run h_ctl user delete carol
is "$RC" 0 "user delete exits 0"
is "$OUT" "deleted user carol" "user delete prints deleted user NAME"
is "$(sql "SELECT count(*) FROM mdauth.users WHERE username = 'carol'")" 0 "user delete removes the user"
is "$(sql "SELECT count(*) FROM mdauth.sessions s WHERE NOT EXISTS
	(SELECT 1 FROM mdauth.users u WHERE u.id = s.user_id)")" 0 "user delete removes the user's sessions"
is "$(validate_codes 3 "$c1_token" "$c2_token")" "$(repeat_words 6 401)" \
	"after user delete the user's tokens are refused (all workers)"
login carol "$PW"
expect_error 401 invalid_credentials "a deleted user cannot log in"
h_run h_ctl user list
is "$(h_rows_where 2 carol)" "" "user list no longer shows the deleted user"
h_run h_ctl user delete carol
is "$RC" 1 "user delete of a user already deleted exits 1"
like "$ERR" 'no such user: carol' "it says no such user: NAME"

# --- prune ---------------------------------------------------------------------
sql "INSERT INTO mdauth.auth_events (at, event, detail) VALUES
	(now() - interval '100 days', 'login_failure', 'old'),
	(now() - interval '91 days', 'login_failure', 'old'),
	(now() - interval '10 days', 'login_failure', 'recent')"
dead=$(sql "SELECT count(*) FROM mdauth.sessions
	WHERE revoked_at IS NOT NULL OR expires_at <= now() OR absolute_expires_at <= now()")
ok "there are dead sessions to prune (so the check below checks something)" test "$dead" -ge 5
live=$(sql "SELECT count(*) FROM mdauth.sessions")
live=$((live - dead))
h_run h_ctl prune
is "$RC" 0 "prune exits 0"
is "$OUT" "pruned $dead sessions and 2 events" \
	"prune prints pruned N sessions and M events (the dead sessions, the events over 90 days)"
is "$(sql "SELECT count(*) FROM mdauth.sessions")" "$live" "prune keeps the live sessions"
is "$(sql "SELECT count(*) FROM mdauth.auth_events WHERE detail = 'recent'")" 1 \
	"prune keeps an event younger than 90 days"
h_run h_ctl prune
is "$OUT" "pruned 0 sessions and 0 events" "prune again finds nothing to delete"

# --- usage errors --------------------------------------------------------------
# h_usage NAME ARGS...: mdauthctl ARGS is a usage error (exit 2).
h_usage() {
	local name=$1
	shift
	h_run h_ctl "$@"
	is "$RC" 2 "$name is a usage error (exit 2)"
}
h_usage "user disable without a name" user disable
h_usage "user enable without a name" user enable
h_usage "user delete without a name" user delete
h_usage "user with an unknown subcommand" user frobnicate alice
h_usage "session without a subcommand" session
h_usage "session with an unknown subcommand" session frobnicate
h_usage "session revoke without an id" session revoke
h_usage "session revoke --user without a name" session revoke --user
h_usage "session list --user without a name" session list --user
h_usage "session list with an unknown option" session list --frobnicate
is "$(sql "SELECT count(*) FROM mdauth.users WHERE disabled_at IS NOT NULL")" 0 \
	"the usage errors changed nothing"

done_testing

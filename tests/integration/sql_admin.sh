#!/bin/bash
# Administration in SQL (sql/002_admin.sql, sql/007_rotation.sql,
# sql/009_session_functions.sql): the active_sessions view and the
# functions revoke_session, revoke_user_sessions, disable_user,
# enable_user, set_password and prune; each takes effect on the next
# request in every worker, and leaves its trace in auth_events.  And
# session_open refuses a disabled user; live_sessions is the one
# definition of live; the daemon's role executes its functions and holds
# no table privilege.
. "$(dirname "$0")/lib.sh"

# Several sessions of one user: above the default cap of 5.
h_setup workers=2 max_sessions_per_user=10
PW='correct horse battery staple'
h_user_add alice "$PW"
h_user_add bob "$PW"
h_user_add carol "$PW"
ALICE_ID=$(sql "SELECT id FROM mdauth.users WHERE username = 'alice'")
BOB_ID=$(sql "SELECT id FROM mdauth.users WHERE username = 'bob'")

# h_result FUNCTION: the declared result type of an mdauth function.
h_result() {
	sql "SELECT pg_get_function_result(:'f'::regprocedure)" f="mdauth.$1"
}

# h_as_daemon QUERY: run QUERY as the daemon's login role.
h_as_daemon() {
	sql "SET ROLE mdauth; $1" >/dev/null 2>&1
}

# h_daemon_refused QUERY: QUERY fails as the daemon's login role.
h_daemon_refused() {
	! h_as_daemon "$1"
}

h_login_ok alice "$PW" phone -A 'AdminTest/1.0'
s1_token=$TOKEN
s1=$SESSION_ID
h_login_ok alice "$PW" laptop
s2_token=$TOKEN
s2=$SESSION_ID
h_login_ok alice "$PW" expired
s3=$SESSION_ID
sql "UPDATE mdauth.sessions SET expires_at = now() - interval '1 second' WHERE id = :'sid'" sid="$s3"
h_login_ok alice "$PW" 'logged out'
s4=$SESSION_ID
req_bearer POST /logout "$TOKEN" -H 'Content-Length: 0'
h_login_ok alice "$PW" 'past absolute'
s5=$SESSION_ID
sql "UPDATE mdauth.sessions SET absolute_expires_at = now() - interval '1 second'
	WHERE id = :'sid'" sid="$s5"
h_login_ok bob "$PW" 'bob phone'
b1_token=$TOKEN
b1=$SESSION_ID
h_login_ok carol "$PW" 'carol phone'
c1=$SESSION_ID

# --- the declared interface ------------------------------------------------
is "$(sql "SELECT string_agg(column_name, ',' ORDER BY ordinal_position)
	FROM information_schema.columns
	WHERE table_schema = 'mdauth' AND table_name = 'active_sessions'")" \
	session_id,user_id,username,device,ip,user_agent,created_at,last_used_at,expires_at \
	"mdauth.active_sessions has the columns session_id, user_id, username, device, ip, user_agent, created_at, last_used_at, expires_at"
is "$(h_result 'revoke_session(uuid)')" boolean "mdauth.revoke_session(uuid) returns boolean"
is "$(h_result 'revoke_user_sessions(text)')" integer "mdauth.revoke_user_sessions(text) returns integer"
is "$(h_result 'disable_user(text)')" boolean "mdauth.disable_user(text) returns boolean"
is "$(h_result 'enable_user(text)')" boolean "mdauth.enable_user(text) returns boolean"
is "$(h_result 'prune(interval)')" 'TABLE(sessions_deleted bigint, events_deleted bigint)' \
	"mdauth.prune(interval) returns table(sessions_deleted bigint, events_deleted bigint)"

# --- the view --------------------------------------------------------------
sql "UPDATE mdauth.users SET disabled_at = now() WHERE username = 'carol'"
view_ids=$(sql "SELECT session_id FROM mdauth.active_sessions ORDER BY session_id")
is "$view_ids" "$(printf '%s\n' "$s1" "$s2" "$b1" | sort)" \
	"active_sessions lists exactly the live sessions (of every user)"
unlike "$view_ids" "$s3" "active_sessions leaves out an idle-expired session"
unlike "$view_ids" "$s4" "active_sessions leaves out a revoked session"
unlike "$view_ids" "$s5" "active_sessions leaves out a session past its absolute lifetime"
unlike "$view_ids" "$c1" "active_sessions leaves out the sessions of a disabled user"
sql "UPDATE mdauth.users SET disabled_at = NULL WHERE username = 'carol'"
is "$(sql "SELECT user_id, username, device, ip, user_agent FROM mdauth.active_sessions
	WHERE session_id = :'sid'" sid="$s1")" "$ALICE_ID|alice|phone|127.0.0.1|AdminTest/1.0" \
	"a row of active_sessions has the user, device, ip and user agent"
is "$(sql "SELECT a.created_at = s.created_at AND a.last_used_at = s.last_used_at
	AND a.expires_at = s.expires_at
	FROM mdauth.active_sessions a JOIN mdauth.sessions s ON s.id = a.session_id
	WHERE a.session_id = :'sid'" sid="$s1")" t \
	"a row of active_sessions has the session's created_at, last_used_at and expires_at"

# --- revoke_session ----------------------------------------------------------
is "$(validate_codes 3 "$s1_token")" "$(repeat_words 3 200)" "before revoke_session the token validates"
is "$(sql "SELECT mdauth.revoke_session(:'sid')" sid="$s1")" t \
	"revoke_session of a live session returns true"
is "$(validate_codes 3 "$s1_token")" "$(repeat_words 3 401)" \
	"after revoke_session its token is refused on every following request (all workers)"
is "$(validate_codes 3 "$s2_token" "$b1_token")" "$(repeat_words 6 200)" "revoke_session leaves other sessions live"
is "$(sql "SELECT revoked_at IS NOT NULL FROM mdauth.sessions WHERE id = :'sid'" sid="$s1")" t \
	"revoke_session sets revoked_at"
is "$(sql "SELECT count(*) FROM mdauth.auth_events WHERE event = 'revoke' AND detail = 'admin'
	AND user_id = :'uid' AND session_id = :'sid'" uid="$ALICE_ID" sid="$s1")" 1 \
	"revoke_session writes a revoke event with detail admin, the user and the session"
is "$(sql "SELECT mdauth.revoke_session(:'sid')" sid="$s1")" f \
	"revoke_session of the same session again returns false"
is "$(sql "SELECT count(*) FROM mdauth.auth_events WHERE event = 'revoke'")" 1 \
	"revoking an already revoked session writes no event"
is "$(sql "SELECT mdauth.revoke_session(gen_random_uuid())")" f \
	"revoke_session of an unknown uuid returns false"
is "$(sql "SELECT mdauth.revoke_session(:'sid')" sid="$s3")" f \
	"revoke_session of an expired session returns false"
is "$(sql "SELECT mdauth.revoke_session(:'sid')" sid="$s4")" f \
	"revoke_session of a logged-out session returns false"

# --- revoke_user_sessions ----------------------------------------------------
h_login_ok alice "$PW" a1
a1_token=$TOKEN
h_login_ok alice "$PW" a2
a2_token=$TOKEN
h_login_ok alice "$PW" a3
a3_token=$TOKEN
is "$(validate_codes 3 "$s2_token" "$a1_token" "$a2_token" "$a3_token")" "$(repeat_words 12 200)" \
	"before revoke_user_sessions the user's four tokens validate"
is "$(sql "SELECT mdauth.revoke_user_sessions('ALICE')")" 4 \
	"revoke_user_sessions('ALICE') returns 4: the username is case-insensitive, only live sessions count"
is "$(validate_codes 3 "$s2_token" "$a1_token" "$a2_token" "$a3_token")" "$(repeat_words 12 401)" \
	"after revoke_user_sessions every token of the user is refused (all workers)"
is "$(validate_codes 3 "$b1_token")" "$(repeat_words 3 200)" "revoke_user_sessions leaves other users' sessions live"
is "$(sql "SELECT count(DISTINCT session_id) FROM mdauth.auth_events
	WHERE event = 'revoke' AND detail = 'admin' AND user_id = :'uid'" uid="$ALICE_ID")" 5 \
	"revoke_user_sessions writes a revoke event with detail admin for each session (1 + 4)"
is "$(sql "SELECT mdauth.revoke_user_sessions('alice')")" 0 \
	"revoke_user_sessions of a user with no live session returns 0"
is "$(sql "SELECT mdauth.revoke_user_sessions('nobody')")" 0 \
	"revoke_user_sessions of an unknown user returns 0"

# --- disable_user and enable_user --------------------------------------------
h_login_ok bob "$PW" 'bob laptop'
b2_token=$TOKEN
is "$(sql "SELECT mdauth.disable_user('Bob')")" t "disable_user('Bob') returns true"
is "$(sql "SELECT disabled_at IS NOT NULL FROM mdauth.users WHERE id = :'uid'" uid="$BOB_ID")" t \
	"disable_user sets the user's disabled_at"
is "$(validate_codes 3 "$b1_token" "$b2_token")" "$(repeat_words 6 401)" \
	"after disable_user the user's tokens are refused (all workers)"
is "$(sql "SELECT count(*) FROM mdauth.sessions WHERE user_id = :'uid' AND revoked_at IS NULL" \
	uid="$BOB_ID")" 0 "disable_user revokes the user's sessions"
is "$(sql "SELECT count(*) FROM mdauth.active_sessions WHERE user_id = :'uid'" uid="$BOB_ID")" 0 \
	"a disabled user has no row in active_sessions"
login bob "$PW"
expect_error 401 invalid_credentials "a user disabled by disable_user cannot log in"
is "$(sql "SELECT count(*) FROM mdauth.auth_events WHERE event = 'user_disabled' AND user_id = :'uid'" \
	uid="$BOB_ID")" 1 "disable_user writes a user_disabled event for the user"
is "$(sql "SELECT mdauth.disable_user('nobody')")" f "disable_user of an unknown user returns false"

is "$(sql "SELECT mdauth.enable_user('BOB')")" t "enable_user('BOB') returns true"
is "$(sql "SELECT disabled_at IS NULL FROM mdauth.users WHERE id = :'uid'" uid="$BOB_ID")" t \
	"enable_user clears disabled_at"
login bob "$PW" 'bob again'
is "$STATUS" 200 "an enabled user can log in again"
b3_token=$TOKEN
is "$(validate_codes 3 "$b1_token" "$b2_token")" "$(repeat_words 6 401)" \
	"the sessions ended by disable_user stay dead after enable_user"
is "$(sql "SELECT mdauth.enable_user('nobody')")" f "enable_user of an unknown user returns false"

# --- set_password --------------------------------------------------------------
# A new password ends the user's live sessions (ASVS 4.0.3 V3.3.3), unless
# asked to keep them; an unknown user or a hash in clear is an error.
is "$(h_result 'set_password(text,text,boolean)')" integer \
	"mdauth.set_password(text, text, boolean) returns integer"
PW2='a second password for alice'
H_PASSWORDS+=("$PW2")
hash2=$(h_ctl hash-password --password-stdin <<<"$PW2") || bail "hash-password failed"
h_login_ok alice "$PW" p1
p1_token=$TOKEN
h_login_ok alice "$PW" p2
p2_token=$TOKEN
h_login_ok bob "$PW" 'bob tablet'
b4_token=$TOKEN
alice_live=$(sql "SELECT count(*) FROM mdauth.active_sessions WHERE user_id = :'uid'" uid="$ALICE_ID")
ok "alice has live sessions to end (so the checks below check something)" test "$alice_live" -ge 2
is "$(sql "SELECT mdauth.set_password('Alice', :'h')" h="$hash2")" "$alice_live" \
	"set_password('Alice', phc) returns how many live sessions it ended (name case-insensitive)"
is "$(validate_codes 3 "$p1_token" "$p2_token")" "$(repeat_words 6 401)" \
	"after set_password the user's tokens are refused (all workers)"
is "$(validate_codes 3 "$b4_token")" "$(repeat_words 3 200)" "set_password leaves other users' sessions live"
login alice "$PW"
expect_error 401 invalid_credentials "after set_password the old password fails"
h_login_ok alice "$PW2" p3
p3_token=$TOKEN
is "$STATUS" 200 "after set_password the new password logs in"
is "$(sql "SELECT count(*) FROM mdauth.auth_events WHERE event = 'revoke'
	AND detail = 'password_changed' AND user_id = :'uid'" uid="$ALICE_ID")" "$alice_live" \
	"set_password writes a revoke event (detail password_changed) for each session it ended"
is "$(sql "SELECT detail FROM mdauth.auth_events WHERE event = 'password_changed'
	AND user_id = :'uid'" uid="$ALICE_ID")" "$alice_live sessions ended" \
	"set_password writes one password_changed event that says how many sessions ended"
is "$(sql "SELECT mdauth.set_password('alice', :'h', true)" h="$hash2")" 0 \
	"set_password(..., keep_sessions => true) returns 0"
is "$(validate_codes 3 "$p3_token")" "$(repeat_words 3 200)" \
	"with keep_sessions the user's sessions stay live"
is "$(sql "SELECT detail FROM mdauth.auth_events WHERE event = 'password_changed'
	AND user_id = :'uid' ORDER BY id DESC LIMIT 1" uid="$ALICE_ID")" 'sessions kept' \
	"with keep_sessions the password_changed event says the sessions were kept"
err=$(sql "\\set VERBOSITY verbose
	SELECT mdauth.set_password('nobody', :'h')" h="$hash2" 2>&1)
like "$err" 'P0002: no such user: nobody' \
	"set_password of an unknown user is an error that names it, SQLSTATE P0002 (no_data_found)"
err=$(sql "SELECT mdauth.set_password('alice', 'hunter2 in clear')" 2>&1)
like "$err" 'not an argon2id PHC string' "set_password refuses a value that is not an argon2id hash"
login alice "$PW2"
is "$STATUS" 200 "and the refusal left the password as it was"
ok "the daemon's role cannot call set_password" \
	h_daemon_refused "SELECT mdauth.set_password('bob', '$hash2')"
# alice's first password again, for the checks below.
sql "SELECT mdauth.set_password('alice', :'h')" \
	h="$(h_ctl hash-password --password-stdin <<<"$PW")" >/dev/null

# --- session_open and login_commit refuse a disabled user -------------------
# The daemon calls login_commit (sql/012_login_commit.sql), which opens
# the session through session_open, after the password check; a user
# disabled in between must not get a session (the user's row is locked,
# then checked), and nothing else of the login is written.
is "$(h_result 'session_open(bigint,bytea,text,text,text,bigint,bigint,integer,text)')" \
	'TABLE(session_id uuid, expires_at timestamp with time zone)' \
	"session_open keeps its signature"
is "$(h_result 'login_commit(bigint,text,text,bytea,text,text,text,bigint,bigint,integer,text,text,text)')" \
	'TABLE(session_id uuid, expires_at bigint, now bigint, rehashed boolean, evicted boolean)' \
	"login_commit returns table(session_id uuid, expires_at bigint, now bigint, rehashed boolean, evicted boolean)"
ok "the daemon's role may call login_commit" \
	h_as_daemon "SELECT * FROM mdauth.login_commit($BOB_ID, 'bob', '127.0.0.1', sha256('open 1'),
		'x', '127.0.0.1', 'psql', 60, 600, 10, 'evict_oldest', NULL, NULL)"
sql "UPDATE mdauth.users SET disabled_at = now() WHERE id = :'uid'" uid="$BOB_ID"
sessions_before=$(sql "SELECT count(*) FROM mdauth.sessions WHERE user_id = :'uid'" uid="$BOB_ID")
err=$(sql "\\set VERBOSITY verbose
	SELECT * FROM mdauth.session_open(:'uid', sha256('open 2'), 'x', '127.0.0.1',
	'psql', 60, 600, 10, 'evict_oldest')" uid="$BOB_ID" 2>&1)
like "$err" 'MDA01: user [0-9]+ is disabled' \
	"session_open for a disabled user is an error that says so, SQLSTATE MDA01"
bob_hash=$(sql "SELECT password_hash FROM mdauth.users WHERE id = :'uid'" uid="$BOB_ID")
sql "INSERT INTO mdauth.login_throttle (kind, key, addr, failures, window_start)
	VALUES ('user_ip', 'bob', '127.0.0.1', 1, now())"
err=$(sql "\\set VERBOSITY verbose
	SET ROLE mdauth;
	SELECT * FROM mdauth.login_commit(:'uid', 'bob', '127.0.0.1', sha256('open 3'), 'x',
	'127.0.0.1', 'psql', 60, 600, 10, 'evict_oldest', :'old', '\$argon2id\$new')" \
	uid="$BOB_ID" old="$bob_hash" 2>&1)
like "$err" 'MDA01: user [0-9]+ is disabled' \
	"login_commit for a disabled user is the same error, SQLSTATE MDA01"
is "$(sql "SELECT count(*) FROM mdauth.sessions WHERE user_id = :'uid'" uid="$BOB_ID")" \
	"$sessions_before" "neither opened a session for the disabled user"
is "$(sql "SELECT password_hash FROM mdauth.users WHERE id = :'uid'" uid="$BOB_ID")" \
	"$bob_hash" "login_commit refused kept the stored hash (no re-hash)"
is "$(sql "SELECT count(*) FROM mdauth.login_throttle WHERE key = 'bob'")" 1 \
	"login_commit refused kept the name's throttle count"
sql "UPDATE mdauth.users SET disabled_at = NULL WHERE id = :'uid'" uid="$BOB_ID"
is "$(sql "SELECT count(*) FROM mdauth.session_open(:'uid', sha256('open 4'), 'x', '127.0.0.1',
	'psql', 60, 600, 10, 'evict_oldest')" uid="$BOB_ID")" 1 \
	"once enabled again, session_open opens a session"
is "$(sql "SET ROLE mdauth;
	SELECT (session_id IS NOT NULL) || ' ' || rehashed FROM mdauth.login_commit(:'uid', 'bob',
	'127.0.0.1', sha256('open 5'), 'x', '127.0.0.1', 'psql', 60, 600, 10, 'evict_oldest',
	'not the stored hash', '\$argon2id\$new')" uid="$BOB_ID")" 'true false' \
	"and so does login_commit, which replaces the hash only if it is still the one verified"
is "$(sql "SELECT count(*) FROM mdauth.login_throttle WHERE key = 'bob'")" 0 \
	"a session opened by login_commit clears the name's throttle count from that address"
is "$(sql "SELECT password_hash FROM mdauth.users WHERE id = :'uid'" uid="$BOB_ID")" \
	"$bob_hash" "... and the stored hash is unchanged"

# The daemon's side of it, raced for real: dora's row is locked while her
# login checks the password, so that the login waits inside session_open;
# the lock's transaction disables her and commits; session_open then finds
# her disabled.  The login is refused like any disabled user's.
h_user_add dora "$PW"
DORA_ID=$(sql "SELECT id FROM mdauth.users WHERE username = 'dora'")
h_lock_rows 1 "SELECT 'locked' FROM mdauth.users WHERE username = 'dora' FOR UPDATE"
h_bg dora /login -H 'Content-Type: application/json' \
	--data-binary "$(jq -cn --arg p "$PW" '{username: "dora", password: $p}')"
pid_dora=$H_BG_PID
ok "the login waits for dora's row inside session_open" h_wait_for 10 h_lock_waiters 1
printf "UPDATE mdauth.users SET disabled_at = now() WHERE username = 'dora';\n" >&"$H_LOCKFD"
h_unlock_rows
wait "$pid_dora"
is "$(cat "$H_DIR/dora.status")" 401 "a user disabled during her login gets 401"
is "$(jq -r .error "$H_DIR/dora.body")" invalid_credentials "... invalid_credentials, as any disabled user"
is "$(sql "SELECT count(*) FROM mdauth.sessions WHERE user_id = :'uid'" uid="$DORA_ID")" 0 \
	"... and no session"
is "$(sql "SELECT count(*) FROM mdauth.auth_events WHERE event = 'login_failure'
	AND user_id = :'uid' AND detail = 'user disabled'" uid="$DORA_ID")" 1 \
	"... recorded as a login_failure with detail 'user disabled'"

# --- plain SQL ---------------------------------------------------------------
h_login_ok carol "$PW" 'carol laptop'
c2_token=$TOKEN
is "$(validate_codes 3 "$c2_token")" "$(repeat_words 3 200)" "a session validates before its row is deleted"
sql "DELETE FROM mdauth.sessions WHERE id = :'sid'" sid="$SESSION_ID"
is "$(validate_codes 3 "$c2_token")" "$(repeat_words 3 401)" \
	"after DELETE FROM mdauth.sessions its token is refused (all workers)"

# --- prune -------------------------------------------------------------------
sql "INSERT INTO mdauth.auth_events (at, event, detail) VALUES
	(now() - interval '100 days', 'login_failure', 'old'),
	(now() - interval '95 days', 'login_failure', 'old'),
	(now() - interval '40 days', 'login_failure', 'middle')"
dead=$(sql "SELECT count(*) FROM mdauth.sessions
	WHERE revoked_at IS NOT NULL OR expires_at <= now() OR absolute_expires_at <= now()")
live=$(sql "SELECT string_agg(id::text, ' ' ORDER BY id) FROM mdauth.sessions
	WHERE revoked_at IS NULL AND expires_at > now() AND absolute_expires_at > now()")
ok "there are dead sessions to prune (so the check below checks something)" test "$dead" -ge 10
events=$(sql "SELECT count(*) FROM mdauth.auth_events")
is "$(sql "SELECT sessions_deleted || ' ' || events_deleted FROM mdauth.prune()")" "$dead 2" \
	"prune() deletes every revoked or expired session and the events older than 90 days, and says how many"
is "$(sql "SELECT count(*) FROM mdauth.sessions
	WHERE revoked_at IS NOT NULL OR expires_at <= now() OR absolute_expires_at <= now()")" 0 \
	"after prune no revoked or expired session is left"
is "$(sql "SELECT string_agg(id::text, ' ' ORDER BY id) FROM mdauth.sessions")" "$live" \
	"prune keeps every live session"
is "$(sql "SELECT count(*) FROM mdauth.auth_events")" $((events - 2)) \
	"prune keeps the events younger than the retention"
is "$(validate_codes 3 "$b3_token")" "$(repeat_words 3 200)" "a live session still validates after prune"
is "$(sql "SELECT sessions_deleted || ' ' || events_deleted FROM mdauth.prune('30 days')")" "0 1" \
	"prune('30 days') deletes the event older than 30 days, and nothing else is left to delete"
is "$(sql "SELECT count(*) FROM mdauth.auth_events WHERE at < now() - interval '30 days'")" 0 \
	"no event older than the retention is left"

# --- the daemon's role cannot administer ---------------------------------------
ok "the daemon's role can call its own functions (control for the refusals below)" \
	h_as_daemon "SELECT count(*) FROM mdauth.user_sessions($BOB_ID, NULL)"
ok "the daemon's role cannot call prune" \
	h_daemon_refused "SELECT * FROM mdauth.prune()"
ok "the daemon's role cannot call revoke_user_sessions" \
	h_daemon_refused "SELECT mdauth.revoke_user_sessions('bob')"
ok "the daemon's role cannot call disable_user" \
	h_daemon_refused "SELECT mdauth.disable_user('bob')"
ok "the daemon's role cannot call revoke_session" \
	h_daemon_refused "SELECT mdauth.revoke_session(gen_random_uuid())"
is "$(validate_codes 3 "$b3_token")" "$(repeat_words 3 200)" "so those attempts changed nothing"

# --- the daemon's role executes functions and holds no table privilege ---------
# Every session state change is a function of the schema
# (sql/009_session_functions.sql); the daemon's role may execute those it
# needs and nothing else, and may not touch a table itself.
is "$(sql "SELECT string_agg(c.relname || ':' || p.priv, ' ' ORDER BY 1)
	FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	CROSS JOIN unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE',
		'REFERENCES', 'TRIGGER']) AS p (priv)
	WHERE n.nspname = 'mdauth' AND c.relkind IN ('r', 'v', 'S')
	AND (has_table_privilege('mdauth', c.oid, p.priv)
	  OR (p.priv IN ('SELECT', 'INSERT', 'UPDATE', 'REFERENCES')
	      AND has_any_column_privilege('mdauth', c.oid, p.priv)))")" "" \
	"the daemon's role holds no privilege on any table, view or column of schema mdauth"
is "$(sql "SELECT string_agg(p.oid::regprocedure::text, ' ' ORDER BY p.oid::regprocedure::text)
	FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
	WHERE n.nspname = 'mdauth' AND has_function_privilege('mdauth', p.oid, 'EXECUTE')")" \
	"$(printf '%s ' \
		'mdauth.login_begin(text,text,text,text)' \
		'mdauth.login_commit(bigint,text,text,bytea,text,text,text,bigint,bigint,integer,text,text,text)' \
		'mdauth.login_failed(bigint,text,text,text,text,text,bigint,integer,integer,bigint,bigint)' \
		'mdauth.session_logout(bytea,text,text,text)' \
		'mdauth.session_logout_all(bigint,boolean,uuid,text,text)' \
		'mdauth.session_refresh(bytea,bytea,bigint,text,text)' \
		'mdauth.session_revoke(bigint,uuid,text,text)' \
		'mdauth.session_touch(bytea,bigint,boolean,bigint,text,text)' \
		'mdauth.user_sessions(bigint,uuid)' | sed 's/ $//')" \
	"the daemon's role may execute exactly its functions: login, throttling and sessions"
is "$(sql "SELECT string_agg(p.proname, ' ' ORDER BY p.proname)
	FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
	WHERE n.nspname = 'mdauth' AND has_function_privilege('mdauth', p.oid, 'EXECUTE')
	AND NOT p.prosecdef")" "" \
	"each of them runs with its owner's rights (SECURITY DEFINER)"
ok "the daemon's role cannot UPDATE mdauth.sessions (a year more for a session)" \
	h_daemon_refused "UPDATE mdauth.sessions SET expires_at = now() + interval '1 year'"
ok "the daemon's role cannot read mdauth.sessions" \
	h_daemon_refused "SELECT count(*) FROM mdauth.sessions"
ok "the daemon's role cannot read the users' password hashes in bulk" \
	h_daemon_refused "SELECT password_hash FROM mdauth.users"
ok "the daemon's role cannot rewrite a password hash" \
	h_daemon_refused "UPDATE mdauth.users SET password_hash = 'x'"
ok "the daemon's role cannot write an event" \
	h_daemon_refused "INSERT INTO mdauth.auth_events (event) VALUES ('logout')"
ok "the daemon's role cannot delete events" \
	h_daemon_refused "DELETE FROM mdauth.auth_events"
ok "the daemon's role cannot clear the login throttle" \
	h_daemon_refused "DELETE FROM mdauth.login_throttle"
ok "the daemon's role cannot revoke sessions but through its functions" \
	h_daemon_refused "SELECT * FROM mdauth.end_sessions(ARRAY(SELECT gen_random_uuid()),
		NULL, 'x', NULL, NULL, NULL, NULL)"
ok "the daemon's role cannot read live_sessions" \
	h_daemon_refused "SELECT count(*) FROM mdauth.live_sessions"
is "$(validate_codes 3 "$b3_token")" "$(repeat_words 3 200)" \
	"and the daemon still validates through its functions"

# --- live is defined once, and stays an index lookup --------------------------
is "$(sql "SELECT count(*) FROM mdauth.active_sessions a
	FULL JOIN mdauth.live_sessions l ON l.id = a.session_id
	WHERE a.session_id IS NULL OR l.id IS NULL")" 0 \
	"active_sessions has exactly the sessions of live_sessions"
is "$(sql "SELECT count(*) FROM mdauth.sessions s JOIN mdauth.users u ON u.id = s.user_id
	WHERE (s.revoked_at IS NULL AND s.expires_at > now() AND s.absolute_expires_at > now()
	       AND u.disabled_at IS NULL)
	  <> EXISTS (SELECT 1 FROM mdauth.live_sessions l WHERE l.id = s.id)")" 0 \
	"live_sessions holds a session exactly when it is unrevoked, unexpired (both) and its user enabled"
like "$(sql "SET enable_seqscan = off; EXPLAIN SELECT * FROM mdauth.live_sessions
	WHERE token_hash = sha256('x')" | tr '\n' ' ')" 'Index Scan using sessions_token_hash_key' \
	"a token's lookup through live_sessions is a scan of the token_hash index"

# --- events of the API carry who, which session, from where ---------------------
login alice 'not the password 1234' phone -A 'EventTest/1.0'
is "$(sql "SELECT count(*) FROM mdauth.auth_events WHERE event = 'login_failure'
	AND user_id = :'uid' AND ip = '127.0.0.1' AND user_agent = 'EventTest/1.0'" \
	uid="$ALICE_ID")" 1 "a failed login writes a login_failure event with the user, ip and user agent"
h_login_ok alice "$PW" phone -A 'EventTest/1.0'
req_bearer POST /logout "$TOKEN" -H 'Content-Length: 0' -A 'EventTest/1.0'
is "$(sql "SELECT count(*) FROM mdauth.auth_events WHERE event = 'logout'
	AND user_id = :'uid' AND session_id = :'sid' AND ip = '127.0.0.1'
	AND user_agent = 'EventTest/1.0'" uid="$ALICE_ID" sid="$SESSION_ID")" 1 \
	"a logout writes a logout event with the user, the session, ip and user agent"
is "$(sql "SELECT count(*) FROM mdauth.auth_events WHERE event = 'login_success'
	AND user_id = :'uid' AND session_id = :'sid' AND ip = '127.0.0.1'
	AND user_agent = 'EventTest/1.0'" uid="$ALICE_ID" sid="$SESSION_ID")" 1 \
	"a login writes a login_success event with the user, the session, ip and user agent"
is "$(sql "SELECT string_agg(DISTINCT event, ' ' ORDER BY event) FROM mdauth.auth_events
	WHERE event NOT IN ('login_success', 'login_failure', 'logout', 'refresh', 'revoke',
	'eviction', 'logout_all', 'session_limit_reached', 'user_disabled',
	'token_reuse', 'password_changed')")" "" \
	"every auth_events row is one of the documented events"

# --- search_path -----------------------------------------------------------------
# Every function of the schema resolves names in pg_catalog and mdauth
# only, whatever the caller's search_path (CVE-2018-1058).
is "$(sql "SELECT string_agg(p.oid::regprocedure::text, ' ' ORDER BY 1)
	FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
	WHERE n.nspname = 'mdauth' AND p.prokind IN ('f', 'p')
	AND NOT coalesce('search_path=pg_catalog, mdauth' = ANY (p.proconfig), false)")" "" \
	"every function of schema mdauth sets search_path = pg_catalog, mdauth"
# A caller's search_path that puts a schema of its own before pg_catalog
# changes nothing: a lower() there, which says every name is bob's, is not
# the one the functions call.
sql "CREATE SCHEMA evil;
	CREATE FUNCTION evil.lower(text) RETURNS text LANGUAGE sql AS \$\$ SELECT 'bob' \$\$;
	GRANT USAGE ON SCHEMA evil TO PUBLIC" >/dev/null || bail "cannot make schema evil"
is "$(sql "SET search_path = evil, pg_catalog, mdauth; SELECT mdauth.enable_user('nobody-here')")" f \
	"a function called with a hostile search_path still finds its own names"
sql "DROP SCHEMA evil CASCADE" >/dev/null

# --- secrets -------------------------------------------------------------------
is "$(h_events_holding "${H_TOKENS[@]}")" "" "no auth_events row contains an issued token"
is "$(h_events_holding "$PW")" "" "no auth_events row contains the password"

done_testing

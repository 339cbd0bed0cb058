#!/bin/bash
# Every failed login costs the same: unknown user, wrong password, disabled
# user and an unusable stored hash each run exactly one argon2id
# computation and get the same 401.  Counted from the daemon's debug log
# ("login: status S after N argon2id computations over B KiB"), not timed.
# A stored hash with other (cheaper) parameters costs, when the login
# fails, the same KiB of memory times passes as the dummy hash of an
# unknown user.  And a hash with weaker parameters than the configured
# ones is replaced after a successful login, never after a failed one.
. "$(dirname "$0")/lib.sh"

PW='correct horse battery staple'
h_setup login_max_failures=1000 ip_max_failures=1000
for u in alice bob carol dave erin frank gina hank; do
	h_user_add "$u" "$PW"
done

# h_hash USER: the stored password hash of USER.
h_hash() {
	sql "SELECT password_hash FROM mdauth.users WHERE username = :'u'" u="$1"
}

# h_work USER PASSWORD: log in; WORK is the daemon's account of it ("S N"),
# BLOCKS the KiB blocks argon2id went through ("S B").
WORK=
BLOCKS=
h_work() {
	h_log_mark
	login "$1" "$2"
	WORK=$(h_login_work)
	BLOCKS=$(h_login_blocks)
}

# --- each failure: 401, one computation, one body ---------------------------
h_work alice 'not the password 1234'
is "$WORK" "401 1" \
	"a wrong password: 401 after exactly 1 argon2id computation"
wrong_body=$BODY
wrong_challenge=$(header WWW-Authenticate)
expect_error 401 invalid_credentials "a wrong password answers invalid_credentials"

h_work nosuchuser 'not the password 1234'
is "$WORK" "401 1" \
	"an unknown user: 401 after exactly 1 argon2id computation (a dummy verify)"
unknown_blocks=$BLOCKS
is "$unknown_blocks" "401 $((19456 * 2))" \
	"the dummy verify goes through m=19456 KiB twice (t=2): the current parameters"
is "$BODY" "$wrong_body" "an unknown user gets the body of a wrong password"
is "$(header WWW-Authenticate)" "$wrong_challenge" \
	"an unknown user gets the WWW-Authenticate of a wrong password"

sql "UPDATE mdauth.users SET disabled_at = now() WHERE username = 'bob'"
h_work bob "$PW"
is "$WORK" "401 1" \
	"a disabled user with the right password: 401 after exactly 1 argon2id computation"
is "$BODY" "$wrong_body" "a disabled user gets the body of a wrong password"

sql "UPDATE mdauth.users SET password_hash = 'garbage' WHERE username = 'carol'"
h_work carol "$PW"
is "$WORK" "401 1" \
	"a stored hash 'garbage': 401 after exactly 1 argon2id computation"
is "$BODY" "$wrong_body" "a garbage stored hash gets the body of a wrong password"

# The PHC string without its last field (the hash itself).
sql "UPDATE mdauth.users SET password_hash = regexp_replace(password_hash, '[$][^$]*$', '')
	WHERE username = 'dave'"
[[ $(h_hash dave) =~ ^[$]argon2id[$]v=19[$]m=[0-9]+,t=[0-9]+,p=[0-9]+[$][A-Za-z0-9+/]+$ ]] ||
	bail "the truncated hash is not the PHC string without its hash: $(h_hash dave)"
h_work dave "$PW"
is "$WORK" "401 1" \
	"a truncated PHC string: 401 after exactly 1 argon2id computation"
is "$BODY" "$wrong_body" "a truncated stored hash gets the body of a wrong password"

# A lock put in place by hand: no need to fail five times here.
sql "INSERT INTO mdauth.login_throttle (kind, key, failures, window_start, locked_until)
	VALUES ('user', 'frank', 5, now(), now() + interval '1 minute')"
h_work frank "$PW"
is "$WORK" "429 0" "a throttled login: 429 after 0 argon2id computations"
sql "DELETE FROM mdauth.login_throttle WHERE key = 'frank'"

h_log_mark
req_json POST /login '{"username":"alice","password":'
is "$STATUS" 400 "a malformed login body answers 400"
is "$(h_login_work | awk '$2 != 0')" "" "a malformed login body runs no argon2id computation"

# min_password_length holds for new passwords only: a short one at login
# is a failed login like any other.
h_work alice 'short'
is "$WORK $BLOCKS" "401 1 $unknown_blocks" \
	"a password shorter than min_password_length: 401 after the same work"
is "$BODY" "$wrong_body" "a short password gets the body of a wrong password"

h_work alice "$PW"
is "$WORK" "200 1" \
	"a successful login with current parameters: 200 after 1 argon2id computation"

# --- re-hash on login ------------------------------------------------------
# h_weak_hash NAME KEY=VALUE...: a hash of $PW made with weaker parameters.
h_weak_hash() {
	h_conf "$1" "${@:2}"
	printf '%s\n' "$PW" | "$MDAUTHCTL" -c "$H_DIR/$1.conf" hash-password --password-stdin
}
t1=$(h_weak_hash t1 'argon2_iterations = 1')
[[ $t1 =~ ^[$]argon2id[$]v=19[$]m=19456,t=1,p=1[$] ]] || bail "mdauthctl made no t=1 hash: $t1"
sql "UPDATE mdauth.users SET password_hash = :'h' WHERE username IN ('erin', 'gina')" h="$t1"

# A stored hash with other parameters: verifying it alone would cost
# other work than the dummy, which tells a known name (with an old hash)
# from an unknown one.  A failed login makes up the difference.
h_work erin 'not the password 1234'
is "$STATUS" 401 "a wrong password for a user with a t=1 hash answers 401"
is "$BLOCKS" "$unknown_blocks" \
	"a wrong password for a t=1 hash costs the KiB x passes of an unknown user"
is "$BODY" "$wrong_body" "... and gets the body of a wrong password"
is "$(h_hash erin)" "$t1" "a failed login does not rewrite the weaker hash"
sql "UPDATE mdauth.users SET disabled_at = now() WHERE username = 'gina'"
h_work gina "$PW"
is "$STATUS" 401 "a disabled user with a t=1 hash and the right password answers 401"
is "$BLOCKS" "$unknown_blocks" \
	"a disabled user with a t=1 hash costs the KiB x passes of an unknown user"
is "$(h_hash gina)" "$t1" "a refused login with the right password does not rewrite the hash"

# The re-hash is written with the session, in the login's one commit.
h_pg_log_statements
h_db_mark
h_work erin "$PW"
is "$WORK" "200 2" \
	"a successful login with a t=1 hash: 200 after 2 computations (verify, re-hash)"
is "$(h_db_statements)" "login_begin login_commit" \
	"a login that re-hashes sends two statements: login_begin, then login_commit"
is "$(h_db_xids)" 1 "... and writes the new hash and the session in one transaction"
rehashed=$(h_hash erin)
like "$rehashed" '^[$]argon2id[$]v=19[$]m=19456,t=2,p=1[$][A-Za-z0-9+/]+[$][A-Za-z0-9+/]+$' \
	"after it the stored hash has the current parameters (m=19456,t=2,p=1)"
isnt "$rehashed" "$t1" "the stored hash was replaced"
h_work erin "$PW"
is "$WORK" "200 1" \
	"the same password logs in with the new hash (200, 1 computation: no second re-hash)"
is "$(h_hash erin)" "$rehashed" "a login with current parameters leaves the hash alone"

m8=$(h_weak_hash m8 'argon2_memory = 8192')
[[ $m8 =~ ^[$]argon2id[$]v=19[$]m=8192,t=2,p=1[$] ]] || bail "mdauthctl made no m=8192 hash: $m8"
m4t1=$(h_weak_hash m4t1 'argon2_memory = 4096' 'argon2_iterations = 1')
[[ $m4t1 =~ ^[$]argon2id[$]v=19[$]m=4096,t=1,p=1[$] ]] || bail "mdauthctl made no m=4096,t=1 hash: $m4t1"
for h in "$m8" "$m4t1"; do
	params=$(cut -d'$' -f4 <<<"$h")
	sql "UPDATE mdauth.users SET password_hash = :'h' WHERE username = 'hank'" h="$h"
	h_work hank 'not the password 1234'
	is "$BLOCKS" "$unknown_blocks" \
		"a wrong password for an $params hash costs the KiB x passes of an unknown user"
	is "$BODY" "$wrong_body" "... and gets the body of a wrong password"
done
sql "UPDATE mdauth.users SET password_hash = :'h' WHERE username = 'alice'" h="$m8"
login alice "$PW"
is "$STATUS" 200 "a user with an m=8192 hash logs in"
like "$(h_hash alice)" '^[$]argon2id[$]v=19[$]m=19456,t=2,p=1[$]' \
	"a hash with less memory (m=8192) is replaced with the current parameters too"
login alice "$PW"
is "$STATUS" 200 "and the password still logs in after that re-hash"

done_testing

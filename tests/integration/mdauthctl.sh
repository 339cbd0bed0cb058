#!/bin/bash
# The admin command (migrate, user add, user passwd, which ends the user's
# sessions unless --keep-sessions, hash-password) and the daemon's own
# command line (-t, -V).
. "$(dirname "$0")/lib.sh"

h_setup

# h_run [ARGS...]: run a command, keeping its status in RC and its output
# in OUT and ERR.
h_run() {
	"$@" >"$H_DIR/run.out" 2>"$H_DIR/run.err"
	RC=$?
	OUT=$(cat "$H_DIR/run.out")
	ERR=$(cat "$H_DIR/run.err")
}

# h_ctl_pw PASSWORD ARGS...: mdauthctl ARGS --password-stdin, fed PASSWORD.
h_ctl_pw() {
	local pw=$1
	shift
	h_run h_ctl "$@" --password-stdin <<<"$pw"
}

# --- migrate ---------------------------------------------------------------
migrations="SELECT version, name, applied_at FROM mdauth.schema_migrations ORDER BY version"
before=$(sql "$migrations")
ok "the setup's migration recorded at least one version" test -n "$before"
h_run h_ctl migrate --sql-dir "$MDAUTH_SQL_DIR"
is "$RC" 0 "migrate on a migrated database exits 0"
h_run h_ctl migrate --sql-dir "$MDAUTH_SQL_DIR"
is "$RC" 0 "migrate a third time exits 0"
is "$(sql "$migrations")" "$before" "migrating again leaves schema_migrations unchanged"

# --- user add --------------------------------------------------------------
h_ctl_pw 'correct horse battery staple' user add alice
is "$RC" 0 "user add with --password-stdin exits 0"
is "$(sql "SELECT count(*) FROM mdauth.users WHERE username = 'alice'")" 1 \
	"user add creates the user"
like "$(sql "SELECT password_hash FROM mdauth.users WHERE username = 'alice'")" \
	'^\$argon2id\$v=19\$m=19456,t=2,p=1\$' "user add stores an argon2id hash with the default parameters"
login alice 'correct horse battery staple'
is "$STATUS" 200 "the new user can log in"

h_ctl_pw 'another password 123' user add alice
isnt "$RC" 0 "adding an existing username fails"
like "${ERR,,}" '(exist|already|taken|duplicate)' "adding an existing username says it exists"
h_ctl_pw 'another password 123' user add ALICE
isnt "$RC" 0 "adding an existing username in other case fails"
like "${ERR,,}" '(exist|already|taken|duplicate)' "adding an existing username in other case says it exists"
is "$(sql "SELECT count(*) FROM mdauth.users WHERE lower(username) = 'alice'")" 1 \
	"the failed adds created nobody"

h_ctl_pw 'short12' user add bob
isnt "$RC" 0 "user add refuses a 7-byte password"
# min_password_length: 12 characters by default (ASVS 4.0.3 V2.1.1).
h_ctl_pw 'elevenchars' user add bob
is "$RC" 1 "user add refuses an 11-character password by default (exit 1)"
like "$ERR" 'too short: at least 12 characters' "the refusal names the minimum length"
# Characters, not bytes: 11 two-byte characters (22 bytes) are still 11.
h_ctl_pw 'ééééééééééé' user add bob
is "$RC" 1 "user add refuses 11 two-byte characters (22 bytes)"
h_ctl_pw '' user add bob
isnt "$RC" 0 "user add refuses an empty password"
h_ctl_pw "$(head -c 1025 /dev/zero | tr '\0' x)" user add bob
isnt "$RC" 0 "user add refuses a 1025-byte password"
is "$(sql "SELECT count(*) FROM mdauth.users WHERE username = 'bob'")" 0 \
	"refused passwords create no user"
h_ctl_pw 'twelve chars' user add bob
is "$RC" 0 "user add accepts a 12-character password"
login bob 'twelve chars'
is "$STATUS" 200 "the 12-character password logs in"
h_ctl_pw 'éééééééééééé' user add dora
is "$RC" 0 "user add accepts 12 two-byte characters"

# min_password_length = 16 in the configuration.
h_conf min16 'min_password_length = 16'
h_ctl16() {
	h_run "$MDAUTHCTL" -c "$H_DIR/min16.conf" -D "$(stack_admin_conninfo)" "$@" \
		--password-stdin <<<"$PW16"
}
PW16='fifteen chars 1' h_ctl16 user add frank
is "$RC" 1 "with min_password_length = 16, user add refuses 15 characters"
like "$ERR" 'at least 16 characters' "... and names the configured minimum"
is "$(sql "SELECT count(*) FROM mdauth.users WHERE username = 'frank'")" 0 \
	"... and creates nobody"
PW16='fifteen chars 1' h_ctl16 user passwd bob
is "$RC" 1 "with min_password_length = 16, user passwd refuses 15 characters"
login bob 'twelve chars'
is "$STATUS" 200 "... and leaves the password as it was"
PW16='fifteen chars 1' h_ctl16 hash-password
is "$RC:$OUT" 1: "with min_password_length = 16, hash-password refuses 15 characters and prints nothing"
PW16='sixteen chars 16' h_ctl16 user add frank
is "$RC" 0 "with min_password_length = 16, user add accepts 16 characters"
for bad in 7 1025; do
	h_conf "min$bad" "min_password_length = $bad"
	h_run "$MDAUTHCTL" -c "$H_DIR/min$bad.conf" hash-password --password-stdin <<<'a long enough password'
	is "$RC:$OUT" 1: "min_password_length = $bad is out of range (8 to 1024): refused"
	like "$ERR" 'min_password_length' "... naming the key"
done
pw_1024=$(head -c 1024 /dev/zero | tr '\0' y)
h_ctl_pw "$pw_1024" user add carol
is "$RC" 0 "user add accepts a 1024-byte password"
login carol "$pw_1024"
is "$STATUS" 200 "a 1024-byte password logs in"
login carol "${pw_1024:0:1023}"
expect_error 401 invalid_credentials "the password is never truncated: its first 1023 bytes fail"

# Usernames with a control character: refused by mdauthctl before it asks
# for a password, and by the database for a raw INSERT.
for bad in $'tab\tname' $'new\nline' $'esc\e[31m' $'del\x7f' $'nel\u0085' $'csi\u009b'; do
	shown=$(printf '%q' "$bad")
	h_ctl_pw 'correct horse battery staple' user add "$bad"
	is "$RC" 1 "user add refuses the username $shown (exit 1)"
	like "$ERR" 'invalid username: .*no control characters' \
		"user add says why it refuses $shown"
	is "$(sql "SELECT count(*) FROM mdauth.users WHERE username = :'u'" u="$bad")" 0 \
		"user add $shown wrote nothing"
	is "$(sql "INSERT INTO mdauth.users (username, password_hash) VALUES (:'u', 'x')" \
		u="$bad" 2>&1 | grep -c 'violates check constraint')" 1 \
		"a raw SQL INSERT of the username $shown violates a check constraint"
done
is "$(sql "SELECT count(*) FROM mdauth.users WHERE username ~ '[[:cntrl:]\u0080-\u009f]'")" 0 \
	"no username with a control character was written"
sql "INSERT INTO mdauth.users (username, password_hash) VALUES (:'u', 'x')" u=$'nbsp\u00a0name' ||
	fail "a raw SQL INSERT of a name with U+00A0 (no control) is accepted"
is "$(sql "SELECT conname FROM pg_catalog.pg_constraint
	WHERE conrelid = 'mdauth.users'::regclass AND conname = 'users_username_no_control' AND convalidated")" \
	users_username_no_control "the control-character constraint is validated"
sql "DELETE FROM mdauth.users WHERE username = :'u'" u=$'nbsp\u00a0name'

# Migration 008 over a row it would refuse (a C1 name written where 003's
# [[:cntrl:]] does not cover C1, as under the C locale): the upgrade goes
# through with a warning, and the constraint holds for new rows at once.
old_c1=$'old\u0085name'
sql "ALTER TABLE mdauth.users DROP CONSTRAINT users_username_no_control;
	ALTER TABLE mdauth.users DROP CONSTRAINT users_username_check;
	INSERT INTO mdauth.users (username, password_hash) VALUES (:'u', 'x');
	DELETE FROM mdauth.schema_migrations WHERE version = 8" u="$old_c1"
h_run h_ctl migrate --sql-dir "$MDAUTH_SQL_DIR"
is "$RC" 0 "migration 008 over a username with a C1 control still applies (exit 0)"
like "$ERR" 'WARNING: +1 username\(s\) contain a C1 control character.*VALIDATE CONSTRAINT users_username_no_control' \
	"... warns that one name is to be renamed and says what to run then"
is "$(sql "SELECT convalidated FROM pg_catalog.pg_constraint
	WHERE conrelid = 'mdauth.users'::regclass AND conname = 'users_username_no_control'")" f \
	"... and leaves the constraint NOT VALID"
is "$(sql "INSERT INTO mdauth.users (username, password_hash) VALUES (:'u', 'x')" \
	u=$'new\u0085name' 2>&1 | grep -c 'users_username_no_control')" 1 \
	"a NOT VALID constraint refuses a new C1 name all the same"
login "$old_c1" 'correct horse battery staple'
expect_error 400 invalid_request "a login as the old C1 name is 400 invalid_request"
sql "DELETE FROM mdauth.users WHERE username = :'u';
	ALTER TABLE mdauth.users VALIDATE CONSTRAINT users_username_no_control;
	ALTER TABLE mdauth.users ADD CONSTRAINT users_username_check
	    CHECK (octet_length(username) BETWEEN 1 AND 128
	           AND username !~ '[[:cntrl:]]' AND username = btrim(username, ' '))" u="$old_c1"

h_run h_ctl user add
is "$RC" 2 "user add without a name is a usage error (exit 2)"
h_run h_ctl no-such-command
is "$RC" 2 "an unknown command is a usage error (exit 2)"

# --- user passwd -----------------------------------------------------------
h_ctl_pw 'a brand new password' user passwd alice
is "$RC" 0 "user passwd with --password-stdin exits 0"
login alice 'correct horse battery staple'
expect_error 401 invalid_credentials "after user passwd the old password fails"
login alice 'a brand new password'
is "$STATUS" 200 "after user passwd the new password works"
h_ctl_pw 'a brand new password' user passwd nosuchuser
isnt "$RC" 0 "user passwd for an unknown user fails"
h_ctl_pw 'short' user passwd alice
isnt "$RC" 0 "user passwd refuses a short password"
h_ctl_pw 'elevenchars' user passwd alice
is "$RC" 1 "user passwd refuses an 11-character password"
login alice 'a brand new password'
is "$STATUS" 200 "a refused user passwd leaves the password as it was"

# --- user passwd ends the user's sessions, unless --keep-sessions ----------
h_login_ok alice 'a brand new password' phone
phone_token=$TOKEN
h_login_ok alice 'a brand new password' laptop
laptop_token=$TOKEN
h_login_ok carol "$pw_1024" 'carol phone'
carol_token=$TOKEN
live=$(sql "SELECT count(*) FROM mdauth.active_sessions WHERE username = 'alice'")
is "$(validate_codes 2 "$phone_token" "$laptop_token")" "$(repeat_words 4 200)" \
	"before user passwd the user's tokens validate"
h_ctl_pw 'the third password' user passwd alice
is "$RC" 0 "user passwd exits 0"
is "$OUT" "password changed for alice; $live sessions revoked" \
	"user passwd says how many sessions it revoked"
is "$(validate_codes 2 "$phone_token" "$laptop_token")" "$(repeat_words 4 401)" \
	"after user passwd the user's old tokens get 401"
is "$(validate_codes 2 "$carol_token")" "$(repeat_words 2 200)" \
	"user passwd leaves other users' sessions live"
is "$(sql "SELECT count(*) FROM mdauth.auth_events e JOIN mdauth.users u ON u.id = e.user_id
	WHERE u.username = 'alice' AND e.event = 'password_changed'
	AND e.detail = '$live sessions ended'")" 1 \
	"user passwd writes a password_changed event with the count"
h_login_ok alice 'the third password' tablet
tablet_token=$TOKEN
h_ctl_pw 'the fourth password' user passwd alice --keep-sessions
is "$RC" 0 "user passwd --keep-sessions exits 0"
is "$OUT" "password changed for alice; sessions kept" "user passwd --keep-sessions says so"
is "$(validate_codes 2 "$tablet_token")" "$(repeat_words 2 200)" \
	"after user passwd --keep-sessions the user's token still gets 200"
login alice 'the fourth password'
is "$STATUS" 200 "user passwd --keep-sessions changed the password all the same"
h_ctl_pw 'the fourth password' user passwd nosuchuser
is "$ERR" "mdauthctl: no such user: nosuchuser" "user passwd for an unknown user says so"
h_ctl_pw 'the fourth password' user add dave --keep-sessions
is "$RC" 2 "--keep-sessions is for user passwd only (usage error for user add)"

# --- the prompt on a terminal: no echo, asked twice -------------------------
# script(1) gives mdauthctl a pseudo-terminal; the lines are fed slowly so
# that each arrives while its prompt waits with echo off.
tty_ctl() {
	{ sleep 1; printf '%s\n' "$1"; sleep 1; printf '%s\n' "$2"; sleep 1; } |
		script -qec "$(printf '%q ' "$MDAUTHCTL" -c "$STACK_MDAUTHD_CONF" \
			-D "$(stack_admin_conninfo)" user passwd alice)" /dev/null \
		>"$H_DIR/tty.out" 2>&1
	RC=$?
	OUT=$(tr -d '\r' <"$H_DIR/tty.out")
}
H_PASSWORDS+=('typed at the prompt 1' 'typed at the prompt 2')
tty_ctl 'typed at the prompt 1' 'typed at the prompt 1'
is "$RC" 0 "user passwd at a terminal prompt exits 0"
like "$OUT" 'Password: ' "the terminal is asked for the password"
like "$OUT" 'Retype password: ' "the terminal is asked for it a second time"
unlike "$OUT" 'typed at the prompt' "the password typed at the prompt is not echoed"
login alice 'typed at the prompt 1'
is "$STATUS" 200 "the password set at the prompt logs in"
tty_ctl 'typed at the prompt 2' 'typed at the prompt 3'
isnt "$RC" 0 "two different passwords at the prompt are refused"
like "$OUT" 'do not match' "the refusal says the passwords do not match"
login alice 'typed at the prompt 1'
is "$STATUS" 200 "a refused prompt leaves the password as it was"

# --- hash-password ---------------------------------------------------------
phc_re='^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{11,}\$[A-Za-z0-9+/]{16,}$'
h_run "$MDAUTHCTL" -c "$STACK_MDAUTHD_CONF" hash-password --password-stdin <<<'hashed password 1'
is "$RC" 0 "hash-password exits 0"
like "$OUT" "$phc_re" "hash-password prints an argon2id PHC string with the default parameters"
hash1=$OUT
h_run "$MDAUTHCTL" -c "$STACK_MDAUTHD_CONF" hash-password --password-stdin <<<'hashed password 1'
isnt "$OUT" "$hash1" "hashing the same password twice uses a new salt"
# An operator can provision a user with SQL and the printed hash.
sql "INSERT INTO mdauth.users (username, password_hash) VALUES ('erin', :'h')" h="$hash1"
login erin 'hashed password 1'
is "$STATUS" 200 "a user inserted by SQL with hash-password's output can log in"
h_run "$MDAUTHCTL" -c "$STACK_MDAUTHD_CONF" hash-password --password-stdin <<<'elevenchars'
is "$RC:$OUT" 1: "hash-password refuses an 11-character password and prints nothing"
# The minimum holds for new passwords only: one set before (here with a
# configuration that allowed 8) still logs in.
h_conf min8 'min_password_length = 8'
h_run "$MDAUTHCTL" -c "$H_DIR/min8.conf" hash-password --password-stdin <<<'eight888'
is "$RC" 0 "with min_password_length = 8, hash-password accepts 8 characters"
sql "UPDATE mdauth.users SET password_hash = :'h' WHERE username = 'erin'" h="$OUT"
login erin 'eight888'
is "$STATUS" 200 "a password shorter than min_password_length, set before, still logs in"

# --- -D without -c: the configuration file is not read ----------------------
# The shipped prune job runs `mdauthctl -D "dbname=mdauth" prune` as postgres,
# who may not read the default file (0640 root:mdauth: it may hold the
# daemon's password).  That path is compiled in (mdauthctl -h names it);
# h_default_conf puts a file there for one command only.  When nothing is
# at that path (a build tree's /usr/local/etc, distcheck's _inst), the
# file is put there and removed after, with the directories made for it;
# when something is (an installed mdauth), only in a private mount
# namespace, with an overlay on its directory, so that the machine's own
# file is neither seen nor changed.
conf_default=$("$MDAUTHCTL" -h | sed -n 's/^  -c file .*(default \([^;)]*\)[;)]*$/\1/p')
like "$conf_default" '^/.*/mdauth\.conf$' "mdauthctl -h names the default configuration file"

conf_top=$(dirname "$conf_default")
while [ ! -d "$conf_top" ]; do conf_top=$(dirname "$conf_top"); done
if [ ! -e "$conf_default" ] && [ ! -L "$conf_default" ]; then
	# The directories between conf_top and the file, deepest first.
	conf_made=
	d=$(dirname "$conf_default")
	while [ "$d" != "$conf_top" ]; do
		conf_made="$conf_made '$d'"
		d=$(dirname "$d")
	done
	h_on_teardown "rm -f '$conf_default'; for d in $conf_made; do rmdir \"\$d\"; done"
fi

# h_default_conf FILE COMMAND [ARGS...]: COMMAND with FILE (mode 0600) at
# the default configuration path.
h_default_conf() {
	local file=$1 rc
	shift
	if [ -n "${conf_made+set}" ]; then
		mkdir -p "$(dirname "$conf_default")" &&
			install -m 600 "$file" "$conf_default" || return 125
		"$@"
		rc=$?
		rm -f "$conf_default"
		return "$rc"
	fi
	mkdir -p "$H_DIR/ns" || return 1
	unshare --mount --propagation private bash -c '
		ns=$1 top=$2 file=$3 conf=$4
		shift 4
		mount -t tmpfs mdauth-test "$ns" && mkdir "$ns/up" "$ns/work" &&
			mount -t overlay overlay \
				-o "lowerdir=$top,upperdir=$ns/up,workdir=$ns/work" "$top" &&
			mkdir -p "$(dirname "$conf")" &&
			install -m 600 "$file" "$conf" || exit 125
		exec "$@"' h_default_conf "$H_DIR/ns" "$conf_top" "$file" "$conf_default" "$@"
}

printf 'argon2_iterations = 3\n' >"$H_DIR/iter3.conf"
printf 'argon2_iterations = 3\nno_such_key = 1\n' >"$H_DIR/broken.conf"
h_run h_default_conf "$H_DIR/iter3.conf" cat "$conf_default"
if [ "$RC" = 0 ] && [ "$OUT" = 'argon2_iterations = 3' ]; then
	h_run h_default_conf "$H_DIR/iter3.conf" "$MDAUTHCTL" hash-password \
		--password-stdin <<<'hashed password 2'
	like "$OUT" '^\$argon2id\$v=19\$m=19456,t=3,p=1\$' \
		"without -D, mdauthctl reads the default configuration file"
	h_run h_default_conf "$H_DIR/broken.conf" "$MDAUTHCTL" \
		-D "$(stack_admin_conninfo)" prune
	is "$RC:$ERR" 0: "with -D and no -c, a default file mdauthctl cannot use is not read: prune exits 0"
	like "$OUT" '^pruned [0-9]+ sessions and [0-9]+ events$' "... and prunes"
	h_run h_default_conf "$H_DIR/iter3.conf" "$MDAUTHCTL" -D "$(stack_admin_conninfo)" \
		hash-password --password-stdin <<<'hashed password 2'
	like "$OUT" '^\$argon2id\$v=19\$m=19456,t=2,p=1\$' \
		"with -D and no -c, the built-in defaults apply (argon2 t=2, not the file's 3)"
	h_run h_default_conf "$H_DIR/broken.conf" "$MDAUTHCTL" -c "$H_DIR/iter3.conf" \
		-D "$(stack_admin_conninfo)" hash-password --password-stdin <<<'hashed password 2'
	like "$OUT" '^\$argon2id\$v=19\$m=19456,t=3,p=1\$' "with -D and -c, the named file is read"
	h_run h_default_conf "$H_DIR/iter3.conf" "$MDAUTHCTL" -c "$H_DIR/broken.conf" \
		-D "$(stack_admin_conninfo)" prune
	isnt "$RC" 0 "with -D and -c, a bad named file is still refused"
	like "$ERR" 'no_such_key' "... and the error names its bad key"
	h_run "$MDAUTHCTL" -h
	like "$OUT" 'with -D and no -c, none is read' "mdauthctl -h says -D alone reads no file"
else
	for t in 'without -D, the default file is read' 'with -D alone, no file is read' \
		'... and prunes' 'with -D alone, the built-in defaults apply' \
		'with -D and -c, the named file is read' 'with -D and -c, a bad file is refused' \
		'... and named' 'mdauthctl -h says so'; do
		skip "$t" "$conf_default exists, and no private mount namespace with an overlay here (unshare -m: $ERR)"
	done
fi

# --- mdauthd command line --------------------------------------------------
h_run "$MDAUTHD" -t -c "$STACK_MDAUTHD_CONF"
is "$RC" 0 "mdauthd -t accepts the running configuration"

# The same configuration with line 3 replaced.
h_conf_line3() {
	sed "3s/.*/$1/" "$STACK_MDAUTHD_CONF" >"$2"
}
h_conf_line3 'no_such_key = 1' "$H_DIR/bad-key.conf"
h_run "$MDAUTHD" -t -c "$H_DIR/bad-key.conf"
isnt "$RC" 0 "mdauthd -t rejects an unknown key"
like "$ERR" '(line 3|:3([^0-9]|$))' "the error names the line of the unknown key (3)"
like "$ERR" 'no_such_key' "the error names the unknown key"

h_conf_line3 'workers = many' "$H_DIR/bad-value.conf"
h_run "$MDAUTHD" -t -c "$H_DIR/bad-value.conf"
isnt "$RC" 0 "mdauthd -t rejects a bad value"
like "$ERR" '(line 3|:3([^0-9]|$))' "the error names the line of the bad value (3)"

h_run "$MDAUTHD" -V
is "$RC" 0 "mdauthd -V exits 0"
like "$OUT$ERR" '[0-9]+\.[0-9]+' "mdauthd -V prints a version number"

done_testing

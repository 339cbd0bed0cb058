#!/bin/bash
# Sliding expiration: a use moves expires_at to now + token_ttl, at most
# once per touch_interval, never past the absolute limit; and not at all
# with sliding_expiration = no.
. "$(dirname "$0")/lib.sh"

h_setup touch_interval=1 token_ttl=60
h_user_add alice 'correct horse battery staple'

# h_epoch COLUMN SESSION: a timestamptz column of a session, in epoch
# seconds with microseconds (exact, for comparisons).
h_epoch() {
	sql "SELECT extract(epoch FROM $1) FROM mdauth.sessions WHERE id = :'sid'" sid="$2"
}

# h_sql_true EXPR SESSION: EXPR over the session's row is true.
h_sql_true() {
	[ "$(sql "SELECT ($1) FROM mdauth.sessions WHERE id = :'sid'" sid="$2")" = t ]
}

h_login_ok alice 'correct horse battery staple'
is "$(json expires_in)" 60 "login: expires_in is token_ttl (60)"
ok "login: absolute_expires_at is token_max_lifetime (43200 s) after creation" \
	h_sql_true "absolute_expires_at = created_at + interval '43200 seconds'" "$SESSION_ID"
token=$TOKEN
session=$SESSION_ID

# --- expiry moves forward after touch_interval -----------------------------
expires0=$(h_epoch expires_at "$session")
sleep 2
req_bearer GET /validate "$token"
is "$STATUS" 200 "the token validates 2 s after login"
expires1=$(h_epoch expires_at "$session")
ok "a validate after touch_interval moves expires_at forward" h_lt "$expires0" "$expires1"
ok "expires_at moves to about now + token_ttl" \
	h_sql_true "expires_at BETWEEN now() + interval '57 seconds' AND now() + interval '61 seconds'" "$session"
ok "the response's expires_in is the new remaining time" \
	test "$(json expires_in)" -ge 58 -a "$(json expires_in)" -le 60

# --- at most one write per touch_interval ----------------------------------
# Two validates back to back (well within touch_interval = 1 s): the first
# writes, the second does not.  The write's time tells which one wrote: a
# write by the second would be later than the moment it was sent.
sleep 1.2
before=$(sql "SELECT now()")
req_bearer GET /validate "$token"
first=$STATUS
second_sent=$(date +%s.%N)
req_bearer GET /validate "$token"
is "$first $STATUS" "200 200" "two validates right after each other succeed"
ok "the first of the two wrote last_used_at" \
	h_sql_true "last_used_at >= '$before'::timestamptz" "$session"
ok "the second, within touch_interval, wrote neither last_used_at nor expires_at" \
	h_sql_true "last_used_at < to_timestamp($second_sent) AND expires_at < to_timestamp($second_sent) + interval '60 seconds'" "$session"

# --- never past the absolute limit -----------------------------------------
sql "UPDATE mdauth.sessions SET absolute_expires_at = now() + interval '10 seconds'
	WHERE id = :'sid'" sid="$session"
sleep 1.2
req_bearer GET /validate "$token"
is "$STATUS" 200 "the token validates before its absolute limit"
ok "a validate never moves expires_at past absolute_expires_at" \
	h_sql_true "expires_at <= absolute_expires_at" "$session"
ok "expires_in in the response stops at the absolute limit" \
	test "$(json expires_in)" -le 10
sleep 1.2
req_bearer GET /validate "$token"
ok "a later validate still stops at absolute_expires_at" \
	h_sql_true "expires_at <= absolute_expires_at" "$session"

sql "UPDATE mdauth.sessions SET absolute_expires_at = now() - interval '1 second'
	WHERE id = :'sid'" sid="$session"
req_bearer GET /validate "$token"
expect_error 401 invalid_token "a session past its absolute limit is refused"

# --- sliding_expiration = no -----------------------------------------------
h_restart_mdauthd touch_interval=1 token_ttl=60 sliding_expiration=no
h_login_ok alice 'correct horse battery staple'
expires0=$(h_epoch expires_at "$SESSION_ID")
sleep 2
req_bearer GET /validate "$TOKEN"
is "$STATUS" 200 "without sliding expiration the token validates"
is "$(h_epoch expires_at "$SESSION_ID")" "$expires0" \
	"without sliding expiration a validate leaves expires_at alone"
ok "without sliding expiration expires_in keeps counting down" \
	test "$(json expires_in)" -le 58

done_testing

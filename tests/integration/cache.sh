#!/bin/bash
# The validate cache (mdauthd(8), "The validate cache"): a live token is
# answered from memory shared by the workers; every change that could make
# that answer wrong reaches it -- through this daemon's API before the
# response, through SQL (the functions, raw UPDATE and DELETE on both
# tables, TRUNCATE) or another daemon within 100 ms of the commit; while
# its listener is not listening the cache is bypassed; a worker killed
# mid-write leaves it usable; it never grows past cache_entries.
. "$(dirname "$0")/lib.sh"

# cache = yes even when the suite runs with the cache off (STACK_MDAUTHD_CACHE).
# cache_max_age = 3600: on a loaded machine 20 requests may take longer
# than the default 5 s, and no miss or 401 here may come from an
# entry's age rather than from what is tested.
h_setup workers=2 cache=yes cache_max_age=3600 max_sessions_per_user=3 \
	login_max_failures=1000 ip_max_failures=1000
PW='correct horse battery staple'
for u in alice bob carol dave erin frank grace heidi ivan judy; do
	h_user_add "$u" "$PW"
done
LOG=$H_DIR/mdauthd.log

h_wait_for 10 h_logs_contain 'cache: listening for changes on mdauth_cache'
is $? 0 "the listener listens and the cache is in use"
like "$(h_listener)" '^[0-9]+$' "the master has one cache listener (mdauthd-cache)"
is "$(h_workers | grep -c .)" 2 "h_workers counts the workers only"

# hits_since MARK: the "answered from the cache" lines logged after MARK.
hits_since() {
	tail -c +$(($1 + 1)) "$LOG" | grep -c 'auth: session .* answered from the cache'
}
log_size() {
	stat -c %s "$LOG"
}
# logged_since MARK STRING: STRING was logged after MARK.
logged_since() {
	tail -c +$(($1 + 1)) "$LOG" | grep -qF -e "$2"
}

# prime NAME TOKEN: validate until an answer comes from the cache: the
# token is then held, so a later 401 proves an invalidation.
prime() {
	local mark i
	mark=$(log_size)
	for i in 1 2 3 4 5; do
		req_bearer GET /validate "$2"
		[ "$STATUS" = 200 ] || break
		[ "$(hits_since "$mark")" -gt 0 ] && break
	done
	is "$([ "$STATUS" = 200 ] && [ "$(hits_since "$mark")" -gt 0 ] && echo 0 || echo 1)" 0 \
		"$1: the token is answered from the cache before the change"
}

# within_100ms NAME TOKEN: call right after a change committed.  Polls
# validate until 401; a 200 to a request that started more than 100 ms
# after the commit fails.  LATENCY is the time of the first 401.
LATENCY=
within_100ms() {
	local name=$1 token=$2 t0 t stale=0 n=0
	t0=$(h_now)
	LATENCY=
	while [ $n -lt 200 ]; do
		n=$((n + 1))
		t=$(h_elapsed "$t0")
		req_bearer GET /validate "$token"
		if [ "$STATUS" = 401 ]; then
			LATENCY=$t
			break
		fi
		if [ "$STATUS" = 200 ] && ! h_lt "$t" 0.10; then
			stale=$((stale + 1))
			break
		fi
	done
	is "$([ -n "$LATENCY" ] && [ "$stale" -eq 0 ] && echo 0 || echo 1)" 0 \
		"$name: 401 within 100 ms of the commit (first 401 by a request started at ${LATENCY:-never} s)"
}

# sql_case NAME USER QUERY: a fresh session of USER, primed, then QUERY
# (with :'sid' and :'user') by SQL; its token must be refused within 100 ms.
sql_case() {
	local name=$1 user=$2 query=$3
	h_login_ok "$user" "$PW" "$name"
	prime "$name" "$TOKEN"
	sql "$query" sid="$SESSION_ID" user="$user" >/dev/null ||
		fail "$name: the SQL failed"
	within_100ms "$name" "$TOKEN"
}

# --- hits -----------------------------------------------------------------
h_login_ok alice "$PW" hits
mark=$(log_size)
req_bearer GET /validate "$TOKEN"
is "$STATUS:$(hits_since "$mark")" 200:0 "the first validate of a token asks the database"
body_db=$(printf '%s' "$BODY" | jq -cS 'del(.expires_in)')
mark=$(log_size)
is "$(validate_codes 20 "$TOKEN")" "$(repeat_words 20 200)" "20 more validates of the token answer 200"
is "$(hits_since "$mark")" 20 "the cache answers all 20 (both workers share it)"
req_bearer GET /validate "$TOKEN"
is "$(printf '%s' "$BODY" | jq -cS 'del(.expires_in)')" "$body_db" \
	"a cached answer has the same body as the database's"
is "$(header X-Auth-Session-Id)" "$SESSION_ID" "a cached answer has the X-Auth headers"

# --- the API on this host: the very next request --------------------------
# The notification triggers are disabled around each change, so that no
# notification helps: the change must leave the cache through the
# request that made it.  A witness token, cached before and still
# answered from the cache after, shows the cache was in use throughout.
WITNESS=$TOKEN
NOTIFY_TRIGGERS="cache_notify_update cache_notify_delete cache_notify_truncate"
# notify_triggers ENABLE|DISABLE
notify_triggers() {
	local t q=
	for t in $NOTIFY_TRIGGERS; do
		q="$q ALTER TABLE mdauth.sessions $1 TRIGGER $t;"
		q="$q ALTER TABLE mdauth.users $1 TRIGGER $t;"
	done
	sql "$q" >/dev/null || bail "cannot $1 the notification triggers"
}
hold_listener() {
	prime "$1 (witness)" "$WITNESS"
	notify_triggers DISABLE
}
release_listener() {
	local mark
	# The witness may have reached cache_max_age: then its first validate
	# asks the database and stores it again, and the second is a hit.
	req_bearer GET /validate "$WITNESS"
	mark=$(log_size)
	req_bearer GET /validate "$WITNESS"
	is "$STATUS:$(hits_since "$mark")" 200:1 "$1: the cache was in use throughout (the witness is a hit)"
	notify_triggers ENABLE
}

h_login_ok bob "$PW" logout
prime "logout" "$TOKEN"
hold_listener logout
req_bearer POST /logout "$TOKEN" -H 'Content-Length: 0'
is "$(validate_codes 2 "$TOKEN")" "$(repeat_words 2 401)" "logout: the next requests are 401"
release_listener logout

h_login_ok bob "$PW" refresh
prime "refresh" "$TOKEN"
old=$TOKEN
hold_listener refresh
req_bearer POST /refresh "$old" -H 'Content-Length: 0'
new=$(json token)
H_TOKENS+=("$new")
is "$STATUS" 200 "refresh answers 200"
req_bearer GET /validate "$old"
is "$STATUS" 401 "refresh: the old token is refused at once"
release_listener refresh
# A replaced token presented again revokes its session: the new token
# must leave the cache with it.
h_login_ok bob "$PW" reuse
old=$TOKEN
req_bearer POST /refresh "$old" -H 'Content-Length: 0'
new=$(json token)
H_TOKENS+=("$new")
prime "reuse (new token)" "$new"
hold_listener reuse
req_bearer GET /validate "$old"
is "$STATUS" 401 "reuse: the replaced token is refused"
is "$(validate_codes 2 "$new")" "$(repeat_words 2 401)" \
	"reuse: the new token of a session revoked for reuse is refused at once"
release_listener reuse

h_login_ok carol "$PW" one
t1=$TOKEN s1=$SESSION_ID
h_login_ok carol "$PW" two
t2=$TOKEN
prime "DELETE /sessions/{id}" "$t1"
hold_listener "DELETE /sessions/{id}"
req_bearer DELETE "/sessions/$s1" "$t2"
is "$STATUS" 200 "DELETE /sessions/{id} answers 200"
is "$(validate_codes 2 "$t1")" "$(repeat_words 2 401)" "DELETE /sessions/{id}: the session's token is refused at once"
release_listener "DELETE /sessions/{id}"

h_login_ok carol "$PW" three
t3=$TOKEN
prime "logout-all" "$t3"
hold_listener logout-all
req_bearer POST /logout-all "$t2" -H 'Content-Length: 0'
is "$STATUS" 200 "logout-all answers 200"
is "$(validate_codes 2 "$t3")" "$(repeat_words 2 401)" "logout-all: every other token is refused at once"
release_listener logout-all

# max_sessions_per_user = 3, evict_oldest: a fourth login evicts the first.
h_login_ok dave "$PW" d1
first=$TOKEN
h_login_ok dave "$PW" d2
h_login_ok dave "$PW" d3
prime "eviction" "$first"
hold_listener eviction
h_login_ok dave "$PW" d4
is "$(validate_codes 2 "$first")" "$(repeat_words 2 401)" "eviction at the cap: the evicted token is refused at once"
release_listener eviction

# --- SQL: each function, raw UPDATE and DELETE on both tables -------------
sql_case "mdauth.revoke_session" erin "SELECT mdauth.revoke_session(:'sid')"
sql_case "mdauth.revoke_user_sessions" erin "SELECT mdauth.revoke_user_sessions(:'user')"
sql_case "mdauth.set_password" erin \
	"SELECT mdauth.set_password(:'user', (SELECT password_hash FROM mdauth.users WHERE username = :'user'))"
sql_case "mdauth.disable_user" frank "SELECT mdauth.disable_user(:'user')"
sql_case "raw UPDATE sessions SET revoked_at" erin \
	"UPDATE mdauth.sessions SET revoked_at = now(), revoked_reason = 'test' WHERE id = :'sid'"
sql_case "raw UPDATE sessions SET expires_at (earlier)" erin \
	"UPDATE mdauth.sessions SET expires_at = now() WHERE id = :'sid'"
sql_case "raw UPDATE sessions SET absolute_expires_at (earlier)" erin \
	"UPDATE mdauth.sessions SET absolute_expires_at = now() WHERE id = :'sid'"
sql_case "raw UPDATE sessions SET token_hash" erin \
	"UPDATE mdauth.sessions SET token_hash = sha256(gen_random_uuid()::text::bytea) WHERE id = :'sid'"
sql_case "raw DELETE FROM sessions" erin "DELETE FROM mdauth.sessions WHERE id = :'sid'"
sql_case "raw UPDATE users SET disabled_at" grace \
	"UPDATE mdauth.users SET disabled_at = now() WHERE username = :'user'"
# A renamed user keeps its sessions: the next answers carry the new name.
h_login_ok heidi "$PW" rename
prime "raw UPDATE users SET username" "$TOKEN"
sql "UPDATE mdauth.users SET username = 'heidi2' WHERE username = 'heidi'"
t0=$(h_now)
renamed=
for i in $(seq 1 100); do
	t=$(h_elapsed "$t0")
	req_bearer GET /validate "$TOKEN"
	if [ "$STATUS" = 200 ] && [ "$(json username)" = heidi2 ]; then
		renamed=$t
		break
	fi
	h_lt "$t" 0.10 || break
done
is "$([ -n "$renamed" ] && echo 0 || echo 1)" 0 \
	"raw UPDATE users SET username: the new name within 100 ms (by a request started at ${renamed:-never} s)"
sql_case "raw DELETE FROM users" ivan "DELETE FROM mdauth.users WHERE username = :'user'"

# A touch (a later expiry) is no change: the token stays cached.
h_login_ok erin "$PW" touch
prime "a later expiry" "$TOKEN"
sql "UPDATE mdauth.sessions SET expires_at = expires_at + interval '1 minute',
	last_used_at = now() WHERE id = :'sid'" sid="$SESSION_ID"
mark=$(log_size)
req_bearer GET /validate "$TOKEN"
is "$STATUS:$(hits_since "$mark")" 200:1 "a later expiry by SQL leaves the answer cached (no notification)"

# --- a second daemon on the same database ---------------------------------
h_conf b "listen = $H_DIR/b.sock" "workers = 2" "require_tls = yes" "cache = yes"
h_start b
B_PID=$H_PID
h_wait_for 15 grep -qF 'cache: listening for changes' "$H_DIR/mdauthd-b.log"
is $? 0 "daemon B: its listener listens"
# b_validate TOKEN: GET /validate on B; prints the status.
b_validate() {
	fcgi_raw_at "$H_DIR/b.sock" REQUEST_METHOD=GET PATH_INFO=/validate HTTPS=on \
		REMOTE_ADDR=127.0.0.1 HTTP_AUTHORIZATION="Bearer $1" </dev/null
	fcgi_status
}
h_login_ok judy "$PW" two-daemons
b_mark=$(stat -c %s "$H_DIR/mdauthd-b.log")
b_validate "$TOKEN" >/dev/null
is "$(b_validate "$TOKEN")" 200 "daemon B answers the token"
is "$(tail -c +$((b_mark + 1)) "$H_DIR/mdauthd-b.log" | grep -q 'answered from the cache' && echo 0 || echo 1)" 0 \
	"daemon B answers it from its cache"
req_bearer POST /logout "$TOKEN" -H 'Content-Length: 0'
t0=$(h_now)
b_first=
for i in $(seq 1 100); do
	t=$(h_elapsed "$t0")
	code=$(b_validate "$TOKEN")
	if [ "$code" = 401 ]; then
		b_first=$t
		break
	fi
	h_lt "$t" 0.10 || break
done
is "$([ -n "$b_first" ] && echo 0 || echo 1)" 0 \
	"a logout through daemon A: daemon B answers 401 within 100 ms (first 401 by a request started at ${b_first:-never} s)"

# --- the listener's connection killed --------------------------------------
h_login_ok alice "$PW" listener-killed
prime "listener killed" "$TOKEN"
mark=$(log_size)
killed=$(sql "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
	WHERE application_name = 'mdauthd listener'")
is "$killed" 2 "both listeners' backends terminated"
sql "UPDATE mdauth.sessions SET revoked_at = now() WHERE id = :'sid'" sid="$SESSION_ID"
req_bearer GET /validate "$TOKEN"
is "$STATUS" 401 "a session revoked while the listener is down: no stale 200"
h_wait_for 10 logged_since "$mark" 'cache: listening for changes on mdauth_cache; the cache is back in use (flushed)'
is $? 0 "the listener reconnects and the cache is back in use"
h_login_ok alice "$PW" after-reconnect
prime "after the reconnect" "$TOKEN"

# --- the listener killed -9, and a reload --------------------------------
h_login_ok alice "$PW" listener-kill9
prime "listener killed -9" "$TOKEN"
old_listener=$(h_listener)
mark=$(log_size)
kill -9 "$old_listener"
sql "UPDATE mdauth.sessions SET revoked_at = now() WHERE id = :'sid'" sid="$SESSION_ID"
req_bearer GET /validate "$TOKEN"
is "$STATUS" 401 "a session revoked while no listener runs: no stale 200"
h_wait_for 10 logged_since "$mark" 'cache: listening for changes on mdauth_cache; the cache is in use'
is $? 0 "the master starts another listener, which flushes and enables the cache"
isnt "$(h_listener)" "$old_listener" "the new listener is another process"
h_login_ok alice "$PW" reload
prime "before a reload" "$TOKEN"
old_listener=$(h_listener)
mark=$(log_size)
kill -HUP "$STACK_MDAUTHD_PID"
h_wait_for 10 sh -c "l=\$(pgrep -P $STACK_MDAUTHD_PID -x mdauthd-cache); [ -n \"\$l\" ] && [ \"\$l\" != $old_listener ]"
is $? 0 "a reload starts a new listener"
h_wait_for 10 logged_since "$mark" 'cache: listening for changes on mdauth_cache; the cache is in use'
is $? 0 "after a reload the cache is back in use"
prime "after a reload" "$TOKEN"

# --- PostgreSQL restarted under load ---------------------------------------
h_login_ok alice "$PW" load
load_token=$TOKEN
h_login_ok bob "$PW" restart
victim=$TOKEN victim_sid=$SESSION_ID
prime "PostgreSQL restart" "$victim"
(
	while :; do
		curl -s -o /dev/null -w '%{http_code}\n' --max-time 10 --cacert "$STACK_CERT" \
			--resolve "localhost:$STACK_HTTPS_PORT:127.0.0.1" \
			-H "Authorization: Bearer $load_token" "$H_URL/validate"
	done >"$H_DIR/load.codes"
) &
load_pid=$!
h_on_teardown "kill $load_pid 2>/dev/null"
sleep 0.5
mark=$(log_size)
stack_pg_restart || bail "PostgreSQL did not restart"
sql "UPDATE mdauth.sessions SET revoked_at = now() WHERE id = :'sid'" sid="$victim_sid"
req_bearer GET /validate "$victim"
is "$STATUS" 401 "a session revoked right after PostgreSQL came back: no stale 200"
h_wait_for 20 logged_since "$mark" 'the cache is back in use (flushed)'
is $? 0 "after the restart the cache is back in use"
sleep 0.5
kill "$load_pid" 2>/dev/null
wait "$load_pid" 2>/dev/null
is "$(grep -cvE '^(200|503)$' "$H_DIR/load.codes")" 0 \
	"under load through the restart: only 200 and 503 ($(sort "$H_DIR/load.codes" | uniq -c | tr -s ' \n' ' '))"
prime "after the restart" "$load_token"

# --- TRUNCATE: everything goes ---------------------------------------------
h_login_ok alice "$PW" truncate
prime "TRUNCATE" "$TOKEN"
sql "TRUNCATE mdauth.sessions CASCADE" >/dev/null
within_100ms "TRUNCATE mdauth.sessions" "$TOKEN"

# --- a worker killed while it writes; a full cache -------------------------
# cache_entries = 64: 2 x 64 tokens made by SQL (a token's digest is its
# SHA-256), each validated on both workers while workers are killed.
mark=$(log_size)
h_restart_mdauthd workers=2 cache=yes cache_entries=64
h_wait_for 10 logged_since "$mark" 'cache: listening for changes on mdauth_cache'
master=$STACK_MDAUTHD_PID
map_size() {
	# The cache is the master's one shared anonymous mapping (/dev/zero).
	local range
	range=$(awk '/\/dev\/zero \(deleted\)/ { print $1; exit }' "/proc/$1/maps")
	[ -n "$range" ] || return 0
	echo $((0x${range#*-} - 0x${range%-*}))
}
size0=$(map_size "$master")
like "$size0" '^[0-9]+$' "the cache is one shared mapping of the master ($size0 bytes)"
alice_id=$(sql "SELECT id FROM mdauth.users WHERE username = 'alice'")
tokens=()
for i in $(seq 1 128); do
	# 43 characters; the last carries 4 unused bits: A.
	tokens+=("mda_$(printf 'cachetest%033dA' "$i")")
done
printf '%s\n' "${tokens[@]}" >"$H_DIR/minted"
H_TOKENS+=("${tokens[@]}")
sql "INSERT INTO mdauth.sessions (user_id, token_hash, expires_at, absolute_expires_at)
	SELECT :'uid', sha256(convert_to(t, 'UTF8')), now() + interval '1 hour', now() + interval '2 hours'
	FROM unnest(string_to_array(:'toks', ' ')) t" uid="$alice_id" toks="${tokens[*]}" >/dev/null
bad=0
for round in 1 2 3; do
	(
		for t in "${tokens[@]}"; do
			curl -s -o /dev/null -w '%{http_code}\n' --max-time 10 --cacert "$STACK_CERT" \
				--resolve "localhost:$STACK_HTTPS_PORT:127.0.0.1" \
				-H "Authorization: Bearer $t" "$H_URL/validate"
		done >"$H_DIR/burst.$round"
	) &
	burst=$!
	for k in 1 2 3; do
		sleep 0.3
		kill -9 $(h_workers | head -n 1) 2>/dev/null
	done
	wait "$burst"
	bad=$((bad + $(grep -cvE '^(200|502|503)$' "$H_DIR/burst.$round")))
done
is "$bad" 0 "bursts of 128 tokens with workers killed -9 meanwhile: only 200 (or the web server's 502/503 for a killed worker)"
h_wait_for 10 h_has_children "$master" 2
is $? 0 "the killed workers are replaced"
codes=$(for t in "${tokens[@]}"; do req_bearer GET /validate "$t"; printf '%s\n' "$STATUS"; done | sort | uniq -c | tr -s ' \n' ' ')
is "$codes" " 128 200 " "after the kills every one of 128 tokens still validates (no lock held, no torn entry)"
sql "UPDATE mdauth.sessions SET revoked_at = now() WHERE token_hash = sha256(convert_to(:'t', 'UTF8'))" \
	t="${tokens[127]}" >/dev/null
within_100ms "revocation after the kills" "${tokens[127]}"
is "$(map_size "$master")" "$size0" "2 x cache_entries tokens: the cache's mapping did not grow"
is "$([ "$size0" -le $((64 * 512 + 65536)) ] && echo 0 || echo 1)" 0 \
	"64 entries take $size0 bytes (within 512 bytes an entry and 64 KiB of header)"

# --- the touch: written at most once per touch_interval --------------------
mark=$(log_size)
h_restart_mdauthd workers=2 cache=yes touch_interval=2 token_ttl=60 \
	sliding_expiration=yes
h_wait_for 10 logged_since "$mark" 'cache: listening for changes on mdauth_cache'
sql "CREATE TABLE public.touches (session_id uuid, at timestamptz);
CREATE FUNCTION public.count_touch() RETURNS trigger LANGUAGE plpgsql AS
	\$\$BEGIN INSERT INTO public.touches VALUES (NEW.id, clock_timestamp()); RETURN NULL; END\$\$;
CREATE TRIGGER count_touch AFTER UPDATE ON mdauth.sessions FOR EACH ROW
	WHEN (OLD.last_used_at IS DISTINCT FROM NEW.last_used_at)
	EXECUTE FUNCTION public.count_touch();" >/dev/null || bail "cannot count touches"
h_login_ok alice "$PW" touch
exp0=$(sql "SELECT extract(epoch FROM expires_at) FROM mdauth.sessions WHERE id = :'sid'" sid="$SESSION_ID")
t0=$(h_now)
n=0 bad=0
while h_lt "$(h_elapsed "$t0")" 6.5; do
	req_bearer GET /validate "$TOKEN"
	[ "$STATUS" = 200 ] || bad=$((bad + 1))
	n=$((n + 1))
done
touches=$(sql "SELECT count(*) FROM public.touches WHERE session_id = :'sid'" sid="$SESSION_ID")
gap=$(sql "SELECT coalesce(min(d), 99) FROM (SELECT extract(epoch FROM at - lag(at) OVER (ORDER BY at)) d
	FROM public.touches WHERE session_id = :'sid') x" sid="$SESSION_ID")
exp1=$(sql "SELECT extract(epoch FROM expires_at) FROM mdauth.sessions WHERE id = :'sid'" sid="$SESSION_ID")
is "$bad" 0 "$n validates over 6.5 s with touch_interval = 2 answer 200"
is "$([ "$touches" -ge 2 ] && [ "$touches" -le 4 ] && echo 0 || echo 1)" 0 \
	"the use is written $touches times in 6.5 s (2 to 4: at most once per touch_interval, and it is written)"
is "$(h_lt "$gap" 2 && echo 1 || echo 0)" 0 "no two writes of the use less than touch_interval apart (closest: $gap s)"
is "$(h_lt "$exp0" "$exp1" && echo 0 || echo 1)" 0 "the sliding expiry moved with the writes"
sql "DROP TRIGGER count_touch ON mdauth.sessions; DROP FUNCTION public.count_touch(); DROP TABLE public.touches" >/dev/null

# --- expiry is exact on a cached answer -----------------------------------
mark=$(log_size)
h_restart_mdauthd workers=2 cache=yes sliding_expiration=no token_ttl=3 \
	token_max_lifetime=3600
h_wait_for 10 logged_since "$mark" 'cache: listening for changes on mdauth_cache'
h_login_ok alice "$PW" expiry
expires=$(sql "SELECT extract(epoch FROM expires_at) FROM mdauth.sessions WHERE id = :'sid'" sid="$SESSION_ID")
mark=$(log_size)
: >"$H_DIR/expiry.codes"
end=$(awk -v e="$expires" 'BEGIN { printf "%.3f\n", e + 1 }')
while :; do
	t=$(h_now)
	req_bearer GET /validate "$TOKEN"
	printf '%s %s\n' "$t" "$STATUS" >>"$H_DIR/expiry.codes"
	h_lt "$t" "$end" || break
done
late=$(awk -v e="$expires" '$2 == 200 && $1 >= e' "$H_DIR/expiry.codes" | wc -l)
first401=$(awk -v e="$expires" '$2 == 401 { printf "%.3f\n", $1 - e; exit }' "$H_DIR/expiry.codes")
hits=$(hits_since "$mark")
is "$([ "$hits" -gt 0 ] && echo 0 || echo 1)" 0 "the token was answered from the cache until its end ($hits times)"
is "$late" 0 "no 200 for a request that started after the token's expiry"
like "$first401" '^(-0\.0[0-9]*|0\.[0-4][0-9]*)$' \
	"the first 401 came within 0.5 s after the expiry, none before it (at ${first401:-never} s)"

# --- the listener ends with its master ------------------------------------
h_conf c "listen = $H_DIR/c.sock" "workers = 1" "cache = yes"
h_start c
C_PID=$H_PID
h_wait_for 15 grep -qF 'cache: listening for changes' "$H_DIR/mdauthd-c.log"
c_listener=$(h_listener "$C_PID")
c_workers=$(h_children "$C_PID")
like "$c_listener" '^[0-9]+$' "daemon C has a listener"
kill -9 "$C_PID"
h_wait_for 5 stack_proc_gone "$c_listener"
is $? 0 "the master killed -9: its listener ends too (no connection kept for nobody)"
kill -9 $c_workers 2>/dev/null

# --- cache = no: no listener, no cached answer -----------------------------
mark=$(log_size)
h_restart_mdauthd workers=2 cache=no
sleep 1
is "$(h_listener)" "" "cache = no: no listener process"
is "$(sql "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'mdauthd listener'")" 1 \
	"cache = no: no listener connection of this daemon (daemon B's remains)"
h_login_ok alice "$PW" nocache
mark=$(log_size)
is "$(validate_codes 4 "$TOKEN")" "$(repeat_words 4 200)" "cache = no: validates answer 200"
is "$(hits_since "$mark")" 0 "cache = no: none from a cache"

done_testing

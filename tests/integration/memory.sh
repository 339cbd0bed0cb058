#!/bin/bash
# Memory: a worker's logins hash in the area it mapped at its start and
# keep nothing more, and under
# load the workers' resident size after a warm-up and after 100 000 more
# validates through lighttpd (one in ten with an unknown
# token, so that the 401 path runs too).  Each worker serves about half of
# them; growth above 2 MiB in one worker means at least ~40 bytes kept per
# request (the smallest thing a request allocates, a token or a JSON
# object, is bigger), while allocator noise after a warm-up stays well
# below that.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/load.sh"
load_need_wrk

WORKERS=2
CONNS=8
WARMUP=20000
REQUESTS=100000
LIMIT_KB=2048

h_setup workers=$WORKERS
master=$STACK_MDAUTHD_PID
h_wait_for 5 h_has_children "$master" $WORKERS || bail "expected $WORKERS workers"
h_user_add alice 'correct horse battery staple'

# f_bound NAME GROWTH LIMIT: the test that GROWTH (kB) is at most LIMIT.
# In a sanitizer build resident size says nothing (AddressSanitizer keeps
# freed memory in quarantine and ignores mallopt); there the figure is
# only reported, and LeakSanitizer checks for leaks when the daemon exits.
f_bound() {
	if [ "${MDAUTH_SANITIZERS:-0}" = 1 ]; then
		diag "not asserted in a sanitizer build: $1"
	else
		ok "$1" test "$2" -le "$3"
	fi
}

# f_rss PID FIELD: FIELD (VmRSS, RssAnon) of /proc/PID/status, in kB;
# FIELD "private" is VmRSS without RssShmem: the validate cache is shared
# memory that every process of the daemon maps, counted in the VmRSS of
# each that touched it (up to cache_entries x 273 bytes), but held once.
f_rss() {
	if [ "$2" = private ]; then
		awk '$1 == "VmRSS:" { r = $2 } $1 == "RssShmem:" { s = $2 }
			END { if (r != "") print r - s }' "/proc/$1/status" 2>/dev/null
		return
	fi
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null
}

# Each login hashes with argon2id (argon2_memory, 19 MiB by default) in
# the area the worker mapped when it started (counted in "before"); no
# login may add to it, or every worker would keep another 19 MiB.
declare -A fresh
for w in $(h_children "$master"); do
	fresh[$w]=$(f_rss "$w" private)
done
for _ in 1 2 3 4 5 6; do
	h_login_ok alice 'correct horse battery staple'
done
token=$TOKEN
unknown=$(h_random_token)
hashed=$(grep -c 'login: status 200' "$H_DIR/mdauthd.log")
for w in $(h_children "$master"); do
	now=$(f_rss "$w" private)
	n=$(grep -c "mdauthd\[$w\]: debug: login: status 200" "$H_DIR/mdauthd.log")
	diag "worker $w: private RSS ${fresh[$w]} kB before any login, $now kB after $n of the $hashed logins"
	f_bound "worker $w: after $n argon2id logins its private RSS is within $LIMIT_KB kB of before ($((now - ${fresh[$w]})) kB)" \
		"$((now - ${fresh[$w]}))" "$LIMIT_KB"
done

# f_run NAME N: N validates (N / CONNS per connection), every 10th of each
# connection with the unknown token; checks that each got its answer.
f_run() {
	local name=$1 n=$2 per=$(($2 / CONNS))
	load_start_limit "$name" "$per" "$CONNS" "$token" "$unknown" 10
	load_wait "$name" || bail "wrk failed"
	diag "$(load_summary "$name")"
	is "$(load_get "$name" status_200) $(load_get "$name" status_401)" \
		"$((n - n / 10)) $((n / 10))" \
		"$name: $n validates: $((n - n / 10)) answered 200 and $((n / 10)) answered 401"
	is "$(load_failed "$name")" "$((n / 10))" "$name: no other answer, none lost"
}

workers=$(h_children "$master")
start=$(h_now)
f_run warm-up $WARMUP
declare -A before before_anon
for w in $workers; do
	before[$w]=$(f_rss "$w" private)
	before_anon[$w]=$(f_rss "$w" RssAnon)
done
master_before=$(f_rss "$master" private)

f_run load $REQUESTS
diag "$REQUESTS validates in $(h_elapsed "$start") s, warm-up included"
is "$(h_children "$master")" "$workers" "the same workers served everything (none died or was replaced)"
for w in $workers; do
	after=$(f_rss "$w" private)
	after_anon=$(f_rss "$w" RssAnon)
	served=$(grep -c "mdauthd\[$w\]: info: GET /validate " "$H_DIR/mdauthd.log")
	growth=$((${after:-0} - ${before[$w]:-0}))
	diag "worker $w ($served validates in all): private RSS ${before[$w]} kB after the warm-up, $after kB after $REQUESTS more ($growth kB); RssAnon ${before_anon[$w]} -> $after_anon kB"
	f_bound "worker $w: private RSS grew by at most $LIMIT_KB kB over $REQUESTS validates ($growth kB)" \
		"$growth" "$LIMIT_KB"
done
master_after=$(f_rss "$master" private)
diag "master: private RSS $master_before kB -> $master_after kB"
f_bound "the master's private RSS did not grow ($master_before -> $master_after kB)" \
	"$((master_after - master_before))" 64

done_testing

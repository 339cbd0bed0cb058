# tests/integration/load.sh -- load for the fault tests: wrk in the
# background with load.lua, and readers of what it counted.
# shellcheck shell=bash
#
# Sourced after lib.sh (it uses H_DIR, STACK_HTTPS_PORT, h_on_teardown):
#
#   load_need_wrk                    skip_all unless wrk is installed
#   load_start NAME SECONDS CONNS TOKEN [BADTOKEN EVERY]
#                                    GET /validate through lighttpd (HTTPS)
#                                    with CONNS connections; each stops at
#                                    its first answer after SECONDS
#   load_start_limit NAME LIMIT CONNS TOKEN [BADTOKEN EVERY]
#                                    the same, until each connection has
#                                    LIMIT answers (at most 300 s)
#   load_wait_started NAME           wait (up to 10 s) for a first answer
#   load_stop NAME SECONDS           end the run SECONDS from now instead
#   load_wait NAME                   wait for every connection to finish,
#                                    then merge the counts; a connection
#                                    still waiting for an answer 15 s after
#                                    the end counts as "stuck"
#   load_get NAME KEY                a number (0 when absent): issued,
#                                    answered, lost, stuck, max_ms,
#                                    no_retry_after, daemon_errors,
#                                    proxy_errors, status_NNN, max_ms_NNN
#                                    (see load.lua)
#   load_failed NAME                 non-2xx answers, lost and stuck requests
#   load_statuses NAME               "200:N 503:M" (every status seen)
#   load_summary NAME                one line for a diag
#   load_first_failure NAME          time of the first non-2xx or lost
#                                    request, empty when none
#   load_last_failure NAME           time of the last one, empty when none
#   load_first_ok_after NAME TIME    time of the first 2xx answer after a
#                                    failure and after TIME, empty when none
#   load_ok_between NAME T1 T2       2xx answers that came between T1 and T2
#                                    (100 ms resolution)
#   load_pg_ready LOG AFTER          when PostgreSQL logged in LOG, at or
#                                    after the time AFTER, that it accepts
#                                    (read-write) connections, to the
#                                    millisecond; waits up to 5 s for the
#                                    line (it may come after pg_ctl
#                                    returns); empty when it did not come
#
# Files: $H_DIR/load-NAME (counts), .events, .buckets (merged, see
# load.lua), .out (wrk's own report), .tI* (per connection).

H_LOAD_LUA=$H_LIB_DIR/load.lua
declare -gA H_LOAD_PID=() H_LOAD_CONNS=()

load_need_wrk() {
	command -v wrk >/dev/null 2>&1 || skip_all "wrk not installed"
}

# load_run NAME SECONDS LIMIT CONNS TOKEN [BADTOKEN EVERY]
load_run() {
	local name=$1 seconds=$2 limit=$3 conns=$4
	shift 4
	local out=$H_DIR/load-$name end
	rm -f "$out" "$out".*
	end=$(awk -v n="$(h_now)" -v s="$seconds" 'BEGIN { printf "%.3f", n + s }')
	H_LOAD_CONNS[$name]=$conns
	# One thread per connection: load.lua pairs each request with its
	# answer per thread.  The threads stop themselves; -d only bounds a
	# run whose answers stopped coming.  --timeout only keeps wrk from
	# counting a slow answer as an error: load.lua times each request.
	wrk -t "$conns" -c "$conns" -d "$((seconds + 15))s" --timeout 30s \
		-s "$H_LOAD_LUA" "https://127.0.0.1:$STACK_HTTPS_PORT/api/auth/validate" \
		-- "$out" "$end" "$limit" "$@" >"$out.out" 2>&1 &
	H_LOAD_PID[$name]=$!
	h_on_teardown "kill ${H_LOAD_PID[$name]} 2>/dev/null"
}

load_start() {
	local name=$1 seconds=$2
	shift 2
	load_run "$name" "$seconds" 0 "$@"
}

load_start_limit() {
	local name=$1 limit=$2
	shift 2
	load_run "$name" 300 "$limit" "$@"
}

load_wait_started() {
	h_wait_for 10 test -s "$H_DIR/load-$1.started"
}

load_stop() {
	awk -v n="$(h_now)" -v s="$2" 'BEGIN { printf "%.3f\n", n + s }' \
		>"$H_DIR/load-$1.end.tmp" && mv "$H_DIR/load-$1.end.tmp" "$H_DIR/load-$1.end"
}

# load_done NAME: every connection has written its counts.
load_done() {
	local n
	n=$(find "$H_DIR" -maxdepth 1 -name "load-$1.t*.buckets" | grep -c .)
	[ "$n" -ge "${H_LOAD_CONNS[$1]}" ]
}

load_wait() {
	local name=$1 out=$H_DIR/load-$1 pid=${H_LOAD_PID[$1]} files=() n
	# wrk sleeps for -d whatever its threads do; SIGINT ends it early.
	while ! load_done "$name" && ! stack_proc_gone "$pid"; do
		sleep 0.1
	done
	kill -INT "$pid" 2>/dev/null
	wait "$pid"
	mapfile -t files < <(find "$H_DIR" -maxdepth 1 -name "load-$name.t*" \
		! -name '*.events' ! -name '*.buckets')
	n=${#files[@]}
	{
		[ "$n" -eq 0 ] || awk '
			$1 ~ /^max_ms/ { if ($2 > v[$1]) v[$1] = $2; next }
			{ v[$1] += $2 }
			END { for (k in v) print k, v[k] }' "${files[@]}"
		echo "stuck $((H_LOAD_CONNS[$name] - n))"
		echo "connections $n"
	} >"$out"
	cat "$out".t*.events 2>/dev/null | sort -n >"$out.events"
	cat "$out".t*.buckets 2>/dev/null |
		awk '{ ok[$1] += $2; bad[$1] += $3 } END { for (t in ok) print t, ok[t], bad[t] }' |
		sort -n >"$out.buckets"
	[ "$n" -gt 0 ] || {
		diag "wrk left no counts for $name:" "$(cat "$out.out" 2>/dev/null)"
		return 1
	}
}

load_get() {
	awk -v k="$2" '$1 == k { v = $2 } END { print v == "" ? 0 : v }' \
		"$H_DIR/load-$1" 2>/dev/null || echo 0
}

load_failed() {
	awk '$1 == "lost" || $1 == "stuck" || ($1 ~ /^status_/ && $1 !~ /^status_2/) { n += $2 }
		END { print n + 0 }' "$H_DIR/load-$1" 2>/dev/null || echo 0
}

load_statuses() {
	sed -n 's/^status_\([0-9]*\) \([0-9]*\)$/\1:\2/p' "$H_DIR/load-$1" 2>/dev/null |
		sort | tr '\n' ' ' | sed 's/ $//'
}

load_summary() {
	printf '%s: %s requests, %s answered (%s), %s lost, %s stuck, max %s ms' \
		"$1" "$(load_get "$1" issued)" "$(load_get "$1" answered)" \
		"$(load_statuses "$1")" "$(load_get "$1" lost)" \
		"$(load_get "$1" stuck)" "$(load_get "$1" max_ms)"
}

load_first_failure() {
	awk '$2 !~ /^2/ { print $1; exit }' "$H_DIR/load-$1.events" 2>/dev/null
}

load_last_failure() {
	awk '$2 !~ /^2/ { t = $1 } END { print t }' "$H_DIR/load-$1.events" 2>/dev/null
}

load_first_ok_after() {
	awk -v after="$2" '$1 >= after && $2 ~ /^2/ { print $1; exit }' \
		"$H_DIR/load-$1.events" 2>/dev/null
}

load_ok_between() {
	awk -v a="$2" -v b="$3" '$1 + 0.1 > a && $1 < b { n += $2 } END { print n + 0 }' \
		"$H_DIR/load-$1.buckets" 2>/dev/null
}

load_pg_ready() {
	local i line t
	for ((i = 0; i < 50; i++)); do
		while read -r line; do
			# log_line_prefix '%m [%p] ': "2026-11-30 01:05:29.405 UTC [6779] LOG: ..."
			t=$(date -d "$(cut -d' ' -f1-3 <<<"$line")" +%s.%3N 2>/dev/null) || continue
			h_lt "$t" "$2" || { printf '%s\n' "$t"; return 0; }
		done < <(grep 'database system is ready to accept connections' "$1" 2>/dev/null)
		sleep 0.1
	done
}

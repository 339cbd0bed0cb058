#!/bin/bash
# bench/validate.sh -- GET /validate throughput and latency through lighttpd
# over HTTPS with keep-alive, against the ceiling measured in the same run:
# a null FastCGI responder (bench/null-responder.c, the same number of
# workers, no database) behind the same lighttpd.
#
#   bash bench/validate.sh
#
# Environment: see bench/lib.sh; BENCH_CONNECTIONS (default 2 x workers),
# BENCH_SECONDS (default 5), BENCH_ROUNDS (default 3).  The two targets are
# measured in turn, BENCH_ROUNDS times each after a warm-up; each round
# gives the ratios of its two measurements, and the medians are reported.

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

b_init validate
conns=${BENCH_CONNECTIONS:-$((2 * B_WORKERS))}
secs=${BENCH_SECONDS:-5}
rounds=${BENCH_ROUNDS:-3}
b_posint BENCH_CONNECTIONS "$conns"
b_posint BENCH_SECONDS "$secs"
b_posint BENCH_ROUNDS "$rounds"

b_null_start
# shellcheck disable=SC2119  # no keys to override
b_start
b_user_add bench1 'bench password 1'
token=$(b_login bench1 'bench password 1')

null_url=$B_URL/bench-null/validate
mdauth_url=$B_URL/api/auth/validate

b_describe "wrk: $conns connections, $B_WRK_THREADS thread(s), keep-alive, HTTPS; $rounds rounds of ${secs}s per target, medians" \
    "ceiling: null FastCGI responder with $B_WORKERS workers behind the same lighttpd ($null_url)"

b_wrk warm-null "$conns" 2 "$null_url" validate "$token"
b_wrk warm-mdauthd "$conns" 2 "$mdauth_url" validate "$token"

n_rps=() n_p50=() n_p99=() m_rps=() m_p50=() m_p99=()
r_rps=() r_p50=() r_p99=() # mdauthd / ceiling, per round
n_bad=0 m_bad=0
printf '\n   %-6s %-16s %10s %9s %9s %8s\n' round target 'req/s' 'p50 ms' 'p99 ms' 'non-200'
for ((r = 1; r <= rounds; r++)); do
    # Alternate which goes first, so that a drift in the machine's load
    # does not always favour the same one.
    if ((r % 2)); then order='null mdauthd'; else order='mdauthd null'; fi
    for target in $order; do
        if [ "$target" = null ]; then url=$null_url; else url=$mdauth_url; fi
        b_wrk "$target-$r" "$conns" "$secs" "$url" validate "$token"
        bad=$(($(b_status_other 200) + W_ERRORS))
        printf '   %-6s %-16s %10s %9s %9s %8s\n' "$r" "$target" "$W_RPS" \
            "$W_P50" "$W_P99" "$bad"
        if [ "$target" = null ]; then
            n_rps+=("$W_RPS") n_p50+=("$W_P50") n_p99+=("$W_P99")
            n_bad=$((n_bad + bad))
        else
            m_rps+=("$W_RPS") m_p50+=("$W_P50") m_p99+=("$W_P99")
            m_bad=$((m_bad + bad))
        fi
    done
    # The ratios of one round compare measurements taken seconds apart,
    # under the same load on the machine.
    r_rps+=("$(b_pct "${m_rps[-1]}" "${n_rps[-1]}")")
    r_p50+=("$(b_div "${m_p50[-1]}" "${n_p50[-1]}" 2)")
    r_p99+=("$(b_div "${m_p99[-1]}" "${n_p99[-1]}" 2)")
    printf '   %-6s %-16s %9s%% %8sx %8sx\n' "$r" 'mdauthd/ceiling' \
        "${r_rps[-1]}" "${r_p50[-1]}" "${r_p99[-1]}"
done

nr=$(b_median 1 "${n_rps[@]}") np50=$(b_median 3 "${n_p50[@]}") np99=$(b_median 3 "${n_p99[@]}")
mr=$(b_median 1 "${m_rps[@]}") mp50=$(b_median 3 "${m_p50[@]}") mp99=$(b_median 3 "${m_p99[@]}")
pct=$(b_median 1 "${r_rps[@]}") x50=$(b_median 2 "${r_p50[@]}") x99=$(b_median 2 "${r_p99[@]}")

printf '\n   %-34s %10s %9s %9s %8s\n' 'GET validate (medians)' 'req/s' 'p50 ms' 'p99 ms' 'non-200'
printf '   %-34s %10s %9s %9s %8s\n' 'null responder (ceiling)' "$nr" "$np50" "$np99" "$n_bad"
printf '   %-34s %10s %9s %9s %8s\n' 'mdauthd' "$mr" "$mp50" "$mp99" "$m_bad"
printf '   %-34s %9s%% %8sx %8sx\n' 'mdauthd / ceiling (median of rounds)' \
    "$pct" "$x50" "$x99"
if [ "$m_bad" -ne 0 ] || [ "$n_bad" -ne 0 ]; then
    b_log "warning: some answers were not 200 (see the non-200 column)"
fi
printf '   (%ss)\n' "$(b_elapsed)"

b_summary 'validate req/s' "$mr" "null responder $nr" "$pct%"
b_summary 'validate p50 ms' "$mp50" "null responder $np50" "${x50}x"
b_summary 'validate p99 ms' "$mp99" "null responder $np99" "${x99}x"

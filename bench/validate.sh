#!/bin/bash
# bench/validate.sh -- GET /validate throughput and latency through lighttpd
# over HTTPS with keep-alive, with the validate cache on and off, against
# the ceiling measured in the same run: a null FastCGI responder
# (bench/null-responder.c, the same number of workers, no database) behind
# the same lighttpd.
#
#   bash bench/validate.sh
#
# Three targets in the same lighttpd, each with BENCH_WORKERS workers:
#   null      the null responder, at /bench-null (the ceiling)
#   cache=yes the stack's mdauthd, cache = yes (the default), at /api/auth
#   cache=no  a second mdauthd on the same database, its configuration
#             the stack's with cache = no and its own socket, at
#             /bench-nocache
# Environment: see bench/lib.sh; BENCH_CONNECTIONS (default 2 x workers),
# BENCH_SECONDS (default 5), BENCH_ROUNDS (default 3).  The targets are
# measured in turn, BENCH_ROUNDS times each after a warm-up, the order
# rotating from round to round; each round gives each mdauthd's ratios to
# the ceiling's measurement of the same round, and the medians of those
# ratios are reported with their spread (min-max over the rounds).

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

b_init validate
conns=${BENCH_CONNECTIONS:-$((2 * B_WORKERS))}
secs=${BENCH_SECONDS:-5}
rounds=${BENCH_ROUNDS:-3}
b_posint BENCH_CONNECTIONS "$conns"
b_posint BENCH_SECONDS "$secs"
b_posint BENCH_ROUNDS "$rounds"
goal_rps=0.90 goal_p99=1.25 # the goals of the cache = yes figures

b_null_start
nocache_socket=$B_DIR/nocache.sock
b_mount /bench-nocache "$nocache_socket"
b_start cache=yes
b_listening
b_mdauthd nocache "$nocache_socket" cache=no
b_user_add bench1 'bench password 1'
token=$(b_login bench1 'bench password 1')

declare -A url=(
    [null]=$B_URL/bench-null/validate
    [cache=yes]=$B_URL/api/auth/validate
    [cache=no]=$B_URL/bench-nocache/validate
)
targets=(null cache=yes cache=no)

b_describe "wrk: $conns connections, $B_WRK_THREADS thread(s), keep-alive, HTTPS; $rounds rounds of ${secs}s per target, in turn, order rotating; medians and min..max of the rounds" \
    "ceiling (null): null FastCGI responder, $B_WORKERS workers, behind the same lighttpd (${url[null]})" \
    "cache=yes: the stack's mdauthd, $B_WORKERS workers, $(b_conf_cache "$STACK_MDAUTHD_CONF") (${url[cache=yes]})" \
    "cache=no: a second mdauthd on the same database, its configuration the stack's but $(b_conf_cache "$B_DIR/mdauthd-nocache.conf") (${url[cache=no]})" \
    "goal (cache = yes): req/s >= ${goal_rps}x the ceiling's, p99 <= ${goal_p99}x the ceiling's"

for t in "${targets[@]}"; do
    b_wrk "warm-$t" "$conns" 2 "${url[$t]}" validate "$token"
done

# Per target, the rounds' figures (space-separated); per mdauthd target,
# the rounds' ratios to the ceiling.
declare -A rps=() p50=() p99=() bad=() x_rps=() x_p50=() x_p99=()
for t in "${targets[@]}"; do
    rps[$t]='' p50[$t]='' p99[$t]='' bad[$t]=0
    x_rps[$t]='' x_p50[$t]='' x_p99[$t]=''
done
printf '\n   %-6s %-22s %10s %9s %9s %8s\n' round target 'req/s' 'p50 ms' 'p99 ms' 'non-200'
for ((r = 1; r <= rounds; r++)); do
    # Rotate the order, so that a drift in the machine's load does not
    # always favour the same one.
    order=()
    for ((i = 0; i < ${#targets[@]}; i++)); do
        order+=("${targets[(i + r - 1) % ${#targets[@]}]}")
    done
    declare -A now_rps=() now_p50=() now_p99=()
    for t in "${order[@]}"; do
        b_wrk "$t-$r" "$conns" "$secs" "${url[$t]}" validate "$token"
        n=$(($(b_status_other 200) + W_ERRORS))
        printf '   %-6s %-22s %10s %9s %9s %8s\n' "$r" "$t" "$W_RPS" \
            "$W_P50" "$W_P99" "$n"
        rps[$t]+=" $W_RPS" p50[$t]+=" $W_P50" p99[$t]+=" $W_P99"
        bad[$t]=$((bad[$t] + n))
        now_rps[$t]=$W_RPS now_p50[$t]=$W_P50 now_p99[$t]=$W_P99
    done
    # The ratios of one round compare measurements taken seconds apart,
    # under the same load on the machine.
    for t in cache=yes cache=no; do
        a=$(b_div "${now_rps[$t]}" "${now_rps[null]}" 3)
        b=$(b_div "${now_p50[$t]}" "${now_p50[null]}" 3)
        c=$(b_div "${now_p99[$t]}" "${now_p99[null]}" 3)
        x_rps[$t]+=" $a" x_p50[$t]+=" $b" x_p99[$t]+=" $c"
        printf '   %-6s %-22s %9sx %8sx %8sx\n' "$r" "$t / ceiling" "$a" "$b" "$c"
    done
done

# shellcheck disable=SC2086  # the lists are split on purpose
{
    printf '\n   %-34s %10s %9s %9s %8s\n' 'GET validate (medians)' 'req/s' 'p50 ms' 'p99 ms' 'non-200'
    for t in "${targets[@]}"; do
        case $t in
        null) label='null responder (ceiling)' ;;
        *) label="mdauthd, $t" ;;
        esac
        printf '   %-34s %10s %9s %9s %8s\n' "$label" "$(b_median 1 ${rps[$t]})" \
            "$(b_median 3 ${p50[$t]})" "$(b_median 3 ${p99[$t]})" "${bad[$t]}"
    done
    printf '\n   %-22s %-20s %-20s %s\n' 'against the ceiling' 'req/s' 'p50' 'p99'
    printf '   %s\n' '(median of the rounds [min..max])'
    for t in cache=yes cache=no; do
        printf '   %-22s %-20s %-20s %s\n' "mdauthd, $t" \
            "$(b_median 2 ${x_rps[$t]})x [$(b_spread 2 ${x_rps[$t]})]" \
            "$(b_median 2 ${x_p50[$t]})x [$(b_spread 2 ${x_p50[$t]})]" \
            "$(b_median 2 ${x_p99[$t]})x [$(b_spread 2 ${x_p99[$t]})]"
    done
    printf '   %-22s %-20s %-20s %s\n' 'goal, cache=yes' ">= ${goal_rps}x" - "<= ${goal_p99}x"

    nr=$(b_median 1 ${rps[null]}) np50=$(b_median 3 ${p50[null]}) np99=$(b_median 3 ${p99[null]})
    for t in cache=yes cache=no; do
        g1=- g3=-
        [ "$t" = cache=no ] || g1=">= ${goal_rps}x" g3="<= ${goal_p99}x"
        b_summary "validate req/s, $t" "$(b_median 1 ${rps[$t]})" "null $nr" \
            "$(b_median 2 ${x_rps[$t]})x" "$(b_spread 2 ${x_rps[$t]})" "$g1"
        b_summary "validate p50 ms, $t" "$(b_median 3 ${p50[$t]})" "null $np50" \
            "$(b_median 2 ${x_p50[$t]})x" "$(b_spread 2 ${x_p50[$t]})"
        b_summary "validate p99 ms, $t" "$(b_median 3 ${p99[$t]})" "null $np99" \
            "$(b_median 2 ${x_p99[$t]})x" "$(b_spread 2 ${x_p99[$t]})" "$g3"
    done
}
if [ "${bad[null]}" -ne 0 ] || [ "${bad[cache=yes]}" -ne 0 ] || [ "${bad[cache=no]}" -ne 0 ]; then
    b_log "warning: some answers were not 200 (see the non-200 column)"
fi
printf '   (%ss)\n' "$(b_elapsed)"

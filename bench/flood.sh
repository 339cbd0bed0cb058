#!/bin/bash
# bench/flood.sh -- does validate stay usable while a login flood runs?
# GET /validate throughput and latency with and without a flood of parallel
# logins (more connections than workers) in the same run, and the share of
# the flood's logins that mdauthd turned away with 503 because every hash
# slot (max_concurrent_hashes) was busy.  Two ways, in each round:
#   one socket     the flood comes on listen, to the workers of validate
#                  (a lighttpd mount of that socket, /bench-shared)
#   login_listen   the flood comes on the daemon's login socket, where the
#                  shipped lighttpd configuration sends /api/auth/login,
#                  to login_workers workers of its own (default: the hash
#                  slots) at login_nice (default 19)
#
#   bash bench/flood.sh
#
# The flood is legitimate-looking: successful logins of many users, as
# after an outage when every client logs in again at once.  Throttling
# does not stop such a flood (nothing fails), so the hash budget is what
# keeps workers free for validate; throttling is raised out of the way
# here all the same.  The flood's clients do not honour Retry-After: they
# send the next login as soon as an answer arrives.
#
# Environment: see bench/lib.sh; BENCH_CONNECTIONS (validate, default
# 2 x workers), BENCH_FLOOD_CONNECTIONS (default 4 x workers),
# BENCH_HASH_SLOTS (max_concurrent_hashes; default: the daemon's, half the
# workers), BENCH_SECONDS (default 8), BENCH_ROUNDS (default 3).  Each
# round measures validate alone, then under the flood, and gives the ratios
# of the two; the medians are reported.

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

b_init flood
conns=${BENCH_CONNECTIONS:-$((2 * B_WORKERS))}
flood_conns=${BENCH_FLOOD_CONNECTIONS:-$((4 * B_WORKERS))}
secs=${BENCH_SECONDS:-8}
rounds=${BENCH_ROUNDS:-3}
b_posint BENCH_CONNECTIONS "$conns"
b_posint BENCH_FLOOD_CONNECTIONS "$flood_conns"
b_posint BENCH_SECONDS "$secs"
b_posint BENCH_ROUNDS "$rounds"
slots=()
if [ -n "${BENCH_HASH_SLOTS:-}" ]; then
    b_posint BENCH_HASH_SLOTS "$BENCH_HASH_SLOTS"
    slots=(max_concurrent_hashes="$BENCH_HASH_SLOTS")
fi
password='bench flood password'
ramp=2   # seconds of flood before validate is measured
settle=3 # seconds after the flood before the next measurement

login_socket=$B_DIR/login.sock
b_mount /bench-shared "$B_DIR/mdauthd.sock"
b_start login_max_failures=1000000 ip_max_failures=1000000 "${slots[@]}" \
    login_listen="$login_socket"
b_user_add bval1 "$password"
for ((i = 1; i <= flood_conns; i++)); do
    b_user_add "bflood$i" "$password"
done
token=$(b_login bval1 "$password")
validate_url=$B_URL/api/auth/validate
declare -A login_url=([shared]=$B_URL/bench-shared/login
    [login]=$B_URL/api/auth/login)
declare -A way_name=([shared]='one socket' [login]='login_listen')

# What the daemon says it enforces (a build without the budget says nothing).
budget=$(sed -n 's/.*master: starting [0-9]* workers, \([0-9]*\) password hashes at a time.*/\1/p' \
    "$STACK_DIR/mdauthd.log" | tail -n 1)
b_describe "hash budget: ${budget:-none announced by this mdauthd} (max_concurrent_hashes=${BENCH_HASH_SLOTS:-default})" \
    "argon2id: $(b_hash_params bval1)" \
    "validate: wrk $conns connections; flood: wrk $flood_conns connections of successful logins, $flood_conns users" \
    "flood ways: one socket (/bench-shared/login, on listen), login_listen (/api/auth/login, routed to the login socket: $(sed -n 's/.*logins on .* too, by \([0-9]*\) workers.*/\1/p' "$STACK_DIR/mdauthd.log" | tail -n 1) login workers)" \
    "$rounds rounds; each: validate ${secs}s alone, then for each way validate ${secs}s starting ${ramp}s into the flood; medians"

b_wrk warm "$conns" 2 "$validate_url" validate "$token"

ways=(shared login)
q_rps=() q_p50=() q_p99=() q_bad=0
# Per way, space-separated lists of the rounds' figures, and totals.
declare -A f_rps f_p50 f_p99 r_rps r_p50 r_p99
declare -A f_bad fl_total fl_200 fl_503 fl_other fl_secs
for w in "${ways[@]}"; do
    f_bad[$w]=0 fl_total[$w]=0 fl_200[$w]=0 fl_503[$w]=0 fl_other[$w]=0
    fl_secs[$w]=0
done
printf '\n   %-6s %-34s %10s %9s %9s %8s\n' round validate 'req/s' 'p50 ms' 'p99 ms' 'non-200'
for ((r = 1; r <= rounds; r++)); do
    b_wrk "quiet-$r" "$conns" "$secs" "$validate_url" validate "$token"
    bad=$(($(b_status_other 200) + W_ERRORS))
    q_rps+=("$W_RPS") q_p50+=("$W_P50") q_p99+=("$W_P99") q_bad=$((q_bad + bad))
    printf '   %-6s %-34s %10s %9s %9s %8s\n' "$r" 'alone' "$W_RPS" "$W_P50" "$W_P99" "$bad"
    for w in "${ways[@]}"; do
        b_wrk_start "flood-$w-$r" "$flood_conns" $((ramp + secs + 1)) \
            "${login_url[$w]}" login bflood "$flood_conns" "$password"
        sleep "$ramp"
        b_wrk "busy-$w-$r" "$conns" "$secs" "$validate_url" validate "$token"
        bad=$(($(b_status_other 200) + W_ERRORS))
        f_rps[$w]+=" $W_RPS" f_p50[$w]+=" $W_P50" f_p99[$w]+=" $W_P99"
        f_bad[$w]=$((f_bad[$w] + bad))
        printf '   %-6s %-34s %10s %9s %9s %8s\n' "$r" \
            "during the flood, ${way_name[$w]}" "$W_RPS" "$W_P50" "$W_P99" "$bad"
        r_rps[$w]+=" $(b_pct "$W_RPS" "${q_rps[-1]}")"
        r_p50[$w]+=" $(b_div "$W_P50" "${q_p50[-1]}" 2)"
        r_p99[$w]+=" $(b_div "$W_P99" "${q_p99[-1]}" 2)"
        printf '   %-6s %-34s %9s%% %8sx %8sx\n' "$r" 'during / without' \
            "${r_rps[$w]##* }" "${r_p50[$w]##* }" "${r_p99[$w]##* }"

        b_wrk_finish "flood-$w-$r"
        fl_total[$w]=$((fl_total[$w] + W_REQUESTS))
        fl_200[$w]=$((fl_200[$w] + $(b_status_count 200)))
        fl_503[$w]=$((fl_503[$w] + $(b_status_count 503)))
        fl_other[$w]=$((fl_other[$w] + $(b_status_other 200 503) + W_ERRORS))
        fl_secs[$w]=$(awk -v a="${fl_secs[$w]}" -v b="$W_SECONDS" 'BEGIN { print a + b }')
        printf '   %-6s %-34s %s\n' "$r" "the flood, ${way_name[$w]}" \
            "$W_REQUESTS logins in ${W_SECONDS}s: $W_STATUSES (p50 ${W_P50} ms)"
        # Logins already queued on the daemon's sockets are still served
        # after the flood's clients have gone; let them drain.
        sleep "$settle"
    done
done

qr=$(b_median 1 "${q_rps[@]}") qp50=$(b_median 3 "${q_p50[@]}") qp99=$(b_median 3 "${q_p99[@]}")
printf '\n   %-44s %10s %9s %9s %8s\n' 'GET validate (medians)' 'req/s' 'p50 ms' 'p99 ms' 'non-200'
printf '   %-44s %10s %9s %9s %8s\n' 'without a flood' "$qr" "$qp50" "$qp99" "$q_bad"
for w in "${ways[@]}"; do
    # shellcheck disable=SC2086  # the lists split on purpose
    {
        fr=$(b_median 1 ${f_rps[$w]}) fp50=$(b_median 3 ${f_p50[$w]})
        fp99=$(b_median 3 ${f_p99[$w]})
        pct=$(b_median 1 ${r_rps[$w]}) x50=$(b_median 2 ${r_p50[$w]})
        x99=$(b_median 2 ${r_p99[$w]})
        spread_rps=$(b_spread 1 ${r_rps[$w]}) spread_p50=$(b_spread 2 ${r_p50[$w]})
        spread_p99=$(b_spread 2 ${r_p99[$w]})
    }
    share=$(b_pct "${fl_503[$w]}" "${fl_total[$w]}")
    printf '   %-44s %10s %9s %9s %8s\n' "during a flood of $flood_conns logins, ${way_name[$w]}" \
        "$fr" "$fp50" "$fp99" "${f_bad[$w]}"
    printf '   %-44s %9s%% %8sx %8sx\n' '  during / without (median of rounds)' \
        "$pct" "$x50" "$x99"
    printf '   %-44s %s\n' "  the flood, all rounds" \
        "${fl_total[$w]} answers in ${fl_secs[$w]}s: 200 ${fl_200[$w]} ($(b_pct "${fl_200[$w]}" "${fl_total[$w]}")%), 503 ${fl_503[$w]} ($share%), other ${fl_other[$w]}"
    printf '   %-44s %s/s\n' '  logins served (200)' "$(b_div "${fl_200[$w]}" "${fl_secs[$w]}" 1)"
    goal=-
    [ "$w" != login ] || goal='>= 70%'
    b_summary "validate req/s during a login flood, ${way_name[$w]}" "$fr" \
        "without $qr" "$pct%" "$spread_rps%" "$goal"
    b_summary "validate p50 ms during a login flood, ${way_name[$w]}" "$fp50" \
        "without $qp50" "${x50}x" "$spread_p50"
    b_summary "validate p99 ms during a login flood, ${way_name[$w]}" "$fp99" \
        "without $qp99" "${x99}x" "$spread_p99"
    b_summary "503 share of the flood's logins, ${way_name[$w]}" "$share%" \
        "hash budget ${budget:-none}" -
    b_summary "logins served per second in the flood, ${way_name[$w]}" \
        "$(b_div "${fl_200[$w]}" "${fl_secs[$w]}" 1)" - - - -
done
printf '   (%ss)\n' "$(b_elapsed)"

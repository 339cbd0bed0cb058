#!/bin/bash
# bench/login.sh -- POST /login throughput through lighttpd over HTTPS,
# against the ceiling measured in the same run: the raw argon2id verify rate
# of libargon2 (bench/argon2-rate.c) at the parameters of the stored hash,
# with as many processes in parallel as mdauthd has workers.
#
#   bash bench/login.sh
#
# Every login succeeds (one user per connection, so that no two logins wait
# for the same user's row) and opens a session; at max_sessions_per_user
# the oldest is evicted, as for a user whose devices keep logging in.
# max_concurrent_hashes is set to the number of workers, so that the hash
# budget does not limit the figure (bench/flood.sh measures the budget).
#
# Environment: see bench/lib.sh; BENCH_CONNECTIONS (default: the workers),
# BENCH_SECONDS (default 5), BENCH_ROUNDS (default 5).  The ceiling and the
# logins are measured in turn; each round gives the ratio of its two
# measurements, and the medians are reported.

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

b_init login
conns=${BENCH_CONNECTIONS:-$B_WORKERS}
secs=${BENCH_SECONDS:-5}
rounds=${BENCH_ROUNDS:-5}
b_posint BENCH_CONNECTIONS "$conns"
b_posint BENCH_SECONDS "$secs"
b_posint BENCH_ROUNDS "$rounds"
password='bench login password'

b_build argon2-rate -largon2
# Throttling would stop nothing here (every login succeeds), but keep it out
# of the way all the same.
b_start max_concurrent_hashes="$B_WORKERS" login_max_failures=1000000 \
    ip_max_failures=1000000
for ((i = 1; i <= conns; i++)); do
    b_user_add "blogin$i" "$password"
done
phc=$(b_sql "SELECT password_hash FROM mdauth.users WHERE username = 'blogin1'")
url=$B_URL/api/auth/login

b_describe "argon2id: $(b_hash_params blogin1) (read from the stored hash)" \
    "wrk: $conns connections, $B_WRK_THREADS thread(s), keep-alive, HTTPS; $conns users; $rounds rounds of ${secs}s per figure, medians" \
    "ceiling: libargon2 argon2id_verify in $B_WORKERS processes, nothing else"

b_wrk warm "$conns" 2 "$url" login blogin "$conns" "$password"

a_rate=() l_rate=() l_p50=() l_p99=() ratios=() l_bad=0
printf '\n   %-6s %-22s %10s %9s %9s %8s\n' round figure 'per s' 'p50 ms' 'p99 ms' 'non-200'
for ((r = 1; r <= rounds; r++)); do
    if ((r % 2)); then order='argon2 login'; else order='login argon2'; fi
    for what in $order; do
        if [ "$what" = argon2 ]; then
            line=$(printf '%s\n%s\n' "$phc" "$password" |
                timeout $((secs + 30)) "$B_DIR/argon2-rate" "$B_WORKERS" \
                    "$secs" 100000) || b_die "argon2-rate failed"
            rate=$(printf '%s\n' "$line" | sed -n 's/.* rate=\([0-9.]*\).*/\1/p')
            rate=$(b_div "$rate" 1 1)
            a_rate+=("$rate")
            printf '   %-6s %-22s %10s %9s %9s %8s\n' "$r" 'argon2id verifies' \
                "$rate" - - -
        else
            b_wrk "login-$r" "$conns" "$secs" "$url" login blogin "$conns" "$password"
            ok=$(b_status_count 200)
            bad=$(($(b_status_other 200) + W_ERRORS))
            rate=$(b_div "$ok" "$W_SECONDS" 1)
            l_rate+=("$rate") l_p50+=("$W_P50") l_p99+=("$W_P99")
            l_bad=$((l_bad + bad))
            printf '   %-6s %-22s %10s %9s %9s %8s\n' "$r" 'logins (200)' \
                "$rate" "$W_P50" "$W_P99" "$bad"
        fi
    done
    ratios+=("$(b_div "${l_rate[-1]}" "${a_rate[-1]}" 2)")
    printf '   %-6s %-22s %10s\n' "$r" 'logins / verifies' "${ratios[-1]}"
done

ar=$(b_median 1 "${a_rate[@]}")
lr=$(b_median 1 "${l_rate[@]}") lp50=$(b_median 3 "${l_p50[@]}") lp99=$(b_median 3 "${l_p99[@]}")
ratio=$(b_median 2 "${ratios[@]}")

printf '\n   %-40s %10s %9s %9s %8s\n' 'medians' 'per s' 'p50 ms' 'p99 ms' 'non-200'
printf '   %-40s %10s %9s %9s %8s\n' \
    "argon2id verify, $B_WORKERS processes (ceiling)" "$ar" - - -
printf '   %-40s %10s %9s %9s %8s\n' "POST login, $B_WORKERS workers" "$lr" \
    "$lp50" "$lp99" "$l_bad"
printf '   %-40s %10s\n' 'logins / verifies (median of rounds)' "$ratio"
[ "$l_bad" -eq 0 ] || b_log "warning: some logins were not 200 (see the non-200 column)"
printf '   (%ss)\n' "$(b_elapsed)"

b_summary 'login/s' "$lr" "argon2id verifies/s $ar" "$ratio"

#!/bin/bash
# bench/login.sh -- POST /login throughput through lighttpd over HTTPS,
# against the ceiling measured in the same run: the raw argon2id verify rate
# of libargon2 (bench/argon2-rate.c) at the parameters of the stored hash,
# with as many processes in parallel as mdauthd has workers.
#
#   bash bench/login.sh
#
# Every login succeeds and opens a session; at max_sessions_per_user the
# oldest is evicted, as for a user whose devices keep logging in.  Two
# ways, each its own figure:
#   one user per connection   no two logins wait for the same user's row
#   one user on all           every login of the run is the same user's,
#                             so they contend for the cap and its eviction
# Both are measured with PostgreSQL's fsync and synchronous_commit on,
# then off, in the same run (the setting is changed on the running server:
# ALTER SYSTEM and a reload, then a CHECKPOINT).  max_concurrent_hashes is
# set to the number of workers, so that the hash budget does not limit the
# figure (bench/flood.sh measures the budget).
#
# Environment: see bench/lib.sh; BENCH_CONNECTIONS (default: the workers),
# BENCH_SECONDS (default 5), BENCH_ROUNDS (default 5), BENCH_PG_FSYNC (on
# or off: that setting only; default both, on first).  For each setting,
# the ceiling and the two ways are measured in turn, BENCH_ROUNDS times,
# the order rotating; each round gives each way's ratio to the ceiling's
# measurement of the same round, and the medians of those ratios are
# reported with their spread (min-max over the rounds).

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

b_init login
conns=${BENCH_CONNECTIONS:-$B_WORKERS}
secs=${BENCH_SECONDS:-5}
rounds=${BENCH_ROUNDS:-5}
b_posint BENCH_CONNECTIONS "$conns"
b_posint BENCH_SECONDS "$secs"
b_posint BENCH_ROUNDS "$rounds"
if [ -n "${BENCH_PG_FSYNC:-}" ]; then
    fsyncs=("$BENCH_PG_FSYNC")
else
    fsyncs=(on off)
fi
for f in "${fsyncs[@]}"; do
    case $f in
    on | off) ;;
    *) b_die "BENCH_PG_FSYNC must be on or off, not '$f'" ;;
    esac
done
password='bench login password'
goal=0.95 # with fsync on, both ways

b_build argon2-rate -largon2
B_PG_FSYNC=${fsyncs[0]}
# Throttling would stop nothing here (every login succeeds), but keep it out
# of the way all the same.
b_start max_concurrent_hashes="$B_WORKERS" login_max_failures=1000000 \
    ip_max_failures=1000000
for ((i = 1; i <= conns; i++)); do
    b_user_add "blogin$i" "$password"
done
b_user_add bone1 "$password"
phc=$(b_sql "SELECT password_hash FROM mdauth.users WHERE username = 'blogin1'")
url=$B_URL/api/auth/login
max_sessions=$(sed -n 's/^max_sessions_per_user = //p' "$STACK_MDAUTHD_CONF")
max_sessions=${max_sessions:-$(sed -n 's/^#max_sessions_per_user = //p' "$B_TOP/deploy/mdauth.conf") (default)}

B_PG_FSYNC="${fsyncs[*]}"
B_PG_FSYNC=${B_PG_FSYNC// /, then }
b_describe "argon2id: $(b_hash_params blogin1) (read from the stored hash)" \
    "wrk: $conns connections, $B_WRK_THREADS thread(s), keep-alive, HTTPS; $rounds rounds of ${secs}s per figure, in turn, order rotating; medians and min..max of the rounds" \
    "ways: one user per connection ($conns users), one user on all $conns connections; max_sessions_per_user=$max_sessions" \
    "PostgreSQL fsync and synchronous_commit: ${B_PG_FSYNC} (changed by ALTER SYSTEM, reload, CHECKPOINT)" \
    "ceiling: libargon2 argon2id_verify in $B_WORKERS processes, nothing else" \
    "goal: logins/s >= ${goal}x the ceiling with fsync on, both ways"

ways=(argon2 percon one)
declare -A name=(
    [argon2]='argon2id verifies'
    [percon]='logins, user per conn'
    [one]='logins, one user'
)
# Per fsync setting and figure, the rounds' values (space-separated).
declare -A rate=() p50=() p99=() bad=() ratio=()

for fs in "${fsyncs[@]}"; do
    b_pg_fsync "$fs"
    printf '\n   fsync=%s\n' "$fs"
    b_wrk "warm-$fs" "$conns" 2 "$url" login blogin "$conns" "$password"
    for w in "${ways[@]}"; do
        rate[$fs,$w]='' p50[$fs,$w]='' p99[$fs,$w]='' bad[$fs,$w]=0 ratio[$fs,$w]=''
    done
    printf '   %-6s %-24s %10s %9s %9s %8s\n' round figure 'per s' 'p50 ms' 'p99 ms' 'non-200'
    for ((r = 1; r <= rounds; r++)); do
        declare -A now=()
        for ((i = 0; i < ${#ways[@]}; i++)); do
            w=${ways[(i + r - 1) % ${#ways[@]}]}
            case $w in
            argon2)
                line=$(printf '%s\n%s\n' "$phc" "$password" |
                    timeout $((secs + 30)) "$B_DIR/argon2-rate" "$B_WORKERS" \
                        "$secs" 100000) || b_die "argon2-rate failed"
                v=$(printf '%s\n' "$line" | sed -n 's/.* rate=\([0-9.]*\).*/\1/p')
                v=$(b_div "$v" 1 1)
                printf '   %-6s %-24s %10s %9s %9s %8s\n' "$r" "${name[$w]}" "$v" - - -
                ;;
            percon | one)
                if [ "$w" = percon ]; then
                    b_wrk "login-$fs-$w-$r" "$conns" "$secs" "$url" login blogin "$conns" "$password"
                else
                    b_wrk "login-$fs-$w-$r" "$conns" "$secs" "$url" login bone 1 "$password"
                fi
                v=$(b_div "$(b_status_count 200)" "$W_SECONDS" 1)
                n=$(($(b_status_other 200) + W_ERRORS))
                p50[$fs,$w]+=" $W_P50" p99[$fs,$w]+=" $W_P99"
                bad[$fs,$w]=$((bad[$fs,$w] + n))
                printf '   %-6s %-24s %10s %9s %9s %8s\n' "$r" "${name[$w]}" "$v" \
                    "$W_P50" "$W_P99" "$n"
                ;;
            esac
            rate[$fs,$w]+=" $v"
            now[$w]=$v
        done
        for w in percon one; do
            ratio[$fs,$w]+=" $(b_div "${now[$w]}" "${now[argon2]}" 3)"
        done
        printf '   %-6s %-24s %10s\n' "$r" 'user per conn / verifies' \
            "$(b_div "${now[percon]}" "${now[argon2]}" 2)x"
        printf '   %-6s %-24s %10s\n' "$r" 'one user / verifies' \
            "$(b_div "${now[one]}" "${now[argon2]}" 2)x"
    done
done

# shellcheck disable=SC2086  # the lists are split on purpose
{
    printf '\n   %-9s %-36s %10s %9s %9s %8s  %s\n' fsync 'medians' 'per s' \
        'p50 ms' 'p99 ms' 'non-200' 'ratio [min..max]'
    for fs in "${fsyncs[@]}"; do
        printf '   %-9s %-36s %10s %9s %9s %8s\n' "$fs" \
            "argon2id verify, $B_WORKERS processes" "$(b_median 1 ${rate[$fs,argon2]})" - - -
        for w in percon one; do
            if [ "$w" = percon ]; then
                label="POST login, one user per connection"
                fig='one user per connection'
            else
                label="POST login, one user on all"
                fig='one user on all connections'
            fi
            x="$(b_median 2 ${ratio[$fs,$w]})x"
            s=$(b_spread 2 ${ratio[$fs,$w]})
            printf '   %-9s %-36s %10s %9s %9s %8s  %s\n' "$fs" "$label" \
                "$(b_median 1 ${rate[$fs,$w]})" "$(b_median 3 ${p50[$fs,$w]})" \
                "$(b_median 3 ${p99[$fs,$w]})" "${bad[$fs,$w]}" "$x [$s]"
            g=-
            [ "$fs" = off ] || g=">= ${goal}x"
            b_summary "login/s, fsync $fs, $fig" "$(b_median 1 ${rate[$fs,$w]})" \
                "argon2id/s $(b_median 1 ${rate[$fs,argon2]})" "$x" "$s" "$g"
            [ "${bad[$fs,$w]}" -eq 0 ] ||
                b_log "warning: some logins were not 200 (fsync $fs, $fig)"
        done
    done
    printf '   %-9s %-36s %s\n' on 'goal, both ways' ">= ${goal}x"
}
printf '   (%ss)\n' "$(b_elapsed)"

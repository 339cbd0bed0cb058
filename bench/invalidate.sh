#!/bin/bash
# bench/invalidate.sh -- the invalidation latency of the validate cache:
# how long after a revocation commits does another mdauthd, which holds
# the token in its cache, answer 401?  The documentation's contract
# (mdauthd(8), "The validate cache") says within 100 ms.
#
#   bash bench/invalidate.sh
#
# Two mdauthd daemons on the same database, both with cache = yes: A is the
# stack's (behind lighttpd), B a second one on its own socket, reached over
# FastCGI directly by the probe (bench/invalidate-poll.c), which keeps one
# connection to B and validates the token in a loop, BENCH_POLL_GAP_US
# apart, recording the wall-clock time of the first 401.  Each trial uses a
# fresh session minted by SQL (a token's digest is the SHA-256 of its
# text), validated twice on B first so that B's cache holds it, then
# revoked in one of two ways, taking turns:
#
#   SQL     one psql call in autocommit: UPDATE mdauth.sessions SET
#           revoked_at ...; SELECT extract(epoch FROM clock_timestamp()):
#           the SELECT runs right after the UPDATE has committed, so its
#           time is the commit's (a fraction of a millisecond late).
#           Latency = first 401 on B - that time.
#   API     POST /logout on A (over FastCGI, by the probe, while it polls
#           B).  The commit happens somewhere between the logout's sending
#           and A's answer, which B's 401 often precedes; latency = first
#           401 on B - the logout's sending, an upper bound that includes
#           the logout's own work (shown apart: the logout's duration).
#
# The SQL reference comes a little after the commit (a round trip to
# PostgreSQL), so a latency slightly below zero means that B refused the
# token before the SELECT ran; values are reported as measured.  The first
# 401's time is when its answer arrived, so each latency also holds up to
# one poll (a round trip to B plus the gap).  Both clocks are this host's
# (PostgreSQL runs here).
#
# Environment: see bench/lib.sh; BENCH_TRIALS (default 200, per way),
# BENCH_POLL_GAP_US (pause between two polls, default 100 microseconds;
# 0 polls back to back), BENCH_POLL_TIMEOUT_MS (a trial without a 401
# after this long counts as a timeout, default 2000).

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

b_init invalidate
trials=${BENCH_TRIALS:-200}
gap=${BENCH_POLL_GAP_US:-100}
timeout_ms=${BENCH_POLL_TIMEOUT_MS:-2000}
b_posint BENCH_TRIALS "$trials"
b_posint BENCH_POLL_TIMEOUT_MS "$timeout_ms"
case $gap in
'' | *[!0-9]*) b_die "BENCH_POLL_GAP_US must be a whole number, not '$gap'" ;;
esac
[ "$gap" -lt 1000000 ] || b_die "BENCH_POLL_GAP_US must be below 1000000"
contract=100 # ms, mdauthd(8)

b_build invalidate-poll
b_start cache=yes
b_listening
b_mdauthd b "$B_DIR/b.sock" cache=yes
b_user_add binv 'bench invalidate password'
uid=$(b_sql "SELECT id FROM mdauth.users WHERE username = 'binv'")

# 2 x trials tokens of the daemon's shape: mda_ and 43 base64url
# characters, the last carrying 4 unused bits (A).
tokens=()
for ((i = 1; i <= 2 * trials; i++)); do
    tokens+=("mda_$(printf 'benchinv%034dA' "$i")")
done
b_sql "INSERT INTO mdauth.sessions (user_id, token_hash, expires_at, absolute_expires_at)
SELECT $uid, sha256(convert_to(t, 'UTF8')), now() + interval '1 hour', now() + interval '2 hours'
FROM unnest(string_to_array('${tokens[*]}', ' ')) t" >/dev/null ||
    b_die "cannot mint the sessions"

b_describe "A: the stack's mdauthd, $B_WORKERS workers, $(b_conf_cache "$STACK_MDAUTHD_CONF"), behind lighttpd; reached by the probe over FastCGI ($STACK_MDAUTHD_SOCKET)" \
    "B: a second mdauthd on the same database, $B_WORKERS workers, $(b_conf_cache "$B_DIR/mdauthd-b.conf"), FastCGI only" \
    "probe: one kept FastCGI connection to B, a validate every ${gap} us after the previous answer; timeout ${timeout_ms} ms" \
    "$trials trials per way (SQL UPDATE, logout on A), taking turns; each on a fresh session minted by SQL and validated twice on B first" \
    "contract: B answers 401 within $contract ms of the commit"

coproc POLL { "$B_DIR/invalidate-poll" "$B_DIR/b.sock" "$STACK_MDAUTHD_SOCKET" \
    "$timeout_ms" "$gap" 2>"$B_DIR/invalidate-poll.log"; }
b_bg "$POLL_PID"
poll_in=${POLL[1]} poll_out=${POLL[0]}

# ask COMMAND TOKEN: one command to the probe; its answer in REPLY.
ask() {
    printf '%s %s\n' "$1" "$2" >&"$poll_in" || b_die "the probe is gone"
    read -r -t $((timeout_ms / 1000 + 30)) REPLY <&"$poll_out" ||
        b_die "the probe did not answer $1"
}

sql_ms=() api_ms=() api_logout_ms=()
sql_fail=0 api_fail=0
for ((i = 0; i < trials; i++)); do
    # SQL: a token revoked by an operator's UPDATE.
    tok=${tokens[2 * i]}
    ask prime "$tok"
    [ "$REPLY" = 'primed 200 200' ] || b_die "B did not validate a minted token ($REPLY)"
    ask poll "$tok"
    [ "$REPLY" = polling ] || b_die "the probe said '$REPLY'"
    commit=$(b_sql "UPDATE mdauth.sessions SET revoked_at = now()
    WHERE token_hash = sha256(convert_to('$tok', 'UTF8'));
SELECT extract(epoch FROM clock_timestamp());") || b_die "the UPDATE failed"
    read -r -t $((timeout_ms / 1000 + 30)) REPLY <&"$poll_out" ||
        b_die "the probe did not answer"
    read -r what t401 _ <<<"$REPLY"
    if [ "$what" = 401 ]; then
        sql_ms+=("$(awk -v a="$t401" -v b="$commit" 'BEGIN { printf("%.3f\n", (a - b) * 1000) }')")
    else
        sql_fail=$((sql_fail + 1))
        b_log "SQL trial $((i + 1)): $REPLY"
    fi

    # API: a logout on A.
    tok=${tokens[2 * i + 1]}
    ask prime "$tok"
    [ "$REPLY" = 'primed 200 200' ] || b_die "B did not validate a minted token ($REPLY)"
    ask logout "$tok"
    read -r what t401 _ a_sent a_done a_status <<<"$REPLY"
    if [ "$what" = 401 ] && [ "$a_status" = 200 ]; then
        api_ms+=("$(awk -v a="$t401" -v b="$a_sent" 'BEGIN { printf("%.3f\n", (a - b) * 1000) }')")
        api_logout_ms+=("$(awk -v a="$a_done" -v b="$a_sent" 'BEGIN { printf("%.3f\n", (a - b) * 1000) }')")
    else
        api_fail=$((api_fail + 1))
        b_log "API trial $((i + 1)): $REPLY"
    fi
done
exec {poll_in}>&-

# report LABEL FAILED VALUE...: one line of the table.
report() {
    local label=$1 failed=$2 over
    shift 2
    over=$(printf '%s\n' "$@" | awk -v c="$contract" '$1 > c { n++ } END { print n + 0 }')
    printf '   %-40s %6s %8s %8s %8s %8s %8s %8s\n' "$label" $(($# + failed)) \
        "$(b_percentile 50 2 "$@")" "$(b_percentile 99 2 "$@")" \
        "$(b_percentile 100 2 "$@")" "$(b_percentile 0 2 "$@")" "$over" "$failed"
}

printf '\n   %-40s %6s %8s %8s %8s %8s %8s %8s\n' 'revocation -> first 401 on B' trials \
    'p50 ms' 'p99 ms' 'max ms' 'min ms' ">${contract}ms" timeout
report 'SQL UPDATE (from its commit)' "$sql_fail" "${sql_ms[@]}"
report 'logout on A (from its sending)' "$api_fail" "${api_ms[@]}"
printf '   %-40s %6s %8s %8s %8s\n' 'the logout on A itself (its duration)' "${#api_logout_ms[@]}" \
    "$(b_percentile 50 2 "${api_logout_ms[@]}")" "$(b_percentile 99 2 "${api_logout_ms[@]}")" \
    "$(b_percentile 100 2 "${api_logout_ms[@]}")"
[ $((sql_fail + api_fail)) -eq 0 ] ||
    b_log "warning: $((sql_fail + api_fail)) trial(s) saw no 401 within ${timeout_ms} ms, or an error"
printf '   (%ss)\n' "$(b_elapsed)"

for way in sql api; do
    if [ "$way" = sql ]; then
        label='SQL UPDATE' fails=$sql_fail vals=("${sql_ms[@]}")
    else
        label='logout on A' fails=$api_fail vals=("${api_ms[@]}")
    fi
    spread=$(b_spread 2 "${vals[@]}")
    [ "$fails" -eq 0 ] || spread="$spread, $fails timeouts"
    for p in 50 99; do
        v=$(b_percentile "$p" 2 "${vals[@]}")
        b_summary "invalidation p$p ms, $label -> B" "$v" "contract $contract ms" \
            "$(b_div "$v" "$contract" 2)x" "$spread" "<= 1.00x"
    done
done

#!/bin/bash
# bench/failures.sh -- how long each kind of failed login takes, side by
# side: unknown user, wrong password, disabled user, corrupt stored hash,
# and a successful login for comparison.  Every failure should cost one
# argon2id verify with the current parameters, so each failure's median over
# the wrong password's median should be close to 1.00.
#
#   bash bench/failures.sh
#
# The kinds take turns, one request each, BENCH_REQUESTS times (default 50)
# after two warm-up turns, so that a change in the machine's load falls on
# all of them alike.  Each request is one curl over HTTPS; the time kept is
# the server's part of it: time_total - time_pretransfer, from the request
# about to be sent to the end of the answer, without the connection and
# TLS handshake.  (curl's time_starttransfer is no use here: for a POST it
# marks the start of the upload.)
# Throttling is raised out of the way (login_max_failures, ip_max_failures),
# since hundreds of failures from one address would otherwise be answered
# 429 without a hash.

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

b_init failures
requests=${BENCH_REQUESTS:-50}
b_posint BENCH_REQUESTS "$requests"
password='bench failure password'
wrong='bench failure passwort'

b_start login_max_failures=1000000 ip_max_failures=1000000
b_user_add bfail-wrong "$password"
b_user_add bfail-disabled "$password"
b_user_add bfail-corrupt "$password"
b_user_add bfail-ok "$password"
params=$(b_hash_params bfail-ok)
b_sql "UPDATE mdauth.users SET disabled_at = now() WHERE username = 'bfail-disabled';
       UPDATE mdauth.users SET password_hash = 'garbage' WHERE username = 'bfail-corrupt';" ||
    b_die "cannot prepare the users"

b_describe "argon2id: $params; $requests requests per kind, in turns, one curl (new TLS connection) each" \
    "time: curl's time_total - time_pretransfer (the request and answer, without the TLS handshake)"

kinds='unknown wrong disabled corrupt success'
declare -A user=([unknown]=bfail-nobody [wrong]=bfail-wrong
    [disabled]=bfail-disabled [corrupt]=bfail-corrupt [success]=bfail-ok)
declare -A pass=([unknown]=$wrong [wrong]=$wrong [disabled]=$password
    [corrupt]=$password [success]=$password)
declare -A label=([unknown]='unknown user' [wrong]='wrong password'
    [disabled]='disabled user (right password)'
    [corrupt]="corrupt stored hash ('garbage')"
    [success]='successful login')

# one KIND OUT: one login of KIND; appends "status seconds" to OUT and
# keeps the body in OUT.body.
one() {
    jq -cn --arg u "${user[$1]}" --arg p "${pass[$1]}" \
        '{username: $u, password: $p}' |
        curl -sS --max-time 10 --cacert "$STACK_CERT" \
            --resolve "localhost:$STACK_HTTPS_PORT:127.0.0.1" \
            -H 'Content-Type: application/json' --data-binary @- \
            -o "$2.body" \
            -w '%{http_code} %{time_pretransfer} %{time_total}\n' \
            "https://localhost:$STACK_HTTPS_PORT/api/auth/login" |
        awk '{ printf "%s %.6f\n", $1, $3 - $2 }' >>"$2"
}

for ((i = 1; i <= 2; i++)); do
    for k in $kinds; do
        one "$k" "$B_DIR/warm"
    done
done
for ((i = 1; i <= requests; i++)); do
    for k in $kinds; do
        one "$k" "$B_DIR/times-$k"
    done
done

# stats FILE: "median p10 p90" in ms, and the statuses as 401:50,...
stats() {
    awk '{ print $2 * 1000 }' "$1" | sort -g | awk '{ v[NR] = $1 } END {
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "%.1f %.1f %.1f\n", m, v[int(NR * 0.1) + 1], v[int(NR * 0.9)] }'
}
statuses() {
    awk '{ n[$1]++ } END { for (s in n) printf "%s%s:%d", sep++ ? "," : "", s, n[s] }' "$1"
}

read -r ref _ _ <<<"$(stats "$B_DIR/times-wrong")"
printf '\n   %-34s %10s %8s %8s %10s %10s %s\n' 'login (n each)' 'median ms' 'p10 ms' \
    'p90 ms' '/ wrong pw' 'same body' statuses
for k in $kinds; do
    read -r med p10 p90 <<<"$(stats "$B_DIR/times-$k")"
    ratio=$(b_div "$med" "$ref" 2)
    same=-
    if [ "$k" != success ]; then
        if cmp -s "$B_DIR/times-$k.body" "$B_DIR/times-wrong.body"; then
            same=yes
        else
            same=NO
        fi
    fi
    printf '   %-34s %10s %8s %8s %10s %10s %s\n' "${label[$k]}" "$med" "$p10" \
        "$p90" "$ratio" "$same" "$(statuses "$B_DIR/times-$k")"
    [ "$k" = success ] ||
        b_summary "median ${label[$k]} ms" "$med" "wrong password $ref" "$ratio"
done
printf '   (%ss)\n' "$(b_elapsed)"

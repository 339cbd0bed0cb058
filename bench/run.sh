#!/bin/bash
# bench/run.sh -- every benchmark in turn, then one summary table.
#
#   bash bench/run.sh                  # all: validate login failures flood invalidate
#   bash bench/run.sh validate flood   # some of them
#
# Each script starts and removes its own stack; the environment of
# bench/lib.sh applies to all of them.  A script that fails is named in the
# summary and makes the exit status 1; the others still run.  Each prints
# its parameters first; the summary gives, for every figure, its median,
# its reference's median (measured in the same run), the median of the
# rounds' ratios, their spread (min-max over the rounds; for the
# invalidation latency, over the trials) and the goal it is read against.

set -u
src=$(cd "$(dirname "$0")" && pwd)
[ $# -gt 0 ] || set -- validate login failures flood invalidate

for name in "$@"; do
    case $name in
    validate | login | failures | flood | invalidate) ;;
    *)
        echo "run.sh: no benchmark named $name (validate, login, failures, flood, invalidate)" >&2
        exit 2
        ;;
    esac
done

summary=$(mktemp "${TMPDIR:-/tmp}/mdauth-bench-summary.XXXXXX") || exit 1
trap 'rm -f "$summary"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

failed=
start=$(date +%s)
for name in "$@"; do
    BENCH_SUMMARY=$summary bash "$src/$name.sh" || failed="$failed $name"
    echo
done

echo "== mdauth benchmarks: summary ($(date -u +%Y-%m-%dT%H:%M:%SZ), $(($(date +%s) - start))s)"
echo "   every reference was measured in the same run as its figure; medians of the rounds"
echo "   parameters: BENCH_WORKERS=${BENCH_WORKERS:-4} BENCH_CONNECTIONS=${BENCH_CONNECTIONS:-default} BENCH_SECONDS=${BENCH_SECONDS:-default} BENCH_ROUNDS=${BENCH_ROUNDS:-default} BENCH_TRIALS=${BENCH_TRIALS:-200} BENCH_PG_FSYNC=${BENCH_PG_FSYNC:-default} BENCH_LOG_LEVEL=${BENCH_LOG_LEVEL:-info} (each script's header has the rest)"
printf '   %-10s %-46s %10s  %-24s %7s  %-13s %s\n' bench figure measured \
    'reference (same run)' ratio 'spread' goal
awk -F '\t' '{ printf "   %-10s %-46s %10s  %-24s %7s  %-13s %s\n", $1, $2, $3, $4, $5, $6, $7 }' "$summary"
if [ -n "$failed" ]; then
    echo "   FAILED:$failed"
    exit 1
fi

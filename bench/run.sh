#!/bin/bash
# bench/run.sh -- every benchmark in turn, then one summary table.
#
#   bash bench/run.sh                  # all: validate login failures flood
#   bash bench/run.sh validate flood   # some of them
#
# Each script starts and removes its own stack; the environment of
# bench/lib.sh applies to all of them.  A script that fails is named in the
# summary and makes the exit status 1; the others still run.

set -u
src=$(cd "$(dirname "$0")" && pwd)
[ $# -gt 0 ] || set -- validate login failures flood

for name in "$@"; do
    case $name in
    validate | login | failures | flood) ;;
    *)
        echo "run.sh: no benchmark named $name (validate, login, failures, flood)" >&2
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
echo "   every reference was measured in the same run as its figure"
printf '   %-9s %-42s %10s  %-28s %8s\n' bench figure measured 'reference (same run)' ratio
awk -F '\t' '{ printf "   %-9s %-42s %10s  %-28s %8s\n", $1, $2, $3, $4, $5 }' "$summary"
if [ -n "$failed" ]; then
    echo "   FAILED:$failed"
    exit 1
fi

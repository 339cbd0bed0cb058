#!/bin/sh
# fuzz/run.sh -- run libFuzzer targets for a bounded time each ("make
# fuzz-run", tests/run.sh).
#
#   sh fuzz/run.sh [-t SECONDS] [-s FUZZDIR] [-w WORKDIR] TARGET...
#
# TARGET is a built fuzz/fuzz-NAME.  Each starts from the seeds of
# FUZZDIR/corpus/NAME (read only) and from what earlier runs found in
# WORKDIR/NAME/corpus, where it adds new inputs; FUZZDIR/NAME.dict is its
# dictionary when present.  A crash, a leak, a sanitizer report, a broken
# contract or an input slower than 10 s stops the target and leaves the
# input in WORKDIR/NAME/ (crash-*, leak-*, timeout-*, oom-*); replay it
# with "fuzz/fuzz-NAME FILE" or "fuzz/replay-NAME FILE".
#
# Prints one TAP line per target with its number of executions
# (libFuzzer's stat::number_of_executed_units), then "1..N"; exits 1 when
# a target failed.  Defaults: 60 s, FUZZDIR the directory of this script,
# WORKDIR fuzz/work.
set -u

seconds=60
fuzzdir=$(dirname "$0")
workdir=fuzz/work
while getopts t:s:w: opt; do
    case $opt in
    t) seconds=$OPTARG ;;
    s) fuzzdir=$OPTARG ;;
    w) workdir=$OPTARG ;;
    *) echo "usage: $0 [-t SECONDS] [-s FUZZDIR] [-w WORKDIR] TARGET..." >&2
       exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || { echo "$0: no target given" >&2; exit 2; }

n=0
failed=0
for bin in "$@"; do
    n=$((n + 1))
    name=$(basename "$bin")
    name=${name#fuzz-}
    out=$workdir/$name
    log=$out/fuzz.log
    mkdir -p "$out/corpus" || exit 1
    # Keep earlier findings but not their logs.
    rm -f "$log"
    # (The word list of the loop was expanded at its start: reusing "$@"
    # for the options of this target does not change it.)
    set -- -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$out/"
    [ ! -f "$fuzzdir/$name.dict" ] || set -- "$@" -dict="$fuzzdir/$name.dict"
    if [ ! -x "$bin" ]; then
        echo "not ok $n - $name: $bin is not built"
        failed=$((failed + 1))
        continue
    fi
    start=$(date +%s)
    "$bin" "$@" "$out/corpus" "$fuzzdir/corpus/$name" >"$log" 2>&1
    rc=$?
    took=$(($(date +%s) - start))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n 1)
    inputs=$(find "$out/corpus" -type f | wc -l)
    if [ "$rc" -eq 0 ] && [ -n "$execs" ]; then
        echo "ok $n - $name: $execs executions in $took s," \
            "no failure (corpus: $inputs inputs)"
        echo "# $name: $done_line"
    else
        failed=$((failed + 1))
        echo "not ok $n - $name: libFuzzer exited with status $rc" \
            "after ${execs:-?} executions in $took s"
        # The report, and where the input that caused it was written.
        grep -E 'ERROR: |runtime error:|contract broken|ALARM|SUMMARY|Test unit written' \
            "$log" | head -n 20 | sed 's/^/# /'
        echo "# full log: $log"
        # The stack, for the CI log.
        sed -n '/ERROR: \|runtime error\|contract broken/,$p' "$log" |
            head -n 60 >&2
    fi
done
echo "1..$n"
[ "$failed" -eq 0 ]

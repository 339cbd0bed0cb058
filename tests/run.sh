#!/bin/sh
# run.sh -- the whole test suite from a fresh checkout on Debian 12:
# install the packages, build with warnings as errors, run "make check"
# (unit tests and integration tests against real PostgreSQL, mdauthd and
# lighttpd with TLS), "make check" again with the validate cache off
# (cache = no), then "make distcheck", then the Debian package
# (tests/package/deb.sh: built, linted, installed, served through
# lighttpd, purged); then, from a copy of the
# distributed sources, "make check" again in a build with
# --enable-sanitizers (ASan, LSan, UBSan), and each libFuzzer target for
# a bounded time.  Ends with "N passed, N failed", which counts every
# test of the three "make check" runs and of the package test, distcheck as
# one and each fuzz target as one.
#
#   sh tests/run.sh            as root on a fresh machine
#
# Environment: MAKEFLAGS (default -j2); MDAUTH_SKIP_NOCACHE=1,
# MDAUTH_SKIP_DISTCHECK=1,
# MDAUTH_SKIP_SANITIZERS=1, MDAUTH_SKIP_FUZZ=1 to skip those steps (CI
# runs them all), MDAUTH_SKIP_PACKAGE=1 to skip the package test (which
# installs and purges the package mdauth on this machine);
# MDAUTH_FUZZ_SECONDS (default 60) per fuzz target;
# MDAUTH_KEEP_CI_DIR=1 keeps the sanitizer and fuzz builds, which are
# otherwise removed when they passed.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1

# A step that fails before the tests still ends with the summary line.
give_up() {
    echo "tests/run.sh: $1 failed" >&2
    echo "0 passed, 1 failed"
    exit 1
}

sh deploy/install-deps.sh --analysis || give_up "installing the packages"

# elapsed SINCE: minutes and seconds since SINCE (date +%s), for the summary.
elapsed() {
    t=$(($(date +%s) - $1))
    printf '%d min %02d s' $((t / 60)) $((t % 60))
}
t_all=$(date +%s)

# Everything this script needs is installed above, so a test that would
# skip for want of a fixture is an error here, not a silent pass.
MDAUTH_REQUIRE_FIXTURES=1
export MDAUTH_REQUIRE_FIXTURES
: "${MAKEFLAGS:=-j2}"
export MAKEFLAGS

t_step=$(date +%s)
autoreconf -fi || give_up autoreconf
./configure --enable-werror || give_up configure
make || give_up "the build"

make check
check=$?
t_check=$(elapsed "$t_step")

distcheck=0
t_step=$(date +%s)
if [ "${MDAUTH_SKIP_DISTCHECK:-0}" != 1 ]; then
    make distcheck DISTCHECK_CONFIGURE_FLAGS=--enable-werror
    distcheck=$?
fi
t_distcheck=$(elapsed "$t_step")

pass=0
fail=0
summary=

# tally NAME STATUS [TIME]: count a step as one test (STATUS 0: passed).
tally() {
    if [ "$2" -eq 0 ]; then
        pass=$((pass + 1))
        summary="$summary
  $1: passed${3:+ ($3)}"
    else
        fail=$((fail + 1))
        summary="$summary
  $1: FAILED${3:+ ($3)}"
    fi
}

# suite NAME LOG STATUS TIME: add the results of one "make check" (every
# TAP line, from its test-suite.log) to the counts.  A skipped test proves
# nothing: with every fixture installed, it fails the run.  A failed run
# with no failed test (a crash of the harness) is one failure.
count() {
    v=$(sed -n "s/^# $1: *\([0-9]*\)\$/\1/p" "$2" 2>/dev/null | head -n 1)
    echo "${v:-0}"
}
# failed LOG: the failed results of one test-suite.log, indented, at
# most 20 lines, so that the summary at the end of the output says which
# tests failed without the whole log.
failed() {
    [ -f "$1" ] || return 0
    grep -E '^(not ok |Bail out!|(FAIL|ERROR|XPASS): )' "$1" |
        head -n 20 | sed 's/^/    /'
}
suite() {
    # A TODO that fails as expected (XFAIL: a known gap, written down in
    # the test) is neither a pass nor a failure; the summary counts it.
    p=$(count PASS "$2")
    x=$(count XFAIL "$2")
    f=$(( $(count FAIL "$2") + $(count ERROR "$2") + $(count XPASS "$2") ))
    f=$((f + $(count SKIP "$2")))
    [ -f "$2" ] || f=$((f + 1))
    [ "$3" -eq 0 ] || [ "$f" -gt 0 ] || f=$((f + 1))
    pass=$((pass + p))
    fail=$((fail + f))
    gaps=
    [ "$x" -eq 0 ] || gaps=", $x known gaps (TAP TODO, not counted)"
    summary="$summary
  $1: $p passed, $f failed$gaps ($4)"
    [ "$f" -eq 0 ] || summary="$summary
$(failed "$2")"
}

suite "make check" "$top/test-suite.log" "$check" "$t_check with the build"

# The whole suite again with the validate cache off (cache = no in every
# daemon the tests start, but for the tests of the cache itself): that
# path must keep behaving exactly as before the cache.
if [ "${MDAUTH_SKIP_NOCACHE:-0}" != 1 ]; then
    echo "tests/run.sh: make check with cache = no"
    t_step=$(date +%s)
    STACK_MDAUTHD_CACHE=no make check TEST_SUITE_LOG=test-suite-nocache.log
    st=$?
    suite "make check with cache = no" "$top/test-suite-nocache.log" "$st" \
        "$(elapsed "$t_step")"
fi
if [ "${MDAUTH_SKIP_DISTCHECK:-0}" != 1 ]; then
    tally "make distcheck" "$distcheck" "$t_distcheck"
    # A failed distcheck leaves its build tree: name the failed tests.
    for log in "$top"/mdauth-*/_build/sub/test-suite.log; do
        [ "$distcheck" -eq 0 ] || [ ! -f "$log" ] || summary="$summary
$(failed "$log")"
    done
fi

# tap NAME FILE STATUS TIME: add the TAP lines of one script run outside
# "make check" to the counts.  Every plan line must be matched by as many
# results; a skip, a bail-out or a missing plan is a failure.
tap() {
    p=$(grep -c '^ok ' "$2")
    f=$(grep -c '^not ok ' "$2")
    s=$(grep -c '^ok .*# *SKIP' "$2")
    p=$((p - s))
    f=$((f + s))
    n=$(sed -n 's/^1\.\.\([0-9]*\).*$/\1/p' "$2" | tail -n 1)
    if [ -z "$n" ] || [ "$n" -eq 0 ] || grep -q '^Bail out!' "$2"; then
        f=$((f + 1))
    elif [ $((p + f)) -lt "$n" ]; then
        f=$((n - p))
    fi
    [ "$3" -eq 0 ] || [ "$f" -gt 0 ] || f=$((f + 1))
    pass=$((pass + p))
    fail=$((fail + f))
    summary="$summary
  $1: $p passed, $f failed ($4)"
}

if [ "${MDAUTH_SKIP_PACKAGE:-0}" != 1 ]; then
    echo "tests/run.sh: the Debian package (tests/package/deb.sh)"
    t_step=$(date +%s)
    package_tap=$(mktemp "${TMPDIR:-/tmp}/mdauth-deb.XXXXXX")
    bash tests/package/deb.sh >"$package_tap"
    st=$?
    cat "$package_tap"
    tap "the Debian package" "$package_tap" "$st" "$(elapsed "$t_step")"
    rm -f "$package_tap"
fi

# The sanitizer and fuzz builds are made with clang (which the normal
# build above need not be): its runtime writes UBSan's reports where
# log_path says, like ASan's (tests/integration/lib.sh collects them),
# and only clang has libFuzzer.  They are built, out of tree, from the
# distributed sources (make distdir): the source tree is configured
# already, so it cannot host another build itself.  Warnings are errors
# in the gcc build above; these builds show clang's without failing.
ci_dir=
ci_failed=0
if [ "${MDAUTH_SKIP_SANITIZERS:-0}" != 1 ] || [ "${MDAUTH_SKIP_FUZZ:-0}" != 1 ]; then
    ci_dir=$(mktemp -d "${TMPDIR:-/tmp}/mdauth-ci.XXXXXX") &&
        make distdir distdir="$ci_dir/src" >/dev/null
    if [ $? -ne 0 ]; then
        tally "copy of the sources for the sanitizer and fuzz builds" 1
        ci_failed=1
        MDAUTH_SKIP_SANITIZERS=1
        MDAUTH_SKIP_FUZZ=1
    fi
fi

if [ "${MDAUTH_SKIP_SANITIZERS:-0}" != 1 ]; then
    echo "tests/run.sh: make check in a build with --enable-sanitizers ($ci_dir/sanitizers)"
    t_step=$(date +%s)
    mkdir -p "$ci_dir/sanitizers"
    if (cd "$ci_dir/sanitizers" &&
        ../src/configure CC=clang --enable-sanitizers >configure.out &&
        make >make.out); then
        (cd "$ci_dir/sanitizers" && make check)
        st=$?
        suite "make check with sanitizers" \
            "$ci_dir/sanitizers/test-suite.log" "$st" "$(elapsed "$t_step")"
        [ "$st" -eq 0 ] || ci_failed=1
    else
        echo "tests/run.sh: the sanitizer build failed: see $ci_dir/sanitizers/*.out" >&2
        tally "the sanitizer build" 1 "$(elapsed "$t_step")"
        ci_failed=1
    fi
fi

if [ "${MDAUTH_SKIP_FUZZ:-0}" != 1 ]; then
    echo "tests/run.sh: fuzzing, ${MDAUTH_FUZZ_SECONDS:-60} s per target ($ci_dir/fuzz)"
    t_step=$(date +%s)
    mkdir -p "$ci_dir/fuzz"
    if (cd "$ci_dir/fuzz" &&
        ../src/configure CC=clang --enable-fuzz >configure.out &&
        make fuzz >make.out); then
        (cd "$ci_dir/fuzz" &&
            make -s fuzz-run FUZZ_SECONDS="${MDAUTH_FUZZ_SECONDS:-60}") |
            tee "$ci_dir/fuzz/fuzz-run.out"
        p=$(grep -c '^ok ' "$ci_dir/fuzz/fuzz-run.out")
        f=$(grep -c '^not ok ' "$ci_dir/fuzz/fuzz-run.out")
        # Every target of the plan must have a result line.
        n=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$ci_dir/fuzz/fuzz-run.out")
        if [ -z "$n" ]; then
            f=$((f + 1))
        elif [ $((p + f)) -ne "$n" ]; then
            f=$((n - p))
        fi
        pass=$((pass + p))
        fail=$((fail + f))
        summary="$summary
  fuzzing: $p passed, $f failed ($(elapsed "$t_step"); executions:
$(sed -n 's/^\(not \)\{0,1\}ok [0-9]* - /    /p' "$ci_dir/fuzz/fuzz-run.out"))"
        [ "$f" -eq 0 ] || ci_failed=1
    else
        echo "tests/run.sh: the fuzz build failed: see $ci_dir/fuzz/*.out" >&2
        tally "the fuzz build" 1 "$(elapsed "$t_step")"
        ci_failed=1
    fi
fi

if [ -n "$ci_dir" ]; then
    if [ "$ci_failed" -eq 0 ] && [ "${MDAUTH_KEEP_CI_DIR:-0}" != 1 ]; then
        rm -rf "$ci_dir"
    else
        summary="$summary
  (sanitizer and fuzz builds kept in $ci_dir)"
    fi
fi

echo "tests/run.sh: $(elapsed "$t_all") in all$summary"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

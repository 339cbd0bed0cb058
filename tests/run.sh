#!/bin/sh
# run.sh -- the whole test suite from a fresh checkout on Debian 12:
# install the packages, build with warnings as errors, run "make check"
# (unit tests and integration tests against real PostgreSQL, mdauthd and
# lighttpd with TLS), then "make distcheck".  Ends with "N passed, N failed".
#
#   sh tests/run.sh            as root on a fresh machine
#
# Environment: MAKEFLAGS (default -j2); MDAUTH_SKIP_DISTCHECK=1 to skip
# the distcheck step.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1

# A step that fails before the tests still ends with the summary line.
give_up() {
    echo "tests/run.sh: $1 failed" >&2
    echo "0 passed, 1 failed"
    exit 1
}

sh deploy/install-deps.sh || give_up "installing the packages"

# Everything this script needs is installed above, so a test that would
# skip for want of a fixture is an error here, not a silent pass.
MDAUTH_REQUIRE_FIXTURES=1
export MDAUTH_REQUIRE_FIXTURES
: "${MAKEFLAGS:=-j2}"
export MAKEFLAGS

autoreconf -fi || give_up autoreconf
./configure --enable-werror || give_up configure
make || give_up "the build"

make check
check=$?

distcheck=0
if [ "${MDAUTH_SKIP_DISTCHECK:-0}" != 1 ]; then
    make distcheck DISTCHECK_CONFIGURE_FLAGS=--enable-werror
    distcheck=$?
fi

# Count the results of every test (each TAP line) from the suite's log.
count() {
    v=$(sed -n "s/^# $1: *\([0-9]*\)\$/\1/p" test-suite.log 2>/dev/null | head -n 1)
    echo "${v:-0}"
}
pass=$(( $(count PASS) + $(count XFAIL) ))
fail=$(( $(count FAIL) + $(count ERROR) + $(count XPASS) ))
skip=$(count SKIP)
[ -f test-suite.log ] || fail=$((fail + 1))
[ "$check" -eq 0 ] || [ "$fail" -gt 0 ] || fail=$((fail + 1))
if [ "${MDAUTH_SKIP_DISTCHECK:-0}" != 1 ]; then
    if [ "$distcheck" -eq 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
fi
# A skipped test proves nothing: with every fixture installed, it fails the run.
fail=$((fail + ${skip:-0}))

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

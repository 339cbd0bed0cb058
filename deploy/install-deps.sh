#!/bin/sh
# install-deps.sh -- the Debian 12 packages mdauth needs to build, test and
# run its demo.  Run as root; does nothing that is already done.
#
#   sh deploy/install-deps.sh              build, test, demo
#   sh deploy/install-deps.sh --analysis   also the sanitizer, fuzzing and
#                                          valgrind tools (tests/run.sh)
#   sh deploy/install-deps.sh --bench      the same (bench/ needs nothing more)
#
# --analysis adds clang and libclang-rt-14-dev (clang's sanitizer runtimes
# and libFuzzer), llvm for llvm-symbolizer (file and line in their stack
# traces) and valgrind ("make check-valgrind").
set -eu

# libc6-dev: gcc alone (without its Recommends) cannot link a program.
# mandoc and groff lint the man pages; python3-yaml reads doc/openapi.yaml for the
# check against the live service; php-cli and php-curl run the PHP client
# example (doc/examples/php); build-essential (which dpkg-buildpackage
# requires whatever debian/control says), dpkg-dev, debhelper and lintian
# build and check the Debian package (tests/package/deb.sh).  strace holds
# the daemon after bind in tests/integration/root_files.sh; binutils'
# readelf checks the hardening (tests/hardening.sh).
PACKAGES="
    gcc libc6-dev make autoconf automake pkg-config
    libfcgi-dev libfcgi-bin spawn-fcgi
    libjson-c-dev libpq-dev libargon2-dev
    postgresql postgresql-client
    lighttpd lighttpd-mod-openssl apache2 nginx
    curl openssl ca-certificates jq
    mandoc groff-base python3 python3-yaml php-cli php-curl
    build-essential dpkg-dev debhelper lintian
    procps iproute2 wrk systemd strace binutils
"
for option in "$@"; do
    case $option in
    --analysis) PACKAGES="$PACKAGES clang libclang-rt-14-dev llvm valgrind" ;;
    --bench) ;;	# wrk is in the base list: the fault tests load with it
    *) echo "usage: install-deps.sh [--analysis] [--bench]" >&2; exit 2 ;;
    esac
done

missing=""
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
        missing="$missing $p"
done
if [ -z "$missing" ]; then
    echo "install-deps: all packages present"
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing packages:$missing (run as root to install)" >&2
    exit 1
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing

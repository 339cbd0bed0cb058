#!/bin/sh
# bench/install-deps.sh -- what the benchmarks need on Debian 12 beyond the
# build and test packages (deploy/install-deps.sh, run first): the load
# generator wrk.  Run as root; does nothing that is already done.
set -eu
here=$(cd "$(dirname "$0")" && pwd)

sh "$here/../deploy/install-deps.sh"

PACKAGES="wrk"

missing=""
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
        missing="$missing $p"
done
if [ -z "$missing" ]; then
    echo "bench/install-deps: all packages present"
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "bench/install-deps: missing packages:$missing (run as root to install)" >&2
    exit 1
fi
echo "bench/install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing

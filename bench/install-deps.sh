#!/bin/sh
# bench/install-deps.sh -- what the benchmarks need on Debian 12: the build
# and test packages and the load generator wrk.  Run as root.
exec sh "$(dirname "$0")/../deploy/install-deps.sh" --bench

#!/bin/bash
# man-lint.sh -- every man page renders without a warning: mandoc's
# linter at level "warning" (mandoc -T lint -W warning), and groff with
# every warning on (groff -mandoc -ww -z) when groff is installed.
# TAP, one line per page and renderer.
set -u

srcdir=${top_srcdir:-.}
pages="mdauthd.8 mdauthctl.8 mdauth.conf.5 mdauth.7"

if ! command -v mandoc >/dev/null 2>&1; then
	if [ "${MDAUTH_REQUIRE_FIXTURES:-0}" = 1 ]; then
		printf 'Bail out! missing fixture: mandoc not installed\n'
		exit 99
	fi
	printf '%s: SKIPPED, MISSING FIXTURE: mandoc not installed\n' "$0" >&2
	printf '1..0 # SKIP missing fixture: mandoc not installed\n'
	exit 77
fi

n=0
failed=0
# check NAME OUTPUT STATUS: ok when the renderer said nothing and exited 0.
check() {
	n=$((n + 1))
	if [ -z "$2" ] && [ "$3" -eq 0 ]; then
		printf 'ok %d - %s\n' "$n" "$1"
	else
		printf 'not ok %d - %s\n' "$n" "$1"
		printf '%s\n' "$2" | sed 's/^/#   /'
		printf '#   exit status %s\n' "$3"
		failed=1
	fi
}

for page in $pages; do
	file=$srcdir/doc/man/$page
	if [ ! -f "$file" ]; then
		check "$page exists" "no such file: $file" 1
		continue
	fi
	out=$(mandoc -T lint -W warning "$file" 2>&1)
	check "$page: mandoc -T lint -W warning reports nothing" "$out" $?
	if command -v groff >/dev/null 2>&1; then
		out=$(groff -mandoc -ww -z "$file" 2>&1)
		check "$page: groff -mandoc -ww -z reports nothing" "$out" $?
	else
		n=$((n + 1))
		printf 'ok %d - %s: groff # SKIP groff not installed\n' "$n" "$page"
	fi
done
printf '1..%d\n' "$n"
exit $failed

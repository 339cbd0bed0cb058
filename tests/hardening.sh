#!/bin/bash
# hardening.sh -- the programs are built hardened (configure's default):
# full RELRO (a GNU_RELRO segment and BIND_NOW), a position-independent
# executable (type DYN, FLAGS_1 PIE), a stack protector (__stack_chk_fail)
# and, when configure turned _FORTIFY_SOURCE on, glibc's checked functions
# (__*_chk).  Read with readelf from the built mdauthd and mdauthctl.
# Skips (77) when configured with --disable-hardening.  TAP.
set -u

builddir=${top_builddir:-.}
programs="mdauthd mdauthctl"

skip_all() {
	printf '%s: SKIPPED: %s\n' "$0" "$1" >&2
	printf '1..0 # SKIP %s\n' "$1"
	exit 77
}

if [ "${MDAUTH_HARDENING:-yes}" = no ]; then
	printf '%s: *** configured with --disable-hardening: the programs are NOT hardened ***\n' "$0" >&2
	skip_all "configured with --disable-hardening: the programs are NOT hardened"
fi
if ! command -v readelf >/dev/null 2>&1; then
	if [ "${MDAUTH_REQUIRE_FIXTURES:-0}" = 1 ]; then
		printf 'Bail out! missing fixture: readelf not installed (binutils)\n'
		exit 99
	fi
	skip_all "missing fixture: readelf not installed (binutils)"
fi

n=0
# check NAME COMMAND...: ok when COMMAND succeeds.
check() {
	local name=$1
	shift
	n=$((n + 1))
	if "$@"; then
		printf 'ok %d - %s\n' "$n" "$name"
	else
		printf 'not ok %d - %s\n' "$n" "$name"
	fi
}
has() {	# has PATTERN TEXT
	printf '%s\n' "$2" | grep -Eq -- "$1"
}

for p in $programs; do
	bin=$builddir/$p
	if [ ! -f "$bin" ]; then
		printf 'Bail out! %s not built\n' "$bin"
		exit 99
	fi
	header=$(readelf -hW "$bin")
	segments=$(readelf -lW "$bin")
	dynamic=$(readelf -dW "$bin")
	symbols=$(readelf -sW --dyn-syms "$bin")
	check "$p: a GNU_RELRO segment (RELRO)" has '^ *GNU_RELRO ' "$segments"
	check "$p: BIND_NOW (relocations done before main: full RELRO)" \
		has '\(BIND_NOW\)|\(FLAGS\) .*BIND_NOW|\(FLAGS_1\) .* NOW( |$)' "$dynamic"
	check "$p: type DYN (position-independent)" \
		has '^ *Type: +DYN ' "$header"
	check "$p: FLAGS_1 PIE (an executable, not a library)" \
		has '\(FLAGS_1\) .* PIE' "$dynamic"
	check "$p: __stack_chk_fail (stack protector)" \
		has ' __stack_chk_fail(@|$)' "$symbols"
	if [ "${MDAUTH_FORTIFY:-no}" = yes ]; then
		check "$p: glibc's checked functions (_FORTIFY_SOURCE)" \
			has ' __[a-z]+_chk(@|$)' "$symbols"
	else
		# configure leaves it off without optimisation and under
		# --enable-sanitizers, whose runtime checks those accesses
		# (and defines __*_chk interceptors of its own): nothing to
		# check in such a build, and nothing is counted.
		printf '# %s: _FORTIFY_SOURCE is not in effect in this build\n' "$p"
	fi
done
printf '1..%d\n' "$n"

# tests/integration/lib.sh -- harness for the integration tests.
# shellcheck shell=bash disable=SC2034  # globals are read by the test scripts
#
# Sourced by each tests/integration/*.sh.  A test script:
#
#   . "$(dirname "$0")/lib.sh"
#   h_setup token_ttl=600         # private PostgreSQL + mdauthd + lighttpd
#   h_user_add alice 'correct horse battery'
#   req POST /login -H 'Content-Type: application/json' --data-binary '{...}'
#   is "$STATUS" 200 "login succeeds"
#   done_testing
#
# and prints TAP on stdout (run by automake's tap-driver.sh; the plan comes
# last).  Diagnostics go to stderr.
#
# Environment:
#   top_srcdir, top_builddir   absolute paths (exported by `make check`;
#                              default: the source tree holding this file)
#   STACK_WEB=apache|nginx     the web server h_setup starts (default
#                              lighttpd; see deploy/stack.sh)
#   MDAUTH_REQUIRE_FIXTURES=1  a missing fixture (PostgreSQL, lighttpd,
#                              curl, openssl, jq) is an error, not a skip
#   MDAUTH_KEEP_TEST_DIR=1     keep the state directory even on success
#   MDAUTH_VALGRIND=1          run mdauthd and mdauthctl under valgrind
#                              memcheck ("make check-valgrind")
#
# Memory checks: the reports of AddressSanitizer, LeakSanitizer and
# UndefinedBehaviorSanitizer (a build made with --enable-sanitizers) and
# of valgrind go to files in DIR/reports/, whatever the process does with
# its stderr (a detached daemon has none); a report there or in a
# daemon's log fails the script with one "not ok" line per report, after
# its last test (done_testing stops the stack first, so that what is
# checked at exit, such as leaks, is in).
#
# Sections: TAP output, fixtures, stack setup and teardown, HTTP requests,
# response inspection, database and users, daemons a test starts itself.

set -u

H_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${top_srcdir:=$H_LIB_DIR/../..}"
: "${top_builddir:=$top_srcdir}"
top_srcdir=$(cd "$top_srcdir" && pwd) || exit 99
top_builddir=$(cd "$top_builddir" && pwd) || exit 99

# shellcheck source=../../deploy/stack.sh
. "$top_srcdir/deploy/stack.sh"
# shellcheck source=apirecord.sh
. "$H_LIB_DIR/apirecord.sh"

MDAUTHD=$top_builddir/mdauthd
MDAUTHCTL=$top_builddir/mdauthctl
MDAUTH_SQL_DIR=$top_srcdir/sql

# ---------------------------------------------------------------------------
# TAP output

T_COUNT=0
T_FAILED=0

# diag LINE...: each argument (which may span lines) as TAP comments on
# stderr.
diag() {
	local arg
	for arg in "$@"; do
		printf '%s\n' "$arg" | sed 's/^/# /' >&2
	done
}

pass() {
	T_COUNT=$((T_COUNT + 1))
	printf 'ok %d - %s\n' "$T_COUNT" "$1"
}

# fail NAME [DIAGNOSTIC...]
fail() {
	T_COUNT=$((T_COUNT + 1))
	T_FAILED=$((T_FAILED + 1))
	printf 'not ok %d - %s\n' "$T_COUNT" "$1"
	shift
	[ $# -eq 0 ] || diag "$@"
}

# ok NAME COMMAND [ARGS...]: passes when COMMAND exits 0.  COMMAND's
# output goes to stderr so it cannot be mistaken for TAP.
ok() {
	local name=$1
	shift
	if "$@" >&2; then
		pass "$name"
	else
		fail "$name" "command failed: $*"
	fi
}

# is GOT WANT NAME
is() {
	if [ "$1" = "$2" ]; then
		pass "$3"
	else
		fail "$3" "     got: '$1'" "expected: '$2'" "$(h_last_response)"
	fi
}

# isnt GOT UNWANTED NAME
isnt() {
	if [ "$1" != "$2" ]; then
		pass "$3"
	else
		fail "$3" "     got: '$1'" "expected anything else"
	fi
}

# like GOT ERE NAME: GOT matches the extended regular expression.
like() {
	if [[ $1 =~ $2 ]]; then
		pass "$3"
	else
		fail "$3" "     got: '$1'" "expected to match: $2" "$(h_last_response)"
	fi
}

# unlike GOT ERE NAME
unlike() {
	if [[ $1 =~ $2 ]]; then
		fail "$3" "     got: '$1'" "expected not to match: $2"
	else
		pass "$3"
	fi
}

# done_testing: the memory checks, the check of the API answers seen,
# the plan, then exit 0 only if every test passed.
done_testing() {
	h_memcheck_results
	h_api_seen_check
	printf '1..%d\n' "$T_COUNT"
	[ "$T_FAILED" -eq 0 ] || exit 1
	exit 0
}

# bail REASON: stop the whole script (setup failed).
bail() {
	printf 'Bail out! %s\n' "$*"
	H_BAILED=1
	exit 99
}
H_BAILED=0

# ---------------------------------------------------------------------------
# Fixtures

# skip_all REASON: a fixture is missing.  Skip loudly (exit 77), or fail
# when the environment promises the fixtures (MDAUTH_REQUIRE_FIXTURES=1,
# as in CI), so that a broken CI image cannot pass by skipping.
skip_all() {
	if [ "${MDAUTH_REQUIRE_FIXTURES:-0}" = 1 ]; then
		printf '%s: MISSING FIXTURE (required): %s\n' "$0" "$*" >&2
		printf 'Bail out! missing fixture: %s\n' "$*"
		exit 99
	fi
	printf '%s: SKIPPED, MISSING FIXTURE: %s\n' "$0" "$*" >&2
	printf '1..0 # SKIP missing fixture: %s\n' "$*"
	exit 77
}

# h_need_fixtures: everything the stack and the checks use.
h_need_fixtures() {
	local cmd
	for cmd in curl openssl jq psql ss setsid pgrep cgi-fcgi python3; do
		command -v "$cmd" >/dev/null 2>&1 || skip_all "$cmd not installed"
	done
	python3 -c 'import yaml' 2>/dev/null ||
		skip_all "PyYAML not installed (python3-yaml), for tests/openapi_check.py"
	stack_pg_bindir >/dev/null || skip_all "PostgreSQL server (initdb) not installed"
	stack_lighttpd_bin >/dev/null || skip_all "lighttpd not installed"
	if [ ! -e /usr/lib/lighttpd/mod_openssl.so ] &&
		! ls /usr/lib*/lighttpd/mod_openssl.so >/dev/null 2>&1; then
		skip_all "lighttpd mod_openssl not installed (lighttpd-mod-openssl)"
	fi
	case $(stack_web) in
	apache)
		stack_apache_bin >/dev/null || skip_all "apache2 not installed"
		[ -e "${STACK_APACHE_MODULES:-/usr/lib/apache2/modules}/mod_authnz_fcgi.so" ] ||
			skip_all "Apache's mod_authnz_fcgi not installed"
		;;
	nginx)
		stack_nginx_bin >/dev/null || skip_all "nginx not installed"
		"$(stack_nginx_bin)" -V 2>&1 | grep -q -- --with-http_auth_request_module ||
			skip_all "nginx without the auth_request module"
		;;
	esac
	if [ "$(id -u)" -eq 0 ] && [ "$(stack_web)" != lighttpd ] &&
		! id www-data >/dev/null 2>&1; then
		skip_all "running as root without a www-data user for the web server"
	fi
	if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
		skip_all "running as root without a postgres system user to run PostgreSQL"
	fi
	# The binaries under test are not fixtures: their absence is an error.
	[ -x "$MDAUTHD" ] || bail "$MDAUTHD not built"
	[ -x "$MDAUTHCTL" ] || bail "$MDAUTHCTL not built"
}

# ---------------------------------------------------------------------------
# Stack setup and teardown

H_DIR=
H_URL=
H_PLAIN_URL=

# h_setup [KEY=VALUE...]: a temporary directory with PostgreSQL (migrated),
# mdauthd (configured with the defaults of deploy/stack.sh, log_level =
# debug, and the given keys) and a web server with TLS: lighttpd, or the
# one STACK_WEB names (apache, nginx).  Teardown is automatic.
h_setup() {
	h_need_fixtures
	H_DIR=$(mktemp -d "${TMPDIR:-/tmp}/mdauth-it.XXXXXX") || bail "mktemp failed"
	trap h_teardown EXIT
	h_memcheck_init
	trap 'exit 130' INT
	trap 'exit 143' TERM HUP
	STACK_PG_FSYNC=off
	stack_start_all "$H_DIR" log_level=debug "$@" || bail "the stack did not start"
	h_urls
}

h_urls() {
	H_URL=https://localhost:$STACK_HTTPS_PORT/api/auth
	H_PLAIN_URL=http://127.0.0.1:$STACK_HTTP_PORT/api/auth
}

# h_restart_mdauthd [KEY=VALUE...]: stop the daemon, rewrite its
# configuration (from the defaults again) and start it.
h_restart_mdauthd() {
	stack_mdauthd_stop
	stack_mdauthd_config log_level=debug "$@" || bail "cannot write mdauthd.conf"
	stack_mdauthd_start || bail "mdauthd did not restart"
}

# h_on_teardown COMMAND: run COMMAND (a shell string) first at teardown;
# for a test that leaves something in a state the stack cannot stop.
H_ON_TEARDOWN=
h_on_teardown() {
	H_ON_TEARDOWN="$H_ON_TEARDOWN
$1"
}

# The EXIT trap: stop everything; keep the directory and show the logs when
# something failed, remove it otherwise.
h_teardown() {
	local rc=$? f
	trap - EXIT INT TERM HUP
	[ -z "$H_ON_TEARDOWN" ] || eval "$H_ON_TEARDOWN"
	stack_stop_all
	[ -n "$H_DIR" ] || exit "$rc"
	# An interrupted run (130, 143) with no failure cleans up like a pass.
	if [ "$T_FAILED" -ne 0 ] || [ "$H_BAILED" -ne 0 ] ||
		{ [ "$rc" -ne 0 ] && [ "$rc" -ne 130 ] && [ "$rc" -ne 143 ]; } ||
		[ "${MDAUTH_KEEP_TEST_DIR:-0}" = 1 ]; then
		# mdauthd-*.log: daemons a test started itself (h_start).
		for f in mdauthd.log $(cd "$H_DIR" && ls mdauthd-*.log 2>/dev/null) \
			lighttpd-error.log apache-error.log nginx-error.log \
			app-server-error.log postgresql.log migrate.log \
			$(cd "$H_DIR" && ls reports/* 2>/dev/null); do
			[ -s "$H_DIR/$f" ] || continue
			printf '==== tail of %s\n' "$H_DIR/$f" >&2
			tail -n 30 "$H_DIR/$f" >&2
		done
		printf '==== state kept in %s\n' "$H_DIR" >&2
	else
		rm -rf "$H_DIR"
	fi
	exit "$rc"
}

# ---------------------------------------------------------------------------
# Memory checks: sanitizers and valgrind

# h_memcheck_init: called once DIR exists.  Sanitizer reports go to
# DIR/reports/sanitizer.PID (log_path; a log_path already in the
# environment wins).  gcc's runtime writes UBSan's reports to stderr
# whatever log_path says: those are found in the daemons' logs, not in
# the stderr of a detached daemon or of mdauthctl, which is why CI builds
# with clang.  With MDAUTH_VALGRIND=1, MDAUTHD and MDAUTHCTL become
# wrappers that run the binaries under valgrind, reports in
# DIR/reports/valgrind.PID.  The directory is writable by all (mode 1777)
# because a daemon that drops privileges writes its reports as `user`.
h_memcheck_init() {
	mkdir -p "$H_DIR/reports" && chmod 1777 "$H_DIR/reports" ||
		bail "cannot make $H_DIR/reports"
	case ${ASAN_OPTIONS:-} in
	*log_path=*) ;;
	*) ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$H_DIR/reports/sanitizer" ;;
	esac
	case ${UBSAN_OPTIONS:-} in
	*log_path=*) ;;
	*) UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$H_DIR/reports/sanitizer" ;;
	esac
	export ASAN_OPTIONS UBSAN_OPTIONS
	[ "${MDAUTH_VALGRIND:-0}" = 1 ] || return 0
	command -v valgrind >/dev/null 2>&1 || skip_all "valgrind not installed"
	h_valgrind_wrapper mdauthd "$top_builddir/mdauthd"
	MDAUTHD=$H_DIR/valgrind-mdauthd
	h_valgrind_wrapper mdauthctl "$top_builddir/mdauthctl"
	MDAUTHCTL=$H_DIR/valgrind-mdauthctl
}

# h_valgrind_wrapper NAME BINARY: write DIR/valgrind-NAME, which execs
# BINARY under memcheck (same pid, same arguments).  Errors and leaks
# (definitely or possibly lost, in any process, workers included: valgrind
# checks at _exit too) are written to DIR/reports/valgrind.PID; -q leaves
# those files empty when there is nothing to report.  Suppressions, if
# any, are in tests/valgrind.supp, each with the reason for it.
h_valgrind_wrapper() {
	{
		printf '#!/bin/bash\n'
		# Set, so that mdauthd does not start itself again to set it
		# (valgrind's allocator ignores it anyway).
		printf 'export GLIBC_TUNABLES=glibc.malloc.tcache_count=0\n'
		printf 'exec valgrind -q --tool=memcheck --trace-children=yes'
		printf ' --leak-check=full --show-leak-kinds=definite,possible'
		printf ' --errors-for-leak-kinds=definite,possible'
		printf ' --error-exitcode=97 --num-callers=30 --vgdb=no'
		[ ! -f "$top_srcdir/tests/valgrind.supp" ] ||
			printf ' --suppressions=%q' "$top_srcdir/tests/valgrind.supp"
		printf ' --log-file=%q' "$H_DIR/reports/valgrind.%p"
		printf ' %q "$@"\n' "$2"
	} >"$H_DIR/valgrind-$1" && chmod 755 "$H_DIR/valgrind-$1" ||
		bail "cannot write $H_DIR/valgrind-$1"
}

# h_memcheck_results: stop the stack and the daemons the test started
# (what is checked at exit must be written), then one "not ok" per report
# file and per daemon log that holds a sanitizer or valgrind report.
# Silent when there is nothing to report, so that the number of tests is
# the same in every build.
h_memcheck_results() {
	local f n=0
	[ -n "$H_DIR" ] || return 0
	[ -z "$H_ON_TEARDOWN" ] || eval "$H_ON_TEARDOWN"
	H_ON_TEARDOWN=
	stack_stop_all
	local re='ERROR: [A-Za-z]*Sanitizer|runtime error:'
	for f in "$H_DIR"/reports/* "$H_DIR"/mdauthd*.log; do
		[ -s "$f" ] || continue
		case $f in
		*/reports/valgrind.*) ;;	# -q: whatever it wrote is a finding
		*/reports/*)
			# A warning that is not a report (an allocation refused
			# under allocator_may_return_null=1) is shown, not failed.
			if ! grep -qE "$re" "$f"; then
				diag "$(basename "$f"), not an error report:" "$(head -n 5 "$f")"
				continue
			fi
			;;
		*) grep -qE "$re" "$f" || continue ;;
		esac
		n=$((n + 1))
		fail "no memory error or leak reported in $(basename "$f")" \
			"$(grep -E -A 40 "$re|^==[0-9]+== [A-Z]" "$f" | head -n 40)"
	done
	[ "$n" -eq 0 ] || diag "memory reports kept in $H_DIR"
}

# ---------------------------------------------------------------------------
# HTTP requests

STATUS=
BODY=
HEADERS=
CURL_RC=
H_LAST_REQUEST=

# req_url METHOD URL [CURL ARGS...]: one request.  Sets STATUS (000 when
# no response), BODY, HEADERS (a file with the response headers), CURL_RC.
req_url() {
	local method=$1 url=$2
	shift 2
	local -a how
	# curl -X HEAD would wait for a body that never comes; --head does not
	# (it copies the headers to the output file, emptied below: a HEAD
	# response has no body on the wire; see fcgi_raw for the daemon's own
	# output).
	if [ "$method" = HEAD ]; then
		how=(--head)
	else
		how=(-X "$method")
	fi
	HEADERS=$H_DIR/last-headers
	: >"$HEADERS"
	: >"$H_DIR/last-body"
	H_LAST_REQUEST="$method $url"
	STATUS=$(curl -sS --max-time 10 --cacert "$STACK_CERT" \
		--resolve "localhost:$STACK_HTTPS_PORT:127.0.0.1" \
		"${how[@]}" -D "$HEADERS" -o "$H_DIR/last-body" -w '%{http_code}' \
		"$@" "$url")
	CURL_RC=$?
	[ "$method" != HEAD ] || : >"$H_DIR/last-body"
	BODY=$(cat "$H_DIR/last-body")
	# One line per response, for checks over all of a script's responses.
	printf '%s\t%s\t%s\t%s\n' "$STATUS" "$H_LAST_REQUEST" \
		"$(header Content-Type)" "$(header Cache-Control)" >>"$H_DIR/responses"
	h_api_seen "$method" "$url" "$STATUS" "$HEADERS" "$H_DIR/last-body" "$@"
}

# h_bg NAME PATH [CURL ARGS...]: a request to https://localhost:PORT/api/auth$PATH
# in the background, for a test that acts while it is in flight.  Its
# status goes to $H_DIR/NAME.status, its headers and body to NAME.headers
# and NAME.body; its pid is in H_BG_PID (killed at teardown if it still
# runs).  That is a subshell, which waits for curl, then records the
# answer (h_api_seen_bg); SIGTERM to it stops curl.
H_BG_PID=
h_bg() {
	local name=$1 path=$2
	shift 2
	(
		pid=
		trap '[ -z "$pid" ] || kill "$pid" 2>/dev/null; exit 143' TERM
		curl -sS --max-time 30 --cacert "$STACK_CERT" \
			--resolve "localhost:$STACK_HTTPS_PORT:127.0.0.1" \
			-D "$H_DIR/$name.headers" -o "$H_DIR/$name.body" -w '%{http_code}' \
			"$@" "$H_URL$path" >"$H_DIR/$name.status" 2>"$H_DIR/$name.err" &
		pid=$!
		wait "$pid"
		h_api_seen_bg "$name" "$path" "$@"
	) &
	H_BG_PID=$!
	h_on_teardown "kill $H_BG_PID 2>/dev/null"
}

# req METHOD PATH [CURL ARGS...]: a request to https://localhost:PORT/api/auth$PATH.
req() {
	local method=$1 path=$2
	shift 2
	req_url "$method" "$H_URL$path" "$@"
}

# fcgi_raw NAME=VALUE...: one FastCGI request straight to mdauthd's socket,
# with exactly these parameters (no web server in between).  The raw
# response (CGI headers, blank line, body) is in $H_DIR/fcgi-out; returns
# cgi-fcgi's status (non-zero when nothing accepts on the socket).
fcgi_raw() {
	env -i "$@" cgi-fcgi -bind -connect "$STACK_MDAUTHD_SOCKET" \
		</dev/null >"$H_DIR/fcgi-out" 2>"$H_DIR/fcgi-err"
}

# fcgi_raw_body: the body part of the last fcgi_raw response.
fcgi_raw_body() {
	sed '1,/^\r\{0,1\}$/d' "$H_DIR/fcgi-out"
}

# req_plain METHOD PATH [CURL ARGS...]: the same over the plain-HTTP listener.
req_plain() {
	local method=$1 path=$2
	shift 2
	req_url "$method" "$H_PLAIN_URL$path" "$@"
}

# req_json METHOD PATH JSON [CURL ARGS...]: a request with a JSON body.
req_json() {
	local method=$1 path=$2 json=$3
	shift 3
	req "$method" "$path" -H 'Content-Type: application/json' \
		--data-binary "$json" "$@"
}

# req_bearer METHOD PATH TOKEN [CURL ARGS...]
req_bearer() {
	local method=$1 path=$2 token=$3
	shift 3
	req "$method" "$path" -H "Authorization: Bearer $token" "$@"
}

# ---------------------------------------------------------------------------
# The API answers seen: every answer req_url and h_bg receive is recorded
# (apirecord.sh) in $H_DIR/api-seen*.jsonl, and done_testing checks with
# tests/openapi_check.py --seen that each one of the API's is described
# in doc/openapi.yaml (one more test line; the checker's own comment says
# which answers are the web server's and left out).

# h_api_seen METHOD URL STATUS HEADERS BODY [CURL ARGS...]
h_api_seen() {
	api_record_answer "$H_DIR/api-seen.jsonl" "$@" ||
		bail "cannot record the answer to $1 $2"
}

# h_api_seen_bg NAME PATH [CURL ARGS...]: in h_bg's subshell, once curl
# is done: the answer to request NAME, in a file of its own (requests in
# flight at once do not write to one file).
h_api_seen_bg() {
	api_record_answer "$H_DIR/api-seen-bg.$BASHPID.jsonl" "$(api_method "${@:3}")" \
		"$H_URL$2" "$(cat "$H_DIR/$1.status" 2>/dev/null)" "$H_DIR/$1.headers" \
		"$H_DIR/$1.body" "${@:3}"
}

# h_api_seen_check: the test line; none when no request was made.
h_api_seen_check() {
	local name out rc line
	local -a diags=()
	[ -n "$H_DIR" ] || return 0
	local -a records=("$H_DIR"/api-seen*.jsonl)
	[ -e "${records[0]}" ] || return 0
	out=$(python3 "$top_srcdir/tests/openapi_check.py" --seen \
		"$top_srcdir/doc/openapi.yaml" "${records[@]}" 2>&1)
	rc=$?
	while IFS= read -r line; do
		case $line in
		'ok - '* | 'not ok - '*) ;;
		*) diags+=("${line#\# }") ;;
		esac
	done <<<"$out"
	name="every API answer this test saw is described in doc/openapi.yaml"
	if [ "$rc" -eq 0 ]; then
		pass "$name"
		diag "${diags[@]}"
	else
		fail "$name" "${diags[@]}" "(answers in $H_DIR/api-seen*.jsonl)"
	fi
}

# h_last_response: the last request and response, for diagnostics.
h_last_response() {
	[ -n "$H_LAST_REQUEST" ] || return 0
	printf 'last request: %s -> %s (curl exit %s)\n' "$H_LAST_REQUEST" \
		"$STATUS" "$CURL_RC"
	tr -d '\r' <"$HEADERS" | sed 's/^/  < /'
	printf '  body: %s\n' "$BODY"
}

# ---------------------------------------------------------------------------
# Response inspection

# header NAME: the value of response header NAME (case-insensitive; the
# last one if repeated), without the CR.  Empty when absent.
header() {
	tr -d '\r' <"$HEADERS" | sed -n "s/^$1:[[:space:]]*//Ip" | tail -n 1
}

# header_count NAME: how many times NAME appears in the response headers.
header_count() {
	tr -d '\r' <"$HEADERS" | grep -ic "^$1:"
}

# json FIELD: field FIELD of the JSON object in BODY: strings raw, other
# values as JSON text, "null" when absent, empty when BODY is not JSON.
json() {
	jq -r --arg f "$1" \
		'.[$f] | if type == "string" then . else tojson end' \
		<<<"$BODY" 2>/dev/null
}

# json_type FIELD: string, number, object, array, boolean or null.
json_type() {
	jq -r --arg f "$1" '.[$f] | type' <<<"$BODY" 2>/dev/null
}

# json_keys: the object's keys, sorted, comma-separated.
json_keys() {
	jq -r 'keys | join(",")' <<<"$BODY" 2>/dev/null
}

# is_error_body CODE: BODY is exactly {"error": CODE, "error_description":
# a non-empty string}.
is_error_body() {
	jq -e --arg c "$1" '
		type == "object" and (keys == ["error", "error_description"])
		and .error == $c
		and (.error_description | type == "string" and length > 0)' \
		<<<"$BODY" >/dev/null 2>&1
}

# is_json_content_type: Content-Type is application/json (parameters allowed).
is_json_content_type() {
	[[ $(header Content-Type) =~ ^application/json([[:space:]]*;.*)?$ ]]
}

# expect_error STATUS CODE NAME: one test that the last response is the
# error STATUS with body {"error": CODE, "error_description": ...},
# Content-Type application/json and Cache-Control no-store.
expect_error() {
	local want_status=$1 code=$2 name=$3 why=
	[ "$STATUS" = "$want_status" ] || why="status $STATUS, expected $want_status"
	[ -n "$why" ] || is_error_body "$code" ||
		why="body is not {\"error\":\"$code\",\"error_description\":\"...\"}"
	[ -n "$why" ] || is_json_content_type ||
		why="Content-Type is '$(header Content-Type)'"
	[ -n "$why" ] || [ "$(header Cache-Control)" = no-store ] ||
		why="Cache-Control is '$(header Cache-Control)'"
	if [ -z "$why" ]; then
		pass "$name"
	else
		fail "$name" "$why" "$(h_last_response)"
	fi
}

# all_responses_have FIELD ERE: every response so far (as logged by
# req_url: 1 status, 2 request, 3 Content-Type, 4 Cache-Control) has FIELD
# matching ERE.  Prints the offending lines.
all_responses_have() {
	[ -s "$H_DIR/responses" ] || return 1
	! awk -F '\t' -v f="$1" -v re="$2" '$f !~ re { print; bad = 1 } END { exit !bad }' \
		"$H_DIR/responses"
}

# h_now: seconds since the epoch, with fractions.
h_now() {
	date +%s.%N
}

# h_elapsed START: seconds since START (from h_now), as a decimal.
h_elapsed() {
	awk -v s="$1" -v e="$(h_now)" 'BEGIN { printf "%.2f\n", e - s }'
}

# h_lt A B: the decimal A is below B.
h_lt() {
	awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'
}

# The shapes the API promises.
H_TOKEN_RE='^mda_[A-Za-z0-9_-]{43}$'
H_UUID_RE='^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
H_TIME_RE='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$'

# h_random_token: a well-formed token that was never issued.
h_random_token() {
	printf 'mda_%s\n' "$(head -c 32 /dev/urandom | base64 -w0 | tr '+/' '-_' | tr -d '=')"
}

# ---------------------------------------------------------------------------
# Database and users

# sql QUERY [NAME=VALUE...]: run QUERY as superuser on database mdauth and
# print the result (unaligned, no headers).  Each NAME=VALUE becomes a psql
# variable, to be written :'NAME' in QUERY so that psql quotes it.
sql() {
	local query=$1 arg
	shift
	local -a vars=()
	for arg in "$@"; do
		vars+=(-v "$arg")
	done
	stack_psql "${vars[@]}" <<<"$query"
}

# h_pg_log_statements: from now on the cluster logs every statement
# (log_statement = all, the application name in each line, no parameter
# values) and runs no autovacuum, so that h_db_statements and h_db_xids
# count what the test's requests send and nothing else.  Returns once the
# daemon's connections have been told (they apply it from their next
# statement on).
h_pg_log_statements() {
	sql "ALTER SYSTEM SET log_statement = 'all';
		ALTER SYSTEM SET log_line_prefix = '%m [%p] %a: ';
		ALTER SYSTEM SET log_parameter_max_length = 0;
		ALTER SYSTEM SET autovacuum = off;
		SELECT pg_reload_conf()" >/dev/null || bail "cannot set log_statement"
	# A new connection sees the setting once the postmaster has reloaded,
	# and by then it has signalled every backend.
	h_wait_for 5 h_pg_setting_is log_statement all ||
		bail "log_statement did not become 'all'"
}
h_pg_setting_is() {
	[ "$(sql "SELECT current_setting(:'n')" n="$1")" = "$2" ]
}

# h_db_mark: remember where the cluster's log ends and the next
# transaction id; h_db_statements and h_db_xids count from there.
H_DB_LOG_MARK=0
H_DB_XID_MARK=0
h_db_mark() {
	H_DB_LOG_MARK=$(stat -c %s "$H_DIR/postgresql.log") || bail "no postgresql.log"
	H_DB_XID_MARK=$(h_db_next_xid)
}
h_db_next_xid() {
	sql "SELECT pg_snapshot_xmax(pg_current_snapshot())"
}

# h_db_statements: the prepared statements the daemon (application name
# mdauthd) executed since h_db_mark, by name, space-separated.  Needs
# h_pg_log_statements.
h_db_statements() {
	tail -c +$((H_DB_LOG_MARK + 1)) "$H_DIR/postgresql.log" |
		sed -n 's/^.* mdauthd: LOG:  execute \([A-Za-z0-9_]*\):.*/\1/p' |
		tr '\n' ' ' | sed 's/ $//'
}

# h_db_xids: how many transaction ids were assigned since h_db_mark: the
# transactions that wrote (a read-only one gets none), of anyone.
h_db_xids() {
	printf '%s\n' $(($(h_db_next_xid) - H_DB_XID_MARK))
}

# h_ctl [ARGS...]: mdauthctl with this stack's configuration, as the
# database superuser (user management needs more than the daemon's role).
h_ctl() {
	"$MDAUTHCTL" -c "$STACK_MDAUTHD_CONF" -D "$(stack_admin_conninfo)" "$@"
}

# h_user_add NAME PASSWORD: create a user, or bail.
h_user_add() {
	H_PASSWORDS+=("$2")
	printf '%s\n' "$2" | h_ctl user add "$1" --password-stdin >"$H_DIR/ctl.out" 2>&1 ||
		bail "mdauthctl user add $1 failed: $(cat "$H_DIR/ctl.out")"
}

# Every token issued and password used, for the secrets checks.
H_TOKENS=()
H_PASSWORDS=()

# login USER PASSWORD [DEVICE [CURL ARGS...]]: POST /login; on 200 sets
# TOKEN and SESSION_ID (and remembers the token), else empties them.
TOKEN=
SESSION_ID=
login() {
	local body
	if [ $# -ge 3 ]; then
		body=$(jq -cn --arg u "$1" --arg p "$2" --arg d "$3" \
			'{username: $u, password: $p, device: $d}')
	else
		body=$(jq -cn --arg u "$1" --arg p "$2" '{username: $u, password: $p}')
	fi
	H_PASSWORDS+=("$2")
	shift $(($# >= 3 ? 3 : $#))
	req_json POST /login "$body" "$@"
	TOKEN=
	SESSION_ID=
	if [ "$STATUS" = 200 ]; then
		TOKEN=$(json token)
		SESSION_ID=$(json session_id)
		H_TOKENS+=("$TOKEN")
	fi
}

# h_login_ok USER PASSWORD [DEVICE]: login that must succeed, or bail.
h_login_ok() {
	login "$@"
	[[ $STATUS = 200 && $TOKEN =~ $H_TOKEN_RE && $SESSION_ID =~ $H_UUID_RE ]] ||
		bail "login as $1 failed: $(h_last_response)"
}

# h_workers: the pids of the daemon's workers (children of the master but
# the cache's listener, named mdauthd-cache), sorted.
h_workers() {
	h_children "$STACK_MDAUTHD_PID"
}

# h_listener [MASTER]: the pid of the cache's listener of MASTER (default:
# the stack's daemon); empty when there is none.
h_listener() {
	pgrep -P "${1:-$STACK_MDAUTHD_PID}" -x mdauthd-cache
}

# h_logs_contain STRING: true when any of the daemon's or web server's logs
# contains STRING (fixed string).
h_logs_contain() {
	grep -qF -e "$1" "$H_DIR/mdauthd.log" "$H_DIR"/lighttpd-*.log 2>/dev/null
}

# ---------------------------------------------------------------------------
# Daemons a test starts itself (process tests)

# h_setup_db [KEY=VALUE...]: like h_setup, but only PostgreSQL (migrated,
# with the daemon's role) and DIR/mdauthd.conf: no daemon and no web
# server, for tests that start mdauthd themselves.  Teardown is automatic.
h_setup_db() {
	h_need_fixtures
	H_DIR=$(mktemp -d "${TMPDIR:-/tmp}/mdauth-it.XXXXXX") || bail "mktemp failed"
	trap h_teardown EXIT
	h_memcheck_init
	trap 'exit 130' INT
	trap 'exit 143' TERM HUP
	STACK_PG_FSYNC=off
	{ stack_init "$H_DIR" && stack_pg_start &&
		stack_mdauthd_config log_level=debug "$@" &&
		stack_db_setup; } || bail "PostgreSQL did not start"
}

# skip NAME REASON: a test that cannot run here (TAP SKIP, not a failure).
skip() {
	T_COUNT=$((T_COUNT + 1))
	printf 'ok %d - %s # SKIP %s\n' "$T_COUNT" "$1" "$2"
}

# fcgi_raw_at ADDRESS NAME=VALUE...: fcgi_raw to another daemon, at a Unix
# socket path or host:port.  A request body (CONTENT_LENGTH=...) is read
# from stdin.  Gives up after 10 s, so that a daemon that accepts and never
# answers fails the test instead of hanging it.
fcgi_raw_at() {
	local addr=$1
	shift
	env -i "$@" timeout 10 cgi-fcgi -bind -connect "$addr" \
		>"$H_DIR/fcgi-out" 2>"$H_DIR/fcgi-err"
}

# fcgi_status: the status code of the last fcgi_raw/fcgi_raw_at response
# (its Status: header), empty when there was none.
fcgi_status() {
	tr -d '\r' <"$H_DIR/fcgi-out" | sed -n '1,/^$/s/^Status:[[:space:]]*\([0-9]*\).*/\1/p' |
		head -n 1
}

# h_health_at ADDRESS: print the status of GET /health at ADDRESS (over
# "HTTPS", so that require_tls does not interfere).
h_health_at() {
	fcgi_raw_at "$1" REQUEST_METHOD=GET PATH_INFO=/health HTTPS=on \
		REMOTE_ADDR=127.0.0.1 </dev/null
	fcgi_status
}

# h_wait_for SECONDS COMMAND [ARGS...]: poll COMMAND every 0.1 s until it
# succeeds; false when it did not within SECONDS.
h_wait_for() {
	local i limit=$(($1 * 10))
	shift
	for ((i = 0; i < limit; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	"$@"
}

# h_children PID: the live children of PID (a master's workers: not its
# cache listener, mdauthd-cache), sorted.
h_children() {
	local kid
	for kid in $(pgrep -P "$1"); do
		[ "$(cat "/proc/$kid/comm" 2>/dev/null)" != mdauthd-cache ] || continue
		stack_proc_gone "$kid" || printf '%s\n' "$kid"
	done | sort -n
}

# h_routed: a request through the web server reaches the daemon (GET
# /health answers 200).  After the daemon's socket vanished (a restart),
# lighttpd leaves the backend disabled for a moment: wait with h_wait_for.
h_routed() {
	req GET /health
	[ "$STATUS" = 200 ]
}

# h_alive PID...: the PIDs that still run, space-separated.
h_alive() {
	local pid out=
	for pid in "$@"; do
		stack_proc_gone "$pid" || out="$out${out:+ }$pid"
	done
	printf '%s\n' "$out"
}

# h_has_children PID N: PID has exactly N live children (for h_wait_for).
h_has_children() {
	[ "$(h_children "$1" | grep -c .)" = "$2" ]
}

# h_accepted: a worker has accepted a connection on the daemon's socket,
# and none waits in its queue (the listening socket's Recv-Q).
h_accepted() {
	[ "$(ss -Hxl src "$STACK_MDAUTHD_SOCKET" | awk '{ print $3 }')" = 0 ] &&
		[ -n "$(ss -Hx state established src "$STACK_MDAUTHD_SOCKET")" ]
}

# h_lock_rows N SELECT...: in a transaction of its own, run SELECT ...
# FOR UPDATE (a query that selects the literal 'locked' for each row) and
# keep the row locks until h_unlock_rows; wait until N rows are locked.
# A request that needs one of those rows then waits inside a worker for as
# long as the test wants: in flight, deterministically.
h_lock_rows() {
	local n=$1
	shift
	rm -f "$H_DIR/lock.fifo"
	mkfifo "$H_DIR/lock.fifo" || bail "mkfifo failed"
	stack_psql <"$H_DIR/lock.fifo" >"$H_DIR/lock.out" 2>&1 &
	h_on_teardown "kill $! 2>/dev/null"
	exec {H_LOCKFD}>"$H_DIR/lock.fifo"
	printf 'BEGIN;\n%s;\n' "$*" >&"$H_LOCKFD"
	h_wait_for 5 h_rows_locked "$n" ||
		bail "cannot lock the rows: $(cat "$H_DIR/lock.out")"
}
h_rows_locked() {
	[ "$(grep -c '^locked$' "$H_DIR/lock.out")" = "$1" ]
}

# h_unlock_rows: end the transaction of h_lock_rows.
h_unlock_rows() {
	printf 'COMMIT;\n' >&"$H_LOCKFD"
	exec {H_LOCKFD}>&-
}

# h_lock_waiters N: exactly N of the daemon's connections wait for a lock.
h_lock_waiters() {
	[ "$(sql "SELECT count(*) FROM pg_stat_activity
		WHERE application_name = 'mdauthd' AND wait_event_type = 'Lock'")" = "$1" ]
}

# h_track PID: a mdauthd master started by the test itself (not through the
# stack); h_stop_master runs on it at teardown.
H_TRACKED=()
h_track() {
	[ ${#H_TRACKED[@]} -gt 0 ] || h_on_teardown h_stop_tracked
	H_TRACKED+=("$1")
}

h_stop_tracked() {
	local pid
	for pid in "${H_TRACKED[@]}"; do
		h_stop_master "$pid"
	done
}

# h_stop_master PID: SIGTERM to a master, wait up to 15 s, then SIGKILL it
# and every child it still has (a detached master is not the leader of
# its process group, so the group cannot be killed).  Sets
# H_MASTER_EXIT_STATUS when PID is a child of this shell, "" otherwise.
H_MASTER_EXIT_STATUS=
h_stop_master() {
	local pid=$1 i kids
	H_MASTER_EXIT_STATUS=
	stack_proc_gone "$pid" && { wait "$pid" 2>/dev/null; return 0; }
	kids=$(h_children "$pid")
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 150; i++)); do
		stack_proc_gone "$pid" && break
		sleep 0.1
	done
	if ! stack_proc_gone "$pid"; then
		stack_log "mdauthd $pid ignored SIGTERM for 15 s; killing it"
		kids="$kids $(h_children "$pid")"
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	H_MASTER_EXIT_STATUS=$?
	[ "$H_MASTER_EXIT_STATUS" -ne 127 ] || H_MASTER_EXIT_STATUS=
	for i in $kids; do
		stack_proc_gone "$i" || kill -KILL "$i" 2>/dev/null
	done
	return 0
}

# h_conf NAME [LINE...]: write $H_DIR/NAME.conf: this stack's database,
# log_level = debug, then each LINE ("key = value"), then, when
# STACK_MDAUTHD_CACHE is set and no LINE sets cache, "cache = ..." (see
# deploy/stack.sh).
h_conf() {
	local name=$1
	shift
	{
		printf '# written by %s\n' "$(basename "$0")"
		printf 'database = host=%s dbname=mdauth user=mdauth\n' "$STACK_PG_SOCKDIR"
		printf 'log_level = debug\n'
		[ $# -eq 0 ] || printf '%s\n' "$@"
		# Last, so that the lines given keep their numbers; not when
		# they set cache themselves.
		if [ -n "${STACK_MDAUTHD_CACHE:-}" ] &&
			! printf '%s\n' "$@" | grep -q '^cache[[:space:]]*='; then
			printf 'cache = %s\n' "$STACK_MDAUTHD_CACHE"
		fi
	} >"$H_DIR/$name.conf"
}

# h_start NAME [OPTIONS...]: mdauthd -c $H_DIR/NAME.conf OPTIONS in the
# foreground, in the background of this shell and in its own session,
# stdin /dev/null, stdout and stderr appended to $H_DIR/mdauthd-NAME.log.
# H_PID is its pid (tracked: stopped at teardown).
H_PID=
h_start() {
	local name=$1
	shift
	setsid "$MDAUTHD" -c "$H_DIR/$name.conf" "$@" </dev/null \
		>>"$H_DIR/mdauthd-$name.log" 2>&1 &
	H_PID=$!
	h_track "$H_PID"
}

# ---------------------------------------------------------------------------
# The daemon's account of a login (log_level = debug): with it, a test
# counts the password hashes each outcome costs instead of timing them.

# h_log_mark: remember where mdauthd.log ends now; h_login_work reads on
# from there.
H_LOG_MARK=0
h_log_mark() {
	H_LOG_MARK=$(stat -c %s "$H_DIR/mdauthd.log" 2>/dev/null) || H_LOG_MARK=0
}

# h_login_work: for each "login: status S after N argon2id computations"
# line mdauthd logged since h_log_mark, a line "S N".
h_login_work() {
	tail -c +$((H_LOG_MARK + 1)) "$H_DIR/mdauthd.log" 2>/dev/null |
		sed -n 's/.*: debug: login: status \([0-9]*\) after \([0-9]*\) argon2id computations.*/\1 \2/p'
}

# h_login_blocks: the same lines as "S B", B the KiB blocks argon2id went
# through (memory times passes: "... computations over B KiB").
h_login_blocks() {
	tail -c +$((H_LOG_MARK + 1)) "$H_DIR/mdauthd.log" 2>/dev/null |
		sed -n 's/.*: debug: login: status \([0-9]*\) after [0-9]* argon2id computations over \([0-9]*\) KiB.*/\1 \2/p'
}

# validate_codes N TOKEN...: the status of GET /validate for each token, N
# times each (N > 1 so that every worker is asked), space-separated.
validate_codes() {
	local n=$1 t i
	shift
	for t in "$@"; do
		for ((i = 0; i < n; i++)); do
			req_bearer GET /validate "$t"
			printf '%s ' "$STATUS"
		done
	done
}

# repeat_words N WORD: WORD N times, each followed by a blank (to compare
# with validate_codes).
repeat_words() {
	local i
	for ((i = 0; i < $1; i++)); do
		printf '%s ' "$2"
	done
}

# h_events_holding WORD...: the WORDs (tokens without their mda_ prefix
# are looked for) that some mdauth.auth_events row contains, space-separated;
# empty when none does.
h_events_holding() {
	local w found=
	for w in "$@"; do
		[ "$(sql "SELECT count(*) FROM mdauth.auth_events e
			WHERE strpos(e::text, :'part') > 0" part="${w#mda_}")" = 0 ] ||
			found="$found $w"
	done
	printf '%s' "$found"
}

#!/bin/bash
# doc/openapi.yaml against the live service.  Every path, method and
# status the description names is asked for through lighttpd with TLS,
# each answer is recorded (apirecord.sh), and tests/openapi_check.py holds
# the two to each other: every answer seen is described (status, headers,
# JSON members and types) and everything described was seen.  Last, the
# checker is shown to fail on a description that lost a status or gained
# a member, and on an answer with a member nobody described.
. "$(dirname "$0")/lib.sh"

# lighttpd, whatever the environment says: the description names its 411.
STACK_WEB=lighttpd

SPEC=$top_srcdir/doc/openapi.yaml
CHECK=$top_srcdir/tests/openapi_check.py

h_setup max_body=1024 max_sessions_per_user=3 session_limit_policy=reject \
	login_max_failures=3 login_failure_window=60 login_lockout=60
PW='correct horse battery staple'
for u in alice bob carol dave; do
	h_user_add "$u" "$PW"
done
API_RECORD=$H_DIR/api-record.jsonl
CL0=(-H 'Content-Length: 0')
BIG=$(jq -cn --arg p "$(head -c 2000 /dev/zero | tr '\0' x)" '{username: "alice", password: $p}')

# check_tap COMMAND...: run COMMAND, which prints TAP without numbers, and
# count each of its lines as a test of this script; "# " lines after a
# "not ok" are its diagnostics.
check_tap() {
	local line name='' diags=() rc
	"$@" >"$H_DIR/check.out" 2>&1
	rc=$?
	while IFS= read -r line; do
		case $line in
		'ok - '* | 'not ok - '*)
			[ -z "$name" ] || fail "$name" "${diags[@]}"
			name=
			diags=()
			if [[ $line = ok* ]]; then
				pass "${line#ok - }"
			else
				name=${line#not ok - }
			fi
			;;
		'# '*) diags+=("${line#\# }") ;;
		*) diags+=("$line") ;;
		esac
	done <"$H_DIR/check.out"
	[ -z "$name" ] || fail "$name" "${diags[@]}"
	[ "$rc" -eq 0 ] || [ "$T_FAILED" -gt 0 ] ||
		fail "$* exits 0" "it exited $rc: $(cat "$H_DIR/check.out")"
}

# must_be STATUS: the last answer has STATUS, or the script stops (a
# wrong status here means a step below would not test what it says).
must_be() {
	[ "$STATUS" = "$1" ] || bail "$H_LAST_REQUEST: expected $1: $(h_last_response)"
}

check_tap python3 "$CHECK" --lint "$SPEC"

# --- /health -------------------------------------------------------------
api GET /health && must_be 200
api POST /health "${CL0[@]}" && must_be 405
api_plain GET /health && must_be 403

# --- /login --------------------------------------------------------------
api_json POST /login "{\"username\":\"alice\",\"password\":\"$PW\",\"device\":\"phone\"}"
must_be 200
alice=$(json token)
api_json POST /login "{\"username\":\"alice\",\"password\":\"$PW\"}" && must_be 200
alice2_session=$(json session_id)
api_json POST /login '{"username":"alice","password":"wrong password"}' && must_be 401
api_json POST /login '{"username":"alice"}' && must_be 400
api POST /login -H 'Content-Type: text/plain' --data-binary 'username=alice' && must_be 415
api_json POST /login "$BIG" && must_be 413
api_plain POST /login -H 'Content-Type: application/json' \
	--data-binary "{\"username\":\"alice\",\"password\":\"$PW\"}" && must_be 403
for _ in 1 2 3; do
	api_json POST /login '{"username":"bob","password":"wrong password"}' && must_be 401
done
api_json POST /login "{\"username\":\"bob\",\"password\":\"$PW\"}" && must_be 429
for d in one two three; do
	api_json POST /login "{\"username\":\"carol\",\"password\":\"$PW\",\"device\":\"$d\"}" &&
		must_be 200
done
api_json POST /login "{\"username\":\"carol\",\"password\":\"$PW\"}" && must_be 409
api GET /login && must_be 405
api HEAD /login && must_be 405

# --- /validate -----------------------------------------------------------
for m in GET HEAD; do
	api_bearer "$m" /validate "$alice" && must_be 200
	api "$m" /validate && must_be 401
	api_bearer "$m" /validate "$(h_random_token)" && must_be 401
	api_bearer "$m" /validate 'a b' && must_be 400
	api_plain "$m" /validate -H "Authorization: Bearer $alice" && must_be 403
done
api POST /validate "${CL0[@]}" && must_be 405
api DELETE /validate && must_be 405

# --- /sessions -----------------------------------------------------------
api_bearer GET /sessions "$alice" && must_be 200
api_bearer GET /sessions 'a b' && must_be 400
api GET /sessions && must_be 401
api_plain GET /sessions -H "Authorization: Bearer $alice" && must_be 403
api POST /sessions "${CL0[@]}" && must_be 405

# --- /sessions/{session_id} ----------------------------------------------
api_bearer DELETE "/sessions/$alice2_session" "$alice" && must_be 200
api_bearer DELETE "/sessions/$alice2_session" "$alice" && must_be 404
api_bearer DELETE /sessions/not-a-session "$alice" && must_be 404
api_bearer DELETE "/sessions/$alice2_session" 'a b' && must_be 400
api DELETE "/sessions/$alice2_session" && must_be 401
api_plain DELETE "/sessions/$alice2_session" -H "Authorization: Bearer $alice" && must_be 403
api GET "/sessions/$alice2_session" && must_be 405

# --- /refresh ------------------------------------------------------------
api_bearer POST /refresh "$alice" "${CL0[@]}" && must_be 200
alice=$(json token)
api_bearer POST /refresh "$alice" -H 'Content-Type: application/json' --data-binary '{}' &&
	must_be 200
alice=$(json token)
api_bearer POST /refresh "$(h_random_token)" "${CL0[@]}" && must_be 401
api POST /refresh "${CL0[@]}" && must_be 401
api_bearer POST /refresh 'a b' "${CL0[@]}" && must_be 400
api_plain POST /refresh -H "Authorization: Bearer $alice" "${CL0[@]}" && must_be 403
api_bearer POST /refresh "$alice" && must_be 411
api_bearer POST /refresh "$alice" -H 'Content-Type: application/json' --data-binary "$BIG" &&
	must_be 413
api_bearer POST /refresh "$alice" -H 'Content-Type: text/plain' --data-binary 'x' && must_be 415
api GET /refresh && must_be 405

# --- /logout -------------------------------------------------------------
api_json POST /login "{\"username\":\"alice\",\"password\":\"$PW\"}" && must_be 200
api_bearer POST /logout "$(json token)" "${CL0[@]}" && must_be 200
api_bearer POST /logout "$(h_random_token)" -H 'Content-Type: application/json' \
	--data-binary '{}' && must_be 200
api_bearer POST /logout "$alice" -H 'Content-Type: application/json' --data-binary '[1]' &&
	must_be 400
api_bearer POST /logout 'a b' "${CL0[@]}" && must_be 400
api POST /logout "${CL0[@]}" && must_be 401
api_plain POST /logout -H "Authorization: Bearer $alice" "${CL0[@]}" && must_be 403
api_bearer POST /logout "$alice" && must_be 411
api_bearer POST /logout "$alice" -H 'Content-Type: application/json' --data-binary "$BIG" &&
	must_be 413
api_bearer POST /logout "$alice" -H 'Content-Type: text/plain' --data-binary 'x' && must_be 415
api GET /logout && must_be 405

# --- /logout-all ---------------------------------------------------------
for d in one two; do
	api_json POST /login "{\"username\":\"dave\",\"password\":\"$PW\",\"device\":\"$d\"}" &&
		must_be 200
done
dave=$(json token)
api_bearer POST /logout-all "$dave" -H 'Content-Type: application/json' \
	--data-binary '{"keep_current":true}' && must_be 200
api_bearer POST /logout-all "$dave" "${CL0[@]}" && must_be 200
api_bearer POST /logout-all "$alice" -H 'Content-Type: application/json' \
	--data-binary '{"keep_current":"yes"}' && must_be 400
api POST /logout-all "${CL0[@]}" && must_be 401
api_plain POST /logout-all -H "Authorization: Bearer $alice" "${CL0[@]}" && must_be 403
api_bearer POST /logout-all "$alice" && must_be 411
api_bearer POST /logout-all "$alice" -H 'Content-Type: application/json' --data-binary "$BIG" &&
	must_be 413
api_bearer POST /logout-all "$alice" -H 'Content-Type: text/plain' --data-binary 'x' &&
	must_be 415
api GET /logout-all && must_be 405

# --- a path that is none of the above ------------------------------------
api GET /nowhere && must_be 404

# every_route_is STATUS: each route that needs the database answers STATUS
# (a token that need not be live: looking it up already fails).
every_route_is() {
	api_json POST /login "{\"username\":\"alice\",\"password\":\"$PW\"}" && must_be "$1"
	api_bearer POST /logout "$any" "${CL0[@]}" && must_be "$1"
	api_bearer GET /validate "$any" && must_be "$1"
	api_bearer HEAD /validate "$any" && must_be "$1"
	api_bearer POST /refresh "$any" "${CL0[@]}" && must_be "$1"
	api_bearer GET /sessions "$any" && must_be "$1"
	api_bearer DELETE "/sessions/$alice2_session" "$any" && must_be "$1"
	api_bearer POST /logout-all "$any" "${CL0[@]}" && must_be "$1"
}

# --- 500: the daemon's role loses its grants (a database error that is not
# an outage).  The token need not be live: looking it up already fails.
sql "REVOKE ALL ON ALL TABLES IN SCHEMA mdauth FROM mdauth_app;
	REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA mdauth FROM mdauth_app, PUBLIC" ||
	bail "cannot revoke the grants"
any=$(h_random_token)
every_route_is 500

# --- 503: PostgreSQL is down ---------------------------------------------
stack_pg_stop || bail "cannot stop PostgreSQL"
api GET /health && must_be 503
every_route_is 503

# --- the description against what was seen ---------------------------------
check_tap python3 "$CHECK" "$SPEC" "$API_RECORD"

# --- the checker can fail ----------------------------------------------------
# mutate EXPR: the description with EXPR applied to it (d: the document),
# in $H_DIR/mutated.yaml.
mutate() {
	python3 - "$SPEC" "$H_DIR/mutated.yaml" "$1" <<'EOF' || bail "cannot mutate the description"
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
exec(sys.argv[3])
yaml.safe_dump(d, open(sys.argv[2], "w"), sort_keys=False)
EOF
}
check_fails() {
	python3 "$CHECK" "$@" >"$H_DIR/check-mutated.out" 2>&1
	local rc=$?
	[ "$rc" -eq 1 ] && grep -q '^not ok' "$H_DIR/check-mutated.out"
}
mutate 'del d["paths"]["/login"]["post"]["responses"]["409"]'
ok "the check fails when a status seen is not described (409 of login removed)" \
	check_fails "$H_DIR/mutated.yaml" "$API_RECORD"
mutate 'd["paths"]["/health"]["get"]["responses"]["418"] = {"description": "never"}'
ok "the check fails when a status described is never seen (418 of health added)" \
	check_fails "$H_DIR/mutated.yaml" "$API_RECORD"
mutate 'd["components"]["schemas"]["Health"]["properties"]["uptime"] = {"type": "integer"}'
ok "the check fails when a member described is never seen (uptime in Health)" \
	check_fails "$H_DIR/mutated.yaml" "$API_RECORD"
mutate 'd["components"]["schemas"]["Token"]["properties"]["expires_in"]["type"] = "string"'
ok "the check fails when a member seen has another type (expires_in a string)" \
	check_fails "$H_DIR/mutated.yaml" "$API_RECORD"
mutate 'd["components"]["schemas"]["Health"]["oneOf"] = [{"type": "object"}]'
ok "the check fails on a schema keyword it does not validate (oneOf)" \
	check_fails "$H_DIR/mutated.yaml" "$API_RECORD"
{
	cat "$API_RECORD"
	grep -m 1 '"url":"[^"]*/health"' "$API_RECORD" |
		jq -c '.body = (.body | fromjson | .uptime = 5 | tojson)'
} >"$H_DIR/record-extra.jsonl"
ok "the check fails on an answer with a member that is not described (uptime)" \
	check_fails "$SPEC" "$H_DIR/record-extra.jsonl"
grep -v '"status":409' "$API_RECORD" >"$H_DIR/record-less.jsonl"
ok "the check fails when the answers lack a described status (no 409)" \
	check_fails "$SPEC" "$H_DIR/record-less.jsonl"

# --- the check of every test (--seen) ------------------------------------------
# seen RECORD: openapi_check.py --seen on RECORD passes; seen_fails: it fails
# (with a "not ok" line); seen_leaves_out RECORD WHAT: it passes and says it
# left WHAT out.
seen() {
	python3 "$CHECK" --seen "$SPEC" "$1" >"$H_DIR/check-seen.out" 2>&1
}
seen_fails() {
	! seen "$1" && grep -q '^not ok' "$H_DIR/check-seen.out"
}
seen_leaves_out() {
	seen "$1" && grep -qF "left out, $2" "$H_DIR/check-seen.out"
}
# answer STATUS CONTENT-TYPE BODY: a recorded POST /login, answered so.
answer() {
	grep -m 1 '"url":"[^"]*/login"' "$API_RECORD" |
		jq -c --argjson s "$1" --arg t "$2" --arg b "$3" \
			'.status = $s | .body = $b |
			 .headers = "HTTP/1.1 \($s) X\r\nContent-Type: \($t)\r\n\r\n"'
}
answer 502 text/html '<html>502 Bad Gateway</html>' >"$H_DIR/record-proxy.jsonl"
ok "--seen leaves out an answer of the web server itself (an HTML 502)" \
	seen_leaves_out "$H_DIR/record-proxy.jsonl" "the web server's own: 502 x1"
answer 502 application/json '{"error":"bad_gateway","error_description":"x"}' \
	>"$H_DIR/record-json.jsonl"
ok "--seen fails on a JSON answer with a status that is not described (502)" \
	seen_fails "$H_DIR/record-json.jsonl"
ok "--seen fails on an answer with a member that is not described (uptime)" \
	seen_fails "$H_DIR/record-extra.jsonl"

done_testing

#!/bin/bash
# The multi-device story end to end: a user logs in from five devices (a
# phone and four linked companions: the default cap), lists them, revokes
# one, refreshes another and logs out everywhere; then an operator does the
# same, first in psql, then with mdauthctl.
. "$(dirname "$0")/lib.sh"

h_setup workers=2
PW='correct horse battery staple'
h_user_add alice "$PW"
ALICE_ID=$(sql "SELECT id FROM mdauth.users WHERE username = 'alice'")

DEVICES=(phone laptop ipad desktop watch)
declare -A LABEL=(
	[phone]='Pixel 8'
	[laptop]='Firefox on laptop'
	[ipad]='iPad'
	[desktop]='Chrome on desktop'
	[watch]='Galaxy Watch'
)
declare -A AGENT=(
	[phone]='WhatsAppClone/2.1 (Android 14)'
	[laptop]='Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Firefox/132.0'
	[ipad]='WhatsAppClone/2.1 (iPadOS 17)'
	[desktop]='Mozilla/5.0 (Windows NT 10.0) Chrome/131.0'
	[watch]='WhatsAppClone-Wear/1.0'
)
declare -A TOK SID

# h_login_all: log in from each of the five devices, with its label and
# its User-Agent; TOK[device] and SID[device] are its token and session.
h_login_all() {
	local d
	for d in "${DEVICES[@]}"; do
		h_login_ok alice "$PW" "${LABEL[$d]}" -A "${AGENT[$d]}"
		TOK[$d]=$TOKEN
		SID[$d]=$SESSION_ID
	done
}

# h_list DEVICE: GET /sessions from DEVICE (with its User-Agent).
h_list() {
	req_bearer GET /sessions "${TOK[$1]}" -A "${AGENT[$1]}"
}

# h_listed_labels: the device labels of the last listing, sorted, one line.
h_listed_labels() {
	jq -r '[.sessions[].device] | sort | join(",")' <<<"$BODY" 2>/dev/null
}

# h_labels DEVICE...: their labels, sorted, one line (as h_listed_labels).
h_labels() {
	local d
	for d in "$@"; do
		printf '%s\n' "${LABEL[$d]}"
	done | sort | paste -sd ,
}

# h_codes DEVICE...: the status of GET /validate with each device's token,
# twice each (with 2 workers).
h_codes() {
	local d i
	for d in "$@"; do
		for i in 1 2; do
			req_bearer GET /validate "${TOK[$d]}"
			printf '%s ' "$STATUS"
		done
	done
}

# h_run [ARGS...]: run a command, keeping its status in RC and its output
# in OUT (its errors in $H_DIR/run.err).
h_run() {
	"$@" >"$H_DIR/run.out" 2>"$H_DIR/run.err"
	RC=$?
	OUT=$(cat "$H_DIR/run.out")
}

# ============================================================================
# The user, through the API
# ============================================================================
h_login_all
is "$(sql "SELECT count(*) FROM mdauth.sessions WHERE user_id = :'uid' AND revoked_at IS NULL" \
	uid="$ALICE_ID")" 5 "five devices log in and all five sessions are live (the default cap)"
is "$(sql "SELECT count(*) FROM mdauth.auth_events WHERE event = 'eviction'")" 0 \
	"five devices stay within the default cap: nothing is evicted"

# --- list --------------------------------------------------------------------
h_list phone
is "$STATUS" 200 "the phone lists the sessions"
is "$(jq '.sessions | length' <<<"$BODY")" 5 "the phone sees five sessions"
is "$(h_listed_labels)" "$(h_labels "${DEVICES[@]}")" "the list names the five devices"
is "$(jq -r '[.sessions[] | select(.current) | .device] | join(",")' <<<"$BODY")" 'Pixel 8' \
	"the phone's own session is the current one, and the only one"
is "$(jq -r --arg s "${SID[laptop]}" '.sessions[] | select(.session_id == $s) | .user_agent' \
	<<<"$BODY")" "${AGENT[laptop]}" "the list shows the user agent each device logged in with"
is "$(jq -r '[.sessions[].ip] | unique | join(",")' <<<"$BODY")" 127.0.0.1 \
	"the list shows the address each device logged in from"

# --- revoke one --------------------------------------------------------------
req_bearer DELETE "/sessions/${SID[ipad]}" "${TOK[phone]}" -A "${AGENT[phone]}"
is "$STATUS" 200 "the phone revokes the iPad"
is "$(h_codes ipad)" "$(repeat_words 2 401)" "the iPad's token is refused from then on"
h_list phone
is "$(h_listed_labels)" "$(h_labels phone laptop desktop watch)" "the iPad is gone from the list"

# --- refresh another ---------------------------------------------------------
old_laptop=${TOK[laptop]}
req_bearer POST /refresh "$old_laptop" -H 'Content-Length: 0' -A "${AGENT[laptop]}"
is "$STATUS" 200 "the laptop refreshes its token"
is "$(json session_id)" "${SID[laptop]}" "the laptop keeps its session"
TOK[laptop]=$(json token)
H_TOKENS+=("${TOK[laptop]}")
# The old token is dead at once.  Presenting it again would be a token
# reuse that ends the session (token_reuse.sh): the row says it instead.
is "$(sql "SELECT count(*) FROM mdauth.sessions WHERE id = :'sid'
	AND token_hash = sha256(convert_to(:'new', 'UTF8'))
	AND previous_token_hash = sha256(convert_to(:'old', 'UTF8'))" \
	sid="${SID[laptop]}" new="${TOK[laptop]}" old="$old_laptop")" 1 \
	"the laptop's session now holds the new token, the old one only as the replaced one"
is "$(h_codes laptop)" "$(repeat_words 2 200)" "the laptop's new token validates"
h_list laptop
is "$(h_listed_labels)" "$(h_labels phone laptop desktop watch)" \
	"the laptop, listing with its new token, sees the same four devices"
is "$(jq -r '[.sessions[] | select(.current) | .session_id] | join(",")' <<<"$BODY")" \
	"${SID[laptop]}" "for the laptop, its own (refreshed) session is the current one"

# --- log out everywhere ------------------------------------------------------
req_json POST /logout-all '{"keep_current": true}' \
	-H "Authorization: Bearer ${TOK[phone]}" -A "${AGENT[phone]}"
is "$BODY" '{"revoked":3}' "the phone logs out the other devices: {\"revoked\":3}"
is "$(h_codes phone laptop desktop watch)" "200 200 $(repeat_words 6 401)" \
	"the phone stays logged in, the laptop, desktop and watch do not"
h_list phone
is "$(h_listed_labels)" "$(h_labels phone)" "the list shows the phone alone"
req_bearer POST /logout-all "${TOK[phone]}" -H 'Content-Length: 0' -A "${AGENT[phone]}"
is "$BODY" '{"revoked":1}' "then the phone logs out everywhere: {\"revoked\":1}"
is "$(h_codes "${DEVICES[@]}")" "$(repeat_words 10 401)" "no device's token works any more"

# --- the audit trail ---------------------------------------------------------
is "$(sql "SELECT string_agg(event, ' ' ORDER BY id) FROM mdauth.auth_events
	WHERE user_id = :'uid'" uid="$ALICE_ID")" \
	"login_success login_success login_success login_success login_success revoke refresh logout_all logout_all" \
	"auth_events tells the story: five logins, a revoke, a refresh, two logouts everywhere"
is "$(sql "SELECT count(*) FROM mdauth.auth_events WHERE user_id = :'uid'
	AND (session_id IS NULL OR ip IS DISTINCT FROM '127.0.0.1' OR user_agent IS NULL)" \
	uid="$ALICE_ID")" 0 "every one of these events has the session, the ip and the user agent"
is "$(sql "SELECT user_agent FROM mdauth.auth_events WHERE event = 'refresh'")" "${AGENT[laptop]}" \
	"the refresh event has the laptop's user agent"
is "$(sql "SELECT session_id FROM mdauth.auth_events WHERE event = 'revoke'")" "${SID[ipad]}" \
	"the revoke event names the iPad's session"
is "$(sql "SELECT detail FROM mdauth.auth_events WHERE event = 'revoke'")" user \
	"the revoke event says the user did it"

# ============================================================================
# The operator, in psql
# ============================================================================
h_login_all
is "$(sql "SELECT string_agg(device, ',' ORDER BY device) FROM mdauth.active_sessions
	WHERE username = 'alice'")" "$(h_labels "${DEVICES[@]}")" \
	"the operator sees the five devices in mdauth.active_sessions"
is "$(sql "SELECT user_agent FROM mdauth.active_sessions WHERE session_id = :'sid'" \
	sid="${SID[watch]}")" "${AGENT[watch]}" "active_sessions shows each device's user agent"

is "$(sql "SELECT mdauth.revoke_session(:'sid')" sid="${SID[ipad]}")" t \
	"the operator revokes the iPad with revoke_session"
is "$(h_codes ipad)" "$(repeat_words 2 401)" "the iPad's token is refused from the next request on"
h_list phone
is "$(h_listed_labels)" "$(h_labels phone laptop desktop watch)" \
	"the user's own list no longer shows the iPad"

is "$(sql "SELECT mdauth.revoke_user_sessions('alice')")" 4 \
	"the operator logs the user out everywhere with revoke_user_sessions: 4"
is "$(h_codes "${DEVICES[@]}")" "$(repeat_words 10 401)" "no device's token works any more"
is "$(sql "SELECT count(*) FROM mdauth.active_sessions WHERE username = 'alice'")" 0 \
	"active_sessions shows no session of the user"
is "$(sql "SELECT count(*) FROM mdauth.auth_events WHERE event = 'revoke' AND detail = 'admin'")" 5 \
	"each revocation by the operator is an auth_events revoke row with detail admin (1 + 4)"

# ============================================================================
# The operator, with mdauthctl
# ============================================================================
h_login_all
h_run h_ctl session list --user alice
is "$RC" 0 "mdauthctl session list --user alice exits 0"
is "$(tail -n +2 <<<"$OUT" | grep -c .)" 5 "mdauthctl lists the five sessions"
missing=
for d in "${DEVICES[@]}"; do
	grep -F "${SID[$d]}" <<<"$OUT" | grep -qF "  ${LABEL[$d]}  " || missing="$missing $d"
done
is "$missing" "" "each listed session shows its device"

h_run h_ctl session revoke "${SID[ipad]}"
is "$OUT" "revoked session ${SID[ipad]}" "the operator revokes the iPad with mdauthctl session revoke"
is "$(h_codes ipad)" "$(repeat_words 2 401)" "the iPad's token is refused from the next request on"
h_list phone
is "$(h_listed_labels)" "$(h_labels phone laptop desktop watch)" \
	"the user's own list no longer shows the iPad"
h_run h_ctl session list --user alice
is "$(tail -n +2 <<<"$OUT" | grep -c .)" 4 "mdauthctl now lists four sessions"

h_run h_ctl session revoke --user alice
is "$OUT" "revoked 4 sessions of alice" \
	"the operator logs the user out everywhere with mdauthctl session revoke --user"
is "$(h_codes "${DEVICES[@]}")" "$(repeat_words 10 401)" "no device's token works any more"
h_run h_ctl session list --user alice
is "$(tail -n +2 <<<"$OUT" | grep -c .)" 0 "mdauthctl lists no session of the user"

dead=$(sql "SELECT count(*) FROM mdauth.sessions")
is "$dead" 15 "fifteen dead sessions are left (three rounds of five)"
h_run h_ctl prune
is "$OUT" "pruned 15 sessions and 0 events" "mdauthctl prune deletes them"
is "$(sql "SELECT count(*) FROM mdauth.sessions")" 0 "no session row is left"

# --- secrets -----------------------------------------------------------------
is "$(h_events_holding "${H_TOKENS[@]}")" "" "no auth_events row contains an issued token"
is "$(h_events_holding "$PW")" "" "no auth_events row contains the password"

done_testing

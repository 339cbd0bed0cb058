# tests/integration/apirecord.sh -- record the answers a test sees, for
# tests/openapi_check.py.
# shellcheck shell=bash
#
# Sourced after lib.sh.  After a request made with lib.sh's req, req_plain
# or req_url, `api_record METHOD URL [CURL ARGS...]` (the same method, URL
# and arguments) appends one JSON object per line to API_RECORD (default
# $H_DIR/api-record.jsonl):
#
#   {"method", "url", "status", "headers" (curl -D text), "body",
#    "request_type" (the Content-Type sent), "request_body"}
#
# api, api_plain and api_json make the request and record it in one go.

# api_record METHOD URL [CURL ARGS...]
api_record() {
	local method=$1 url=$2 type='' arg
	shift 2
	local file=${API_RECORD:-$H_DIR/api-record.jsonl}
	: >"$H_DIR/api-request-body"
	while [ $# -gt 0 ]; do
		arg=$1
		shift
		case $arg in
		--data-binary | --data | -d)
			case ${1-} in
			@*) cat "${1#@}" >"$H_DIR/api-request-body" ;;
			*) printf '%s' "${1-}" >"$H_DIR/api-request-body" ;;
			esac
			shift
			;;
		-H)
			if [[ ${1-} =~ ^[Cc]ontent-[Tt]ype:[[:space:]]*(.*)$ ]]; then
				type=${BASH_REMATCH[1]}
			fi
			shift
			;;
		esac
	done
	jq -cn --arg method "$method" --arg url "$url" --arg status "$STATUS" \
		--rawfile headers "$HEADERS" --rawfile body "$H_DIR/last-body" \
		--arg request_type "$type" --rawfile request_body "$H_DIR/api-request-body" \
		'{method: $method, url: $url, status: ($status | tonumber? // 0),
		  headers: $headers, body: $body, request_type: $request_type,
		  request_body: $request_body}' >>"$file" ||
		bail "cannot record the answer to $method $url"
}

# api METHOD PATH [CURL ARGS...]: req, recorded.
api() {
	req "$@"
	api_record "$1" "$H_URL$2" "${@:3}"
}

# api_plain METHOD PATH [CURL ARGS...]: req_plain (plain HTTP), recorded.
api_plain() {
	req_plain "$@"
	api_record "$1" "$H_PLAIN_URL$2" "${@:3}"
}

# api_json METHOD PATH JSON [CURL ARGS...]: a JSON body, recorded.
api_json() {
	api "$1" "$2" -H 'Content-Type: application/json' --data-binary "$3" "${@:4}"
}

# api_bearer METHOD PATH TOKEN [CURL ARGS...]
api_bearer() {
	api "$1" "$2" -H "Authorization: Bearer $3" "${@:4}"
}

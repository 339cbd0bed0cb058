# tests/integration/apirecord.sh -- record the answers a test sees, for
# tests/openapi_check.py.
# shellcheck shell=bash
#
# Sourced by lib.sh, which records every answer its req_url (and so req,
# req_plain, req_json, req_bearer, login...) and h_bg receive in
# $H_DIR/api-seen.jsonl; done_testing checks them (api_seen_check).
# openapi.sh records its own answers again with api, api_plain and
# api_json, which make the request and record it in API_RECORD (default
# $H_DIR/api-record.jsonl) in one go.  One JSON object per line:
#
#   {"method", "url", "status", "headers" (curl -D text), "body",
#    "request_type" (the Content-Type sent), "request_body"}

# api_record_answer FILE METHOD URL STATUS HEADERS BODY [CURL ARGS...]:
# append the answer STATUS, with the headers in file HEADERS and the body
# in file BODY, to the request made with METHOD, URL and CURL ARGS, to
# FILE.  The request's body and Content-Type are taken from the
# arguments (--data-binary, --data, -d; -H 'Content-Type: ...').
api_record_answer() {
	local file=$1 method=$2 url=$3 code=$4 head_file=$5 body_file=$6 type='' arg
	shift 6
	local -a request=(--arg request_body '')
	while [ $# -gt 0 ]; do
		arg=$1
		shift
		case $arg in
		--data-binary | --data | -d)
			case ${1-} in
			@*) request=(--rawfile request_body "${1#@}") ;;
			*) request=(--arg request_body "${1-}") ;;
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
	[ -f "$head_file" ] || head_file=/dev/null
	[ -f "$body_file" ] || body_file=/dev/null
	jq -cn --arg method "$method" --arg url "$url" --arg status "$code" \
		--rawfile headers "$head_file" --rawfile body "$body_file" \
		--arg request_type "$type" "${request[@]}" \
		'{method: $method, url: $url, status: ($status | tonumber? // 0),
		  headers: $headers, body: $body, request_type: $request_type,
		  request_body: $request_body}' >>"$file"
}

# api_method [CURL ARGS...]: the method curl uses with these arguments
# (-X, --request, --head, -I; a body makes it POST), for h_bg.
api_method() {
	local method=GET
	while [ $# -gt 0 ]; do
		case $1 in
		-X | --request) method=${2-GET}; shift ;;
		--head | -I) method=HEAD ;;
		--data-binary | --data | -d) [ "$method" != GET ] || method=POST; shift ;;
		-H | -o | -D | -w | --max-time | --cacert | --resolve) shift ;;
		esac
		shift
	done
	printf '%s\n' "$method"
}

# api_record METHOD URL [CURL ARGS...]: after a request made with lib.sh's
# req, req_plain or req_url, the same method, URL and arguments: its
# answer (STATUS, HEADERS, $H_DIR/last-body) to API_RECORD.
api_record() {
	api_record_answer "${API_RECORD:-$H_DIR/api-record.jsonl}" "$1" "$2" \
		"$STATUS" "$HEADERS" "$H_DIR/last-body" "${@:3}" ||
		bail "cannot record the answer to $1 $2"
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

/*
 * response.c -- response values and the response writer.
 *
 *	resp_init	an empty 500 response
 *	resp_error	the JSON error body of the contract
 *	resp_json	a JSON body
 *	resp_header	an extra header (X-Auth-User, ...)
 *	resp_render	the CGI response text
 *	resp_send	write it to FastCGI
 *	resp_free	release (and wipe) everything
 *	resp_time	RFC 3339 timestamps
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "response.h"
#include "text.h"

const char *const api_error_codes[ERR__MAX] = {
	"invalid_request",		/* ERR_INVALID_REQUEST */
	"invalid_credentials",		/* ERR_INVALID_CREDENTIALS */
	"invalid_token",		/* ERR_INVALID_TOKEN */
	"tls_required",			/* ERR_TLS_REQUIRED */
	"not_found",			/* ERR_NOT_FOUND */
	"method_not_allowed",		/* ERR_METHOD_NOT_ALLOWED */
	"session_limit_reached",	/* ERR_SESSION_LIMIT_REACHED */
	"payload_too_large",		/* ERR_PAYLOAD_TOO_LARGE */
	"unsupported_media_type",	/* ERR_UNSUPPORTED_MEDIA_TYPE */
	"too_many_requests",		/* ERR_TOO_MANY_REQUESTS */
	"service_unavailable",		/* ERR_SERVICE_UNAVAILABLE */
	"server_error",			/* ERR_SERVER_ERROR */
};

const int api_error_status[ERR__MAX] = {
	400, 401, 401, 403, 404, 405, 409, 413, 415, 429, 503, 500,
};

static const char *
resp_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 429: return "Too Many Requests";
	case 503: return "Service Unavailable";
	default: return "Internal Server Error";
	}
}

void
resp_init(struct response *resp)
{
	memset(resp, 0, sizeof(*resp));
	resp->status = 500;
}

static void
resp_set_body(struct response *resp, json_object *body)
{
	if (resp->body != NULL)
		json_object_put(resp->body);
	resp->body = body;
}

void
resp_error(struct response *resp, enum api_error err, const char *description)
{
	json_object *body = json_object_new_object();

	resp->status = api_error_status[err];
	if (body != NULL) {
		json_object_object_add(body, "error",
		    json_object_new_string(api_error_codes[err]));
		json_object_object_add(body, "error_description",
		    json_object_new_string(description));
	}
	resp_set_body(resp, body);
	resp->error_description = description;
}

void
resp_json(struct response *resp, int status, json_object *body)
{
	resp->status = status;
	resp_set_body(resp, body);
}

int
resp_header(struct response *resp, const char *name, const char *value)
{
	char *copy;

	/* A stored value (a username set with SQL) must not split the header. */
	if (resp->nheaders == RESPONSE_HEADERS_MAX ||
	    !text_printable(value, strlen(value)) ||
	    (copy = strdup(value)) == NULL)
		return 0;
	resp->headers[resp->nheaders].name = name;
	resp->headers[resp->nheaders].value = copy;
	resp->nheaders++;
	return 1;
}

/* The WWW-Authenticate value of a challenge, RFC 6750 section 3. */
static void
resp_challenge(FILE *f, const struct response *resp, const char *realm)
{
	const char *error = NULL;

	switch (resp->challenge) {
	case CHALLENGE_NONE:
	case CHALLENGE__MAX:
		return;
	case CHALLENGE_PLAIN:
		break;
	case CHALLENGE_INVALID_TOKEN:
		error = "invalid_token";
		break;
	case CHALLENGE_INVALID_REQUEST:
		error = "invalid_request";
		break;
	}
	fprintf(f, "WWW-Authenticate: Bearer realm=\"%s\"", realm);
	/* Descriptions are our own static ASCII text without quotes. */
	if (error != NULL)
		fprintf(f, ", error=\"%s\", error_description=\"%s\"", error,
		    resp->error_description != NULL ?
		    resp->error_description : error);
	fputs("\r\n", f);
}

char *
resp_render(const struct response *resp, const char *realm, size_t *len)
{
	const char *json = NULL;
	char *buf = NULL;
	size_t i, size = 0;
	FILE *f;

	if (resp->body != NULL)
		json = json_object_to_json_string_ext(resp->body,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if ((f = open_memstream(&buf, &size)) == NULL)
		return NULL;
	fprintf(f, "Status: %d %s\r\n", resp->status, resp_reason(resp->status));
	fputs("Content-Type: application/json\r\n", f);
	fputs("Cache-Control: no-store\r\n", f);
	if (resp->secret)
		fputs("Pragma: no-cache\r\n", f);
	resp_challenge(f, resp, realm);
	if (resp->allow != NULL)
		fprintf(f, "Allow: %s\r\n", resp->allow);
	if (resp->retry_after > 0)
		fprintf(f, "Retry-After: %d\r\n", resp->retry_after);
	for (i = 0; i < resp->nheaders; i++)
		fprintf(f, "%s: %s\r\n", resp->headers[i].name,
		    resp->headers[i].value);
	if (json != NULL && !resp->head)
		fprintf(f, "Content-Length: %zu\r\n\r\n%s\n", strlen(json) + 1,
		    json);
	else
		fputs("\r\n", f);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	*len = size;
	return buf;
}

int
resp_send(const struct response *resp, const char *realm, FCGX_Stream *out)
{
	size_t len;
	char *text;
	int rc = 1;

	if ((text = resp_render(resp, realm, &len)) == NULL) {
		log_error("response: cannot render: out of memory");
		FCGX_PutS("Status: 500 Internal Server Error\r\n"
		    "Content-Type: application/json\r\n"
		    "Cache-Control: no-store\r\n\r\n"
		    "{\"error\":\"server_error\",\"error_description\":"
		    "\"out of memory\"}\n", out);
		return 0;
	}
	if (FCGX_PutStr(text, (int)len, out) != (int)len) {
		log_warn("response: write failed: the web server went away");
		rc = 0;
	}
	if (resp->secret)
		explicit_bzero(text, len);
	free(text);
	return rc;
}

/* Wipe every string member of a JSON object (the token, in practice). */
static void
resp_wipe_json(json_object *obj)
{
	json_object_object_foreach(obj, key, val) {
		(void)key;
		if (json_object_is_type(val, json_type_string))
			explicit_bzero((char *)(uintptr_t)json_object_get_string(val),
			    (size_t)json_object_get_string_len(val));
	}
}

void
resp_free(struct response *resp)
{
	size_t i;

	if (resp->body != NULL) {
		if (resp->secret && json_object_is_type(resp->body,
		    json_type_object)) {
			/* json-c keeps the rendered text in the object too. */
			const char *text = json_object_to_json_string_ext(
			    resp->body, JSON_C_TO_STRING_PLAIN |
			    JSON_C_TO_STRING_NOSLASHESCAPE);

			if (text != NULL)
				explicit_bzero((char *)(uintptr_t)text,
				    strlen(text));
			resp_wipe_json(resp->body);
		}
		json_object_put(resp->body);
	}
	for (i = 0; i < resp->nheaders; i++)
		free(resp->headers[i].value);
	memset(resp, 0, sizeof(*resp));
}

char *
resp_time(long long t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "1970-01-01T00:00:00Z");
	return buf;
}

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

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "response.h"
#include "secmem.h"
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

static void resp_put_body(struct response *);

static void
resp_set_body(struct response *resp, json_object *body)
{
	resp_put_body(resp);
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

/*
 * The response text is written twice through a sink: once to count its
 * bytes (buf NULL), once into a buffer of exactly that size, so that a
 * token is never in a buffer grown with realloc(3), as open_memstream(3)'s
 * and json-c's printbuf are (secmem.c says why).
 */
struct resp_sink {
	char	*buf;		/* NULL: only count */
	size_t	 len;		/* bytes written (or counted) so far */
	size_t	 cap;		/* size of buf, less its final NUL */
};

/* Append n bytes (or count them); past cap, only count. */
static void
resp_sink_put(struct resp_sink *s, const char *p, size_t n)
{
	if (s->buf != NULL && s->len <= s->cap && n <= s->cap - s->len)
		memcpy(s->buf + s->len, p, n);
	s->len += n;
}

static void
resp_sink_puts(struct resp_sink *s, const char *p)
{
	resp_sink_put(s, p, strlen(p));
}

/*
 * Append formatted text (or count it).  For headers only: vsnprintf(3) may
 * pass its output through a buffer on the stack.
 */
static void resp_sink_printf(struct resp_sink *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
resp_sink_printf(struct resp_sink *s, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	if (s->buf != NULL && s->len <= s->cap)
		n = vsnprintf(s->buf + s->len, s->cap - s->len + 1, fmt, ap);
	else
		n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		s->len += (size_t)n;
}

/*
 * A JSON string, escaped as json-c escapes it with
 * JSON_C_TO_STRING_NOSLASHESCAPE (RFC 8259 section 7), byte by byte into
 * the sink: no intermediate copy.
 */
static void
resp_sink_json_string(struct resp_sink *s, const char *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	char esc[7];
	size_t i;

	resp_sink_put(s, "\"", 1);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			resp_sink_put(s, esc, 2);
		} else if (c < 0x20) {
			esc[0] = '\\';
			switch (c) {
			case '\b': esc[1] = 'b'; break;
			case '\f': esc[1] = 'f'; break;
			case '\n': esc[1] = 'n'; break;
			case '\r': esc[1] = 'r'; break;
			case '\t': esc[1] = 't'; break;
			default:
				memcpy(esc + 1, "u00", 3);
				esc[4] = hex[c >> 4];
				esc[5] = hex[c & 0xf];
				resp_sink_put(s, esc, 6);
				continue;
			}
			resp_sink_put(s, esc, 2);
		} else
			resp_sink_put(s, p + i, 1);
	}
	resp_sink_put(s, "\"", 1);
}

/*
 * The body of a response that holds a token: a flat object whose strings
 * are written straight into the sink.  Members that are not strings hold
 * no secret and are rendered by json-c.  Returns 0 if json-c could not
 * render one (out of memory).
 */
static int
resp_sink_secret_body(struct resp_sink *s, json_object *body)
{
	const char *sep = "{", *text;

	json_object_object_foreach(body, key, val) {
		resp_sink_puts(s, sep);
		resp_sink_json_string(s, key, strlen(key));
		resp_sink_put(s, ":", 1);
		if (json_object_is_type(val, json_type_string))
			resp_sink_json_string(s, json_object_get_string(val),
			    (size_t)json_object_get_string_len(val));
		else if ((text = json_object_to_json_string_ext(val,
		    JSON_C_TO_STRING_PLAIN |
		    JSON_C_TO_STRING_NOSLASHESCAPE)) != NULL)
			resp_sink_puts(s, text);
		else
			return 0;
		sep = ",";
	}
	resp_sink_puts(s, *sep == '{' ? "{}" : "}");
	return 1;
}

/* The body (json, or else the secret one) and its final newline. */
static int
resp_sink_body(struct resp_sink *s, const struct response *resp,
    const char *json)
{
	if (json != NULL)
		resp_sink_puts(s, json);
	else if (!resp_sink_secret_body(s, resp->body))
		return 0;
	resp_sink_put(s, "\n", 1);
	return 1;
}

/* The WWW-Authenticate value of a challenge, RFC 6750 section 3. */
static void
resp_challenge(struct resp_sink *s, const struct response *resp, const char *realm)
{
	const char *error = NULL;

	switch (resp->challenge) {
	case CHALLENGE_NONE:
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
	resp_sink_printf(s, "WWW-Authenticate: Bearer realm=\"%s\"", realm);
	/* Descriptions are our own static ASCII text without quotes. */
	if (error != NULL)
		resp_sink_printf(s, ", error=\"%s\", error_description=\"%s\"", error,
		    resp->error_description != NULL ?
		    resp->error_description : error);
	resp_sink_puts(s, "\r\n");
}

/* The whole CGI response text; returns 0 if the body could not be rendered. */
static int
resp_write(struct resp_sink *s, const struct response *resp, const char *realm,
    const char *json)
{
	struct resp_sink count = { NULL, 0, 0 };
	size_t i;

	resp_sink_printf(s, "Status: %d %s\r\n", resp->status,
	    resp_reason(resp->status));
	resp_sink_puts(s, "Content-Type: application/json\r\n");
	resp_sink_puts(s, "Cache-Control: no-store\r\n");
	if (resp->secret)
		resp_sink_puts(s, "Pragma: no-cache\r\n");
	resp_challenge(s, resp, realm);
	if (resp->allow != NULL)
		resp_sink_printf(s, "Allow: %s\r\n", resp->allow);
	if (resp->retry_after > 0)
		resp_sink_printf(s, "Retry-After: %d\r\n", resp->retry_after);
	for (i = 0; i < resp->nheaders; i++)
		resp_sink_printf(s, "%s: %s\r\n", resp->headers[i].name,
		    resp->headers[i].value);
	if (resp->body == NULL || resp->head) {
		resp_sink_puts(s, "\r\n");
		return 1;
	}
	if (!resp_sink_body(&count, resp, json))
		return 0;
	resp_sink_printf(s, "Content-Length: %zu\r\n\r\n", count.len);
	return resp_sink_body(s, resp, json);
}

char *
resp_render(const struct response *resp, const char *realm, size_t *len)
{
	struct resp_sink s = { NULL, 0, 0 };
	const char *json = NULL;

	/* A body that holds a token never goes through json-c's printbuf. */
	if (resp->body != NULL && !(resp->secret &&
	    json_object_is_type(resp->body, json_type_object))) {
		json = json_object_to_json_string_ext(resp->body,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
		if (json == NULL)
			return NULL;
	}
	if (!resp_write(&s, resp, realm, json))
		return NULL;
	s.cap = s.len;
	s.len = 0;
	if ((s.buf = secmem_alloc(s.cap + 1)) == NULL)
		return NULL;
	/* The second pass writes what the first counted, or nothing goes out. */
	if (!resp_write(&s, resp, realm, json) || s.len != s.cap) {
		secmem_free(s.buf, s.cap);
		return NULL;
	}
	s.buf[s.cap] = '\0';
	*len = s.cap;
	return s.buf;
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
	secmem_free(text, len);
	return rc;
}

/*
 * Release the body, wiping it first if it holds a token (never rendered
 * by json-c, see resp_render: only its strings hold it).
 */
static void
resp_put_body(struct response *resp)
{
	if (resp->secret)
		secmem_json_put(resp->body);
	else
		json_object_put(resp->body);
	resp->body = NULL;
}

void
resp_free(struct response *resp)
{
	size_t i;

	resp_put_body(resp);
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

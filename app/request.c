/*
 * request.c -- the request reader.
 *
 *	request_from_params	FastCGI parameters into struct request
 *	request_is_json		Content-Type check
 *	request_read_body	read exactly CONTENT_LENGTH bytes
 *	request_free		wipe and free the body
 *	request_json_lex	the RFC 8259 tokens json-c is lenient about
 *	request_parse_json	strict JSON object parsing with json-c
 *	request_parse_login	the login body, field by field
 *	request_login_free	wipe the password and free the object
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/printbuf.h>

#include "log.h"
#include "password.h"
#include "request.h"
#include "secmem.h"
#include "text.h"

const char *const http_method_names[METHOD__MAX] = {
	"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "OTHER",
};

static enum http_method
request_method(const char *name)
{
	size_t i;

	if (name == NULL)
		return METHOD_OTHER;
	for (i = 0; i < METHOD_OTHER; i++)
		if (strcmp(name, http_method_names[i]) == 0)
			return i;
	return METHOD_OTHER;
}

static const char *
request_param(FCGX_ParamArray envp, const char *name, const char *dflt)
{
	const char *v = FCGX_GetParam(name, envp);

	return v != NULL ? v : dflt;
}

static enum fcgi_role
request_role(const char *name)
{
	if (name == NULL || strcmp(name, "RESPONDER") == 0)
		return ROLE_RESPONDER;
	if (strcmp(name, "AUTHORIZER") == 0)
		return ROLE_AUTHORIZER;
	return ROLE_OTHER;
}

static enum apache_role
request_apache_role(const char *name)
{
	if (name == NULL)
		return APACHE_ROLE_NONE;
	if (strcmp(name, "AUTHENTICATOR") == 0)
		return APACHE_ROLE_AUTHENTICATOR;
	if (strcmp(name, "AUTHORIZER") == 0)
		return APACHE_ROLE_AUTHORIZER;
	return APACHE_ROLE_OTHER;
}

void
request_from_params(struct request *req, FCGX_ParamArray envp)
{
	const char *len, *https;
	char *end;

	memset(req, 0, sizeof(*req));
	req->role = request_role(FCGX_GetParam("FCGI_ROLE", envp));
	req->uri = "";
	/* What only an authorizer uses is not looked up for every request. */
	if (req->role == ROLE_AUTHORIZER) {
		req->apache_role = request_apache_role(
		    FCGX_GetParam("FCGI_APACHE_ROLE", envp));
		req->remote_user = FCGX_GetParam("REMOTE_USER", envp);
		if (req->remote_user != NULL && *req->remote_user == '\0')
			req->remote_user = NULL;
		req->remote_passwd = FCGX_GetParam("REMOTE_PASSWD", envp);
		req->uri = request_param(envp, "REQUEST_URI", "");
	}
	req->method = request_method(FCGX_GetParam("REQUEST_METHOD", envp));
	req->path = request_param(envp, "PATH_INFO", "");
	req->content_type = FCGX_GetParam("CONTENT_TYPE", envp);
	req->authorization = FCGX_GetParam("HTTP_AUTHORIZATION", envp);
	req->remote_addr = request_param(envp, "REMOTE_ADDR", "");
	req->user_agent = request_param(envp, "HTTP_USER_AGENT", "");
	https = FCGX_GetParam("HTTPS", envp);
	req->https = https != NULL && strcasecmp(https, "on") == 0;

	req->content_length = -1;
	len = FCGX_GetParam("CONTENT_LENGTH", envp);
	if (len != NULL && *len != '\0') {
		errno = 0;
		req->content_length = strtoll(len, &end, 10);
		if (errno != 0 || *end != '\0' || len[0] < '0' || len[0] > '9') {
			req->content_length = -1;
			req->content_length_bad = true;
		}
	}
}

bool
request_is_json(const char *ct)
{
	static const char json[] = "application/json";
	size_t n = sizeof(json) - 1;

	if (ct == NULL || strncasecmp(ct, json, n) != 0)
		return false;
	ct += n;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0' || *ct == ';';
}

int
request_read_body(struct request *req, FCGX_Stream *in)
{
	size_t want, got = 0;

	want = req->content_length > 0 ? (size_t)req->content_length : 0;
	if ((req->body = secmem_alloc(want + 1)) == NULL) {
		log_error("request: body of %zu bytes: out of memory", want);
		return 0;
	}
	while (got < want) {
		int n = FCGX_GetStr(req->body + got, (int)(want - got), in);

		if (n <= 0)
			break;
		got += (size_t)n;
	}
	req->body[got] = '\0';
	req->body_len = got;
	return got == want;
}

void
request_free(struct request *req)
{
	secmem_free(req->body, req->body_len);
	req->body = NULL;
}

/* The value of 4 hex digits at s[i], or a value above 0xffff if there are none. */
static unsigned
request_json_hex4(const char *s, size_t len, size_t i)
{
	unsigned v = 0;
	size_t j;

	for (j = i; j < i + 4; j++) {
		if (j >= len || !isxdigit((unsigned char)s[j]))
			return 0x10000;
		v = v << 4 | (unsigned)(isdigit((unsigned char)s[j]) ?
		    s[j] - '0' : (tolower((unsigned char)s[j]) - 'a' + 10));
	}
	return v;
}

/*
 * json-c's strict mode still takes single-quoted strings, NaN and
 * Infinity, raw control characters in strings, numbers such as "1." or
 * "01", and unpaired surrogate escapes (which it turns into U+FFFD, so
 * that two different inputs would name one user).  Check the tokens of
 * RFC 8259 sections 2-7 ourselves, before json-c builds the tree (and
 * checks the structure).  Counts in *top_keys the
 * member names of the outermost object, so that a duplicate member, which
 * json-c would silently resolve to the last value, can be refused.
 * Returns 1 if every token is valid, 0 with *why otherwise.
 */
static int
request_json_lex(const char *s, size_t len, size_t *top_keys, const char **why)
{
	static const char *const literals[] = { "true", "false", "null" };
	size_t i = 0, n, depth = 0, k;

	*top_keys = 0;
	while (i < len) {
		unsigned char c = (unsigned char)s[i];

		if (strchr(" \t\r\n{}[]:,", c) != NULL && c != '\0') {
			if (c == '{' || c == '[')
				depth++;
			else if ((c == '}' || c == ']') && depth > 0)
				depth--;
			i++;
		} else if (c == '"') {
			for (i++; i < len && s[i] != '"'; i++) {
				if ((unsigned char)s[i] < 0x20) {
					*why = "a string in the request body "
					    "contains a raw control character";
					return 0;
				}
				if (s[i] != '\\')
					continue;
				if (++i == len)
					break;
				if (s[i] == 'u') {
					unsigned cp = request_json_hex4(s, len,
					    i + 1), low;

					if (cp > 0xffff)
						goto bad_escape;
					/*
					 * json-c ends member names at a NUL, so
					 * "username\u0000x" would read as "username".
					 */
					if (cp == 0) {
						*why = "request body contains a NUL "
						    "character";
						return 0;
					}
					i += 4;
					if (cp >= 0xdc00 && cp <= 0xdfff)
						goto bad_surrogate;
					if (cp < 0xd800 || cp > 0xdbff)
						continue;
					/* A high surrogate must be followed by a low one. */
					if (i + 2 >= len || s[i + 1] != '\\' ||
					    s[i + 2] != 'u')
						goto bad_surrogate;
					low = request_json_hex4(s, len, i + 3);
					if (low < 0xdc00 || low > 0xdfff)
						goto bad_surrogate;
					i += 6;
				} else if (strchr("\"\\/bfnrt", s[i]) == NULL ||
				    s[i] == '\0')
					goto bad_escape;
			}
			if (i == len) {
				*why = "a string in the request body is not "
				    "terminated";
				return 0;
			}
			i++;
			/* A string followed by ':' one level down is a member name. */
			for (k = i; k < len && strchr(" \t\r\n", s[k]) != NULL &&
			    s[k] != '\0'; k++)
				;
			if (depth == 1 && k < len && s[k] == ':')
				(*top_keys)++;
		} else if (c == '-' || isdigit(c)) {
			/* -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? */
			if (c == '-')
				i++;
			if (i < len && s[i] == '0')
				i++;
			else if (i < len && isdigit((unsigned char)s[i]))
				while (i < len && isdigit((unsigned char)s[i]))
					i++;
			else
				goto bad_number;
			if (i < len && s[i] == '.') {
				if (++i == len || !isdigit((unsigned char)s[i]))
					goto bad_number;
				while (i < len && isdigit((unsigned char)s[i]))
					i++;
			}
			if (i < len && (s[i] == 'e' || s[i] == 'E')) {
				if (++i < len && (s[i] == '+' || s[i] == '-'))
					i++;
				if (i == len || !isdigit((unsigned char)s[i]))
					goto bad_number;
				while (i < len && isdigit((unsigned char)s[i]))
					i++;
			}
			if (i < len && (isalnum((unsigned char)s[i]) ||
			    s[i] == '.' || s[i] == '-' || s[i] == '+'))
				goto bad_number;
		} else {
			for (n = 0; n < 3; n++) {
				size_t l = strlen(literals[n]);

				if (len - i >= l && memcmp(s + i, literals[n], l) == 0 &&
				    (len - i == l || !isalnum((unsigned char)s[i + l])))
					break;
			}
			if (n == 3) {
				*why = "request body is not valid JSON";
				return 0;
			}
			i += strlen(literals[n]);
		}
	}
	return 1;
bad_escape:
	*why = "a string in the request body has an invalid escape";
	return 0;
bad_surrogate:
	*why = "a string in the request body has an unpaired surrogate";
	return 0;
bad_number:
	*why = "a number in the request body is malformed";
	return 0;
}

/* json-c keeps the last string it read (often the password) in its buffer. */
static void
request_tokener_wipe(struct json_tokener *tok)
{
	if (tok->pb != NULL && tok->pb->buf != NULL)
		explicit_bzero(tok->pb->buf, (size_t)tok->pb->size);
}

json_object *
request_parse_json(const char *body, size_t len, const char **why)
{
	struct json_tokener *tok;
	json_object *obj;
	size_t end, top_keys;

	*why = "request body is not valid JSON";
	if (len == 0) {
		*why = "request body is empty";
		return NULL;
	}
	if (memchr(body, '\0', len) != NULL) {
		*why = "request body contains a NUL byte";
		return NULL;
	}
	/* RFC 8259 section 8.1: the whole text is UTF-8, checked strictly. */
	if (!text_utf8_valid(body, len)) {
		*why = "request body is not valid UTF-8";
		return NULL;
	}
	if (len >= (size_t)INT32_MAX || !request_json_lex(body, len, &top_keys, why))
		return NULL;
	/* json-c counts the levels from 1; allow JSON_DEPTH_MAX levels. */
	if ((tok = json_tokener_new_ex(JSON_DEPTH_MAX + 1)) == NULL)
		return NULL;
	/*
	 * json-c collects each string (the password) in tok->pb, grown with
	 * realloc(3) as it goes, which would leave pieces of it in freed
	 * memory.  Grow the buffer now, while it holds nothing, to the body's
	 * size: no string in the body can be longer.
	 */
	if (printbuf_memset(tok->pb, 0, 0, (int)len + 1) < 0) {
		json_tokener_free(tok);
		return NULL;
	}
	printbuf_reset(tok->pb);
	/* Trailing data is allowed here only to be refused below with a clear reason. */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_ALLOW_TRAILING_CHARS | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, body, (int)len);
	request_tokener_wipe(tok);
	switch (json_tokener_get_error(tok)) {
	case json_tokener_success:
		break;
	case json_tokener_error_depth:
		*why = "request body is nested too deeply";
		goto fail;
	case json_tokener_error_parse_utf8_string:
		*why = "request body is not valid UTF-8";
		goto fail;
	default:
		goto fail;
	}
	for (end = json_tokener_get_parse_end(tok); end < len; end++)
		if (strchr(" \t\r\n", body[end]) == NULL) {
			*why = "request body has data after the JSON value";
			goto fail;
		}
	json_tokener_free(tok);
	if (!json_object_is_type(obj, json_type_object)) {
		*why = "request body is not a JSON object";
		json_object_put(obj);
		return NULL;
	}
	/* RFC 8259 section 4: names SHOULD be unique; we insist. */
	if ((size_t)json_object_object_length(obj) != top_keys) {
		*why = "request body has a duplicate member";
		json_object_put(obj);
		return NULL;
	}
	return obj;
fail:
	json_object_put(obj);
	json_tokener_free(tok);
	return NULL;
}

/*
 * Fetch a string member.  json-c keeps "\u0000" inside the string but
 * returns a C string that ends there, so a length that differs from
 * strlen() means an embedded NUL.  Returns 1 with the value (NULL if
 * absent and optional), 0 with *why.
 */
static int
request_string_field(json_object *obj, const char *name, bool required,
    size_t max, const char **out, size_t *outlen, const char **why)
{
	static char reason[96];
	json_object *v;
	int len;

	*out = NULL;
	*outlen = 0;
	if (!json_object_object_get_ex(obj, name, &v)) {
		if (!required)
			return 1;
		snprintf(reason, sizeof(reason), "\"%s\" is missing", name);
		goto fail;
	}
	if (!json_object_is_type(v, json_type_string)) {
		snprintf(reason, sizeof(reason), "\"%s\" must be a string", name);
		goto fail;
	}
	len = json_object_get_string_len(v);
	*out = json_object_get_string(v);
	if (len < 0 || (size_t)len != strlen(*out)) {
		snprintf(reason, sizeof(reason), "\"%s\" contains a NUL character",
		    name);
		goto fail;
	}
	/* "\ud800" alone decodes to bytes that are not UTF-8. */
	if (!text_utf8_valid(*out, (size_t)len)) {
		snprintf(reason, sizeof(reason), "\"%s\" is not valid UTF-8",
		    name);
		goto fail;
	}
	if (len == 0) {
		snprintf(reason, sizeof(reason), "\"%s\" is empty", name);
		goto fail;
	}
	if ((size_t)len > max) {
		snprintf(reason, sizeof(reason), "\"%s\" is longer than %zu bytes",
		    name, max);
		goto fail;
	}
	*outlen = (size_t)len;
	return 1;
fail:
	*out = NULL;
	*why = reason;
	return 0;
}

int
request_parse_login(const char *body, size_t len, struct login_input *in,
    const char **why)
{
	size_t device_len;

	memset(in, 0, sizeof(*in));
	if ((in->root = request_parse_json(body, len, why)) == NULL)
		return 0;
	if (!request_string_field(in->root, "username", true, USERNAME_MAX,
	    &in->username, &in->username_len, why) ||
	    !request_string_field(in->root, "password", true, PASSWORD_MAX,
	    &in->password, &in->password_len, why) ||
	    !request_string_field(in->root, "device", false, DEVICE_MAX,
	    &in->device, &device_len, why)) {
		request_login_free(in);
		return 0;
	}
	/*
	 * No name with a control character can exist (mdauthctl and the
	 * database refuse them), so such a login is a malformed request:
	 * 400 before any database work or hash, and nothing of it is logged.
	 */
	if (!text_no_control(in->username, in->username_len)) {
		*why = "\"username\" contains a control character";
		request_login_free(in);
		return 0;
	}
	/* A label shown in device lists and terminals: no control characters. */
	if (in->device != NULL && !text_printable(in->device, device_len)) {
		*why = "\"device\" contains a control character";
		request_login_free(in);
		return 0;
	}
	return 1;
}

void
request_login_free(struct login_input *in)
{
	/* json-c holds the password's bytes: wiped before they are freed. */
	secmem_json_put(in->root);
	memset(in, 0, sizeof(*in));
}

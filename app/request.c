/*
 * request.c -- the request reader.
 *
 *	request_from_params	FastCGI parameters into struct request
 *	request_is_json		Content-Type check
 *	request_read_body	read exactly CONTENT_LENGTH bytes
 *	request_free		wipe and free the body
 *	request_parse_json	strict RFC 8259 parsing into a json-c object
 *	request_parse_login	the login body, field by field
 *	request_login_free	wipe the password and free the object
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

/*
 * The JSON of request bodies (RFC 8259), parsed here rather than by
 * json-c's tokener, for two reasons.  json-c collects every string it reads
 * (the password) in a buffer that it grows with realloc(3) and keeps in a
 * private field of struct json_tokener (tok->pb): keeping copies of the
 * password out of freed memory meant reaching into that field, to size the
 * buffer before the parse and wipe it after (secmem.c says why it
 * matters).  No public json-c function sizes or wipes it.  And json-c's
 * strict mode is not RFC 8259: it takes single-quoted strings, NaN and
 * Infinity, raw control characters in strings, numbers such as "1." or
 * "01" and unpaired surrogate escapes (which it turns into U+FFFD, so that
 * two different inputs would name one user), ends a member name at an
 * escaped NUL and keeps the last of two members of the same name; a lexer
 * of ours had to refuse all that before json-c saw the body.  That lexer,
 * with the grammar added, is this parser.  It decodes each string once,
 * into a buffer of its final size that is wiped when it is freed
 * (secmem_alloc, secmem_free), and builds the json-c tree that handlers
 * read with json-c's public constructors.  json-c still renders responses
 * (response.c).
 */
struct request_json {
	const char	*s;
	size_t		 len;
	size_t		 i;		/* the next byte to read */
	const char	*why;		/* why the body is refused */
};

/* Refuse the body; returns 0. */
static int
request_json_fail(struct request_json *p, const char *why)
{
	p->why = why;
	return 0;
}

static void
request_json_skip_ws(struct request_json *p)
{
	while (p->i < p->len && (p->s[p->i] == ' ' || p->s[p->i] == '\t' ||
	    p->s[p->i] == '\r' || p->s[p->i] == '\n'))
		p->i++;
}

/* Is the next byte after white space c?  Then it is read. */
static bool
request_json_take(struct request_json *p, char c)
{
	request_json_skip_ws(p);
	if (p->i == p->len || p->s[p->i] != c)
		return false;
	p->i++;
	return true;
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

/* Code point cp (at most U+10FFFF) as UTF-8 at out; returns its length. */
static size_t
request_json_utf8(unsigned cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * The escape at s[*i] (its backslash) of a string that ends at end: its
 * bytes at out, *i on its last character.  Returns their number, or 0
 * with p->why.  "\u0000" is refused: C strings (and json-c's member names)
 * end at a NUL, so "username\u0000x" would read as "username".
 */
static size_t
request_json_escape(struct request_json *p, size_t *i, size_t end, char *out)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *s = p->s, *e;
	unsigned cp, low;

	/* The closing quote is not escaped, so the escape ends before it. */
	(*i)++;
	if (s[*i] != 'u') {
		if ((e = strchr(from, s[*i])) == NULL)
			return request_json_fail(p, "a string in the request body has an "
			    "invalid escape");
		*out = to[e - from];
		return 1;
	}
	if ((cp = request_json_hex4(s, end, *i + 1)) > 0xffff)
		return request_json_fail(p, "a string in the request body has an "
		    "invalid escape");
	if (cp == 0)
		return request_json_fail(p, "request body contains a NUL character");
	*i += 4;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		goto bad_surrogate;
	if (cp >= 0xd800 && cp <= 0xdbff) {
		/* A high surrogate must be followed by a low one. */
		if (*i + 2 >= end || s[*i + 1] != '\\' || s[*i + 2] != 'u')
			goto bad_surrogate;
		low = request_json_hex4(s, end, *i + 3);
		if (low < 0xdc00 || low > 0xdfff)
			goto bad_surrogate;
		cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
		*i += 6;
	}
	return request_json_utf8(cp, out);
bad_surrogate:
	return request_json_fail(p, "a string in the request body has an unpaired "
	    "surrogate");
}

/*
 * The string at p->i (its opening quote), decoded into a NUL-terminated
 * buffer of *cap bytes at *out, which the caller gives to secmem_free.
 * Returns 1, or 0 with p->why (and nothing to free).
 */
static int
request_json_string(struct request_json *p, char **out, size_t *outlen,
    size_t *cap)
{
	const char *s = p->s;
	size_t start = p->i + 1, end, i, n = 0, k;
	char *buf;

	*out = NULL;
	for (end = start; end < p->len && s[end] != '"'; end++)
		if (s[end] == '\\')
			end++;
	if (end >= p->len)
		return request_json_fail(p, "a string in the request body is not "
		    "terminated");
	/* An escape is never shorter than what it stands for. */
	*cap = end - start + 1;
	if ((buf = secmem_alloc(*cap)) == NULL)
		return request_json_fail(p, "out of memory");
	for (i = start; i < end; i++) {
		if ((unsigned char)s[i] < 0x20) {
			request_json_fail(p, "a string in the request body contains a "
			    "raw control character");
			goto fail;
		}
		if (s[i] != '\\')
			buf[n++] = s[i];
		else if ((k = request_json_escape(p, &i, end, buf + n)) == 0)
			goto fail;
		else
			n += k;
	}
	buf[n] = '\0';
	p->i = end + 1;
	*out = buf;
	*outlen = n;
	return 1;
fail:
	secmem_free(buf, *cap);
	return 0;
}

/*
 * -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?, into an int, or
 * a double when it has a fraction or an exponent or is too large.
 */
static int
request_json_number(struct request_json *p, json_object **out)
{
	const char *s = p->s;
	size_t start = p->i, i = p->i, len = p->len;
	bool integer = true;
	long long v;
	char *text, *end;

	if (s[i] == '-')
		i++;
	if (i < len && s[i] == '0')
		i++;
	else if (i < len && isdigit((unsigned char)s[i]))
		while (i < len && isdigit((unsigned char)s[i]))
			i++;
	else
		goto bad;
	if (i < len && s[i] == '.') {
		integer = false;
		if (++i == len || !isdigit((unsigned char)s[i]))
			goto bad;
		while (i < len && isdigit((unsigned char)s[i]))
			i++;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		integer = false;
		if (++i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i == len || !isdigit((unsigned char)s[i]))
			goto bad;
		while (i < len && isdigit((unsigned char)s[i]))
			i++;
	}
	if (i < len && (isalnum((unsigned char)s[i]) || s[i] == '.' ||
	    s[i] == '-' || s[i] == '+'))
		goto bad;
	p->i = i;
	/* The body need not end in a NUL (nor strndup(3) read past i): a copy. */
	if ((text = malloc(i - start + 1)) == NULL)
		return request_json_fail(p, "out of memory");
	memcpy(text, s + start, i - start);
	text[i - start] = '\0';
	errno = 0;
	v = integer ? strtoll(text, &end, 10) : 0;
	if (integer && errno == 0)
		*out = json_object_new_int64(v);
	else	/* a fraction, an exponent, or too large for an int */
		*out = json_object_new_double(strtod(text, &end));
	free(text);
	return *out != NULL ? 1 : request_json_fail(p, "out of memory");
bad:
	return request_json_fail(p, "a number in the request body is malformed");
}

/* true, false or null (*out NULL, which is json-c's null). */
static int
request_json_literal(struct request_json *p, json_object **out)
{
	static const char *const names[] = { "true", "false", "null" };
	size_t n, l, rest = p->len - p->i;

	for (n = 0; n < 3; n++) {
		l = strlen(names[n]);
		if (rest >= l && memcmp(p->s + p->i, names[n], l) == 0 &&
		    (rest == l || !isalnum((unsigned char)p->s[p->i + l])))
			break;
	}
	if (n == 3)
		return request_json_fail(p, "request body is not valid JSON");
	p->i += l;
	*out = n < 2 ? json_object_new_boolean(n == 0) : NULL;
	return n == 2 || *out != NULL ? 1 : request_json_fail(p, "out of memory");
}

static int request_json_value(struct request_json *, unsigned, json_object **);

/* The members of the object at p->i, whose '{' is read, into obj. */
static int
request_json_members(struct request_json *p, unsigned depth, json_object *obj)
{
	json_object *val;
	size_t n, cap;
	char *name;
	int ok;

	if (request_json_take(p, '}'))
		return 1;
	do {
		request_json_skip_ws(p);
		if (p->i == p->len || p->s[p->i] != '"')
			return request_json_fail(p, "request body is not valid JSON");
		if (!request_json_string(p, &name, &n, &cap))
			return 0;
		/* RFC 8259 section 4: names SHOULD be unique; we insist. */
		if (!request_json_take(p, ':'))
			ok = request_json_fail(p, "request body is not valid JSON");
		else if (json_object_object_get_ex(obj, name, NULL))
			ok = request_json_fail(p, "request body has a duplicate member");
		else if ((ok = request_json_value(p, depth, &val)) &&
		    json_object_object_add(obj, name, val) != 0) {
			secmem_json_put(val);
			ok = request_json_fail(p, "out of memory");
		}
		secmem_free(name, cap);
		if (!ok)
			return 0;
	} while (request_json_take(p, ','));
	return request_json_take(p, '}') ? 1 :
	    request_json_fail(p, "request body is not valid JSON");
}

/* The elements of the array at p->i, whose '[' is read, into arr. */
static int
request_json_elements(struct request_json *p, unsigned depth, json_object *arr)
{
	json_object *val;

	if (request_json_take(p, ']'))
		return 1;
	do {
		if (!request_json_value(p, depth, &val))
			return 0;
		if (json_object_array_add(arr, val) != 0) {
			secmem_json_put(val);
			return request_json_fail(p, "out of memory");
		}
	} while (request_json_take(p, ','));
	return request_json_take(p, ']') ? 1 :
	    request_json_fail(p, "request body is not valid JSON");
}

/*
 * The value at p->i, inside depth objects and arrays, into *out.  Returns
 * 1, or 0 with p->why and nothing in *out.
 */
static int
request_json_value(struct request_json *p, unsigned depth, json_object **out)
{
	char c, *text;
	size_t n, cap;
	int ok;

	*out = NULL;
	request_json_skip_ws(p);
	if (p->i == p->len)
		return request_json_fail(p, "request body is not valid JSON");
	c = p->s[p->i];
	if (c == '"') {
		if (!request_json_string(p, &text, &n, &cap))
			return 0;
		*out = json_object_new_string_len(text, (int)n);
		secmem_free(text, cap);
		return *out != NULL ? 1 : request_json_fail(p, "out of memory");
	}
	if (c == '-' || isdigit((unsigned char)c))
		return request_json_number(p, out);
	if (c != '{' && c != '[')
		return request_json_literal(p, out);
	if (depth == JSON_DEPTH_MAX)
		return request_json_fail(p, "request body is nested too deeply");
	p->i++;
	if ((*out = c == '{' ? json_object_new_object() :
	    json_object_new_array()) == NULL)
		return request_json_fail(p, "out of memory");
	ok = c == '{' ? request_json_members(p, depth + 1, *out) :
	    request_json_elements(p, depth + 1, *out);
	if (!ok) {
		secmem_json_put(*out);
		*out = NULL;
	}
	return ok;
}

json_object *
request_parse_json(const char *body, size_t len, const char **why)
{
	struct request_json p = { body, len, 0, NULL };
	json_object *obj;

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
	/* json-c counts a string's bytes in an int. */
	if (len > INT_MAX) {
		*why = "request body is too long";
		return NULL;
	}
	if (!request_json_value(&p, 0, &obj)) {
		*why = p.why;
		return NULL;
	}
	request_json_skip_ws(&p);
	if (p.i < len)
		*why = "request body has data after the JSON value";
	else if (!json_object_is_type(obj, json_type_object))
		*why = "request body is not a JSON object";
	else
		return obj;
	secmem_json_put(obj);
	return NULL;
}

/*
 * Fetch a string member.  The parser refuses "\u0000", but a C string
 * ends at a NUL: a length that differs from strlen() would mean an
 * embedded one.  Returns 1 with the value (NULL if absent and optional),
 * 0 with *why.
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

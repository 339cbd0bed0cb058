/*
 * response.h -- the response value a handler returns, and the writer that
 * turns it into a FastCGI (CGI-style) response.  Only this module writes
 * to the FastCGI stream.
 */
#ifndef MDAUTH_RESPONSE_H
#define MDAUTH_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>

#include <fcgiapp.h>
#include <json-c/json.h>

/* The error table of the contract: status and code of each error. */
enum api_error {
	ERR_INVALID_REQUEST,
	ERR_INVALID_CREDENTIALS,
	ERR_INVALID_TOKEN,
	ERR_TLS_REQUIRED,
	ERR_NOT_FOUND,
	ERR_METHOD_NOT_ALLOWED,
	ERR_SESSION_LIMIT_REACHED,
	ERR_PAYLOAD_TOO_LARGE,
	ERR_UNSUPPORTED_MEDIA_TYPE,
	ERR_TOO_MANY_REQUESTS,
	ERR_SERVICE_UNAVAILABLE,
	ERR_SERVER_ERROR,
	ERR__MAX
};

/* Which WWW-Authenticate challenge a response carries (RFC 6750 section 3). */
enum challenge {
	CHALLENGE_NONE,
	CHALLENGE_PLAIN,		/* Bearer realm="..." */
	CHALLENGE_INVALID_TOKEN,	/* ..., error="invalid_token", error_description */
	CHALLENGE_INVALID_REQUEST,	/* ..., error="invalid_request", error_description */
};

#define RESPONSE_HEADERS_MAX 8

struct response_header {
	const char	*name;		/* a static string */
	char		*value;		/* owned */
};

struct response {
	int		 status;
	json_object	*body;		/* owned; NULL: no body */
	const char	*error_description; /* static text for WWW-Authenticate */
	enum challenge	 challenge;
	const char	*allow;		/* Allow header of a 405 */
	int		 retry_after;	/* seconds; 0: no Retry-After */
	bool		 secret;	/* carries a token: Pragma no-cache, wiped */
	bool		 head;		/* HEAD request: headers only */
	bool		 drop;		/* send nothing, close the connection */
	size_t		 nheaders;
	struct response_header headers[RESPONSE_HEADERS_MAX];
	const char	*log_user;	/* user id for the request log, or NULL */
	char		 log_user_buf[24];
};

extern const char *const api_error_codes[ERR__MAX];
extern const int api_error_status[ERR__MAX];

void	resp_init(struct response *resp);

/* Set an error response {"error","error_description"}; replaces any body. */
void	resp_error(struct response *resp, enum api_error err,
	    const char *description);

/* Set a 200 (or other) response with a JSON object body (taken over). */
void	resp_json(struct response *resp, int status, json_object *body);

/*
 * Add a header; the value is copied.  Returns 1 on success, 0 if full or
 * if the value holds a control character (it would split the header).
 */
int	resp_header(struct response *resp, const char *name, const char *value);

/*
 * Render the response as CGI response text: "Status:" line, headers, blank
 * line, body.  Returns a malloc'd buffer and its length in *len, or NULL.
 */
char	*resp_render(const struct response *resp, const char *realm, size_t *len);

/* Render and write to the FastCGI output stream.  Returns 1 on success. */
int	resp_send(const struct response *resp, const char *realm,
	    FCGX_Stream *out);

/* Free the body and headers; wipes them if the response held a token. */
void	resp_free(struct response *resp);

/* RFC 3339 UTC time "2026-11-24T07:00:00Z" of a Unix time; buf of 21+ bytes. */
char	*resp_time(long long t, char *buf, size_t len);

#endif

/*
 * request.h -- the request reader: FastCGI parameters, the body, and the
 * validated shape of each JSON body.  Everything a handler uses has been
 * checked here before the database is touched.
 */
#ifndef MDAUTH_REQUEST_H
#define MDAUTH_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include <fcgiapp.h>
#include <json-c/json.h>

enum http_method {
	METHOD_GET,
	METHOD_HEAD,
	METHOD_POST,
	METHOD_PUT,
	METHOD_DELETE,
	METHOD_PATCH,
	METHOD_OPTIONS,
	METHOD_OTHER,
	METHOD__MAX
};

extern const char *const http_method_names[METHOD__MAX];

#define METHOD_BIT(m)	(1u << (m))

#define JSON_DEPTH_MAX	8	/* our bodies are flat objects */
#define DEVICE_MAX	128	/* bytes */
#define USER_AGENT_MAX	256	/* bytes kept of User-Agent */
#define REMOTE_ADDR_MAX	64
#define AUTHORIZATION_MAX 4096	/* bytes of Bearer credentials */

/* FCGI_ROLE, which libfcgi sets from the FCGI_BEGIN_REQUEST record. */
enum fcgi_role {
	ROLE_RESPONDER,		/* also when unset */
	ROLE_AUTHORIZER,
	ROLE_OTHER,		/* FILTER, or anything else: refused */
};

/* FCGI_APACHE_ROLE, which Apache's mod_authnz_fcgi adds to AUTHORIZER. */
enum apache_role {
	APACHE_ROLE_NONE,		/* unset: lighttpd, or Apache's authnz mode */
	APACHE_ROLE_AUTHENTICATOR,	/* authn: AuthBasicProvider or check_user_id */
	APACHE_ROLE_AUTHORIZER,		/* authz: Require, after authentication */
	APACHE_ROLE_OTHER,
};

struct request {
	enum fcgi_role	 role;
	/* Authorizer role only (otherwise NONE, NULL, ""): */
	enum apache_role apache_role;
	const char	*remote_user;	/* REMOTE_USER; NULL when unset or "" */
	const char	*remote_passwd;	/* REMOTE_PASSWD (Apache, Basic); NULL when unset */
	const char	*uri;		/* REQUEST_URI; "" when unset */
	enum http_method method;
	const char	*path;		/* PATH_INFO; "" when unset */
	const char	*content_type;	/* NULL when unset */
	long long	 content_length; /* -1 when unset or unparsable */
	bool		 content_length_bad;
	const char	*authorization;	/* NULL when unset */
	bool		 https;
	const char	*remote_addr;	/* "" when unset */
	const char	*user_agent;	/* "" when unset */
	char		*body;		/* NUL-terminated copy; NULL when none */
	size_t		 body_len;
};

struct login_input {
	json_object	*root;		/* owns the strings below */
	const char	*username;
	size_t		 username_len;
	const char	*password;
	size_t		 password_len;
	const char	*device;	/* NULL when absent */
};

/* Fill req from the FastCGI parameters.  Never fails; bad values are flagged. */
void	request_from_params(struct request *req, FCGX_ParamArray envp);

/* Is a Content-Type application/json (parameters such as charset allowed)? */
bool	request_is_json(const char *content_type);

/*
 * Read the body announced by CONTENT_LENGTH, which the caller has already
 * checked against max_body.  Returns 1 on success, 0 when the stream ended
 * early or failed.
 */
int	request_read_body(struct request *req, FCGX_Stream *in)
	    __attribute__((warn_unused_result));

/* Wipe and free the body (it may hold a password). */
void	request_free(struct request *req);

/*
 * Parse a JSON object body: strict RFC 8259 with UTF-8 checked, at most
 * JSON_DEPTH_MAX deep, nothing but white space after it.  Returns the
 * object, or NULL with a reason for the client in *why.
 */
json_object *request_parse_json(const char *body, size_t len, const char **why);

/*
 * Parse and check the login body.  Returns 1 on success; 0 with *why on
 * failure.  Call request_login_free on success.
 */
int	request_parse_login(const char *body, size_t len, struct login_input *in,
	    const char **why) __attribute__((warn_unused_result));
void	request_login_free(struct login_input *in);

#endif

/*
 * handler.h -- the request handlers and what they share.
 *
 * A handler gets a request that dispatch.c has routed and checked in full
 * (TLS, path parameter, size, content type, body members, credential)
 * and, when its route needs one, the live session of its token.  It does
 * no parsing and no authentication; it fills in a response value and
 * never writes to FastCGI itself.
 */
#ifndef MDAUTH_HANDLER_H
#define MDAUTH_HANDLER_H

#include "conf.h"
#include "db.h"
#include "password.h"
#include "request.h"
#include "response.h"
#include "token.h"

struct cache;

/* Seconds a client is told to wait when the database is unreachable. */
#define RETRY_AFTER_DB	2

struct ctx {
	const struct conf	*conf;
	struct db		*db;
	struct password_params	 password;
	struct db_session_params session;
	struct db_throttle_params throttle;
	struct cache		*cache;		/* NULL: off */
};

/* The client facts recorded with sessions and events, made safe to store. */
struct client_buf {
	char	ip[REMOTE_ADDR_MAX + 1];
	char	user_agent[USER_AGENT_MAX + 1];
};

/*
 * A request as its handler gets it: every part of it that the route asks
 * for has been read, parsed and checked by dispatch.c.
 */
struct api_request {
	const struct request	*http;		/* the FastCGI parameters */
	struct db_client	 client;	/* from client_buf */
	struct client_buf	 client_buf;
	/* PARAM_SESSION_ID: the session id that ends the path. */
	const char		*session_id;
	/* CRED_TOKEN, CRED_SESSION: the presented token's digest. */
	uint8_t			 digest[TOKEN_DIGEST_LEN];
	bool			 token_ours;	/* of our shape: else never looked up */
	/* The body's members (bodies.c). */
	struct login_input	 login;		/* POST /login; zero otherwise */
	bool			 keep_current;	/* POST /logout-all */
};

/*
 * A handler: the request, checked in full; the live session of its token
 * for a CRED_SESSION route (NULL otherwise); the response to fill in.
 */
typedef void (*handler_fn)(struct ctx *ctx, const struct api_request *req,
    const struct db_session *sess, struct response *resp);

void	handler_login(struct ctx *, const struct api_request *,
	    const struct db_session *, struct response *);
void	handler_logout(struct ctx *, const struct api_request *,
	    const struct db_session *, struct response *);
void	handler_validate(struct ctx *, const struct api_request *,
	    const struct db_session *, struct response *);
void	handler_health(struct ctx *, const struct api_request *,
	    const struct db_session *, struct response *);
void	handler_refresh(struct ctx *, const struct api_request *,
	    const struct db_session *, struct response *);
void	handler_sessions_list(struct ctx *, const struct api_request *,
	    const struct db_session *, struct response *);
void	handler_session_delete(struct ctx *, const struct api_request *,
	    const struct db_session *, struct response *);
void	handler_logout_all(struct ctx *, const struct api_request *,
	    const struct db_session *, struct response *);
void	handler_authorizer(struct ctx *, const struct api_request *,
	    const struct db_session *, struct response *);

/* The 200 body of login and refresh: the token, once, and its session. */
void	handler_token_reply(struct response *resp, const struct token *tok,
	    const struct db_session *sess);

/* The user id of a response, for the request log line. */
void	handler_log_user(struct response *resp, int64_t user_id);

/* Fill ctx's derived parameters from the configuration. */
void	handler_ctx_init(struct ctx *ctx, const struct conf *conf, struct db *db);

/* The response for a database status other than DB_OK/DB_NOT_FOUND. */
void	handler_db_failure(struct response *resp, enum db_status st,
	    const char *what);

/* The 401 invalid_token of a token that is not live, with its reason. */
void	handler_token_dead(struct response *resp, const char *why);

/*
 * A token that a refresh replaced was presented again, and its session
 * (sess: id and user_id) is revoked: log a warning that names the
 * session, the user and the client (never the token), for the handler
 * what, and, with resp, answer 401 invalid_token.
 */
void	handler_token_reused(const struct db_session *sess,
	    const struct db_client *client, const char *what,
	    struct response *resp);

/*
 * Drop from this host's validate cache (when on) what a change made by
 * this request has made wrong: a token, a session, every session of a
 * user.  Called after the change, before the response.
 */
void	handler_forget_token(struct ctx *ctx,
	    const uint8_t digest[TOKEN_DIGEST_LEN]);
void	handler_forget_session(struct ctx *ctx, const char *session_id);
void	handler_forget_user(struct ctx *ctx, int64_t user_id);

#endif

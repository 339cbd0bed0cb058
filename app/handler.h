/*
 * handler.h -- the request handlers and what they share.
 *
 * A handler gets a request that the worker has already routed, checked
 * for TLS, size and content type, and whose body has been read.  It fills
 * in a response value; it never writes to FastCGI itself.
 */
#ifndef MDAUTH_HANDLER_H
#define MDAUTH_HANDLER_H

#include "conf.h"
#include "db.h"
#include "password.h"
#include "request.h"
#include "response.h"

/* Seconds a client is told to wait when the database is unreachable. */
#define RETRY_AFTER_DB	2

struct ctx {
	const struct conf	*conf;
	struct db		*db;
	struct password_params	 password;
	struct db_session_params session;
	struct db_throttle_params throttle;
};

typedef void (*handler_fn)(struct ctx *ctx, const struct request *req,
    struct response *resp);

void	handler_login(struct ctx *, const struct request *, struct response *);
void	handler_logout(struct ctx *, const struct request *, struct response *);
void	handler_validate(struct ctx *, const struct request *, struct response *);
void	handler_health(struct ctx *, const struct request *, struct response *);
void	handler_refresh(struct ctx *, const struct request *, struct response *);
void	handler_sessions_list(struct ctx *, const struct request *,
	    struct response *);
void	handler_session_delete(struct ctx *, const struct request *,
	    struct response *);
void	handler_logout_all(struct ctx *, const struct request *,
	    struct response *);
void	handler_authorizer(struct ctx *, const struct request *,
	    struct response *);

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

/* The client facts recorded with sessions and events, made safe to store. */
struct client_buf {
	char	ip[REMOTE_ADDR_MAX + 1];
	char	user_agent[USER_AGENT_MAX + 1];
};
void	handler_client(const struct request *req, struct client_buf *buf,
	    struct db_client *client);

enum auth_result {
	AUTH_OK,
	AUTH_FAILED,		/* resp is set */
	AUTH_RESULT__MAX
};
/*
 * Authenticate the Bearer token of a request.  Returns AUTH_OK with the
 * live session in *sess (renewed when due), or AUTH_FAILED with resp set
 * to the 400/401/503 the contract asks for.  A token that a refresh
 * replaced revokes its session (401; see db_session_lookup).
 */
enum auth_result auth_bearer(struct ctx *ctx, const struct request *req,
	    struct response *resp, struct db_session *sess);

/*
 * auth_bearer for a token that did not come in a Bearer header (the
 * password of Apache's Basic credentials): a token that cannot be ours
 * is a 401 invalid_token like an unknown one.
 */
enum auth_result auth_token(struct ctx *ctx, const struct request *req,
	    const char *token, struct response *resp, struct db_session *sess);

/*
 * A token that a refresh replaced was presented again, and its session
 * (sess: id and user_id) is revoked: log a warning that names the
 * session, the user and the client (never the token), for the handler
 * what; and the 401 invalid_token that answers it.
 */
void	auth_token_reused(const struct db_session *sess,
	    const struct db_client *client, const char *what);
void	auth_reused_reply(struct response *resp);

/*
 * The first steps of auth_bearer only: find a well-formed Bearer token.
 * Returns AUTH_OK with its digest (and *known_shape false when it cannot
 * be one of ours), or AUTH_FAILED with resp set (missing: 401; malformed: 400).
 */
enum auth_result auth_bearer_digest(const struct ctx *ctx,
	    const struct request *req, struct response *resp,
	    uint8_t digest[TOKEN_DIGEST_LEN], bool *known_shape);

#endif

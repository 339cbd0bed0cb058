/*
 * handler_authorizer.c -- the FastCGI Authorizer role (FCGI_ROLE=AUTHORIZER).
 *
 * The web server asks before it serves a protected request; whatever the
 * path, the answer is about the credentials only.  A 200 lets the request
 * through and hands the web server the user in Variable-* headers, which
 * it turns into the variables REMOTE_USER, AUTH_USER_ID and
 * AUTH_SESSION_ID of whatever serves the request next; any other status
 * is sent to the client as it is (FastCGI 1.0, section 6.3), so a denial
 * is the same 400/401/503 with WWW-Authenticate that the API gives.
 *
 * Where the token comes from:
 *
 *  - the Bearer header, as everywhere (lighttpd "mode" => "authorizer";
 *    Apache mod_authnz_fcgi with AuthnzFcgiCheckAuthnProvider, which
 *    sets FCGI_APACHE_ROLE=AUTHENTICATOR and no REMOTE_PASSWD unless the
 *    client sent Basic credentials);
 *  - REMOTE_PASSWD, when Apache passes Basic credentials (mod_authnz_fcgi
 *    as an AuthBasicProvider): the password must be a live token of the
 *    user named, for clients that can only send Basic.  A real password is
 *    never checked here: that is what POST /login, with its throttling and
 *    equal work, is for.
 *
 * When the web server names a user already (REMOTE_USER: Basic, or an
 * earlier module, as with FCGI_APACHE_ROLE=AUTHORIZER after another
 * authentication), the token must be that user's.
 */
#include "config.h"

#include <string.h>

#include "handler.h"
#include "log.h"

void
handler_authorizer(struct ctx *ctx, const struct api_request *req,
    const struct db_session *sess, struct response *resp)
{
	(void)ctx;
	if (req->http->remote_user != NULL &&
	    strcmp(req->http->remote_user, sess->username) != 0) {
		handler_token_dead(resp, "the token belongs to another user");
		return;
	}
	/* No body: on 200 the web server uses the Variable-* headers only. */
	resp->status = 200;
	if (!resp_header(resp, "Variable-REMOTE_USER", sess->username) ||
	    !resp_header(resp, "Variable-AUTH_USER_ID", resp->log_user_buf) ||
	    !resp_header(resp, "Variable-AUTH_SESSION_ID", sess->id))
		resp_error(resp, ERR_SERVER_ERROR, "out of memory");
}

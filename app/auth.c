/*
 * auth.c -- the credential of a request, found once, before its handler.
 *
 *	auth_token	the Bearer header (or the authorizer's Basic password)
 *			to the token's digest, with the 400/401 of RFC 6750
 *	auth_session	the digest to a live session, or 401/503
 *
 * With the validate cache on (cache.c), auth_session answers a live token
 * from the cache when it holds it, and the database is asked only when
 * it does not, when the cache is not in use (no listener listening),
 * when the token may have expired, and once per touch_interval to record
 * the use.  Expiry is judged by the database's clock (db.c measures its
 * offset from ours on every connection), against the expiries the
 * database gave, rounded down to the second: a token within its last
 * second is asked of the database, never answered live past its end.
 */
#include "config.h"

#include <string.h>
#include <time.h>

#include "auth.h"
#include "authz.h"
#include "cache.h"
#include "log.h"

int
auth_token(const struct request *http, struct api_request *req,
    struct response *resp)
{
	const char *token;
	size_t len;

	/*
	 * Apache's mod_authnz_fcgi as an AuthBasicProvider passes Basic
	 * credentials: their password must be a live token of the user named
	 * (handler_authorizer.c).  A real password is never checked here.
	 */
	if (http->role == ROLE_AUTHORIZER && http->remote_passwd != NULL) {
		token = http->remote_passwd;
		len = strlen(token);
	} else {
		switch (authz_parse_bearer(http->authorization, &token, &len)) {
		case BEARER_OK:
			break;
		case BEARER_MISSING:
			resp_error(resp, ERR_INVALID_TOKEN,
			    "a Bearer token is required");
			resp->challenge = CHALLENGE_PLAIN;
			return 0;
		case BEARER_MALFORMED:
			resp_error(resp, ERR_INVALID_REQUEST,
			    "malformed Bearer credentials");
			resp->challenge = CHALLENGE_INVALID_REQUEST;
			return 0;
		}
	}
	req->token_ours = token_well_formed(token, len);
	token_digest(token, len, req->digest);
	return 1;
}

static double
auth_clock(clockid_t which)
{
	struct timespec ts;

	clock_gettime(which, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * The cache's answer for the token: 1 with *sess when it holds the token
 * and the token is live by its expiries and needs no touch now; 0 when
 * the database must be asked.  Of the workers that find the touch due at
 * once, one asks (cache_claim_touch) and the others go on answering.
 * Times in milliseconds for the touch (touched_at is), so that the first
 * request past touch_interval is the one that writes.
 */
static int
auth_cached(struct ctx *ctx, const struct api_request *req, double mono,
    struct db_session *sess)
{
	struct cache_entry e;
	double db_now;

	if (!cache_lookup(ctx->cache, req->digest, mono,
	    ctx->conf->cache_max_age, &e))
		return 0;
	db_now = auth_clock(CLOCK_REALTIME) + db_clock_offset(ctx->db);
	if (db_now >= (double)e.expires_at ||
	    db_now >= (double)e.absolute_expires_at)
		return 0;
	if ((long long)(db_now * 1000) - e.touched_at >=
	    ctx->session.touch_interval * 1000LL &&
	    cache_claim_touch(ctx->cache, req->digest,
	    (long long)(db_now * 1000), ctx->session.touch_interval * 1000LL))
		return 0;
	memset(sess, 0, sizeof(*sess));
	memcpy(sess->id, e.session_id, sizeof(sess->id));
	sess->user_id = e.user_id;
	memcpy(sess->username, e.username, sizeof(sess->username));
	sess->state = SESSION_LIVE;
	sess->expires_at = e.expires_at;
	sess->absolute_expires_at = e.absolute_expires_at;
	sess->touched_at = e.touched_at;
	sess->now = (long long)db_now;
	return 1;
}

/* Keep what the database said of a live token, unless it changed since t. */
static void
auth_keep(struct ctx *ctx, const struct api_request *req,
    const struct cache_ticket *t, const struct db_session *sess, double mono)
{
	struct cache_entry e;

	memset(&e, 0, sizeof(e));
	memcpy(e.digest, req->digest, sizeof(e.digest));
	memcpy(e.session_id, sess->id, sizeof(e.session_id));
	e.user_id = sess->user_id;
	memcpy(e.username, sess->username, sizeof(e.username));
	e.expires_at = sess->expires_at;
	e.absolute_expires_at = sess->absolute_expires_at;
	e.touched_at = sess->touched_at;
	cache_insert(ctx->cache, t, &e, mono);
}

int
auth_session(struct ctx *ctx, const struct api_request *req,
    struct response *resp, struct db_session *sess)
{
	struct cache_ticket ticket;
	bool cached = false;
	double mono = 0;
	enum db_status st;

	/*
	 * A token of another shape was never issued by us: no lookup.  The
	 * lookup itself is by digest through a unique index; the digest of a
	 * guess reveals nothing about a real token, so timing is no concern.
	 */
	if (!req->token_ours) {
		handler_token_dead(resp, "the token is unknown");
		return 0;
	}
	if (ctx->cache != NULL) {
		mono = auth_clock(CLOCK_MONOTONIC);
		if ((cached = cache_usable(ctx->cache, mono))) {
			if (auth_cached(ctx, req, mono, sess)) {
				log_debug("auth: session %s answered from the "
				    "cache", sess->id);
				return 1;
			}
			/* Before the question: see cache_insert. */
			cache_ticket(ctx->cache, req->digest, &ticket);
		}
	}
	st = db_session_lookup(ctx->db, req->digest, &ctx->session, &req->client,
	    sess);
	/* Whatever the answer but "live", the token's entry is wrong now. */
	if (cached && (st != DB_OK || sess->state != SESSION_LIVE))
		cache_invalidate_token(ctx->cache, req->digest);
	if (st == DB_NOT_FOUND) {
		handler_token_dead(resp, "the token is unknown");
		return 0;
	}
	if (st != DB_OK) {
		handler_db_failure(resp, st, "auth");
		return 0;
	}
	switch (sess->state) {
	case SESSION_LIVE:
		if (cached)
			auth_keep(ctx, req, &ticket, sess, mono);
		return 1;
	case SESSION_REUSED:
		handler_forget_session(ctx, sess->id);
		handler_log_user(resp, sess->user_id);
		handler_token_reused(sess, &req->client, "auth", resp);
		return 0;
	case SESSION_EXPIRED:
		handler_token_dead(resp, "the token expired");
		return 0;
	default:
		handler_token_dead(resp, "the token was revoked");
		return 0;
	}
}

-- 007_rotation.sql -- a refreshed token presented again ends its session.

-- Each session keeps the digest of the token its last refresh replaced
-- (one generation).  That token is dead; whoever presents it again either
-- stole it or holds a copy a thief has already refreshed (RFC 6749
-- section 10.4, OAuth 2.0 Security BCP section 4.14.2: refresh token
-- reuse detection), so the session is revoked for both tokens.
ALTER TABLE mdauth.sessions ADD COLUMN previous_token_hash bytea
    CONSTRAINT sessions_previous_token_hash_check
    CHECK (length(previous_token_hash) = 32);

-- Looked up only when a token is no session's current one.
CREATE UNIQUE INDEX sessions_previous_token_hash_key
    ON mdauth.sessions (previous_token_hash)
 WHERE previous_token_hash IS NOT NULL;

GRANT UPDATE (previous_token_hash) ON mdauth.sessions TO mdauth_app;

-- A replaced token of this session was presented: revoke the session
-- (reason 'token_reuse') and write a 'token_reuse' event with the address
-- and user agent of the request.  Returns whether it revoked anything: a
-- session revoked already is left alone and gets no second event, so an
-- old token presented again and again costs one row in all.
--
-- The daemon finds the session by previous_token_hash in the same
-- statement as its lookup of the token, and only when that lookup found
-- nothing (sql in app/db.c).  The search belongs there rather than in
-- here: a function's statements see what was committed after the caller's
-- statement began, so the loser of two concurrent refreshes of one token
-- would find the winner's rotation and take it for a reuse.  In the
-- caller's snapshot a refresh still under way is not yet a rotation.
CREATE FUNCTION mdauth.token_reused(p_session_id uuid, p_ip text,
    p_user_agent text)
RETURNS boolean LANGUAGE sql
SET search_path = pg_catalog, mdauth AS $$
    WITH r AS (
        UPDATE mdauth.sessions s
           SET revoked_at = now(), revoked_reason = 'token_reuse'
         WHERE s.id = p_session_id AND s.revoked_at IS NULL
        RETURNING s.id, s.user_id),
    e AS (
        INSERT INTO mdauth.auth_events (event, user_id, session_id, ip,
                                        user_agent, detail)
        SELECT 'token_reuse', r.user_id, r.id, p_ip, p_user_agent,
               'a replaced token was presented; session revoked'
          FROM r)
    SELECT count(*) > 0 FROM r;
$$;

REVOKE ALL ON FUNCTION mdauth.token_reused(uuid, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mdauth.token_reused(uuid, text, text) TO mdauth_app;

-- 007_rotation.sql -- a refreshed token presented again ends its session;
-- a new password ends the user's sessions; no session for a user disabled
-- while logging in.

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

-- Set a user's password hash (an argon2id PHC string, as
-- "mdauthctl hash-password" prints it) and, unless p_keep_sessions, end
-- every live session of the user: whoever knew the old password may have
-- logged in with it (ASVS 4.0.3 V3.3.3).  Each session ended gets a
-- 'revoke' event (detail 'password_changed'), and the change a
-- 'password_changed' event.  Returns how many sessions ended.  An unknown
-- user (name case-insensitive) is an error, SQLSTATE P0002, as is a hash
-- that is not argon2id (a password given in clear by mistake, say).
CREATE FUNCTION mdauth.set_password(p_username text, p_phc text,
    p_keep_sessions boolean DEFAULT false)
RETURNS integer LANGUAGE plpgsql
SET search_path = pg_catalog, mdauth AS $$
DECLARE
    uid bigint;
    ended integer := 0;
BEGIN
    IF p_phc IS NULL OR p_phc NOT LIKE '$argon2id$%' THEN
        RAISE EXCEPTION 'not an argon2id PHC string'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'mdauthctl hash-password prints one.';
    END IF;
    UPDATE mdauth.users u SET password_hash = p_phc, updated_at = now()
     WHERE lower(u.username) = lower(p_username)
    RETURNING u.id INTO uid;
    IF uid IS NULL THEN
        RAISE EXCEPTION 'no such user: %', p_username
            USING ERRCODE = 'no_data_found';
    END IF;
    IF NOT coalesce(p_keep_sessions, false) THEN
        WITH r AS (
            UPDATE mdauth.sessions s
               SET revoked_at = now(), revoked_reason = 'password_changed'
             WHERE s.user_id = uid AND s.revoked_at IS NULL
               AND s.expires_at > now() AND s.absolute_expires_at > now()
            RETURNING s.id)
        INSERT INTO mdauth.auth_events (event, user_id, session_id, detail)
        SELECT 'revoke', uid, r.id, 'password_changed' FROM r;
        GET DIAGNOSTICS ended = ROW_COUNT;
    END IF;
    INSERT INTO mdauth.auth_events (event, user_id, detail)
    VALUES ('password_changed', uid,
            CASE WHEN coalesce(p_keep_sessions, false)
                 THEN 'sessions kept'
                 ELSE format('%s sessions ended', ended) END);
    RETURN ended;
END
$$;

REVOKE ALL ON FUNCTION mdauth.set_password(text, text, boolean) FROM PUBLIC;

-- session_open as in 002_admin.sql, and the user's row, once locked, must
-- not be disabled (nor gone): a user disabled between the daemon's
-- password check and this call gets no session.  disable_user() updates
-- the same row, so the lock orders the two: either the user is disabled
-- first and nothing opens, or the session opens first and disable_user()
-- revokes it.  Refused with SQLSTATE MDA01, which the daemon answers
-- 401 invalid_credentials like any disabled user's login.
CREATE OR REPLACE FUNCTION mdauth.session_open(
    p_user_id bigint, p_token_hash bytea, p_device text, p_ip text,
    p_user_agent text, p_ttl bigint, p_max_lifetime bigint,
    p_cap integer, p_policy text)
RETURNS TABLE (session_id uuid, expires_at timestamptz)
LANGUAGE plpgsql
SET search_path = pg_catalog, mdauth AS $$
DECLARE
    live integer;
    disabled boolean;
BEGIN
    SELECT u.disabled_at IS NOT NULL INTO disabled
      FROM mdauth.users u WHERE u.id = p_user_id FOR UPDATE;
    IF disabled IS NULL OR disabled THEN
        RAISE EXCEPTION 'user % is disabled or gone: no session', p_user_id
            USING ERRCODE = 'MDA01';
    END IF;

    SELECT count(*) INTO live FROM mdauth.sessions s
     WHERE s.user_id = p_user_id AND s.revoked_at IS NULL
       AND s.expires_at > now() AND s.absolute_expires_at > now();

    IF live >= p_cap THEN
        IF p_policy = 'reject' THEN
            INSERT INTO mdauth.auth_events (event, user_id, ip, user_agent, detail)
            VALUES ('session_limit_reached', p_user_id, p_ip, p_user_agent,
                    format('%s live sessions', live));
            RETURN;
        END IF;
        WITH evicted AS (
            UPDATE mdauth.sessions s
               SET revoked_at = now(), revoked_reason = 'evicted'
             WHERE s.id IN (
                   SELECT o.id FROM mdauth.sessions o
                    WHERE o.user_id = p_user_id AND o.revoked_at IS NULL
                      AND o.expires_at > now() AND o.absolute_expires_at > now()
                    ORDER BY o.last_used_at, o.created_at
                    LIMIT live - p_cap + 1)
            RETURNING s.id)
        INSERT INTO mdauth.auth_events (event, user_id, session_id, ip, user_agent, detail)
        SELECT 'eviction', p_user_id, e.id, p_ip, p_user_agent,
               'session limit reached'
          FROM evicted e;
    END IF;

    RETURN QUERY
    WITH s AS (
        INSERT INTO mdauth.sessions (user_id, token_hash, device, ip,
                                     user_agent, expires_at, absolute_expires_at)
        VALUES (p_user_id, p_token_hash, p_device, p_ip, p_user_agent,
                now() + least(p_ttl, p_max_lifetime) * interval '1 second',
                now() + p_max_lifetime * interval '1 second')
        RETURNING id, sessions.expires_at),
    e AS (
        INSERT INTO mdauth.auth_events (event, user_id, session_id, ip, user_agent)
        SELECT 'login_success', p_user_id, s.id, p_ip, p_user_agent FROM s)
    SELECT s.id, s.expires_at FROM s;
END
$$;

-- 002_admin.sql -- opening a session under the per-user cap, and the
-- operator's view and functions for session administration.
--
-- A session counts as live while it is not revoked, neither of its
-- expiries has passed, and its user is not disabled.

-- Open a session for a user who has just proven the password, keeping at
-- most p_cap live sessions.  The user's row is locked first, so parallel
-- logins of one user are serialised and can never leave more than p_cap
-- live.  At the cap, p_policy 'evict_oldest' revokes the least recently
-- used sessions (an 'eviction' event each); 'reject' opens nothing and
-- returns no row.  Returns the new session's id and expiry.
CREATE FUNCTION mdauth.session_open(
    p_user_id bigint, p_token_hash bytea, p_device text, p_ip text,
    p_user_agent text, p_ttl bigint, p_max_lifetime bigint,
    p_cap integer, p_policy text)
RETURNS TABLE (session_id uuid, expires_at timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
    live integer;
BEGIN
    PERFORM 1 FROM mdauth.users u WHERE u.id = p_user_id FOR UPDATE;

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

-- Live sessions with their user: what an operator looks at first.
CREATE VIEW mdauth.active_sessions AS
SELECT s.id AS session_id, s.user_id, u.username, s.device, s.ip,
       s.user_agent, s.created_at, s.last_used_at, s.expires_at
  FROM mdauth.sessions s
  JOIN mdauth.users u ON u.id = s.user_id
 WHERE s.revoked_at IS NULL AND s.expires_at > now()
   AND s.absolute_expires_at > now() AND u.disabled_at IS NULL;

-- End one live session.  Returns whether there was one to end.
CREATE FUNCTION mdauth.revoke_session(p_session_id uuid)
RETURNS boolean LANGUAGE sql AS $$
    WITH r AS (
        UPDATE mdauth.sessions s SET revoked_at = now(), revoked_reason = 'admin'
         WHERE s.id = p_session_id AND s.revoked_at IS NULL
           AND s.expires_at > now() AND s.absolute_expires_at > now()
        RETURNING s.id, s.user_id),
    e AS (
        INSERT INTO mdauth.auth_events (event, user_id, session_id, detail)
        SELECT 'revoke', r.user_id, r.id, 'admin' FROM r)
    SELECT count(*) > 0 FROM r;
$$;

-- End every live session of a user (name case-insensitive).  Returns how many.
CREATE FUNCTION mdauth.revoke_user_sessions(p_username text)
RETURNS integer LANGUAGE sql AS $$
    WITH r AS (
        UPDATE mdauth.sessions s SET revoked_at = now(), revoked_reason = 'admin'
          FROM mdauth.users u
         WHERE u.id = s.user_id AND lower(u.username) = lower(p_username)
           AND s.revoked_at IS NULL AND s.expires_at > now()
           AND s.absolute_expires_at > now()
        RETURNING s.id, s.user_id),
    e AS (
        INSERT INTO mdauth.auth_events (event, user_id, session_id, detail)
        SELECT 'revoke', r.user_id, r.id, 'admin' FROM r)
    SELECT count(*)::integer FROM r;
$$;

-- Disable a user: no more logins, and every session ends now.
-- Returns false when there is no such user.
CREATE FUNCTION mdauth.disable_user(p_username text)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    uid bigint;
    ended integer;
BEGIN
    UPDATE mdauth.users u SET disabled_at = coalesce(u.disabled_at, now()),
                              updated_at = now()
     WHERE lower(u.username) = lower(p_username)
    RETURNING u.id INTO uid;
    IF uid IS NULL THEN
        RETURN false;
    END IF;
    UPDATE mdauth.sessions s SET revoked_at = now(), revoked_reason = 'user_disabled'
     WHERE s.user_id = uid AND s.revoked_at IS NULL;
    GET DIAGNOSTICS ended = ROW_COUNT;
    INSERT INTO mdauth.auth_events (event, user_id, detail)
    VALUES ('user_disabled', uid, format('%s sessions ended', ended));
    RETURN true;
END
$$;

-- Let a disabled user log in again.  Returns false when there is no such user.
CREATE FUNCTION mdauth.enable_user(p_username text)
RETURNS boolean LANGUAGE sql AS $$
    WITH u AS (
        UPDATE mdauth.users u SET disabled_at = NULL, updated_at = now()
         WHERE lower(u.username) = lower(p_username)
        RETURNING u.id)
    SELECT count(*) > 0 FROM u;
$$;

-- Delete sessions that can never be used again (revoked or expired), and
-- events older than the retention.  Run it daily (deploy/systemd/).
CREATE FUNCTION mdauth.prune(p_retention interval DEFAULT '90 days')
RETURNS TABLE (sessions_deleted bigint, events_deleted bigint)
LANGUAGE sql AS $$
    WITH s AS (
        DELETE FROM mdauth.sessions s
         WHERE s.revoked_at IS NOT NULL OR s.expires_at <= now()
            OR s.absolute_expires_at <= now()
        RETURNING 1),
    e AS (
        DELETE FROM mdauth.auth_events e WHERE e.at < now() - p_retention
        RETURNING 1)
    SELECT (SELECT count(*) FROM s), (SELECT count(*) FROM e);
$$;

-- The daemon opens sessions through session_open; the admin functions are
-- for operators only.
REVOKE ALL ON FUNCTION mdauth.session_open(bigint, bytea, text, text, text,
    bigint, bigint, integer, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mdauth.session_open(bigint, bytea, text, text, text,
    bigint, bigint, integer, text) TO mdauth_app;
REVOKE ALL ON FUNCTION mdauth.revoke_session(uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION mdauth.revoke_user_sessions(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION mdauth.disable_user(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION mdauth.enable_user(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION mdauth.prune(interval) FROM PUBLIC;

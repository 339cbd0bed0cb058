-- 009_session_functions.sql -- every change of a session's state is a
-- function of this schema, used alike by the daemon, by mdauthctl and by
-- operators; "live" is defined once; the daemon's role executes the
-- functions it needs and holds no privilege on any table.
--
-- The layers:
--
--   live_sessions          the one definition of a live session (a view)
--   end_sessions           the one UPDATE that revokes sessions, with an
--                          event for each when asked
--   end_user_sessions      end a user's live sessions (all, or all but one)
--
-- and on top of them, for operators: active_sessions, revoke_session,
-- revoke_user_sessions, disable_user, set_password, prune; for the
-- daemon: login_user, login_rehash, session_open, session_touch,
-- session_refresh, session_logout, session_revoke, session_logout_all,
-- user_sessions (and the throttling functions of 006).
--
-- The daemon's functions are SECURITY DEFINER: they run with the rights
-- of their owner (the role that ran the migrations), with search_path
-- pinned to pg_catalog, mdauth, and take every value as a parameter.
-- What the daemon's role can do to the tables is what these functions do,
-- nothing more: it cannot read the users or sessions in bulk, rewrite a
-- session's expiry, or write or delete an event.

-- A session is live while it is not revoked, neither of its expiries has
-- passed, and its user is not disabled.  The view is over sessions alone
-- (its user is checked in a subquery), so that it can be updated: an
-- UPDATE through it checks liveness on the very row version it changes,
-- even one a concurrent transaction has just changed.  A lookup through
-- it by token_hash, id or user_id stays an index scan.
CREATE VIEW mdauth.live_sessions AS
SELECT s.*
  FROM mdauth.sessions s
 WHERE s.revoked_at IS NULL
   AND s.expires_at > now()
   AND s.absolute_expires_at > now()
   AND EXISTS (SELECT 1 FROM mdauth.users u
                WHERE u.id = s.user_id AND u.disabled_at IS NULL);

-- Live sessions with their user: what an operator looks at first.
CREATE OR REPLACE VIEW mdauth.active_sessions AS
SELECT s.id AS session_id, s.user_id, u.username, s.device, s.ip,
       s.user_agent, s.created_at, s.last_used_at, s.expires_at
  FROM mdauth.live_sessions s
  JOIN mdauth.users u ON u.id = s.user_id;

-- Revoke the sessions p_ids that are not revoked yet (and, when
-- p_token_hash is given, whose current token it still is), with reason
-- p_reason; when p_event is given, write that event for each, with
-- p_detail, p_ip and p_user_agent.  Returns the sessions it revoked.
-- The one statement that revokes sessions: every revocation of this
-- schema comes here.  The conditions are checked on the row it updates,
-- so two revocations of one session write one event, and a token a
-- concurrent refresh has just replaced is not revoked by its old value.
CREATE FUNCTION mdauth.end_sessions(p_ids uuid[], p_token_hash bytea,
    p_reason text, p_event text, p_detail text, p_ip text,
    p_user_agent text)
RETURNS TABLE (id uuid, user_id bigint) LANGUAGE sql
SET search_path = pg_catalog, mdauth AS $$
    WITH r AS (
        UPDATE mdauth.sessions s
           SET revoked_at = now(), revoked_reason = p_reason
         WHERE s.id = ANY (p_ids) AND s.revoked_at IS NULL
           AND (p_token_hash IS NULL OR s.token_hash = p_token_hash)
        RETURNING s.id, s.user_id),
    e AS (
        INSERT INTO mdauth.auth_events (event, user_id, session_id, ip,
                                        user_agent, detail)
        SELECT p_event, r.user_id, r.id, p_ip, p_user_agent, p_detail
          FROM r WHERE p_event IS NOT NULL)
    SELECT r.id, r.user_id FROM r;
$$;

-- End every live session of a user but p_keep (NULL: keep none), as
-- end_sessions.  Returns how many ended.
CREATE FUNCTION mdauth.end_user_sessions(p_user_id bigint, p_keep uuid,
    p_reason text, p_event text, p_detail text, p_ip text,
    p_user_agent text)
RETURNS integer LANGUAGE sql
SET search_path = pg_catalog, mdauth AS $$
    SELECT count(*)::integer
      FROM mdauth.end_sessions(ARRAY(
               SELECT l.id FROM mdauth.live_sessions l
                WHERE l.user_id = p_user_id AND l.id IS DISTINCT FROM p_keep),
           NULL, p_reason, p_event, p_detail, p_ip, p_user_agent);
$$;

-- ---------------------------------------------------------------------------
-- Operators (and mdauthctl).

-- End one live session.  Returns whether there was one to end.
CREATE OR REPLACE FUNCTION mdauth.revoke_session(p_session_id uuid)
RETURNS boolean LANGUAGE sql
SET search_path = pg_catalog, mdauth AS $$
    SELECT count(*) > 0
      FROM mdauth.end_sessions(ARRAY(
               SELECT l.id FROM mdauth.live_sessions l
                WHERE l.id = p_session_id),
           NULL, 'admin', 'revoke', 'admin', NULL, NULL);
$$;

-- End every live session of a user (name case-insensitive).  Returns how many.
CREATE OR REPLACE FUNCTION mdauth.revoke_user_sessions(p_username text)
RETURNS integer LANGUAGE sql
SET search_path = pg_catalog, mdauth AS $$
    SELECT coalesce(sum(mdauth.end_user_sessions(u.id, NULL, 'admin',
                                                 'revoke', 'admin', NULL,
                                                 NULL)), 0)::integer
      FROM mdauth.users u
     WHERE lower(u.username) = lower(p_username);
$$;

-- Disable a user: no more logins, and every live session ends now
-- (reason user_disabled, one user_disabled event with the count).  The
-- user's row is locked first, as session_open locks it, so that a login
-- under way either opens its session before (and it is ended here) or
-- finds the user disabled.  Returns false when there is no such user.
CREATE OR REPLACE FUNCTION mdauth.disable_user(p_username text)
RETURNS boolean LANGUAGE plpgsql
SET search_path = pg_catalog, mdauth AS $$
DECLARE
    uid bigint;
    ended integer;
BEGIN
    SELECT u.id INTO uid FROM mdauth.users u
     WHERE lower(u.username) = lower(p_username) FOR UPDATE;
    IF uid IS NULL THEN
        RETURN false;
    END IF;
    ended := mdauth.end_user_sessions(uid, NULL, 'user_disabled', NULL,
                                      NULL, NULL, NULL);
    UPDATE mdauth.users u SET disabled_at = coalesce(u.disabled_at, now()),
                              updated_at = now()
     WHERE u.id = uid;
    INSERT INTO mdauth.auth_events (event, user_id, detail)
    VALUES ('user_disabled', uid, format('%s sessions ended', ended));
    RETURN true;
END
$$;

-- set_password as in 007_rotation.sql, ending the sessions through
-- end_user_sessions.
CREATE OR REPLACE FUNCTION mdauth.set_password(p_username text, p_phc text,
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
        ended := mdauth.end_user_sessions(uid, NULL, 'password_changed',
                                          'revoke', 'password_changed',
                                          NULL, NULL);
    END IF;
    INSERT INTO mdauth.auth_events (event, user_id, detail)
    VALUES ('password_changed', uid,
            CASE WHEN coalesce(p_keep_sessions, false)
                 THEN 'sessions kept'
                 ELSE format('%s sessions ended', ended) END);
    RETURN ended;
END
$$;

-- Delete the sessions that are not live (revoked, expired, or of a
-- disabled user), the events older than the retention, and the throttle
-- rows that are neither locked nor counting.  Run it daily
-- (deploy/systemd/).
CREATE OR REPLACE FUNCTION mdauth.prune(p_retention interval DEFAULT '90 days')
RETURNS TABLE (sessions_deleted bigint, events_deleted bigint)
LANGUAGE sql
SET search_path = pg_catalog, mdauth AS $$
    WITH s AS (
        DELETE FROM mdauth.sessions s
         WHERE NOT EXISTS (SELECT 1 FROM mdauth.live_sessions l
                            WHERE l.id = s.id)
        RETURNING 1),
    e AS (
        DELETE FROM mdauth.auth_events e WHERE e.at < now() - p_retention
        RETURNING 1),
    t AS (
        DELETE FROM mdauth.login_throttle t
         WHERE (t.locked_until IS NULL OR t.locked_until < now())
           AND t.window_start < now() - interval '1 day'
        RETURNING 1)
    SELECT (SELECT count(*) FROM s), (SELECT count(*) FROM e);
$$;

-- ---------------------------------------------------------------------------
-- The daemon.  Times it needs as numbers come back as Unix seconds, with
-- the database's now, so that every clock is the database's.

-- The user a login names (case-insensitive): id, name, hash, disabled.
CREATE FUNCTION mdauth.login_user(p_username text)
RETURNS TABLE (id bigint, username text, password_hash text,
               disabled boolean)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, mdauth AS $$
    SELECT u.id, u.username, u.password_hash, u.disabled_at IS NOT NULL
      FROM mdauth.users u
     WHERE lower(u.username) = lower(p_username);
$$;

-- Store a hash made with the current parameters, if the stored one is
-- still the one the login verified.  Returns whether it did.
CREATE FUNCTION mdauth.login_rehash(p_user_id bigint, p_old_hash text,
    p_new_hash text)
RETURNS boolean LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, mdauth AS $$
    WITH u AS (
        UPDATE mdauth.users u SET password_hash = p_new_hash,
                                  updated_at = now()
         WHERE u.id = p_user_id AND u.password_hash = p_old_hash
        RETURNING 1)
    SELECT count(*) > 0 FROM u;
$$;

-- A replaced token of this session was presented: end the session
-- (reason token_reuse, a token_reuse event with the request's address
-- and user agent).  As in 007_rotation.sql, the caller finds the session
-- in its own statement; now through end_sessions.
CREATE OR REPLACE FUNCTION mdauth.token_reused(p_session_id uuid, p_ip text,
    p_user_agent text)
RETURNS boolean LANGUAGE sql
SET search_path = pg_catalog, mdauth AS $$
    SELECT count(*) > 0
      FROM mdauth.end_sessions(ARRAY[p_session_id], NULL, 'token_reuse',
               'token_reuse',
               'a replaced token was presented; session revoked',
               p_ip, p_user_agent);
$$;

-- session_open as in 007_rotation.sql, counting and evicting through
-- live_sessions and end_sessions.
CREATE OR REPLACE FUNCTION mdauth.session_open(
    p_user_id bigint, p_token_hash bytea, p_device text, p_ip text,
    p_user_agent text, p_ttl bigint, p_max_lifetime bigint,
    p_cap integer, p_policy text)
RETURNS TABLE (session_id uuid, expires_at timestamptz)
LANGUAGE plpgsql SECURITY DEFINER
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

    SELECT count(*) INTO live FROM mdauth.live_sessions l
     WHERE l.user_id = p_user_id;

    IF live >= p_cap THEN
        IF p_policy = 'reject' THEN
            INSERT INTO mdauth.auth_events (event, user_id, ip, user_agent, detail)
            VALUES ('session_limit_reached', p_user_id, p_ip, p_user_agent,
                    format('%s live sessions', live));
            RETURN;
        END IF;
        PERFORM 1 FROM mdauth.end_sessions(ARRAY(
                SELECT l.id FROM mdauth.live_sessions l
                 WHERE l.user_id = p_user_id
                 ORDER BY l.last_used_at, l.created_at
                 LIMIT live - p_cap + 1),
            NULL, 'evicted', 'eviction', 'session limit reached', p_ip,
            p_user_agent);
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

-- The functions below that take a token end the same way: when no
-- session's current token is the digest, and only then, they look it up
-- among the tokens a refresh replaced (one indexed probe, which a live
-- token never costs: the NOT EXISTS gates it) and end that session
-- through token_reused().  Each is one statement, the lookup of the token
-- and this search together, so that both run in one snapshot: the loser
-- of two concurrent refreshes of one token, whose statement began before
-- the winner's rotation committed, does not take that rotation for a
-- reuse.  (A function's later statements would see it: each statement of
-- a function takes a new snapshot.)  state, where they give one: 0 live
-- (or done), 1 expired, 2 revoked or its user disabled (also: a replaced
-- token of a session revoked before), 3 a replaced token whose session
-- the call has just revoked.

-- The session of a token.  When it is live and its last use is older than
-- p_touch_interval seconds, record the use and, with p_sliding, move its
-- idle expiry to p_ttl seconds from now (never past its absolute
-- expiry).  expires_at is after that renewal.
CREATE FUNCTION mdauth.session_touch(p_token_hash bytea,
    p_touch_interval bigint, p_sliding boolean, p_ttl bigint, p_ip text,
    p_user_agent text)
RETURNS TABLE (session_id uuid, user_id bigint, username text,
               state integer, expires_at bigint, now bigint)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, mdauth AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH s AS (
        SELECT x.id, x.user_id, u.username, x.expires_at,
               x.absolute_expires_at,
               CASE WHEN l.id IS NOT NULL THEN 0
                    WHEN x.revoked_at IS NULL AND u.disabled_at IS NULL
                    THEN 1 ELSE 2 END AS state,
               x.last_used_at <= now() - p_touch_interval * interval '1 second'
                   AS touch_due
          FROM mdauth.sessions x
          JOIN mdauth.users u ON u.id = x.user_id
          LEFT JOIN mdauth.live_sessions l ON l.id = x.id
         WHERE x.token_hash = p_token_hash),
    t AS (
        UPDATE mdauth.live_sessions x SET last_used_at = now(),
               expires_at = CASE WHEN p_sliding
                   THEN least(now() + p_ttl * interval '1 second',
                              s.absolute_expires_at)
                   ELSE x.expires_at END
          FROM s
         WHERE x.id = s.id AND s.state = 0 AND s.touch_due
        RETURNING x.expires_at),
    r AS (
        SELECT x.id, x.user_id,
               CASE WHEN mdauth.token_reused(x.id, p_ip, p_user_agent)
                    THEN 3 ELSE 2 END AS state
          FROM mdauth.sessions x
         WHERE x.previous_token_hash = p_token_hash
           AND NOT EXISTS (SELECT 1 FROM s))
    SELECT s.id, s.user_id, s.username, s.state,
           floor(extract(epoch FROM coalesce((SELECT t.expires_at FROM t),
                                             s.expires_at)))::bigint,
           floor(extract(epoch FROM now()))::bigint
      FROM s
    UNION ALL
    SELECT r.id, r.user_id, ''::text, r.state, 0::bigint,
           floor(extract(epoch FROM now()))::bigint
      FROM r;
END
$$;

-- Give the live session of p_token_hash the token p_new_token_hash; the
-- old one becomes previous_token_hash.  Of two refreshes of one token,
-- the second waits for the first's row lock, then finds the token changed
-- and refreshes nothing (no row).  A refresh costs no hash, so its event
-- is bounded: at most one per session a minute; refresh_count counts
-- every refresh and the event's detail gives it.  state 0: refreshed;
-- 2 or 3: the old token was a replaced one, nothing refreshed.
CREATE FUNCTION mdauth.session_refresh(p_token_hash bytea,
    p_new_token_hash bytea, p_ttl bigint, p_ip text, p_user_agent text)
RETURNS TABLE (session_id uuid, user_id bigint, expires_at bigint,
               now bigint, state integer)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, mdauth AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH s AS (
        UPDATE mdauth.live_sessions x SET token_hash = p_new_token_hash,
               previous_token_hash = p_token_hash, last_used_at = now(),
               expires_at = least(now() + p_ttl * interval '1 second',
                                  x.absolute_expires_at),
               refresh_count = x.refresh_count + 1,
               refresh_logged_at = CASE WHEN x.refresh_logged_at IS NULL
                   OR x.refresh_logged_at <= now() - interval '60 seconds'
                   THEN now() ELSE x.refresh_logged_at END
         WHERE x.token_hash = p_token_hash
        RETURNING x.id, x.user_id, x.expires_at, x.refresh_count,
                  x.refresh_logged_at = now() AS log_it),
    e AS (
        INSERT INTO mdauth.auth_events (event, user_id, session_id, ip,
                                        user_agent, detail)
        SELECT 'refresh', s.user_id, s.id, p_ip, p_user_agent,
               'refresh ' || s.refresh_count || ' of the session'
          FROM s WHERE s.log_it),
    r AS (
        SELECT x.id, x.user_id,
               CASE WHEN mdauth.token_reused(x.id, p_ip, p_user_agent)
                    THEN 3 ELSE 2 END AS state
          FROM mdauth.sessions x
         WHERE x.previous_token_hash = p_token_hash
           AND NOT EXISTS (SELECT 1 FROM s))
    SELECT s.id, s.user_id, floor(extract(epoch FROM s.expires_at))::bigint,
           floor(extract(epoch FROM now()))::bigint, 0
      FROM s
    UNION ALL
    SELECT r.id, r.user_id, 0::bigint,
           floor(extract(epoch FROM now()))::bigint, r.state
      FROM r;
END
$$;

-- Log out: end the session of p_token_hash if it is not revoked yet,
-- reason and event p_reason.  state 0: ended now; 2 or 3: a replaced
-- token.  No row: nothing to end.
CREATE FUNCTION mdauth.session_logout(p_token_hash bytea, p_reason text,
    p_ip text, p_user_agent text)
RETURNS TABLE (session_id uuid, user_id bigint, state integer)
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, mdauth AS $$
    WITH s AS (
        SELECT e.id, e.user_id
          FROM mdauth.end_sessions(ARRAY(
                   SELECT x.id FROM mdauth.sessions x
                    WHERE x.token_hash = p_token_hash
                      AND x.revoked_at IS NULL),
               p_token_hash, p_reason, p_reason, NULL, p_ip,
               p_user_agent) e),
    r AS (
        SELECT x.id, x.user_id,
               CASE WHEN mdauth.token_reused(x.id, p_ip, p_user_agent)
                    THEN 3 ELSE 2 END AS state
          FROM mdauth.sessions x
         WHERE x.previous_token_hash = p_token_hash
           AND NOT EXISTS (SELECT 1 FROM s))
    SELECT s.id, s.user_id, 0 FROM s
    UNION ALL
    SELECT r.id, r.user_id, r.state FROM r;
$$;

-- End one live session of a user by its id (DELETE /sessions/{id}),
-- reason user, a revoke event (detail user).  Nobody ends another user's
-- session: no row when it is not a live session of p_user_id.
CREATE FUNCTION mdauth.session_revoke(p_user_id bigint, p_session_id uuid,
    p_ip text, p_user_agent text)
RETURNS TABLE (session_id uuid) LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, mdauth AS $$
    SELECT e.id
      FROM mdauth.end_sessions(ARRAY(
               SELECT l.id FROM mdauth.live_sessions l
                WHERE l.id = p_session_id AND l.user_id = p_user_id),
           NULL, 'user', 'revoke', 'user', p_ip, p_user_agent) e;
$$;

-- Log out everywhere: end every live session of a user (all but
-- p_current_id with p_keep_current), reason logout_all, and write one
-- logout_all event with the count.  Returns the count.
CREATE FUNCTION mdauth.session_logout_all(p_user_id bigint,
    p_keep_current boolean, p_current_id uuid, p_ip text, p_user_agent text)
RETURNS integer LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, mdauth AS $$
DECLARE
    ended integer;
BEGIN
    ended := mdauth.end_user_sessions(p_user_id,
        CASE WHEN p_keep_current THEN p_current_id END, 'logout_all', NULL,
        NULL, p_ip, p_user_agent);
    INSERT INTO mdauth.auth_events (event, user_id, session_id, ip,
                                    user_agent, detail)
    VALUES ('logout_all', p_user_id, p_current_id, p_ip, p_user_agent,
            ended || ' sessions revoked');
    RETURN ended;
END
$$;

-- A user's live sessions (the device list), most recently used first;
-- current marks p_current_id.  Times in Unix seconds.
CREATE FUNCTION mdauth.user_sessions(p_user_id bigint, p_current_id uuid)
RETURNS TABLE (session_id uuid, device text, ip text, user_agent text,
               created_at bigint, last_used_at bigint, expires_at bigint,
               current boolean)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, mdauth AS $$
    SELECT l.id, l.device, l.ip, l.user_agent,
           floor(extract(epoch FROM l.created_at))::bigint,
           floor(extract(epoch FROM l.last_used_at))::bigint,
           floor(extract(epoch FROM l.expires_at))::bigint,
           l.id = p_current_id
      FROM mdauth.live_sessions l
     WHERE l.user_id = p_user_id
     ORDER BY l.last_used_at DESC, l.created_at DESC;
$$;

-- Throttling (006_throttle_keys.sql) runs with its owner's rights too, so
-- that the daemon's role needs no privilege on login_throttle.
ALTER FUNCTION mdauth.login_check(text, text, text, text) SECURITY DEFINER;
ALTER FUNCTION mdauth.login_failed(bigint, text, text, text, text, text,
    bigint, integer, integer, bigint, bigint) SECURITY DEFINER;
ALTER FUNCTION mdauth.login_succeeded(text, text) SECURITY DEFINER;

-- ---------------------------------------------------------------------------
-- Grants.  A new function may be executed by PUBLIC unless revoked; none
-- of these may.  The daemon's role keeps USAGE on the schema and EXECUTE
-- on its functions, and loses every table privilege.

REVOKE ALL ON FUNCTION mdauth.end_sessions(uuid[], bytea, text, text, text,
    text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION mdauth.end_user_sessions(bigint, uuid, text, text,
    text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION mdauth.login_user(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION mdauth.login_rehash(bigint, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION mdauth.session_touch(bytea, bigint, boolean, bigint,
    text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION mdauth.session_refresh(bytea, bytea, bigint, text,
    text) FROM PUBLIC;
REVOKE ALL ON FUNCTION mdauth.session_logout(bytea, text, text, text)
    FROM PUBLIC;
REVOKE ALL ON FUNCTION mdauth.session_revoke(bigint, uuid, text, text)
    FROM PUBLIC;
REVOKE ALL ON FUNCTION mdauth.session_logout_all(bigint, boolean, uuid, text,
    text) FROM PUBLIC;
REVOKE ALL ON FUNCTION mdauth.user_sessions(bigint, uuid) FROM PUBLIC;

-- token_reused is called inside the daemon's functions only now.
REVOKE ALL ON FUNCTION mdauth.token_reused(uuid, text, text)
    FROM PUBLIC, mdauth_app;

GRANT EXECUTE ON FUNCTION mdauth.login_user(text) TO mdauth_app;
GRANT EXECUTE ON FUNCTION mdauth.login_rehash(bigint, text, text)
    TO mdauth_app;
GRANT EXECUTE ON FUNCTION mdauth.session_touch(bytea, bigint, boolean, bigint,
    text, text) TO mdauth_app;
GRANT EXECUTE ON FUNCTION mdauth.session_refresh(bytea, bytea, bigint, text,
    text) TO mdauth_app;
GRANT EXECUTE ON FUNCTION mdauth.session_logout(bytea, text, text, text)
    TO mdauth_app;
GRANT EXECUTE ON FUNCTION mdauth.session_revoke(bigint, uuid, text, text)
    TO mdauth_app;
GRANT EXECUTE ON FUNCTION mdauth.session_logout_all(bigint, boolean, uuid,
    text, text) TO mdauth_app;
GRANT EXECUTE ON FUNCTION mdauth.user_sessions(bigint, uuid) TO mdauth_app;

-- throttle_count went with 006; its grant went with it.  Every table
-- privilege of the daemon's role goes (column privileges with them).
REVOKE ALL ON mdauth.users, mdauth.sessions, mdauth.auth_events,
    mdauth.login_throttle FROM mdauth_app;

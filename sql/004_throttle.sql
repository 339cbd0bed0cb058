-- 004_throttle.sql -- login throttling, kept in the database so that it
-- holds across workers and hosts.
--
-- One row per username (kind 'user', the name as typed, lower-cased,
-- whether or not such a user exists) and per client address (kind 'ip').
-- Failures are counted within a window; reaching the limit locks the key
-- until locked_until.  A successful login clears its username's row.

CREATE TABLE mdauth.login_throttle (
    kind            text NOT NULL CHECK (kind IN ('user', 'ip')),
    key             text NOT NULL,
    failures        integer NOT NULL,
    window_start    timestamptz NOT NULL,
    locked_until    timestamptz,
    PRIMARY KEY (kind, key)
);

-- Seconds until a login for this username and address may run again; 0
-- when it may run now.  A throttled attempt is recorded.
CREATE FUNCTION mdauth.login_check(p_username text, p_ip text,
    p_user_agent text)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    wait integer;
BEGIN
    SELECT coalesce(max(ceil(extract(epoch FROM t.locked_until - now()))), 0)
      INTO wait
      FROM mdauth.login_throttle t
     WHERE t.locked_until > now()
       AND ((t.kind = 'user' AND t.key = lower(p_username))
         OR (t.kind = 'ip' AND t.key = p_ip));
    IF wait > 0 THEN
        INSERT INTO mdauth.auth_events (event, username, ip, user_agent, detail)
        VALUES ('login_throttled', p_username, p_ip, p_user_agent,
                format('retry after %s s', wait));
    END IF;
    RETURN wait;
END
$$;

-- Count one failure for a key; lock it when it reaches p_max in p_window.
CREATE FUNCTION mdauth.throttle_count(p_kind text, p_key text,
    p_window bigint, p_max integer, p_lockout bigint)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO mdauth.login_throttle AS t (kind, key, failures, window_start,
                                            locked_until)
    VALUES (p_kind, p_key, 1, now(),
            CASE WHEN p_max <= 1 THEN now() + p_lockout * interval '1 second' END)
    ON CONFLICT (kind, key) DO UPDATE
       SET failures = CASE WHEN t.window_start > now() - p_window * interval '1 second'
                           THEN t.failures + 1 ELSE 1 END,
           window_start = CASE WHEN t.window_start > now() - p_window * interval '1 second'
                               THEN t.window_start ELSE now() END,
           locked_until = CASE
               WHEN (CASE WHEN t.window_start > now() - p_window * interval '1 second'
                          THEN t.failures + 1 ELSE 1 END) >= p_max
               THEN now() + p_lockout * interval '1 second'
               ELSE t.locked_until END;
$$;

-- A failed login: the event, and one failure for its username and address.
CREATE FUNCTION mdauth.login_failed(p_user_id bigint, p_username text,
    p_ip text, p_user_agent text, p_reason text, p_window bigint,
    p_user_max integer, p_ip_max integer, p_lockout bigint)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO mdauth.auth_events (event, user_id, username, ip, user_agent, detail)
    VALUES ('login_failure', NULLIF(p_user_id, 0), p_username, p_ip,
            p_user_agent, p_reason);
    SELECT mdauth.throttle_count('user', lower(p_username), p_window,
                                 p_user_max, p_lockout);
    SELECT mdauth.throttle_count('ip', p_ip, p_window, p_ip_max, p_lockout);
$$;

-- A successful login clears its username's failures (not its address's).
CREATE FUNCTION mdauth.login_succeeded(p_username text)
RETURNS void LANGUAGE sql AS $$
    DELETE FROM mdauth.login_throttle
     WHERE kind = 'user' AND key = lower(p_username);
$$;

-- prune() also forgets throttle rows that are neither locked nor counting.
CREATE OR REPLACE FUNCTION mdauth.prune(p_retention interval DEFAULT '90 days')
RETURNS TABLE (sessions_deleted bigint, events_deleted bigint)
LANGUAGE sql AS $$
    WITH s AS (
        DELETE FROM mdauth.sessions s
         WHERE s.revoked_at IS NOT NULL OR s.expires_at <= now()
            OR s.absolute_expires_at <= now()
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

REVOKE ALL ON FUNCTION mdauth.login_check(text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION mdauth.throttle_count(text, text, bigint, integer, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION mdauth.login_failed(bigint, text, text, text, text, bigint, integer, integer, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION mdauth.login_succeeded(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mdauth.login_check(text, text, text) TO mdauth_app;
GRANT EXECUTE ON FUNCTION mdauth.throttle_count(text, text, bigint, integer, bigint) TO mdauth_app;
GRANT EXECUTE ON FUNCTION mdauth.login_failed(bigint, text, text, text, text, bigint, integer, integer, bigint) TO mdauth_app;
GRANT EXECUTE ON FUNCTION mdauth.login_succeeded(text) TO mdauth_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON mdauth.login_throttle TO mdauth_app;
REVOKE ALL ON FUNCTION mdauth.prune(interval) FROM PUBLIC;

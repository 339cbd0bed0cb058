-- 006_throttle_keys.sql -- throttling that a stranger cannot turn into a
-- lockout, that an IPv6 client cannot sidestep, and that writes a bounded
-- number of events.
--
-- mdauth.login_throttle now has three kinds of rows:
--
--   kind      key                     addr          at its limit
--   ip        the address key         ''            locked (every name)
--   user_ip   the name, lower-cased   address key   locked (this name
--                                                   from this address)
--   user      the name, lower-cased   ''            slowed: a delay that
--                                                   doubles, capped
--
-- The address key is computed by the daemon (text_addr_key in
-- app/text.c): an IPv4 address as itself, an IPv6 address as its network
-- of ip_throttle_prefix6 bits ('2001:db8:1:2::/64').  Names are counted
-- whether or not such a user exists.  The hard lock of a name is per
-- address: failures from one address no longer lock the owner out from
-- another.  What remains global per name only slows guessing from many
-- addresses at once: from 2 x login_max_failures failures within the
-- window on, each failure delays the name's next login by 1, 2, 4, ...
-- seconds, at most login_max_delay.
--
-- A refused (throttled) attempt is counted on the rows that refused it
-- (throttled_count, throttled_first, throttled_last); only the first
-- refused attempt of each lock (locked_at says when it began) writes a
-- login_throttled event, so that a flood of attempts, which costs no hash,
-- cannot fill auth_events.

ALTER TABLE mdauth.login_throttle
    ADD COLUMN addr text NOT NULL DEFAULT '',
    ADD COLUMN locked_at timestamptz,
    ADD COLUMN throttled_count bigint NOT NULL DEFAULT 0,
    ADD COLUMN throttled_first timestamptz,
    ADD COLUMN throttled_last timestamptz;

-- A lock of a name from every address is the lockout this migration
-- ends: such rows go.  The address rows keep counting.
DELETE FROM mdauth.login_throttle WHERE kind = 'user';
UPDATE mdauth.login_throttle SET locked_at = now() WHERE locked_until IS NOT NULL;

ALTER TABLE mdauth.login_throttle
    DROP CONSTRAINT login_throttle_kind_check,
    ADD CONSTRAINT login_throttle_kind_check
        CHECK (kind IN ('ip', 'user', 'user_ip')),
    DROP CONSTRAINT login_throttle_pkey,
    ADD PRIMARY KEY (kind, key, addr);

DROP FUNCTION mdauth.login_check(text, text, text);
DROP FUNCTION mdauth.login_failed(bigint, text, text, text, text, bigint,
    integer, integer, bigint);
DROP FUNCTION mdauth.login_succeeded(text);
DROP FUNCTION mdauth.throttle_count(text, text, bigint, integer, bigint);

-- Seconds until a login for this name from this address (p_addr: its
-- key; p_ip: the address itself, for the event) may run; 0 when it may
-- run now.  Rows are locked in the order kind, key, addr, the order
-- login_failed takes them in too.
CREATE FUNCTION mdauth.login_check(p_username text, p_addr text, p_ip text,
    p_user_agent text)
RETURNS integer LANGUAGE plpgsql
SET search_path = pg_catalog, mdauth AS $$
DECLARE
    r record;
    wait integer := 0;
    report boolean := false;
    kinds text[] := '{}';
BEGIN
    FOR r IN
        SELECT t.kind, t.key, t.addr, t.locked_until, t.locked_at,
               t.throttled_last
          FROM mdauth.login_throttle t
         WHERE t.locked_until > now()
           AND ((t.kind = 'ip' AND t.key = p_addr AND t.addr = '')
             OR (t.kind = 'user' AND t.key = lower(p_username) AND t.addr = '')
             OR (t.kind = 'user_ip' AND t.key = lower(p_username)
                 AND t.addr = p_addr))
         ORDER BY t.kind, t.key, t.addr
           FOR UPDATE
    LOOP
        wait := greatest(wait,
            ceil(extract(epoch FROM r.locked_until - now()))::integer);
        kinds := kinds || r.kind;
        IF r.throttled_last IS NULL OR r.locked_at IS NULL
           OR r.throttled_last < r.locked_at THEN
            report := true;
        END IF;
        UPDATE mdauth.login_throttle t
           SET throttled_count = t.throttled_count + 1,
               throttled_first = coalesce(t.throttled_first, now()),
               throttled_last = now()
         WHERE t.kind = r.kind AND t.key = r.key AND t.addr = r.addr;
    END LOOP;
    IF report THEN
        INSERT INTO mdauth.auth_events (event, username, ip, user_agent, detail)
        VALUES ('login_throttled', p_username, p_ip, p_user_agent,
                format('retry after %s s (%s)', wait,
                       array_to_string(kinds, ', ')));
    END IF;
    RETURN wait;
END
$$;

-- A failed login: the event, and one failure for the address, the name,
-- and the name from the address.  p_user_max failures of the name from
-- one address, or p_ip_max from the address, within p_window seconds lock
-- it for p_lockout seconds; from 2 x p_user_max failures of the name from
-- anywhere on, the name is delayed 2^(n - 2 x p_user_max) seconds, at most
-- p_max_delay.
CREATE FUNCTION mdauth.login_failed(p_user_id bigint, p_username text,
    p_addr text, p_ip text, p_user_agent text, p_reason text,
    p_window bigint, p_user_max integer, p_ip_max integer, p_lockout bigint,
    p_max_delay bigint)
RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, mdauth AS $$
DECLARE
    r record;
    n integer;
    secs double precision;
BEGIN
    INSERT INTO mdauth.auth_events (event, user_id, username, ip, user_agent,
                                    detail)
    VALUES ('login_failure', NULLIF(p_user_id, 0), p_username, p_ip,
            p_user_agent, p_reason);
    FOR r IN
        SELECT * FROM (VALUES
            ('ip', p_addr, '', p_ip_max, false),
            ('user', lower(p_username), '', 2 * p_user_max, true),
            ('user_ip', lower(p_username), p_addr, p_user_max, false))
            AS v (kind, key, addr, max, slows)
    LOOP
        INSERT INTO mdauth.login_throttle AS t (kind, key, addr, failures,
                                                window_start)
        VALUES (r.kind, r.key, r.addr, 1, now())
        ON CONFLICT (kind, key, addr) DO UPDATE
           SET failures = CASE
                   WHEN t.window_start > now() - p_window * interval '1 second'
                   THEN t.failures + 1 ELSE 1 END,
               window_start = CASE
                   WHEN t.window_start > now() - p_window * interval '1 second'
                   THEN t.window_start ELSE now() END
        RETURNING t.failures INTO n;
        IF n >= r.max THEN
            secs := CASE WHEN r.slows
                         THEN least(power(2, least(n - r.max, 30)), p_max_delay)
                         ELSE p_lockout END;
            UPDATE mdauth.login_throttle t
               SET locked_until = now() + secs * interval '1 second',
                   locked_at = now()
             WHERE t.kind = r.kind AND t.key = r.key AND t.addr = r.addr;
        END IF;
    END LOOP;
END
$$;

-- A successful login clears its name's count and its name's from this
-- address (not the address's, nor the name's from other addresses).
CREATE FUNCTION mdauth.login_succeeded(p_username text, p_addr text)
RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, mdauth AS $$
BEGIN
    DELETE FROM mdauth.login_throttle
     WHERE kind = 'user' AND key = lower(p_username) AND addr = '';
    DELETE FROM mdauth.login_throttle
     WHERE kind = 'user_ip' AND key = lower(p_username) AND addr = p_addr;
END
$$;

REVOKE ALL ON FUNCTION mdauth.login_check(text, text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION mdauth.login_failed(bigint, text, text, text, text,
    text, bigint, integer, integer, bigint, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION mdauth.login_succeeded(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mdauth.login_check(text, text, text, text)
    TO mdauth_app;
GRANT EXECUTE ON FUNCTION mdauth.login_failed(bigint, text, text, text, text,
    text, bigint, integer, integer, bigint, bigint) TO mdauth_app;
GRANT EXECUTE ON FUNCTION mdauth.login_succeeded(text, text) TO mdauth_app;

-- Refresh events, bounded: a session writes at most one refresh event a
-- minute.  refresh_count counts every refresh of the session (the event's
-- detail gives it, so that the refreshes between two events are known);
-- refresh_logged_at is the time of the session's last refresh event.
ALTER TABLE mdauth.sessions
    ADD COLUMN refresh_count integer NOT NULL DEFAULT 0,
    ADD COLUMN refresh_logged_at timestamptz;
GRANT UPDATE (refresh_count, refresh_logged_at) ON mdauth.sessions
    TO mdauth_app;

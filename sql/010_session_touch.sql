-- 010_session_touch.sql -- session_touch, the call of every validate, as
-- a few indexed statements instead of one set of CTEs.
--
-- 009's session_touch joined every looked-up session to live_sessions a
-- second time to tell live from expired from revoked, and ran its
-- UPDATE, its fallback and its reuse search as CTEs of one statement
-- returned through RETURN QUERY.  It cost a validate about a third more
-- database time than the single statement it replaced.  This one looks
-- the token up in live_sessions first (one index probe of the token, one
-- of the user), writes only when the touch is due, and runs the fallback
-- (why is the session not live?) and the reuse search only when the
-- token is not live, which a live token never costs.  It also returns
-- the session's absolute expiry and its last recorded use, so that the
-- daemon can keep what a validate answers and judge both expiries and
-- the next touch itself.
--
-- Snapshots: unlike the functions of 009 that end with the reuse search,
-- this one runs its lookups as separate statements, each in its own
-- snapshot.  That is safe here because a token only ever stops being
-- current (a refresh gives the session a fresh random token, never an
-- old one): a later statement can find the token less live than the
-- first did, never more, so no interleaving reports a replaced token
-- that the first lookup had found current.  The concurrent-refresh race
-- those functions guard against needs a statement that itself rotates
-- the token, which this one does not.  The touch UPDATE goes through
-- live_sessions, so a session revoked or expired between the lookup and
-- the write is not renewed; it is then answered as what it has become.

DROP FUNCTION mdauth.session_touch(bytea, bigint, boolean, bigint, text,
    text);

-- The session of a token.  When it is live and its last use is older than
-- p_touch_interval seconds, record the use and, with p_sliding, move its
-- idle expiry to p_ttl seconds from now (never past its absolute
-- expiry).  expires_at and touched_at are after that renewal; the times
-- are Unix seconds of the database's clock, now included, but touched_at,
-- in milliseconds: the daemon's cache decides when the next touch is due
-- by it, and a whole second would make it ask early or write late.  A token that
-- is not live comes with its state only (0 live, 1 expired, 2 revoked or
-- its user disabled, 3 a replaced token whose session this call revoked).
CREATE FUNCTION mdauth.session_touch(p_token_hash bytea,
    p_touch_interval bigint, p_sliding boolean, p_ttl bigint, p_ip text,
    p_user_agent text)
RETURNS TABLE (session_id uuid, user_id bigint, username text,
               state integer, expires_at bigint,
               absolute_expires_at bigint, touched_at bigint, now bigint)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, mdauth AS $$
DECLARE
    v_id uuid;
    v_user_id bigint;
    v_expires timestamptz;
    v_absolute timestamptz;
    v_touched timestamptz;
    v_due boolean;
    v_state integer;
BEGIN
    SELECT l.id, l.user_id, l.expires_at, l.absolute_expires_at,
           l.last_used_at,
           l.last_used_at <= pg_catalog.now()
                             - p_touch_interval * interval '1 second'
      INTO v_id, v_user_id, v_expires, v_absolute, v_touched, v_due
      FROM mdauth.live_sessions l
     WHERE l.token_hash = p_token_hash;
    IF FOUND AND v_due THEN
        UPDATE mdauth.live_sessions x
           SET last_used_at = pg_catalog.now(),
               expires_at = CASE WHEN p_sliding
                   THEN least(pg_catalog.now() + p_ttl * interval '1 second',
                              x.absolute_expires_at)
                   ELSE x.expires_at END
         WHERE x.id = v_id
        RETURNING x.expires_at, x.last_used_at INTO v_expires, v_touched;
    END IF;
    IF FOUND THEN
        session_id := v_id;
        user_id := v_user_id;
        SELECT u.username INTO username
          FROM mdauth.users u WHERE u.id = v_user_id;
        state := 0;
        expires_at := floor(extract(epoch FROM v_expires));
        absolute_expires_at := floor(extract(epoch FROM v_absolute));
        touched_at := floor(extract(epoch FROM v_touched) * 1000);
        now := floor(extract(epoch FROM pg_catalog.now()));
        RETURN NEXT;
        RETURN;
    END IF;

    -- Not live: say why, or look among the replaced tokens.
    SELECT x.id, x.user_id,
           CASE WHEN x.revoked_at IS NULL AND u.disabled_at IS NULL
                THEN 1 ELSE 2 END
      INTO v_id, v_user_id, v_state
      FROM mdauth.sessions x
      JOIN mdauth.users u ON u.id = x.user_id
     WHERE x.token_hash = p_token_hash;
    IF NOT FOUND THEN
        SELECT x.id, x.user_id,
               CASE WHEN mdauth.token_reused(x.id, p_ip, p_user_agent)
                    THEN 3 ELSE 2 END
          INTO v_id, v_user_id, v_state
          FROM mdauth.sessions x
         WHERE x.previous_token_hash = p_token_hash;
        IF NOT FOUND THEN
            RETURN;
        END IF;
    END IF;
    session_id := v_id;
    user_id := v_user_id;
    username := '';
    state := v_state;
    expires_at := 0;
    absolute_expires_at := 0;
    touched_at := 0;
    now := floor(extract(epoch FROM pg_catalog.now()));
    RETURN NEXT;
END
$$;

REVOKE ALL ON FUNCTION mdauth.session_touch(bytea, bigint, boolean, bigint,
    text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mdauth.session_touch(bytea, bigint, boolean, bigint,
    text, text) TO mdauth_app;

-- 012_login_commit.sql -- a login is one statement before the password
-- hash and one after it; whatever it writes commits once.
--
-- Until now a successful login sent five statements, each its own
-- transaction: login_check, login_user, login_rehash (when the stored
-- hash had older parameters), session_open and login_succeeded.  Three
-- of them could write, and each write is a commit that waits for its WAL
-- flush (fsync).  Now:
--
--   login_begin    before the hash: the throttle check (login_check) and
--                  the user (login_user), in one statement.  It writes
--                  only when the login is throttled (the counts of the
--                  rows that refuse it).
--   login_commit   after a hash that matched: the session under the cap
--                  (session_open: the user's row locked, the cap's
--                  eviction, the login_success event), the re-hash when
--                  the daemon made one, and the throttle's reset, in one
--                  statement: one transaction, one commit.
--   login_failed   (006) after a hash that did not match: one statement
--                  too.
--
-- The cap still holds exactly under concurrent logins of one user: the
-- user's row lock that session_open takes is held to the end of
-- login_commit's transaction, as it was to the end of session_open's.
-- Locks are taken in the order the user's row, then the throttle rows,
-- the order of login_failed too (its event's foreign key locks the
-- user's row before it counts): two logins never wait for each other in
-- a circle.
--
-- The daemon's role now executes login_begin and login_commit instead of
-- login_check, login_user, login_rehash, login_succeeded and
-- session_open, which stay for whoever calls them as their owner.
-- Between this migration and the restart of the daemon, logins through
-- the old daemon answer 500 (doc/operations.md, Upgrades).

-- The throttle check, then the user a login names (case-insensitive).
-- One row: wait is the seconds until a login for this name from this
-- address may run (login_check: a refused attempt is counted, and the
-- first of each lock writes a login_throttled event); when it is 0, the
-- user's id, name, hash and whether it is disabled, or NULLs for an
-- unknown name.  A throttled login looks no user up.
CREATE FUNCTION mdauth.login_begin(p_username text, p_addr text, p_ip text,
    p_user_agent text)
RETURNS TABLE (wait integer, id bigint, username text, password_hash text,
               disabled boolean)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, mdauth AS $$
#variable_conflict use_column
BEGIN
    wait := mdauth.login_check(p_username, p_addr, p_ip, p_user_agent);
    IF wait = 0 THEN
        SELECT u.id, u.username, u.password_hash, u.disabled
          INTO id, username, password_hash, disabled
          FROM mdauth.login_user(p_username) u;
    END IF;
    RETURN NEXT;
END
$$;

-- Everything a login whose password matched writes, in one transaction.
-- The session as session_open opens it (SQLSTATE MDA01, and nothing
-- written, when the user was disabled or deleted since login_begin);
-- when p_new_hash is given, the stored hash replaced by it if it is still
-- p_old_hash, the one the daemon verified; when a session opened, the
-- name's throttle counts cleared as login_succeeded clears them.  One
-- row: the session's id (NULL when the cap is reached and p_policy is
-- reject: then the hash is still replaced, the counts are not cleared),
-- its idle expiry and the database's now in Unix seconds, and whether
-- the hash was replaced.
CREATE FUNCTION mdauth.login_commit(p_user_id bigint, p_username text,
    p_addr text, p_token_hash bytea, p_device text, p_ip text,
    p_user_agent text, p_ttl bigint, p_max_lifetime bigint, p_cap integer,
    p_policy text, p_old_hash text, p_new_hash text)
RETURNS TABLE (session_id uuid, expires_at bigint, now bigint,
               rehashed boolean, evicted boolean)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, mdauth AS $$
#variable_conflict use_column
DECLARE
    v_expires timestamptz;
BEGIN
    -- Will the cap evict?  Counted under the user's row lock, which
    -- session_open takes again (a no-op) right below: the daemon drops
    -- the evicted sessions from its cache before it answers.
    PERFORM 1 FROM mdauth.users u WHERE u.id = p_user_id FOR UPDATE;
    SELECT count(*) >= p_cap AND p_policy = 'evict_oldest' INTO evicted
      FROM mdauth.live_sessions l WHERE l.user_id = p_user_id;
    -- It refuses a disabled user, and evicts.
    SELECT o.session_id, o.expires_at INTO session_id, v_expires
      FROM mdauth.session_open(p_user_id, p_token_hash, p_device, p_ip,
               p_user_agent, p_ttl, p_max_lifetime, p_cap, p_policy) o;
    rehashed := false;
    IF p_new_hash IS NOT NULL THEN
        rehashed := mdauth.login_rehash(p_user_id, p_old_hash, p_new_hash);
    END IF;
    IF session_id IS NOT NULL THEN
        PERFORM mdauth.login_succeeded(p_username, p_addr);
    END IF;
    expires_at := floor(extract(epoch FROM v_expires));
    now := floor(extract(epoch FROM pg_catalog.now()));
    RETURN NEXT;
END
$$;

REVOKE ALL ON FUNCTION mdauth.login_begin(text, text, text, text)
    FROM PUBLIC;
REVOKE ALL ON FUNCTION mdauth.login_commit(bigint, text, text, bytea, text,
    text, text, bigint, bigint, integer, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mdauth.login_begin(text, text, text, text)
    TO mdauth_app;
GRANT EXECUTE ON FUNCTION mdauth.login_commit(bigint, text, text, bytea, text,
    text, text, bigint, bigint, integer, text, text, text) TO mdauth_app;

-- What the daemon no longer calls.
REVOKE EXECUTE ON FUNCTION mdauth.login_check(text, text, text, text)
    FROM mdauth_app;
REVOKE EXECUTE ON FUNCTION mdauth.login_user(text) FROM mdauth_app;
REVOKE EXECUTE ON FUNCTION mdauth.login_rehash(bigint, text, text)
    FROM mdauth_app;
REVOKE EXECUTE ON FUNCTION mdauth.login_succeeded(text, text)
    FROM mdauth_app;
REVOKE EXECUTE ON FUNCTION mdauth.session_open(bigint, bytea, text, text,
    text, bigint, bigint, integer, text) FROM mdauth_app;

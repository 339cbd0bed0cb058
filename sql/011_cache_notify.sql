-- 011_cache_notify.sql -- every change that could make a cached answer of
-- validate wrong tells the daemons, whoever makes it: the daemon, mdauthctl,
-- an operator's function or raw SQL.
--
-- A daemon keeps what validate answered for a token in a cache of its
-- host, and LISTENs on channel mdauth_cache.  The triggers below send, in
-- the transaction of the change (pg_notify), one notification per changed
-- row:
--
--   t:<hex>   a session row, whose token digest was <hex> (64 lowercase
--             hex digits of the OLD token_hash), was DELETEd, or UPDATEd
--             so that a cached "live" answer could now be wrong: its
--             token_hash, revoked_at or user_id changed, or its
--             expires_at or absolute_expires_at was made EARLIER.  The
--             daemon drops that token's entry.
--   u:<id>    the users row <id> was DELETEd, or UPDATEd in disabled_at,
--             username or password_hash.  The daemon drops every entry of
--             that user.
--   flush     mdauth.sessions or mdauth.users was TRUNCATEd (a statement
--             trigger: the rows are not known).  The daemon drops every
--             entry.
--
-- A touch never notifies.  A validate past touch_interval writes
-- last_used_at and a LATER expires_at (sliding expiry): that is the hot
-- path, and nothing a cache holds becomes wrong by it, since a cache only
-- ever holds an expiry no later than the database's, and an entry that
-- looks expired is asked of the database again.  The triggers' WHEN
-- conditions are evaluated on the old and new row by the executor, so a
-- touch never enters a trigger function, and a login's INSERT of a new
-- session has no trigger at all (nothing can be cached for a token that
-- did not exist).  A login that evicts the oldest session at the cap
-- revokes it, and that revocation notifies like any other.
--
-- Delivery.  PostgreSQL delivers notifications only when, and only if,
-- the transaction that sent them commits; identical payloads of one
-- transaction are delivered once.  They wait in one queue per cluster
-- (8 GB by default; max_notify_queue_pages from PostgreSQL 17) until
-- every listening session has read them.  If the queue is full, NOTIFY
-- fails at commit, and with it the COMMIT of the change itself: a
-- revocation is refused with an error, never committed while its
-- notification is silently lost.  The queue can only fill while a
-- listening session does not read, or sits in a long transaction (no
-- cleanup can pass it); from half full on, PostgreSQL logs a warning
-- naming that session's process.  pg_notification_queue_usage() gives the
-- fraction in use: monitor it.  See the PostgreSQL documentation of
-- NOTIFY (https://www.postgresql.org/docs/current/sql-notify.html) and of
-- pg_notification_queue_usage
-- (https://www.postgresql.org/docs/current/functions-info.html).
--
-- Cost.  A statement that changes many rows sends as many notifications
-- (prune() after a long pause, a DELETE of many sessions), which the
-- changing backend keeps in memory until it commits; TRUNCATE sends one.
-- A transaction that notifies takes a cluster-wide lock at commit, so the
-- commits of revocations are serialised with each other (not with
-- validates, whose touch does not notify, nor with logins, unless one
-- evicts).
--
-- The trigger functions are not SECURITY DEFINER: pg_notify needs no
-- privilege, and a trigger function runs for whoever changes the row.

CREATE FUNCTION mdauth.cache_notify_session()
RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, mdauth AS $$
BEGIN
    PERFORM pg_notify('mdauth_cache', 't:' || encode(OLD.token_hash, 'hex'));
    RETURN NULL;
END
$$;

CREATE FUNCTION mdauth.cache_notify_user()
RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, mdauth AS $$
BEGIN
    PERFORM pg_notify('mdauth_cache', 'u:' || OLD.id);
    RETURN NULL;
END
$$;

CREATE FUNCTION mdauth.cache_notify_flush()
RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, mdauth AS $$
BEGIN
    PERFORM pg_notify('mdauth_cache', 'flush');
    RETURN NULL;
END
$$;

CREATE TRIGGER cache_notify_update
    AFTER UPDATE ON mdauth.sessions
    FOR EACH ROW
    WHEN (OLD.token_hash IS DISTINCT FROM NEW.token_hash
          OR OLD.revoked_at IS DISTINCT FROM NEW.revoked_at
          OR OLD.user_id IS DISTINCT FROM NEW.user_id
          OR NEW.expires_at < OLD.expires_at
          OR NEW.absolute_expires_at < OLD.absolute_expires_at)
    EXECUTE FUNCTION mdauth.cache_notify_session();

CREATE TRIGGER cache_notify_delete
    AFTER DELETE ON mdauth.sessions
    FOR EACH ROW
    EXECUTE FUNCTION mdauth.cache_notify_session();

CREATE TRIGGER cache_notify_truncate
    AFTER TRUNCATE ON mdauth.sessions
    FOR EACH STATEMENT
    EXECUTE FUNCTION mdauth.cache_notify_flush();

CREATE TRIGGER cache_notify_update
    AFTER UPDATE ON mdauth.users
    FOR EACH ROW
    WHEN (OLD.disabled_at IS DISTINCT FROM NEW.disabled_at
          OR OLD.username IS DISTINCT FROM NEW.username
          OR OLD.password_hash IS DISTINCT FROM NEW.password_hash)
    EXECUTE FUNCTION mdauth.cache_notify_user();

CREATE TRIGGER cache_notify_delete
    AFTER DELETE ON mdauth.users
    FOR EACH ROW
    EXECUTE FUNCTION mdauth.cache_notify_user();

CREATE TRIGGER cache_notify_truncate
    AFTER TRUNCATE ON mdauth.users
    FOR EACH STATEMENT
    EXECUTE FUNCTION mdauth.cache_notify_flush();

-- Nobody calls these; the triggers do, whatever the changing role's
-- privileges (EXECUTE is checked when a trigger is created, not when it
-- fires).
REVOKE ALL ON FUNCTION mdauth.cache_notify_session() FROM PUBLIC;
REVOKE ALL ON FUNCTION mdauth.cache_notify_user() FROM PUBLIC;
REVOKE ALL ON FUNCTION mdauth.cache_notify_flush() FROM PUBLIC;

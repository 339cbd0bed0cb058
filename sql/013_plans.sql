-- 013_plans.sql -- the functions of a login plan once per connection.
--
-- A function in LANGUAGE sql that cannot be inlined (SECURITY DEFINER,
-- or a data-modifying WITH) is parsed and planned again at every call:
-- PostgreSQL keeps no plan of it beyond the one query that called it.
-- login_user runs at every login and end_sessions at every eviction,
-- logout and revocation; in PL/pgSQL their statements are planned once
-- per connection and the plan kept.  What they do is unchanged: the same
-- statements, the same result, the same privileges.


CREATE OR REPLACE FUNCTION mdauth.login_user(p_username text)
RETURNS TABLE (id bigint, username text, password_hash text,
               disabled boolean)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, mdauth AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    SELECT u.id, u.username, u.password_hash, u.disabled_at IS NOT NULL
      FROM mdauth.users u
     WHERE lower(u.username) = lower(p_username);
END
$$;

CREATE OR REPLACE FUNCTION mdauth.end_sessions(p_ids uuid[],
    p_token_hash bytea, p_reason text, p_event text, p_detail text,
    p_ip text, p_user_agent text)
RETURNS TABLE (id uuid, user_id bigint) LANGUAGE plpgsql
SET search_path = pg_catalog, mdauth AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
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
END
$$;

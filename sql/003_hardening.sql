-- 003_hardening.sql -- tighter rules for data an operator may write by hand,
-- and only the session columns the daemon changes.

-- A username is also sent back in headers (X-Auth-User) and printed by
-- mdauthctl: at most 128 bytes, no control characters (a CR or LF would
-- split a header), no surrounding spaces.  The same rules as mdauthctl's.
ALTER TABLE mdauth.users DROP CONSTRAINT IF EXISTS users_username_check;
ALTER TABLE mdauth.users ADD CONSTRAINT users_username_check
    CHECK (octet_length(username) BETWEEN 1 AND 128
           AND username !~ '[[:cntrl:]]'
           AND username = btrim(username, ' '));

ALTER TABLE mdauth.sessions ADD CONSTRAINT sessions_device_printable
    CHECK (device !~ '[[:cntrl:]]');

REVOKE UPDATE ON mdauth.sessions FROM mdauth_app;
GRANT UPDATE (token_hash, last_used_at, expires_at, revoked_at, revoked_reason)
    ON mdauth.sessions TO mdauth_app;

-- 001_schema.sql -- users, sessions, auth_events and the daemon's role.
--
-- Applied by "mdauthctl migrate" inside one transaction, recorded in
-- mdauth.schema_migrations.  Times are timestamptz; tokens are stored only
-- as the SHA-256 digest of their text.

CREATE SCHEMA IF NOT EXISTS mdauth;

CREATE TABLE mdauth.users (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username        text NOT NULL
                    CHECK (length(username) BETWEEN 1 AND 128),
    password_hash   text NOT NULL,          -- argon2id PHC string
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    disabled_at     timestamptz             -- set: cannot log in, sessions dead
);

-- One account per name whatever its case: "Alice" and "alice" are one user.
CREATE UNIQUE INDEX users_username_lower_key ON mdauth.users (lower(username));

CREATE TABLE mdauth.sessions (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id             bigint NOT NULL REFERENCES mdauth.users (id)
                        ON DELETE CASCADE,
    token_hash          bytea NOT NULL CHECK (length(token_hash) = 32),
    device              text CHECK (length(device) <= 128),
    ip                  text,
    user_agent          text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    last_used_at        timestamptz NOT NULL DEFAULT now(),
    expires_at          timestamptz NOT NULL,  -- idle expiry, slides on use
    absolute_expires_at timestamptz NOT NULL,  -- login + token_max_lifetime
    revoked_at          timestamptz,
    revoked_reason      text
);

-- Every authenticated request looks its token up by digest.
CREATE UNIQUE INDEX sessions_token_hash_key ON mdauth.sessions (token_hash);
-- A user's sessions (device lists, logout everywhere, the per-user cap).
CREATE INDEX sessions_user_id_idx ON mdauth.sessions (user_id, last_used_at);

CREATE TABLE mdauth.auth_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    event       text NOT NULL,  -- login_success, login_failure, logout, ...
    user_id     bigint REFERENCES mdauth.users (id) ON DELETE SET NULL,
    session_id  uuid,
    username    text,           -- as typed at a failed login
    ip          text,
    user_agent  text,
    detail      text            -- never a password or a token
);

CREATE INDEX auth_events_at_idx ON mdauth.auth_events (at);
CREATE INDEX auth_events_user_id_idx ON mdauth.auth_events (user_id, at);

-- The daemon's role: it reads users, rewrites a hash on login, manages
-- sessions and appends events; nothing more.  Grant it to the login role
-- the daemon connects as:  CREATE ROLE mdauth LOGIN IN ROLE mdauth_app;
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'mdauth_app') THEN
        CREATE ROLE mdauth_app NOLOGIN;
    END IF;
END
$$;

GRANT USAGE ON SCHEMA mdauth TO mdauth_app;
GRANT SELECT ON mdauth.users TO mdauth_app;
GRANT UPDATE (password_hash, updated_at) ON mdauth.users TO mdauth_app;
GRANT SELECT, INSERT, UPDATE ON mdauth.sessions TO mdauth_app;
GRANT INSERT ON mdauth.auth_events TO mdauth_app;

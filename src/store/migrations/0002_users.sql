-- Users, API tokens and login throttling (issue 3). Append-only: never edit, add a new file.
-- Secrets are never stored: passwords as argon2id PHC strings, tokens as the SHA-256 of the
-- secret plus its last four characters for display.

CREATE TABLE users (
    name          TEXT    PRIMARY KEY,
    role          TEXT    NOT NULL,
    password_hash TEXT,
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

CREATE TABLE tokens (
    id           TEXT    PRIMARY KEY,
    name         TEXT    NOT NULL UNIQUE,
    -- The user the token acts as (with the user's current role); NULL for a role-only token.
    user_name    TEXT,
    -- The role of a role-only token; NULL for a user's token.
    role         TEXT,
    secret_hash  TEXT    NOT NULL UNIQUE,
    last4        TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    created_by   TEXT    NOT NULL,
    expires_at   INTEGER,
    revoked_at   INTEGER,
    last_used_at INTEGER
);
CREATE INDEX tokens_by_user ON tokens (user_name);

-- Keyed by the name given at login, whether or not such a user exists.
CREATE TABLE login_throttle (
    name         TEXT    PRIMARY KEY,
    failures     INTEGER NOT NULL,
    lockouts     INTEGER NOT NULL,
    locked_until INTEGER,
    last_failure INTEGER
);

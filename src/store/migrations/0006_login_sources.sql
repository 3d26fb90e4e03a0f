-- Login throttling per (account, source), and cleanup after names were stored verbatim (issue 9).
-- Append-only: never edit, add a new file.

-- Failed logins per account and source (an IP address; an IPv6 /64): a source that keeps
-- failing is locked out on its own, so nobody elsewhere can lock an account out by guessing.
-- `login_throttle` keeps the account-wide lock, taken only after failures from many sources.
-- Accounts that are no user are keyed by a keyed hash of the name given, never the name.
CREATE TABLE login_source_throttle (
    name         TEXT    NOT NULL,
    source       TEXT    NOT NULL,
    failures     INTEGER NOT NULL,
    lockouts     INTEGER NOT NULL,
    locked_until INTEGER,
    last_failure INTEGER,
    PRIMARY KEY (name, source)
);
CREATE INDEX login_source_throttle_by_failure ON login_source_throttle (name, last_failure);

-- Rows for names that are no user held whatever was typed as a user name (a password, at
-- times): they go. Throttling of unknown names starts again, keyed by the hash.
DELETE FROM login_throttle WHERE name NOT IN (SELECT name FROM users);

-- Tokens no longer live forever: those made without an expiry expire 90 days after this
-- upgrade (the default longest lifetime, `imx server --max-token-ttl`).
UPDATE tokens
SET expires_at = CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) + 7776000000
WHERE expires_at IS NULL AND revoked_at IS NULL;

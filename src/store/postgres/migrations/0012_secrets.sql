-- imx PostgreSQL store: workflow secrets (issue 13), as SQLite's 0018. Each value sealed with
-- the store key (AES-256-GCM, bound to its scope and name), never in the clear. `scope` is ''
-- for a global secret, else the workflow it belongs to.
CREATE TABLE secrets (
    scope      TEXT   NOT NULL,
    name       TEXT   NOT NULL,
    value      BYTEA  NOT NULL,
    version    BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    created_by TEXT   NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT   NOT NULL,
    PRIMARY KEY (scope, name)
);

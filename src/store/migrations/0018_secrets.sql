-- imx store: workflow secrets (issue 13). Each value sealed with the store key (AES-256-GCM,
-- bound to its scope and name), never in the clear. `scope` is '' for a global secret, else the
-- workflow it belongs to (a workflow's own secret wins over a global one of the same name).
CREATE TABLE secrets (
    scope      TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    value      BLOB    NOT NULL,
    version    INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    created_by TEXT    NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by TEXT    NOT NULL,
    PRIMARY KEY (scope, name)
);

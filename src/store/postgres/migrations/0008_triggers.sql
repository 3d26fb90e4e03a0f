-- imx PostgreSQL store: triggers (issue 12), as SQLite's migration 0014. `trigger_fires` holds
-- one row per (trigger, webhook-id or upstream run id), inserted in the transaction that starts
-- the run, so a key fires once whichever replica sees it.
CREATE TABLE triggers (
    name          TEXT    PRIMARY KEY,
    kind          TEXT    NOT NULL,
    workflow      TEXT    NOT NULL,
    upstream      TEXT,
    statuses      TEXT    NOT NULL DEFAULT '[]',
    param_map     TEXT    NOT NULL DEFAULT '{}',
    secret        BYTEA,
    managed_by    TEXT,
    created_by    TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL,
    fired         BIGINT  NOT NULL DEFAULT 0,
    last_fired_at BIGINT,
    last_error    TEXT
);
CREATE INDEX triggers_by_upstream ON triggers (upstream) WHERE upstream IS NOT NULL;

CREATE TABLE trigger_fires (
    trigger_name TEXT    NOT NULL,
    key          TEXT    NOT NULL,
    run_id       TEXT,
    at           BIGINT  NOT NULL,
    PRIMARY KEY (trigger_name, key)
);
CREATE INDEX trigger_fires_by_time ON trigger_fires (at);

-- imx store: triggers (issue 12). A webhook trigger starts its workflow on a signed call to
-- /api/v1/hooks/NAME; an `after` trigger when a run of `upstream` ends in one of `statuses`.
-- `trigger_fires` holds one row per (trigger, webhook-id or upstream run id): the run is
-- started in the transaction that inserts it, so a key fires once. Append-only.
CREATE TABLE triggers (
    name          TEXT    PRIMARY KEY,
    kind          TEXT    NOT NULL,
    workflow      TEXT    NOT NULL,
    upstream      TEXT,
    statuses      TEXT    NOT NULL DEFAULT '[]',
    param_map     TEXT    NOT NULL DEFAULT '{}',
    secret        BLOB,
    managed_by    TEXT,
    created_by    TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    fired         INTEGER NOT NULL DEFAULT 0,
    last_fired_at INTEGER,
    last_error    TEXT
);
CREATE INDEX triggers_by_upstream ON triggers (upstream) WHERE upstream IS NOT NULL;

CREATE TABLE trigger_fires (
    trigger_name TEXT    NOT NULL,
    key          TEXT    NOT NULL,
    run_id       TEXT,
    at           INTEGER NOT NULL,
    PRIMARY KEY (trigger_name, key)
);
CREATE INDEX trigger_fires_by_time ON trigger_fires (at);

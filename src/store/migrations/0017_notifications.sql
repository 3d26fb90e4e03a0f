-- imx store: notifications (issue 12). Channels (where messages go; their secrets sealed with
-- the store key, never in the clear), rules (what is worth a message), the outbox (what
-- happened, written in the transaction that made it happen: a run's end is inserted in the
-- run's final transaction), deliveries (one message to one channel, batching the events of a
-- grouping window) and every attempt to deliver one. Append-only.
CREATE TABLE notify_channels (
    id         TEXT    PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE,
    kind       TEXT    NOT NULL,
    target     TEXT    NOT NULL,
    config     TEXT    NOT NULL,
    secret     BLOB,
    created_at INTEGER NOT NULL,
    created_by TEXT    NOT NULL
);

CREATE TABLE notify_rules (
    id           TEXT    PRIMARY KEY,
    workflow     TEXT,
    on_event     TEXT    NOT NULL,
    threshold_ms INTEGER,
    channel      TEXT    NOT NULL,
    after        INTEGER NOT NULL DEFAULT 1,
    cooldown_ms  INTEGER NOT NULL DEFAULT 0,
    group_ms     INTEGER NOT NULL DEFAULT 0,
    source       TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    created_by   TEXT    NOT NULL
);
CREATE INDEX notify_rules_by_workflow ON notify_rules (workflow);

CREATE TABLE notify_outbox (
    id           TEXT    PRIMARY KEY,
    kind         TEXT    NOT NULL,
    run_id       TEXT,
    workflow     TEXT    NOT NULL,
    dedupe       TEXT    UNIQUE,
    data         TEXT    NOT NULL,
    at           INTEGER NOT NULL,
    processed_at INTEGER
);
CREATE INDEX notify_outbox_new ON notify_outbox (id) WHERE processed_at IS NULL;

CREATE TABLE notify_deliveries (
    id           TEXT    PRIMARY KEY,
    rule_id      TEXT,
    channel      TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    events       TEXT    NOT NULL,
    state        TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    due_at       INTEGER NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    delivered_at INTEGER,
    last_error   TEXT
);
CREATE INDEX notify_deliveries_due ON notify_deliveries (due_at) WHERE state IN ('grouping', 'pending');
CREATE INDEX notify_deliveries_by_rule ON notify_deliveries (rule_id, created_at);

CREATE TABLE notify_attempts (
    delivery_id TEXT    NOT NULL,
    attempt     INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    ok          INTEGER NOT NULL,
    detail      TEXT    NOT NULL,
    duration_ms INTEGER NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
);

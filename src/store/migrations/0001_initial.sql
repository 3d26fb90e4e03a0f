-- imx store, schema version 1. Migrations are append-only: never edit this file, add 0002_*.sql.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE workflows (
    name       TEXT    NOT NULL,
    version    INTEGER NOT NULL,
    digest     TEXT    NOT NULL,
    spec       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    deleted_at INTEGER,
    PRIMARY KEY (name, version)
);

CREATE TABLE runs (
    id               TEXT    PRIMARY KEY,
    workflow         TEXT    NOT NULL,
    workflow_version INTEGER NOT NULL,
    status           TEXT    NOT NULL,
    params           TEXT    NOT NULL,
    created_at       INTEGER NOT NULL,
    started_at       INTEGER,
    finished_at      INTEGER,
    deadline         INTEGER,
    timeout_ms       INTEGER,
    created_by       TEXT    NOT NULL,
    steps_total      INTEGER NOT NULL,
    steps_done       INTEGER NOT NULL DEFAULT 0,
    steps_succeeded  INTEGER NOT NULL DEFAULT 0,
    error            TEXT
);
CREATE INDEX runs_by_workflow ON runs (workflow, id);
CREATE INDEX runs_by_status ON runs (status, id);
CREATE INDEX runs_active_deadline ON runs (deadline) WHERE status IN ('queued', 'running');

CREATE TABLE steps (
    seq           INTEGER PRIMARY KEY,
    run_id        TEXT    NOT NULL,
    step_id       TEXT    NOT NULL,
    idx           INTEGER NOT NULL,
    kind          TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    pending_needs INTEGER NOT NULL,
    selector      TEXT,
    attempt       INTEGER NOT NULL DEFAULT 0,
    tries         INTEGER NOT NULL DEFAULT 0,
    lost          INTEGER NOT NULL DEFAULT 0,
    agent_id      TEXT,
    agent_name    TEXT,
    lease_until   INTEGER,
    not_before    INTEGER NOT NULL DEFAULT 0,
    started_at    INTEGER,
    finished_at   INTEGER,
    exit_code     INTEGER,
    outputs       TEXT,
    error         TEXT,
    UNIQUE (run_id, step_id)
);
CREATE INDEX steps_ready ON steps (not_before, seq) WHERE status = 'ready';
CREATE INDEX steps_held ON steps (lease_until) WHERE status IN ('leased', 'running');
CREATE INDEX steps_held_by ON steps (agent_id) WHERE status IN ('leased', 'running');

CREATE TABLE agents (
    id             TEXT    PRIMARY KEY,
    name           TEXT    NOT NULL UNIQUE,
    labels         TEXT    NOT NULL,
    slots          INTEGER NOT NULL,
    draining       INTEGER NOT NULL DEFAULT 0,
    registered_at  INTEGER NOT NULL,
    last_heartbeat INTEGER NOT NULL,
    stopped_at     INTEGER,
    hostname       TEXT    NOT NULL,
    pid            INTEGER NOT NULL,
    version        TEXT    NOT NULL
);

CREATE TABLE events (
    id      INTEGER PRIMARY KEY,
    time    INTEGER NOT NULL,
    kind    TEXT    NOT NULL,
    run_id  TEXT,
    step_id TEXT,
    data    TEXT    NOT NULL
);

CREATE TABLE logs (
    id      INTEGER PRIMARY KEY,
    run_id  TEXT    NOT NULL,
    step_id TEXT    NOT NULL,
    attempt INTEGER NOT NULL,
    time    INTEGER NOT NULL,
    stream  TEXT    NOT NULL,
    line    TEXT    NOT NULL
);
CREATE INDEX logs_by_run ON logs (run_id, id);

CREATE TABLE audit (
    seq       INTEGER PRIMARY KEY,
    time      INTEGER NOT NULL,
    actor     TEXT    NOT NULL,
    source    TEXT    NOT NULL,
    action    TEXT    NOT NULL,
    target    TEXT    NOT NULL,
    outcome   TEXT    NOT NULL,
    details   TEXT    NOT NULL,
    prev_hash TEXT    NOT NULL,
    hash      TEXT    NOT NULL
);

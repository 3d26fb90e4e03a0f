-- Schedules (issue 12; SQLite's 0016): each schedule with its state, one row per tick it
-- decided, and runs that know the tick that made them. Exactly once per nominal time: a tick's
-- row and its run are written in one transaction, both unique per (schedule, nominal_time), so
-- a second replica firing the same tick inserts nothing. Ticks fire on the maintenance leader
-- (leader_lease). Append-only: never edit this file.

CREATE TABLE schedules (
    name          TEXT    PRIMARY KEY,
    workflow      TEXT    NOT NULL,
    spec          TEXT    NOT NULL,
    origin        TEXT    NOT NULL,
    paused        BOOLEAN NOT NULL DEFAULT FALSE,
    note          TEXT,
    created_at    BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL,
    last_nominal  BIGINT  NOT NULL,
    next_fire     BIGINT,
    fired         BIGINT  NOT NULL DEFAULT 0,
    missed        BIGINT  NOT NULL DEFAULT 0,
    skipped       BIGINT  NOT NULL DEFAULT 0,
    dropped       BIGINT  NOT NULL DEFAULT 0,
    checked_at    BIGINT  NOT NULL
);
CREATE INDEX schedules_by_next_fire ON schedules (next_fire) WHERE next_fire IS NOT NULL;

CREATE TABLE schedule_ticks (
    schedule     TEXT    NOT NULL,
    nominal_time BIGINT  NOT NULL,
    outcome      TEXT    NOT NULL,
    reason       TEXT,
    run_id       TEXT,
    recorded_at  BIGINT  NOT NULL,
    PRIMARY KEY (schedule, nominal_time)
);
CREATE INDEX schedule_ticks_buffered ON schedule_ticks (schedule, nominal_time)
    WHERE outcome = 'buffered';

ALTER TABLE runs ADD COLUMN schedule TEXT;
ALTER TABLE runs ADD COLUMN nominal_time BIGINT;
CREATE UNIQUE INDEX runs_by_schedule_tick ON runs (schedule, nominal_time)
    WHERE schedule IS NOT NULL;
CREATE INDEX runs_by_schedule ON runs (schedule, id) WHERE schedule IS NOT NULL;

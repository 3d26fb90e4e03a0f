-- Schedules (issue 12): each schedule with its state, one row per tick it decided, and runs that
-- know the tick that made them. Exactly once per nominal time: a tick's row and its run are
-- written in one transaction, and both are unique per (schedule, nominal_time), so a second
-- process firing the same tick inserts nothing. Append-only: never edit this file.

CREATE TABLE schedules (
    name          TEXT    PRIMARY KEY,
    workflow      TEXT    NOT NULL,
    spec          TEXT    NOT NULL,   -- schedule::ScheduleSpec as JSON
    origin        TEXT    NOT NULL,   -- 'file' (a workflow file's schedules:) or 'command'
    paused        INTEGER NOT NULL DEFAULT 0,
    note          TEXT,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    last_nominal  INTEGER NOT NULL,   -- the latest nominal time decided (at first: created_at)
    next_fire     INTEGER,            -- when the next tick fires; NULL once done
    fired         INTEGER NOT NULL DEFAULT 0,
    missed        INTEGER NOT NULL DEFAULT 0,
    skipped       INTEGER NOT NULL DEFAULT 0,
    dropped       INTEGER NOT NULL DEFAULT 0,
    checked_at    INTEGER NOT NULL    -- pause_on_failure looks at runs ended after it
);
CREATE INDEX schedules_by_next_fire ON schedules (next_fire) WHERE next_fire IS NOT NULL;

CREATE TABLE schedule_ticks (
    schedule     TEXT    NOT NULL,
    nominal_time INTEGER NOT NULL,
    outcome      TEXT    NOT NULL,   -- fired | skipped | buffered | dropped | missed | triggered
    reason       TEXT,               -- missed: downtime | catchup_limit | paused
    run_id       TEXT,
    recorded_at  INTEGER NOT NULL,
    PRIMARY KEY (schedule, nominal_time)
);
CREATE INDEX schedule_ticks_buffered ON schedule_ticks (schedule, nominal_time)
    WHERE outcome = 'buffered';

ALTER TABLE runs ADD COLUMN schedule TEXT;
ALTER TABLE runs ADD COLUMN nominal_time INTEGER;
CREATE UNIQUE INDEX runs_by_schedule_tick ON runs (schedule, nominal_time)
    WHERE schedule IS NOT NULL;
CREATE INDEX runs_by_schedule ON runs (schedule, id) WHERE schedule IS NOT NULL;

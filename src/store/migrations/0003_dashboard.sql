-- imx store, schema version 2: indexes for the dashboard's overview (issue 4). Append-only.
--
-- Runs and steps that ended, by when they ended: the overview counts outcomes per minute and the
-- step throughput/durations from these, reading only the minutes it has not counted yet.
CREATE INDEX runs_by_finished ON runs (finished_at, status) WHERE finished_at IS NOT NULL;
CREATE INDEX steps_by_finished ON steps (finished_at, started_at) WHERE finished_at IS NOT NULL;

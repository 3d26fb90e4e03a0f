-- A scheduler pass asks every due schedule for its runs not ended (and, with
-- pause_on_failure, its latest failure). runs_by_schedule walks a schedule's whole history for
-- that (a schedule every minute holds 1,440 runs a day), so both get a partial index holding
-- only the rows they look for. Append-only: never edit this file.

CREATE INDEX runs_active_by_schedule ON runs (schedule, id)
    WHERE schedule IS NOT NULL AND status IN ('queued', 'running');
CREATE INDEX runs_failed_by_schedule ON runs (schedule, finished_at)
    WHERE schedule IS NOT NULL AND status IN ('failed', 'timed_out');

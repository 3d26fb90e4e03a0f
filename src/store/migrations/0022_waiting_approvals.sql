-- Approval steps (issue 13) wait in status 'waiting' with their deadline in lease_until. The
-- reaper looks for waiting steps past their deadline, and `run list --status waiting` for runs
-- with a waiting step: a partial index holds only those rows. Append-only: never edit this file.

CREATE INDEX steps_waiting ON steps (lease_until) WHERE status = 'waiting';

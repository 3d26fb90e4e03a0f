-- imx store: concurrency limits (a workflow's `concurrency:`). A run of such a workflow records
-- its rendered key and the limit of its version; `admitted_at` is when it got one of the key's
-- slots (NULL while it waits in the key's queue, its first steps held back as `pending`). The
-- `concurrency_seq` is the run's ticket: one more than the key's
-- highest among its unended runs, taken under the key's lock, so the queue is first come, first
-- served in the order the runs were created (ids alone do not order runs made in one
-- millisecond). The index finds a key's active and waiting runs in that order. Append-only.
ALTER TABLE runs ADD COLUMN concurrency_key TEXT;
ALTER TABLE runs ADD COLUMN concurrency_limit INTEGER;
ALTER TABLE runs ADD COLUMN admitted_at INTEGER;
ALTER TABLE runs ADD COLUMN concurrency_seq INTEGER;
CREATE INDEX runs_by_concurrency_key ON runs (concurrency_key, concurrency_seq)
    WHERE concurrency_key IS NOT NULL AND status IN ('queued', 'running');

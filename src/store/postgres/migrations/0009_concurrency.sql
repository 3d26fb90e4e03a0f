-- imx PostgreSQL store: concurrency limits, as SQLite's migration 0015. A run of a workflow with
-- `concurrency:` records its rendered key and its version's limit; `admitted_at` is when it got
-- one of the key's slots (NULL while it waits); `concurrency_seq` its ticket in the key's queue.
-- Admission is serialized per key by a transaction-level advisory lock (see
-- store::postgres::concurrency), not by a row here.
ALTER TABLE runs ADD COLUMN concurrency_key TEXT;
ALTER TABLE runs ADD COLUMN concurrency_limit BIGINT;
ALTER TABLE runs ADD COLUMN admitted_at BIGINT;
ALTER TABLE runs ADD COLUMN concurrency_seq BIGINT;
CREATE INDEX runs_by_concurrency_key ON runs (concurrency_key, concurrency_seq)
    WHERE concurrency_key IS NOT NULL AND status IN ('queued', 'running');

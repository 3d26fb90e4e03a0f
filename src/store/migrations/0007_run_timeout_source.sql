-- Where a run's timeout came from: 'run' (workflow run --timeout), 'workflow' (its `timeout:`),
-- 'server' (imx server --default-run-timeout), 'store' (imx init --default-run-timeout) or
-- 'built_in' (24 h), so that a timed-out run says why. NULL for runs made before it existed.
-- The store's own default lives in `meta` under 'default_run_timeout_ms'. Append-only: never
-- edit this file.

ALTER TABLE runs ADD COLUMN timeout_source TEXT;

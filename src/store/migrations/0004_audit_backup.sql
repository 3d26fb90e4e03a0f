-- imx store, schema version 2: a stable store identity (names audit checkpoints, archives and
-- backups across restores) and an index for audit time filters. Append-only: add 0003_*.sql.

INSERT INTO meta (key, value)
SELECT 'store_id', lower(hex(randomblob(16)))
WHERE NOT EXISTS (SELECT 1 FROM meta WHERE key = 'store_id');

CREATE INDEX audit_by_time ON audit (time);

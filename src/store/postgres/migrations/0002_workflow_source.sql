-- imx PostgreSQL store, schema version 2: each workflow version keeps the file it was applied
-- from, exactly as written (NULL for versions applied before).

ALTER TABLE workflows ADD COLUMN source TEXT;

-- imx PostgreSQL store, schema version 6: the feeds page by `feed_seq` (version 3), so the
-- writing transaction's id that events and log lines carried for a visibility-horizon reader,
-- and its indexes, go: each insert paid for the default expression and one index entry more.

DROP INDEX events_feed;
DROP INDEX logs_feed;
ALTER TABLE events DROP COLUMN txid;
ALTER TABLE logs DROP COLUMN txid;

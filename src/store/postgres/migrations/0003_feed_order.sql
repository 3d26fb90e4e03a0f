-- imx PostgreSQL store, schema version 3: the event feed and log lines are read in commit
-- order. Ids come from a sequence at insert time and transactions commit in any order, so a
-- reader paging by id would skip a row committed after a higher id. `feed_seq` is assigned
-- after commit, by one sequencer at a time, in the order rows are found committed: a reader
-- paging by it never skips a row (see store/postgres/sequence.rs). NULL until sequenced.

ALTER TABLE events ADD COLUMN feed_seq BIGINT;
CREATE INDEX events_unsequenced ON events (id) WHERE feed_seq IS NULL;
CREATE UNIQUE INDEX events_by_feed_seq ON events (feed_seq);

ALTER TABLE logs ADD COLUMN feed_seq BIGINT;
CREATE INDEX logs_unsequenced ON logs (id) WHERE feed_seq IS NULL;
CREATE UNIQUE INDEX logs_by_feed_seq ON logs (feed_seq);
CREATE INDEX logs_by_run_feed_seq ON logs (run_id, feed_seq);

-- The last feed_seq handed out per table (kept apart from max(feed_seq), which falls when the
-- newest rows are deleted and would then hand a number out twice).
CREATE TABLE feed_counters (
    feed TEXT PRIMARY KEY,
    last BIGINT NOT NULL
);
INSERT INTO feed_counters (feed, last) VALUES ('events', 0), ('logs', 0);

-- imx PostgreSQL store: the feed sequencer commits without waiting for its WAL flush. Numbers
-- are handed out from a range reserved durably ahead (`reserved`, as PostgreSQL's own sequences
-- log values ahead), and `epoch` records the database server's start time when numbering last
-- ran: after a restart (a crash may have lost numbering that followers already read), numbering
-- continues above `reserved`, so a renumbered row never gets a number a follower has passed.
-- See store/postgres/sequence.rs.

ALTER TABLE feed_counters ADD COLUMN reserved BIGINT NOT NULL DEFAULT 0;
ALTER TABLE feed_counters ADD COLUMN epoch TIMESTAMPTZ;

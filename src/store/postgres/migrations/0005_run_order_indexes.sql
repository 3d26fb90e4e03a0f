-- imx PostgreSQL store, schema version 5: indexes in the order runs are listed. Run pages are
-- ordered by the bytes of their ids (`ORDER BY id COLLATE "C"`, as SQLite compares), and an
-- index serves an ORDER BY only in its own collation: under a database collation other than
-- "C" (C.UTF-8, en_US.UTF-8, ...) the primary key's index did not, and every page of
-- `GET /runs` sorted the whole table. These indexes are in "C" order; the primary key stays
-- for lookups by id.

CREATE INDEX runs_by_id_c ON runs (id COLLATE "C");

DROP INDEX runs_by_workflow;
CREATE INDEX runs_by_workflow ON runs (workflow, id COLLATE "C");

DROP INDEX runs_by_status;
CREATE INDEX runs_by_status ON runs (status, id COLLATE "C");

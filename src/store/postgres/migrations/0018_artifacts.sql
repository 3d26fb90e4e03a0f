-- imx PostgreSQL store: step artifacts (issue 13), as SQLite's 0024. One row per file a step
-- uploaded once it succeeded; the bytes are in the artifact storage under `storage_key`.
CREATE TABLE artifacts (
    id          TEXT   PRIMARY KEY,
    run_id      TEXT   NOT NULL,
    step_id     TEXT   NOT NULL,
    attempt     BIGINT NOT NULL,
    path        TEXT   NOT NULL,
    size        BIGINT NOT NULL,
    sha256      TEXT   NOT NULL,
    storage_key TEXT   NOT NULL,
    created_at  BIGINT NOT NULL,
    UNIQUE (run_id, step_id, path)
);
CREATE INDEX artifacts_by_created ON artifacts (created_at);

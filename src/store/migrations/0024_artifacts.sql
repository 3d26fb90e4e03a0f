-- imx store: step artifacts (issue 13). One row per file a step uploaded once it succeeded; the
-- bytes are in the artifact storage (a folder beside the store, or S3) under `storage_key`. A
-- later attempt's file of the same path replaces the row.
CREATE TABLE artifacts (
    id          TEXT    PRIMARY KEY,
    run_id      TEXT    NOT NULL,
    step_id     TEXT    NOT NULL,
    attempt     INTEGER NOT NULL,
    path        TEXT    NOT NULL,
    size        INTEGER NOT NULL,
    sha256      TEXT    NOT NULL,
    storage_key TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (run_id, step_id, path)
);
CREATE INDEX artifacts_by_created ON artifacts (created_at);

-- imx PostgreSQL store, schema version 4: the audit checkpoint log kept in the database, so
-- `audit checkpoint` and `audit verify` work from any replica or host (see
-- src/audit/checkpoint.rs). Each row is one signed entry, the same line a SQLite store's host
-- log file holds. The key that signs them is never stored here: only its public key, in meta
-- ('audit_checkpoint_key'), so a replica given another key is refused.

CREATE TABLE audit_checkpoints (
    n        BIGSERIAL PRIMARY KEY,
    store_id TEXT      NOT NULL,
    entry    TEXT      NOT NULL
);
CREATE INDEX audit_checkpoints_by_store ON audit_checkpoints (store_id, n);

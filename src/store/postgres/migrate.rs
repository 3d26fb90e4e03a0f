//! Schema versions of the PostgreSQL store: numbered, append-only migrations
//! (`migrations/NNNN_*.sql`), a `schema_version` table recording each one applied, and a newer
//! schema refused with the same error as a newer SQLite store. Migrating runs in one
//! transaction under an advisory lock, so replicas starting together neither race nor see a
//! half-made schema: the first migrates, the others wait and find it done.

use tokio_postgres::Client;

use super::errors::{PgError, PgResult};
use crate::{Error, Result};

/// Every migration, in order; index + 1 is the version it brings a database to.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_initial.sql"),
    include_str!("migrations/0002_workflow_source.sql"),
    include_str!("migrations/0003_feed_order.sql"),
    include_str!("migrations/0004_audit_checkpoints.sql"),
    include_str!("migrations/0005_run_order_indexes.sql"),
    include_str!("migrations/0006_drop_txid.sql"),
    include_str!("migrations/0007_steps_by_agent.sql"),
    include_str!("migrations/0008_triggers.sql"),
    include_str!("migrations/0009_concurrency.sql"),
    include_str!("migrations/0010_schedules.sql"),
    include_str!("migrations/0011_notifications.sql"),
    include_str!("migrations/0012_secrets.sql"),
    include_str!("migrations/0013_schedule_run_indexes.sql"),
    include_str!("migrations/0016_waiting_approvals.sql"),
    include_str!("migrations/0017_run_labels.sql"),
    include_str!("migrations/0018_artifacts.sql"),
    include_str!("migrations/0019_step_instances.sql"),
    include_str!("migrations/0020_trigger_labels.sql"),
    include_str!("migrations/0021_feed_reserve.sql"),
];

/// The PostgreSQL schema version this build writes (its own numbering, apart from SQLite's).
pub const PG_SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// The advisory lock migrations hold ("imx_mig").
const MIGRATE_LOCK: i64 = 0x0069_6d78_5f6d_6967;

/// What [`migrate`] found and did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migrated {
    /// This call created the schema (applied migration 1).
    pub initialised: bool,
    /// The schema version now.
    pub version: i64,
}

/// Bring the database up to [`PG_SCHEMA_VERSION`]. Only with `create` (`imx init`) is an empty
/// database given a schema; otherwise it is [`Error::NoStore`]. A database holding tables that
/// imx did not make is [`Error::NotAStore`]; a newer schema is [`Error::StoreTooNew`].
/// `place` names the database in messages.
pub async fn migrate(client: &mut Client, place: &str, create: bool) -> Result<Migrated> {
    migrate_to(client, place, create, PG_SCHEMA_VERSION)
        .await
        .map_err(|e| e.into_error(place))
}

/// [`migrate`] up to `target` only (tests build a database as an older imx left it).
pub(crate) async fn migrate_to(
    client: &mut Client,
    place: &str,
    create: bool,
    target: i64,
) -> PgResult<Migrated> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATE_LOCK])
        .await?;
    let version = current(&tx, place, create).await?;
    if version > PG_SCHEMA_VERSION {
        return Err(PgError::Imx(Error::StoreTooNew {
            path: place.into(),
            found: version,
            supported: PG_SCHEMA_VERSION,
        }));
    }
    if version == 0 {
        tx.batch_execute(
            "CREATE TABLE schema_version (
                 version     BIGINT PRIMARY KEY,
                 applied_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
                 applied_by  TEXT NOT NULL
             )",
        )
        .await?;
    }
    let by = format!("imx {}", env!("CARGO_PKG_VERSION"));
    let mut now = version;
    for (i, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .take(usize::try_from(target).unwrap_or(0))
    {
        let v = i as i64 + 1;
        if v <= version {
            continue;
        }
        tx.batch_execute(sql).await?;
        if v == 1 {
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ('app', 'imx'), ('created_at', $1), ('created_by', $2)",
                &[&crate::model::now_ms().to_string(), &by],
            )
            .await?;
        }
        tx.execute(
            "INSERT INTO schema_version (version, applied_by) VALUES ($1, $2)",
            &[&v, &by],
        )
        .await?;
        now = v;
    }
    tx.commit().await?;
    Ok(Migrated {
        initialised: version == 0 && now > 0,
        version: now,
    })
}

/// The schema version of the database `tx` sees (0: empty), after checking it is imx's.
async fn current(tx: &tokio_postgres::Transaction<'_>, place: &str, create: bool) -> PgResult<i64> {
    let row = tx
        .query_one(
            "SELECT to_regclass('schema_version') IS NOT NULL,
                    (SELECT count(*) FROM pg_tables WHERE schemaname = current_schema())",
            &[],
        )
        .await?;
    let (versioned, tables): (bool, i64) = (row.get(0), row.get(1));
    if !versioned {
        if tables > 0 {
            return Err(PgError::Imx(Error::NotAStore {
                path: place.into(),
                reason: "the database has tables, but imx did not make them".into(),
            }));
        }
        if !create {
            return Err(PgError::Imx(Error::NoStore { path: place.into() }));
        }
        return Ok(0);
    }
    let version: i64 = tx
        .query_one("SELECT coalesce(max(version), 0) FROM schema_version", &[])
        .await?
        .get(0);
    if version > 0 {
        // A failed statement would abort the transaction: look for `meta` before reading it.
        let has_meta: bool = tx
            .query_one("SELECT to_regclass('meta') IS NOT NULL", &[])
            .await?
            .get(0);
        let app = match has_meta {
            true => tx
                .query_opt("SELECT value FROM meta WHERE key = 'app'", &[])
                .await?
                .map(|r| r.get::<_, String>(0)),
            false => None,
        };
        let ours = app.as_deref() == Some("imx");
        if !ours {
            return Err(PgError::Imx(Error::NotAStore {
                path: place.into(),
                reason: "it has a schema_version table, but imx did not make it".into(),
            }));
        }
    }
    Ok(version)
}

/// The schema version recorded in the database.
pub async fn schema_version(client: &Client) -> PgResult<i64> {
    Ok(client
        .query_one("SELECT coalesce(max(version), 0) FROM schema_version", &[])
        .await?
        .get(0))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::store::postgres::PgConfig;
    use crate::store::postgres::testdb::TestDb;

    async fn client(db: &TestDb) -> Client {
        PgConfig::parse(&db.url())
            .unwrap()
            .connect(None)
            .await
            .unwrap()
    }

    /// Migration 2: a database made by schema 1 keeps its workflow versions, without a source.
    #[tokio::test]
    async fn workflow_versions_gain_a_source_column_empty_for_older_ones() {
        let Some(db) = TestDb::get().await else {
            return;
        };
        let mut c = client(&db).await;
        migrate_to(&mut c, "db", true, 1).await.unwrap();
        c.execute(
            "INSERT INTO workflows (name, version, digest, spec, created_at) VALUES ('w', 1, 'd', '{}', 0)",
            &[],
        )
        .await
        .unwrap();
        let m = migrate(&mut c, "db", false).await.unwrap();
        assert_eq!(m.version, PG_SCHEMA_VERSION);
        let source: Option<String> = c
            .query_one("SELECT source FROM workflows WHERE name = 'w'", &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(source, None);
    }

    /// Migration 3: events and log lines written by schema 2 wait without a `feed_seq`; the
    /// first sequencer numbers them in id order, after which nothing is pending.
    #[tokio::test]
    async fn older_events_and_lines_are_numbered_by_the_first_sequencer() {
        let Some(db) = TestDb::get().await else {
            return;
        };
        let mut c = client(&db).await;
        migrate_to(&mut c, "db", true, 2).await.unwrap();
        for kind in ["a", "b", "c"] {
            c.execute(
                "INSERT INTO events (time, kind, data) VALUES (0, $1, 'null')",
                &[&kind],
            )
            .await
            .unwrap();
        }
        c.execute(
            "INSERT INTO logs (run_id, step_id, attempt, time, stream, line)
             VALUES ('r', 's', 1, 0, 'stdout', 'x')",
            &[],
        )
        .await
        .unwrap();
        migrate(&mut c, "db", false).await.unwrap();
        assert!(super::super::sequence::pending(&c).await.unwrap());
        let n = super::super::sequence::sequence(&mut c).await.unwrap();
        assert_eq!(n, 4);
        assert!(!super::super::sequence::pending(&c).await.unwrap());
        let kinds: Vec<(String, i64)> = c
            .query("SELECT kind, feed_seq FROM events ORDER BY id", &[])
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        assert_eq!(kinds, [("a".into(), 1), ("b".into(), 2), ("c".into(), 3)]);
        assert_eq!(super::super::sequence::sequence(&mut c).await.unwrap(), 0);
    }

    #[tokio::test]
    async fn a_new_database_gets_the_schema_once_and_only_with_create() {
        let Some(db) = TestDb::get().await else {
            return;
        };
        let mut c = client(&db).await;
        let e = migrate(&mut c, "db", false).await.unwrap_err();
        assert!(matches!(e, Error::NoStore { .. }), "{e:?}");
        let m = migrate(&mut c, "db", true).await.unwrap();
        assert_eq!(
            m,
            Migrated {
                initialised: true,
                version: PG_SCHEMA_VERSION
            }
        );
        let again = migrate(&mut c, "db", false).await.unwrap();
        assert!(!again.initialised);
        assert_eq!(schema_version(&c).await.unwrap(), PG_SCHEMA_VERSION);
        let app: String = c
            .query_one("SELECT value FROM meta WHERE key = 'app'", &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(app, "imx");
        let id: String = c
            .query_one("SELECT value FROM meta WHERE key = 'store_id'", &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(id.len(), 32);
    }

    #[tokio::test]
    async fn a_newer_schema_is_refused_as_with_sqlite() {
        let Some(db) = TestDb::get().await else {
            return;
        };
        let mut c = client(&db).await;
        migrate(&mut c, "db", true).await.unwrap();
        c.execute(
            "INSERT INTO schema_version (version, applied_by) VALUES ($1, 'imx 99')",
            &[&(PG_SCHEMA_VERSION + 1)],
        )
        .await
        .unwrap();
        let e = migrate(&mut c, "postgres://x@h:5432/imx", false)
            .await
            .unwrap_err();
        match &e {
            Error::StoreTooNew {
                found, supported, ..
            } => {
                assert_eq!(*found, PG_SCHEMA_VERSION + 1);
                assert_eq!(*supported, PG_SCHEMA_VERSION);
            }
            other => panic!("{other:?}"),
        }
        assert!(e.to_string().contains("written by a newer imx"), "{e}");
    }

    #[tokio::test]
    async fn someone_elses_database_is_not_a_store() {
        let Some(db) = TestDb::get().await else {
            return;
        };
        let mut c = client(&db).await;
        c.batch_execute("CREATE TABLE accounts (id int)")
            .await
            .unwrap();
        let e = migrate(&mut c, "db", true).await.unwrap_err();
        assert!(matches!(e, Error::NotAStore { .. }), "{e:?}");
    }

    /// Replicas starting together: every one succeeds, one creates the schema, it is applied
    /// once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn replicas_migrating_at_once_do_not_race() {
        let Some(db) = TestDb::get().await else {
            return;
        };
        let cfg = PgConfig::parse(&db.url()).unwrap();
        let mut tasks = Vec::new();
        for _ in 0..6 {
            let cfg = cfg.clone();
            tasks.push(tokio::spawn(async move {
                let mut c = cfg.connect(None).await.unwrap();
                migrate(&mut c, "db", true).await
            }));
        }
        let mut created = 0;
        for t in tasks {
            let m = t.await.unwrap().unwrap();
            assert_eq!(m.version, PG_SCHEMA_VERSION);
            created += usize::from(m.initialised);
        }
        assert_eq!(created, 1);
        let c = client(&db).await;
        let rows: i64 = c
            .query_one("SELECT count(*) FROM schema_version", &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(rows, PG_SCHEMA_VERSION);
    }
}

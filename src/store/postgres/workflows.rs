//! Workflow versions on PostgreSQL: the rows ([`WorkflowRows`]; applying, getting and
//! deleting versions are `store::flow::workflows`), and the list with run counts — as the
//! SQLite store's (`store::sqlite::workflows`).

use tokio_postgres::Row;

use super::tx::{PgTx, get, get_u32};
use crate::Result;
use crate::model::{RunStatus, Workflow, WorkflowSpec, WorkflowSummary};
pub use crate::store::flow::decide::index;
use crate::store::flow::workflows::WorkflowRows;
pub use crate::store::flow::workflows::{apply, delete, get as get_workflow};

fn workflow_from_row(r: &Row) -> Result<Workflow> {
    let spec: String = get(r, 4)?;
    let mut spec: WorkflowSpec = serde_json::from_str(&spec)?;
    spec.source = get(r, 5)?;
    Ok(Workflow {
        name: get(r, 0)?,
        version: get_u32(r, 1)?,
        digest: get(r, 2)?,
        created_at: get(r, 3)?,
        spec,
        run_timeout: None,
    })
}

impl WorkflowRows for PgTx<'_> {
    /// A transaction-scoped advisory lock: replicas applying one name pick version numbers one
    /// after the other (a version not yet stored has no row to lock).
    fn lock_workflow_name(&self, name: &str) -> Result<()> {
        self.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended('imx.workflow:' || $1, 0))",
            &[&name],
        )?;
        Ok(())
    }

    fn latest_version(&self, name: &str) -> Result<Option<(u32, String, Option<i64>)>> {
        self.query_opt(
            "SELECT version, digest, deleted_at FROM workflows WHERE name = $1
             ORDER BY version DESC LIMIT 1",
            &[&name],
        )?
        .map(|r| Ok((get_u32(&r, 0)?, get(&r, 1)?, get(&r, 2)?)))
        .transpose()
    }

    fn insert_version(
        &self,
        spec: &WorkflowSpec,
        version: u32,
        digest: &str,
        spec_json: &str,
        now: i64,
    ) -> Result<()> {
        self.execute(
            "INSERT INTO workflows (name, version, digest, spec, created_at, source)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &spec.name,
                &i64::from(version),
                &digest,
                &spec_json,
                &now,
                &spec.source,
            ],
        )?;
        Ok(())
    }

    fn set_missing_source(&self, name: &str, version: u32, source: &str) -> Result<()> {
        self.execute(
            "UPDATE workflows SET source = $3 WHERE name = $1 AND version = $2 AND source IS NULL",
            &[&name, &i64::from(version), &source],
        )?;
        Ok(())
    }

    fn live_version(&self, name: &str, version: Option<u32>) -> Result<Option<Workflow>> {
        let row = match version {
            Some(v) => self.query_opt(
                "SELECT name, version, digest, created_at, spec, source FROM workflows
                 WHERE name = $1 AND version = $2 AND deleted_at IS NULL",
                &[&name, &i64::from(v)],
            )?,
            None => self.query_opt(
                "SELECT name, version, digest, created_at, spec, source FROM workflows
                 WHERE name = $1 AND deleted_at IS NULL ORDER BY version DESC LIMIT 1",
                &[&name],
            )?,
        };
        row.map(|r| workflow_from_row(&r)).transpose()
    }

    fn live_version_number(&self, name: &str, version: Option<u32>) -> Result<Option<u32>> {
        let row = self.query_opt(
            "SELECT version FROM workflows
             WHERE name = $1 AND deleted_at IS NULL AND ($2::bigint IS NULL OR version = $2)
             ORDER BY version DESC LIMIT 1",
            &[&name, &version.map(i64::from)],
        )?;
        row.map(|r| get_u32(&r, 0)).transpose()
    }

    fn live_workflow_names(&self) -> Result<Vec<String>> {
        self.query(
            "SELECT DISTINCT name FROM workflows WHERE deleted_at IS NULL ORDER BY name",
            &[],
        )?
        .iter()
        .map(|r| get(r, 0))
        .collect()
    }

    fn mark_workflow_deleted(&self, name: &str, now: i64) -> Result<()> {
        self.execute(
            "UPDATE workflows SET deleted_at = $2 WHERE name = $1 AND deleted_at IS NULL",
            &[&name, &now],
        )?;
        Ok(())
    }
}

/// Live workflows (latest version each) with run counts and the last run's status.
pub fn list(tx: &PgTx<'_>) -> Result<Vec<WorkflowSummary>> {
    let rows = tx.query(
        "SELECT w.name, w.version, w.spec, w.created_at,
                (SELECT count(*) FROM runs r WHERE r.workflow = w.name),
                (SELECT status FROM runs r WHERE r.workflow = w.name ORDER BY r.id DESC LIMIT 1)
         FROM workflows w
         WHERE w.deleted_at IS NULL
           AND w.version = (SELECT max(version) FROM workflows x WHERE x.name = w.name)
         ORDER BY w.name",
        &[],
    )?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let spec: String = get(r, 2)?;
        let spec: WorkflowSpec = serde_json::from_str(&spec)?;
        let runs: i64 = get(r, 4)?;
        let last: Option<String> = get(r, 5)?;
        out.push(WorkflowSummary {
            name: get(r, 0)?,
            version: get_u32(r, 1)?,
            description: spec.description,
            steps: spec.steps.len(),
            created_at: get(r, 3)?,
            runs: u64::try_from(runs).unwrap_or(0),
            last_run_status: last.and_then(|s| s.parse::<RunStatus>().ok()),
        });
    }
    Ok(out)
}

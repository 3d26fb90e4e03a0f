//! Workflow versions on SQLite: the rows ([`WorkflowRows`]; applying, getting and deleting
//! versions are `store::flow::workflows`), and the list with run counts.

use rusqlite::{OptionalExtension, Transaction, params};

use crate::Result;
use crate::model::{RunStatus, Workflow, WorkflowSpec, WorkflowSummary};
pub use crate::store::flow::decide::index;
use crate::store::flow::workflows::WorkflowRows;
pub use crate::store::flow::workflows::{apply, delete, digest, get};

fn workflow_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(Workflow, String)> {
    let spec: String = r.get(4)?;
    let source: Option<String> = r.get(5)?;
    Ok((
        Workflow {
            name: r.get(0)?,
            version: r.get(1)?,
            digest: r.get(2)?,
            created_at: r.get(3)?,
            spec: WorkflowSpec {
                name: String::new(),
                description: None,
                params: Vec::new(),
                timeout_ms: None,
                fail_fast: false,
                concurrency: None,
                steps: Vec::new(),
                schedules: Vec::new(),
                on: Vec::new(),
                notify: Vec::new(),
                source,
            },
            run_timeout: None,
        },
        spec,
    ))
}

impl WorkflowRows for Transaction<'_> {
    /// Nothing to do: this transaction is the one writer.
    fn lock_workflow_name(&self, _name: &str) -> Result<()> {
        Ok(())
    }

    fn latest_version(&self, name: &str) -> Result<Option<(u32, String, Option<i64>)>> {
        Ok(self
            .query_row(
                "SELECT version, digest, deleted_at FROM workflows WHERE name = ?1 ORDER BY version DESC LIMIT 1",
                [name],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?)
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
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![spec.name, version, digest, spec_json, now, spec.source],
        )?;
        Ok(())
    }

    fn set_missing_source(&self, name: &str, version: u32, source: &str) -> Result<()> {
        self.execute(
            "UPDATE workflows SET source = ?3 WHERE name = ?1 AND version = ?2 AND source IS NULL",
            params![name, version, source],
        )?;
        Ok(())
    }

    fn live_version(&self, name: &str, version: Option<u32>) -> Result<Option<Workflow>> {
        let row = match version {
            Some(v) => self
                .query_row(
                    "SELECT name, version, digest, created_at, spec, source FROM workflows
                     WHERE name = ?1 AND version = ?2 AND deleted_at IS NULL",
                    params![name, v],
                    workflow_from_row,
                )
                .optional()?,
            None => self
                .query_row(
                    "SELECT name, version, digest, created_at, spec, source FROM workflows
                     WHERE name = ?1 AND deleted_at IS NULL ORDER BY version DESC LIMIT 1",
                    [name],
                    workflow_from_row,
                )
                .optional()?,
        };
        let Some((mut wf, spec)) = row else {
            return Ok(None);
        };
        let source = wf.spec.source.take();
        wf.spec = serde_json::from_str(&spec)?;
        wf.spec.source = source;
        Ok(Some(wf))
    }

    fn live_version_number(&self, name: &str, version: Option<u32>) -> Result<Option<u32>> {
        let mut stmt = self.prepare_cached(
            "SELECT version FROM workflows
             WHERE name = ?1 AND deleted_at IS NULL AND (?2 IS NULL OR version = ?2)
             ORDER BY version DESC LIMIT 1",
        )?;
        Ok(stmt
            .query_row(params![name, version], |r| r.get(0))
            .optional()?)
    }

    fn live_workflow_names(&self) -> Result<Vec<String>> {
        let names = self
            .prepare("SELECT DISTINCT name FROM workflows WHERE deleted_at IS NULL ORDER BY name")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(names)
    }

    fn mark_workflow_deleted(&self, name: &str, now: i64) -> Result<()> {
        self.execute(
            "UPDATE workflows SET deleted_at = ?2 WHERE name = ?1 AND deleted_at IS NULL",
            params![name, now],
        )?;
        Ok(())
    }
}

/// Live workflows (latest version each) with run counts and the last run's status.
pub fn list(tx: &Transaction<'_>) -> Result<Vec<WorkflowSummary>> {
    let mut stmt = tx.prepare(
        "SELECT w.name, w.version, w.spec, w.created_at,
                (SELECT count(*) FROM runs r WHERE r.workflow = w.name),
                (SELECT status FROM runs r WHERE r.workflow = w.name ORDER BY r.id DESC LIMIT 1)
         FROM workflows w
         WHERE w.deleted_at IS NULL
           AND w.version = (SELECT max(version) FROM workflows x WHERE x.name = w.name)
         ORDER BY w.name",
    )?;
    let rows = stmt.query_map([], |r| {
        let spec: String = r.get(2)?;
        let last: Option<String> = r.get(5)?;
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, u32>(1)?,
            spec,
            r.get::<_, i64>(3)?,
            r.get::<_, u64>(4)?,
            last,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (name, version, spec, created_at, runs, last) = row?;
        let spec: WorkflowSpec = serde_json::from_str(&spec)?;
        out.push(WorkflowSummary {
            name,
            version,
            description: spec.description,
            steps: spec.steps.len(),
            created_at,
            runs,
            last_run_status: last.and_then(|s| s.parse::<RunStatus>().ok()),
        });
    }
    Ok(out)
}

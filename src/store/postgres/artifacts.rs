//! Artifacts on PostgreSQL: the `artifacts` rows (migration 0018), as
//! `store::sqlite::artifacts`.

use tokio_postgres::Row;

use super::tx::{PgTx, get};
use crate::Result;
use crate::model::Artifact;
use crate::store::api::ArtifactsTx;

const COLUMNS: &str = "id, run_id, step_id, attempt, path, size, sha256, storage_key, created_at";

fn from_row(r: &Row) -> Result<Artifact> {
    let attempt: i64 = get(r, 3)?;
    let size: i64 = get(r, 5)?;
    Ok(Artifact {
        id: get(r, 0)?,
        run_id: get(r, 1)?,
        step_id: get(r, 2)?,
        attempt: u32::try_from(attempt).unwrap_or(0),
        path: get(r, 4)?,
        size: u64::try_from(size).unwrap_or(0),
        sha256: get(r, 6)?,
        storage_key: get(r, 7)?,
        created_at: get(r, 8)?,
    })
}

impl ArtifactsTx for PgTx<'_> {
    fn put_artifact(&self, a: &Artifact) -> Result<Option<String>> {
        let old = self
            .query_opt(
                "DELETE FROM artifacts WHERE run_id = $1 AND step_id = $2 AND path = $3 \
                 RETURNING storage_key",
                &[&a.run_id, &a.step_id, &a.path],
            )?
            .map(|r| get::<String>(&r, 0))
            .transpose()?;
        let attempt = i64::from(a.attempt);
        let size = i64::try_from(a.size).unwrap_or(i64::MAX);
        self.execute(
            &format!(
                "INSERT INTO artifacts ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
            ),
            &[
                &a.id,
                &a.run_id,
                &a.step_id,
                &attempt,
                &a.path,
                &size,
                &a.sha256,
                &a.storage_key,
                &a.created_at,
            ],
        )?;
        Ok(old)
    }

    fn list_artifacts(&self, run_id: &str) -> Result<Vec<Artifact>> {
        self.query(
            &format!("SELECT {COLUMNS} FROM artifacts WHERE run_id = $1 ORDER BY step_id, path"),
            &[&run_id],
        )?
        .iter()
        .map(from_row)
        .collect()
    }

    fn artifacts_before(&self, cutoff: i64, limit: u32) -> Result<Vec<Artifact>> {
        let limit = i64::from(limit);
        self.query(
            &format!(
                "SELECT {COLUMNS} FROM artifacts WHERE created_at < $1 \
                 ORDER BY created_at, id LIMIT $2"
            ),
            &[&cutoff, &limit],
        )?
        .iter()
        .map(from_row)
        .collect()
    }

    fn delete_artifact(&self, id: &str) -> Result<bool> {
        Ok(self.execute("DELETE FROM artifacts WHERE id = $1", &[&id])? > 0)
    }
}

//! Artifacts on SQLite: the `artifacts` rows (migration 0024). The rules are in
//! `control::local_artifacts`.

use rusqlite::{OptionalExtension, Row, Transaction, params};

use crate::Result;
use crate::model::Artifact;
use crate::store::api::ArtifactsTx;

const COLUMNS: &str = "id, run_id, step_id, attempt, path, size, sha256, storage_key, created_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Artifact> {
    let attempt: i64 = r.get(3)?;
    let size: i64 = r.get(5)?;
    Ok(Artifact {
        id: r.get(0)?,
        run_id: r.get(1)?,
        step_id: r.get(2)?,
        attempt: u32::try_from(attempt).unwrap_or(0),
        path: r.get(4)?,
        size: u64::try_from(size).unwrap_or(0),
        sha256: r.get(6)?,
        storage_key: r.get(7)?,
        created_at: r.get(8)?,
    })
}

impl ArtifactsTx for Transaction<'_> {
    fn put_artifact(&self, a: &Artifact) -> Result<Option<String>> {
        let old: Option<String> = self
            .prepare_cached(
                "DELETE FROM artifacts WHERE run_id = ?1 AND step_id = ?2 AND path = ?3 \
                 RETURNING storage_key",
            )?
            .query_row(params![a.run_id, a.step_id, a.path], |r| r.get(0))
            .optional()?;
        self.prepare_cached(&format!(
            "INSERT INTO artifacts ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
        ))?
        .execute(params![
            a.id,
            a.run_id,
            a.step_id,
            i64::from(a.attempt),
            a.path,
            i64::try_from(a.size).unwrap_or(i64::MAX),
            a.sha256,
            a.storage_key,
            a.created_at
        ])?;
        Ok(old)
    }

    fn list_artifacts(&self, run_id: &str) -> Result<Vec<Artifact>> {
        let mut stmt = self.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM artifacts WHERE run_id = ?1 ORDER BY step_id, path"
        ))?;
        let rows = stmt.query_map([run_id], from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn artifacts_before(&self, cutoff: i64, limit: u32) -> Result<Vec<Artifact>> {
        let mut stmt = self.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM artifacts WHERE created_at < ?1 \
             ORDER BY created_at, id LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![cutoff, limit], from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn delete_artifact(&self, id: &str) -> Result<bool> {
        Ok(self
            .prepare_cached("DELETE FROM artifacts WHERE id = ?1")?
            .execute([id])?
            > 0)
    }
}

//! What the database holds and who serves it, for the cluster benchmark and the scaling note
//! (docs/scaling.md): each table's size on disk with its indexes and TOAST
//! (`pg_total_relation_size`), and the server processes serving this database's sessions.

use super::store::PgStore;
use super::tx::get;
use crate::Result;

impl PgStore {
    /// Every table of the schema with its total size in bytes (indexes and TOAST included),
    /// largest first.
    pub fn table_bytes(&self) -> Result<Vec<(String, u64)>> {
        self.read(|tx| {
            let rows = tx.query(
                "SELECT c.relname::text, pg_total_relation_size(c.oid)
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE c.relkind = 'r' AND n.nspname = current_schema()
                 ORDER BY 2 DESC, 1",
                &[],
            )?;
            rows.iter()
                .map(|r| Ok((get(r, 0)?, u64::try_from(get::<i64>(r, 1)?).unwrap_or(0))))
                .collect()
        })
    }

    /// The process ids of the server processes (backends) connected to this database now.
    pub fn backend_pids(&self) -> Result<Vec<i32>> {
        self.read(|tx| {
            let rows = tx.query(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()",
                &[],
            )?;
            rows.iter().map(|r| get(r, 0)).collect()
        })
    }
}

//! Copying one store into another, whichever kinds they are (`imx store copy`, and restoring a
//! backup into a PostgreSQL store): every table, row by row through the logical backup's
//! [`Tables`], read from one snapshot of the source and written in one transaction on the
//! target, so the target holds all of one moment of the source or nothing. Then the copy is
//! checked: the target's rows per table are the source's, and its audit chain verifies.
//!
//! The copy keeps the store's identity (its store id, its audit chain and the archive base):
//! it is the same store, moved; the audit checkpoints signed for it still apply.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::audit::chain::{self, ChainReport};
use crate::backup::logical::{Tables, has_data};
use crate::store::api::Backend;
use crate::{Error, Result};

/// What a copy did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CopyReport {
    /// Where the rows came from and went (URLs without passwords).
    pub from: String,
    pub to: String,
    /// The target held data and was replaced (`--force`).
    pub replaced: bool,
    /// Rows copied per table (each checked against the source and the target).
    pub tables: BTreeMap<String, u64>,
    /// The target's audit chain, verified after the copy.
    pub audit: ChainReport,
    pub duration_ms: i64,
}

impl CopyReport {
    /// Rows copied in all.
    pub fn rows(&self) -> u64 {
        self.tables.values().sum()
    }
}

/// Where a copy is: a table starts, or more of its rows are copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyProgress<'a> {
    /// Copying `table`, which holds `rows` rows.
    Table { table: &'a str, rows: u64 },
    /// `done` rows of the current table are copied.
    Rows { done: u64 },
    /// Checking the target's counts and audit chain.
    Checking,
}

/// Rows between [`CopyProgress::Rows`] reports.
const REPORT_EVERY: u64 = 10_000;

/// Copy everything in `from` into `to`. A target that holds data (rows in any table but
/// `meta`) is refused with [`Error::Conflict`] unless `force`, which empties it first, in the
/// same transaction as the copy.
pub fn copy(
    from: &dyn Backend,
    to: &dyn Backend,
    force: bool,
    progress: &mut dyn FnMut(CopyProgress<'_>),
) -> Result<CopyReport> {
    let started = std::time::Instant::now();
    let (source, target) = (from.location(), to.location());
    if source == target {
        return Err(Error::invalid(format!(
            "{source} is both the source and the target of the copy"
        )));
    }
    let mut replaced = false;
    // Events and log lines committed so far get their feed numbers, which the copy keeps.
    from.sync_feeds()?;
    // One snapshot of the source for the whole copy; one transaction on the target.
    let tables = from.read(|src| {
        to.write(|dst| {
            replaced = false;
            if has_data(dst)? {
                if !force {
                    return Err(Error::Conflict(format!(
                        "{target} already holds data; refusing to copy over it (pass --force \
                         to replace it)"
                    )));
                }
                dst.clear()?;
                replaced = true;
            }
            copy_tables(src, dst, &target, progress)
        })
    })?;
    progress(CopyProgress::Checking);
    to.read(|dst| {
        for (table, n) in &tables {
            let found = dst.row_count(table)?;
            if found != *n {
                return Err(Error::Store(format!(
                    "the copy is incomplete: {target} holds {found} rows of {table}, the source {n}"
                )));
            }
        }
        Ok(())
    })?;
    let audit = to.read(|dst| chain::verify(dst, &[], &mut |_| {}))?;
    if !audit.ok {
        let why = audit
            .problem
            .as_ref()
            .map_or_else(String::new, |p| format!(": {}", p.message));
        return Err(Error::Store(format!(
            "the audit chain of the copy at {target} does not verify{why}"
        )));
    }
    Ok(CopyReport {
        from: source,
        to: target,
        replaced,
        tables,
        audit,
        duration_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
    })
}

/// Copy every table of `src` into `dst` (emptied or fresh); rows per table, each checked
/// against the source's count in its snapshot.
fn copy_tables(
    src: &dyn Tables,
    dst: &dyn Tables,
    target: &str,
    progress: &mut dyn FnMut(CopyProgress<'_>),
) -> Result<BTreeMap<String, u64>> {
    let targets = dst.table_names()?;
    let mut counts = BTreeMap::new();
    for table in src.table_names()? {
        if !targets.contains(&table) {
            return Err(Error::invalid(format!(
                "{target} has no table {table:?}: it is an older imx's store (upgrade it by \
                 opening it with this imx first)"
            )));
        }
        let columns = src.columns(&table)?;
        let known = dst.columns(&table)?;
        if let Some(c) = columns.iter().find(|c| !known.contains(c)) {
            return Err(Error::invalid(format!(
                "{target} has no column {c:?} in table {table:?}: it is an older imx's store"
            )));
        }
        let expected = src.row_count(&table)?;
        progress(CopyProgress::Table {
            table: &table,
            rows: expected,
        });
        let mut insert = dst.inserter(&table, &columns)?;
        let mut n = 0u64;
        src.each_row(&table, &columns, &mut |values| {
            insert.insert(values.to_vec())?;
            n += 1;
            if n.is_multiple_of(REPORT_EVERY) {
                progress(CopyProgress::Rows { done: n });
            }
            Ok(())
        })?;
        insert.finish()?;
        drop(insert);
        if n != expected {
            return Err(Error::Store(format!(
                "read {n} rows of {table} from the source, which counts {expected}"
            )));
        }
        progress(CopyProgress::Rows { done: n });
        counts.insert(table, n);
    }
    dst.imported()?;
    Ok(counts)
}

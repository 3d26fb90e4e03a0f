//! Retention of finished runs inside one store transaction (`imx run prune`, `imx server
//! --retain`): counting and deleting, a batch at a time, finished runs that ended before a
//! cutoff with their steps, then the event and log rows left without a run, then schedules'
//! tick records older than the cutoff whose run is gone. The loop over
//! batches (one short transaction each) is `store::retention`.

use crate::Result;

/// The statuses of a finished run, as stored: only runs in one of these are ever deleted.
pub const FINISHED: [&str; 4] = ["succeeded", "failed", "cancelled", "timed_out"];

/// A table of rows that belong to runs and are read as a feed (by cursor).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedTable {
    Events,
    Logs,
}

impl FeedTable {
    /// The table's name.
    pub fn table(self) -> &'static str {
        match self {
            FeedTable::Events => "events",
            FeedTable::Logs => "logs",
        }
    }
}

/// One batch of a walk through a feed table ([`RetentionTx::prune_feed`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Walked {
    /// Rows deleted.
    pub deleted: u64,
    /// The row id to walk on from; `None` when the walk is done (the table's end, or rows
    /// newer than the cutoff).
    pub next: Option<i64>,
}

/// Retention: what may go, and taking it away a batch at a time.
pub trait RetentionTx {
    /// Finished runs that ended before `cutoff` (ms) and hold no leased or running step: how
    /// many, and how many steps they have.
    fn count_finished_before(&self, cutoff: i64) -> Result<(u64, u64)>;
    /// Delete the oldest of those runs with their steps — about `max_steps` steps' worth, and
    /// at least one run — and return how many runs and steps went. A run that is not finished
    /// (or that holds a leased or running step) is never deleted; on a store shared by
    /// replicas, a run another transaction holds is left for the next batch.
    fn delete_finished_runs(&self, cutoff: i64, max_steps: u32) -> Result<(u64, u64)>;
    /// Walk up to `limit` rows of `table` with ids above `after`, oldest first, and delete
    /// those older than `cutoff` whose run is gone (deleted by retention) or, for events, that
    /// name no run. The table's newest row is never deleted, so ids are never handed out twice
    /// (SQLite reuses the largest id of a table once its row is gone).
    fn prune_feed(&self, table: FeedTable, after: i64, cutoff: i64, limit: u32) -> Result<Walked>;
    /// Delete up to `limit` of schedule `schedule`'s tick records with nominal times before
    /// `before`, oldest first, that no longer matter: not buffered (a tick still waiting to
    /// run), and whose run is gone (none was made, or retention deleted it: a tick whose run
    /// is still stored stays with it). The schedule's newest tick is never deleted. How many
    /// went. The caller keeps `before` outside the schedule's catch-up window, where ticks are
    /// still decided and their record is what makes each one fire once.
    fn prune_ticks(&self, schedule: &str, before: i64, limit: u32) -> Result<u64>;
}

/// Where a walk through a feed table goes on after `rows` (id, run, time), a page of at most
/// `limit`: after its last row while the page was full and that row is older than `cutoff`;
/// else (`None`) the walk is done.
pub fn next_cursor<R>(rows: &[(i64, R, i64)], limit: u32, cutoff: i64) -> Option<i64> {
    let (id, _, time) = rows.last()?;
    (rows.len() >= limit as usize && *time < cutoff).then_some(*id)
}

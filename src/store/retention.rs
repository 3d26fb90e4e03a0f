//! Retention of finished runs on any backend (`imx run prune`, `imx server --retain`): the
//! finished runs that ended before a cutoff go with their steps, then the event and log rows
//! left without a run, then schedules' tick records older than the cutoff whose run is gone
//! (never inside a schedule's catch-up window, never a buffered one) — each batch in its own short write transaction (at most [`BATCH`] rows),
//! so claims and completions on other connections and replicas never wait long behind it. A
//! run that has not finished is never deleted. What one transaction does is the backends'
//! [`RetentionTx`](super::api::RetentionTx).

use super::api::retention::FeedTable;
use super::api::{Backend, StoreTx};
use crate::Result;
use crate::model::ScheduleInfo;

/// Rows one transaction deletes at most: the steps of the runs it takes, or the feed rows it
/// walks through.
pub const BATCH: u32 = 1_000;

/// The pause between two batches, in which other writers get the lock.
const PAUSE: std::time::Duration = std::time::Duration::from_millis(2);

/// Whose work a prune is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Asked for now (`imx run prune`): this process does it, whichever it is.
    Now,
    /// The store's periodic maintenance (`imx server --retain`): each batch runs only while
    /// this process leads maintenance (on PostgreSQL, fenced by the lease's term); the prune
    /// stops, incomplete, when it does not.
    Maintenance,
}

/// What a prune deleted (or, counted for a dry run, would delete).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    pub runs: u64,
    pub steps: u64,
    pub log_lines: u64,
    pub events: u64,
    /// Schedules' tick records.
    pub ticks: u64,
    /// Notification deliveries (with their attempts) and outbox entries.
    pub notifications: u64,
    /// Every batch ran (false: maintenance moved to another process midway).
    pub complete: bool,
}

impl Pruned {
    /// Whether anything was deleted.
    pub fn any(&self) -> bool {
        self.runs + self.steps + self.log_lines + self.events + self.ticks + self.notifications > 0
    }
}

/// The finished runs that ended before `cutoff` (ms) and their steps: what a prune would take
/// (their log lines and events go with them, uncounted).
pub fn count(store: &dyn Backend, cutoff: i64) -> Result<Pruned> {
    let (runs, steps) = store.read(|tx| tx.count_finished_before(cutoff))?;
    Ok(Pruned {
        runs,
        steps,
        complete: true,
        ..Pruned::default()
    })
}

/// One batch, as `mode` says: `None` when this process is not to do maintenance now.
fn batch<T>(
    store: &dyn Backend,
    mode: Mode,
    f: impl FnMut(&dyn StoreTx) -> Result<T>,
) -> Result<Option<T>> {
    let out = match mode {
        Mode::Now => store.write(f).map(Some),
        Mode::Maintenance => store.maintain(f),
    };
    // Let waiting writers in before the next batch: SQLite's lock (and a server's writer
    // connection) goes to whoever asks first, and a waiter polls only every millisecond.
    std::thread::sleep(PAUSE);
    out
}

/// Delete the finished runs that ended before `cutoff` (ms), oldest first, with their steps,
/// then walk the log lines and events and delete those left without a run (and events about
/// no run) older than the cutoff. `progress` hears the running totals after each batch that
/// deleted something.
pub fn prune(
    store: &dyn Backend,
    cutoff: i64,
    mode: Mode,
    progress: &mut dyn FnMut(&Pruned),
) -> Result<Pruned> {
    let mut done = Pruned::default();
    loop {
        let Some((runs, steps)) = batch(store, mode, |tx| tx.delete_finished_runs(cutoff, BATCH))?
        else {
            return Ok(done);
        };
        if runs == 0 {
            break;
        }
        done.runs += runs;
        done.steps += steps;
        progress(&done);
    }
    for table in [FeedTable::Logs, FeedTable::Events] {
        let mut after = 0;
        loop {
            let Some(walked) = batch(store, mode, |tx| tx.prune_feed(table, after, cutoff, BATCH))?
            else {
                return Ok(done);
            };
            match table {
                FeedTable::Logs => done.log_lines += walked.deleted,
                FeedTable::Events => done.events += walked.deleted,
            }
            if walked.deleted > 0 {
                progress(&done);
            }
            match walked.next {
                Some(next) => after = next,
                None => break,
            }
        }
    }
    if prune_ticks(store, cutoff, mode, &mut done, progress)?.is_none() {
        return Ok(done);
    }
    loop {
        let Some(n) = batch(store, mode, |tx| tx.prune_notifications(cutoff, BATCH))? else {
            return Ok(done);
        };
        if n == 0 {
            break;
        }
        done.notifications += n;
        progress(&done);
    }
    done.complete = true;
    Ok(done)
}

/// The nominal time before which a schedule's tick records may go: before `cutoff`, outside
/// its catch-up window (ticks still decided there are kept once each by their record), and
/// before its latest decided tick.
pub fn tick_horizon(s: &ScheduleInfo, cutoff: i64, now: i64) -> i64 {
    let window = i64::try_from(s.spec.catchup_window_ms).unwrap_or(i64::MAX);
    cutoff.min(now.saturating_sub(window)).min(s.last_nominal)
}

/// Delete the tick records of every schedule older than its [`tick_horizon`] whose run is gone
/// (`RetentionTx::prune_ticks`), a batch at a time: `None` when maintenance moved elsewhere.
fn prune_ticks(
    store: &dyn Backend,
    cutoff: i64,
    mode: Mode,
    done: &mut Pruned,
    progress: &mut dyn FnMut(&Pruned),
) -> Result<Option<()>> {
    let now = crate::model::now_ms();
    for s in store.read(|tx| tx.list_schedules())? {
        let before = tick_horizon(&s, cutoff, now);
        loop {
            let Some(n) = batch(store, mode, |tx| tx.prune_ticks(&s.name, before, BATCH))? else {
                return Ok(None);
            };
            done.ticks += n;
            if n > 0 {
                progress(done);
            }
            if n < u64::from(BATCH) {
                break;
            }
        }
    }
    Ok(Some(()))
}

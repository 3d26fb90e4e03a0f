//! What the dashboard (`imx dashboard`) reads: the overview, windowed pages of runs and agents,
//! workflows with their recent outcomes, and the audit tail. Read-only; every query here is
//! index-backed and bounded, so a store with a million runs answers in milliseconds.
//!
//! The overview's outcome counts and throughput come from per-minute buckets: minutes that have
//! ended never change (a run's `finished_at` is the time it ended), so [`OverviewCache`] counts
//! each closed minute once and afterwards reads only the current minute.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::model::{AgentState, ParamSpec, Run, RunStatus};

/// One minute, in milliseconds.
pub const MINUTE_MS: i64 = 60_000;
/// Minutes of step throughput the overview returns (the sparkline).
pub const THROUGHPUT_MINUTES: usize = 60;
/// How many recently finished steps the duration percentiles are taken over.
pub const DURATION_SAMPLE: u32 = 1_000;

/// Ended runs by outcome over some window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Outcomes {
    pub succeeded: u64,
    pub failed: u64,
    pub cancelled: u64,
    pub timed_out: u64,
}

impl Outcomes {
    /// Count one ended run.
    pub fn add(&mut self, status: RunStatus, n: u64) {
        match status {
            RunStatus::Succeeded => self.succeeded += n,
            RunStatus::Failed => self.failed += n,
            RunStatus::Cancelled => self.cancelled += n,
            RunStatus::TimedOut => self.timed_out += n,
            RunStatus::Queued | RunStatus::Running => {}
        }
    }

    fn merge(&mut self, other: &Outcomes) {
        self.succeeded += other.succeeded;
        self.failed += other.failed;
        self.cancelled += other.cancelled;
        self.timed_out += other.timed_out;
    }

    /// Every ended run.
    pub fn total(&self) -> u64 {
        self.succeeded + self.failed + self.cancelled + self.timed_out
    }

    /// Failed and timed-out runs as a fraction of those that ended (0 when none did).
    pub fn failure_rate(&self) -> f64 {
        let total = self.total();
        if total == 0 {
            0.0
        } else {
            (self.failed + self.timed_out) as f64 / total as f64
        }
    }
}

/// The dashboard's overview.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Overview {
    /// When it was computed.
    #[serde(with = "crate::model::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: i64,
    /// The newest event id: follow the change feed from here.
    pub event_id: i64,
    pub agents: BTreeMap<AgentState, u64>,
    /// Agents that are not offline and hold at least one step ("busy" in the overview; the
    /// others not offline are idle). An agent's own state says busy only when all its slots are.
    #[serde(default)]
    pub agents_holding: u64,
    pub runs_running: u64,
    pub runs_queued: u64,
    pub last_hour: Outcomes,
    pub last_day: Outcomes,
    /// Steps that ended per minute, oldest first; the last minute is the current (partial) one.
    pub throughput: Vec<u64>,
    /// Median and 95th percentile duration of the last [`DURATION_SAMPLE`] steps that ran.
    pub step_p50_ms: Option<i64>,
    pub step_p95_ms: Option<i64>,
    /// The most recent failed or timed-out runs, newest first.
    pub latest_failures: Vec<Run>,
}

/// How the runs table is ordered; both orders follow the primary key, so paging is cheap.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RunSort {
    #[default]
    Newest,
    Oldest,
}

/// One window of the runs table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunQuery {
    pub status: Option<RunStatus>,
    pub workflow: Option<String>,
    /// Matches a run id prefix, or part of the workflow name or of who started it.
    pub text: Option<String>,
    /// Only runs made by this schedule's ticks (the dashboard's Schedules view: enter).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
    pub sort: RunSort,
    /// Continue after this run id (exclusive, in `sort` order).
    pub cursor: Option<String>,
    pub limit: u32,
    /// Only runs created at or after this time: the dashboard's `:since`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::model::time::rfc3339_opt"
    )]
    #[schema(value_type = Option<crate::model::time::TimeInput>)]
    pub since: Option<i64>,
    /// Only runs with every one of these labels (the dashboard's `/pr=42`). Left out when
    /// empty, so servers that predate it take the query.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Only runs not ended with an approval step waiting for a person (the dashboard's
    /// `/status:waiting`, as `run list --status waiting`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub waiting: bool,
}

/// How far a run id's time may be from the run's `created_at` (both are read from the clock
/// when the run is made): a time range on runs reads ids from this much before its start, then
/// cuts by `created_at` exactly.
pub const ID_TIME_SLACK_MS: i64 = 60_000;

/// The smallest run id made at or after `ms` less [`ID_TIME_SLACK_MS`] (ids are ULIDs, ordered
/// by the millisecond they were made in): the index bound of a time range on runs.
pub fn run_id_floor(ms: i64) -> String {
    let at = u64::try_from(ms.saturating_sub(ID_TIME_SLACK_MS)).unwrap_or(0);
    ulid::Ulid::from_parts(at, 0).to_string()
}

/// One window of the agents table, ordered by name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentQuery {
    /// Part of the name, hostname or labels.
    pub text: Option<String>,
    /// Continue after this agent name (exclusive).
    pub after: Option<String>,
    pub limit: u32,
}

/// A workflow with its versions and how its latest runs ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WorkflowOutcomes {
    pub name: String,
    pub description: Option<String>,
    /// The latest version.
    pub version: u32,
    /// Every live version with when it was applied, newest first.
    pub versions: Vec<(u32, i64)>,
    pub steps: usize,
    /// The latest version's parameters (for a start-run form).
    pub params: Vec<ParamSpec>,
    /// The most recent runs (id and status), newest first.
    pub recent: Vec<(String, RunStatus)>,
    /// How long each of those that started and ended took (ms, start to end), newest first.
    #[serde(default)]
    pub recent_ms: Vec<i64>,
}

/// Which audit records the tail shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = AuditTailFilter)]
#[serde(deny_unknown_fields)]
pub struct AuditFilter {
    /// Part of the actor, action or target.
    pub text: Option<String>,
    /// `ok`, `denied` or `error`.
    pub outcome: Option<String>,
    /// Only records at or after this time: the dashboard's `:since`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::model::time::rfc3339_opt"
    )]
    #[schema(value_type = Option<crate::model::time::TimeInput>)]
    pub since: Option<i64>,
}

/// Per-minute counts of ended runs and steps, kept between overview refreshes.
#[derive(Debug, Default)]
pub struct OverviewCache {
    inner: Mutex<Buckets>,
}

/// Closed minutes never change; rebuild now and then anyway, so a retried run (whose end moves)
/// does not stay counted in its old minute for long.
const REBUILD_EVERY: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, Default)]
pub(crate) struct Buckets {
    /// Minutes before this one (minute numbers since the epoch) are counted below.
    pub closed_until: i64,
    pub runs: BTreeMap<i64, Outcomes>,
    pub steps: BTreeMap<i64, u64>,
    pub built: Option<Instant>,
}

impl OverviewCache {
    /// Run `f` with the buckets locked.
    pub(crate) fn with<T>(&self, f: impl FnOnce(&mut Buckets) -> T) -> T {
        let mut b = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut b)
    }
}

impl Buckets {
    /// The first minute to read from the store for `now`, resetting when due.
    pub(crate) fn start_minute(&mut self, now: i64) -> i64 {
        let day_start = now / MINUTE_MS - 24 * 60;
        if self.built.is_none_or(|t| t.elapsed() > REBUILD_EVERY) || self.closed_until < day_start {
            self.runs.clear();
            self.steps.clear();
            self.closed_until = day_start;
            self.built = Some(Instant::now());
        }
        self.closed_until
    }

    /// Fold counts read since [`start_minute`](Self::start_minute) in and compute the windows.
    pub(crate) fn fold(
        &mut self,
        now: i64,
        runs: &[(i64, RunStatus, u64)],
        steps: &[(i64, u64)],
    ) -> (Outcomes, Outcomes, Vec<u64>) {
        let current = now / MINUTE_MS;
        let mut fresh_runs: BTreeMap<i64, Outcomes> = BTreeMap::new();
        for &(minute, status, n) in runs {
            fresh_runs.entry(minute).or_default().add(status, n);
        }
        let mut fresh_steps: BTreeMap<i64, u64> = BTreeMap::new();
        for &(minute, n) in steps {
            *fresh_steps.entry(minute).or_default() += n;
        }
        // Closed minutes are kept; the current one is read again next time.
        for (m, o) in fresh_runs.range(..current) {
            self.runs.insert(*m, *o);
        }
        for (m, n) in fresh_steps.range(..current) {
            self.steps.insert(*m, *n);
        }
        self.closed_until = self.closed_until.max(current);
        let day_start = current - 24 * 60;
        self.runs = self.runs.split_off(&(day_start + 1));
        self.steps = self
            .steps
            .split_off(&(current - THROUGHPUT_MINUTES as i64 + 1));

        let mut hour = Outcomes::default();
        let mut day = Outcomes::default();
        let all = self.runs.iter().chain(fresh_runs.range(current..));
        for (m, o) in all {
            day.merge(o);
            if *m > current - 60 {
                hour.merge(o);
            }
        }
        let throughput = (0..THROUGHPUT_MINUTES as i64)
            .map(|i| {
                let m = current - THROUGHPUT_MINUTES as i64 + 1 + i;
                if m == current {
                    fresh_steps.get(&m).copied().unwrap_or(0)
                } else {
                    self.steps.get(&m).copied().unwrap_or(0)
                }
            })
            .collect();
        (hour, day, throughput)
    }
}

/// The `p`-th percentile (0–100) of sorted values, nearest rank.
pub fn percentile(sorted: &[i64], p: u32) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (u64::from(p) * sorted.len() as u64).div_ceil(100).max(1);
    sorted
        .get(usize::try_from(rank - 1).unwrap_or(0).min(sorted.len() - 1))
        .copied()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let v: Vec<i64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50), Some(50));
        assert_eq!(percentile(&v, 95), Some(95));
        assert_eq!(percentile(&[7], 95), Some(7));
        assert_eq!(percentile(&[], 50), None);
    }

    #[test]
    fn closed_minutes_are_counted_once_and_the_current_one_each_time() {
        let now = 10_000 * MINUTE_MS + 30_000;
        let mut b = Buckets::default();
        let from = b.start_minute(now);
        assert_eq!(from, 10_000 - 24 * 60);
        let (hour, day, tp) = b.fold(
            now,
            &[
                (9_999, RunStatus::Succeeded, 3),
                (10_000, RunStatus::Failed, 1),
                (100, RunStatus::Failed, 9), // older than a day: dropped
            ],
            &[(9_999, 5), (10_000, 2)],
        );
        assert_eq!(hour.succeeded, 3);
        assert_eq!(hour.failed, 1);
        assert_eq!(day.total(), 4);
        assert_eq!(tp.len(), THROUGHPUT_MINUTES);
        assert_eq!(tp[THROUGHPUT_MINUTES - 1], 2);
        assert_eq!(tp[THROUGHPUT_MINUTES - 2], 5);
        // Next refresh reads only from the current minute on.
        assert_eq!(b.start_minute(now + 1_000), 10_000);
        let (hour, _, tp) = b.fold(now + 1_000, &[(10_000, RunStatus::Failed, 2)], &[]);
        assert_eq!((hour.succeeded, hour.failed), (3, 2));
        assert_eq!(tp[THROUGHPUT_MINUTES - 2], 5);
        assert!((hour.failure_rate() - 0.4).abs() < 1e-9);
    }
}

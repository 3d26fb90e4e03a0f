//! Schedules as stored and shown: a [`ScheduleInfo`] (its spec and its state) and the record of
//! each tick ([`Tick`]).

use serde::{Deserialize, Serialize};

use crate::schedule::{MissReason, ScheduleSpec};

/// A schedule with its state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ScheduleInfo {
    pub name: String,
    pub workflow: String,
    pub spec: ScheduleSpec,
    /// `file` (from a workflow file's `schedules:`, kept by `workflow apply`) or `command`.
    pub origin: String,
    pub paused: bool,
    /// Why it was paused (`schedule pause --note`, or the run that failed).
    pub note: Option<String>,
    #[serde(with = "crate::model::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
    #[serde(with = "crate::model::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: i64,
    /// The latest nominal time decided (fired, skipped, buffered or missed).
    #[serde(with = "crate::model::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub last_nominal: i64,
    /// When the next tick fires (jitter included); `null` once done (end passed, limit reached).
    #[serde(default, with = "crate::model::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_fire: Option<i64>,
    /// Ticks that made a run or wait to (buffered), so far; `limit` counts these.
    pub fired: u64,
    /// Ticks missed (downtime, catch-up limit, paused, workflow error), so far.
    pub missed: u64,
    /// Ticks skipped because a run was going (`overlap: skip`), so far.
    pub skipped: u64,
    /// Ticks dropped because `buffer_one` held one already, so far.
    pub dropped: u64,
    /// Runs ended after this time are checked for `pause_on_failure`.
    #[serde(skip)]
    pub checked_at: i64,
}

/// Ticks by what became of them (one pass's, or a schedule's so far).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TickCounts {
    /// Runs made.
    pub fired: u64,
    pub missed: u64,
    pub skipped: u64,
    pub buffered: u64,
    pub dropped: u64,
}

impl TickCounts {
    pub fn any(&self) -> bool {
        *self != TickCounts::default()
    }

    /// Count `other`'s ticks too.
    pub fn add(&mut self, other: &TickCounts) {
        self.fired += other.fired;
        self.missed += other.missed;
        self.skipped += other.skipped;
        self.buffered += other.buffered;
        self.dropped += other.dropped;
    }
}

/// What became of a tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TickOutcome {
    /// Its run was created.
    Fired,
    /// A run was going and the overlap policy is `skip`.
    Skipped,
    /// Waiting for the going run to end.
    Buffered,
    /// `buffer_one` already held a tick.
    Dropped,
    /// No run: see the reason.
    Missed,
    /// Made by `schedule trigger`.
    Triggered,
}

impl TickOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            TickOutcome::Fired => "fired",
            TickOutcome::Skipped => "skipped",
            TickOutcome::Buffered => "buffered",
            TickOutcome::Dropped => "dropped",
            TickOutcome::Missed => "missed",
            TickOutcome::Triggered => "triggered",
        }
    }
    pub fn parse(s: &str) -> Option<TickOutcome> {
        [
            TickOutcome::Fired,
            TickOutcome::Skipped,
            TickOutcome::Buffered,
            TickOutcome::Dropped,
            TickOutcome::Missed,
            TickOutcome::Triggered,
        ]
        .into_iter()
        .find(|o| o.as_str() == s)
    }
}

/// One tick of a schedule: unique per (schedule, nominal time).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Tick {
    pub schedule: String,
    #[serde(with = "crate::model::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub nominal_time: i64,
    pub outcome: TickOutcome,
    /// Why a missed tick has no run.
    pub reason: Option<MissReason>,
    pub run_id: Option<String>,
    #[serde(with = "crate::model::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub recorded_at: i64,
}

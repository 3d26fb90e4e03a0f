//! One wake of the scheduler for one schedule: the ticks that came due since the last decided
//! one, and what becomes of each — fire, skip, buffer, drop, or missed (and why). Pure: the
//! store applies the [`Plan`] in one transaction, under the (schedule, nominal time) key.

use serde::{Deserialize, Serialize};

use super::spec::Overlap;
use super::timing::Schedule;

/// Due ticks further back than this before the catch-up window are not looked at one by one
/// (a scheduler down for a week does not record a week of every-second ticks).
pub const MISSED_LOOKBACK_MS: i64 = 24 * 3_600_000;

/// What the store knows of a schedule when it wakes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct State {
    /// The latest nominal time already decided; for a schedule never run, when it was created
    /// (ticks before it are none of its business).
    pub last_nominal: i64,
    /// Runs created or buffered from ticks so far (for `limit`).
    pub fired: u64,
    /// Runs of the schedule that have not ended.
    pub active: u32,
    /// Ticks buffered, waiting for the running run to end.
    pub buffered: u32,
    pub paused: bool,
}

/// Why an expected tick has no run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MissReason {
    /// No scheduler ran until after the catch-up window had passed.
    Downtime,
    /// More ticks were due at once than `max_catchup` lets fire.
    CatchupLimit,
    /// The schedule was paused.
    Paused,
    /// The run could not be made: the workflow is gone, or the schedule's params no longer
    /// fit it.
    WorkflowError,
}

impl MissReason {
    pub fn as_str(self) -> &'static str {
        match self {
            MissReason::Downtime => "downtime",
            MissReason::CatchupLimit => "catchup_limit",
            MissReason::Paused => "paused",
            MissReason::WorkflowError => "workflow_error",
        }
    }
    pub fn parse(s: &str) -> Option<MissReason> {
        [
            MissReason::Downtime,
            MissReason::CatchupLimit,
            MissReason::Paused,
            MissReason::WorkflowError,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

/// What one tick does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Create its run now.
    Fire,
    /// Cancel the schedule's running runs, then create its run (`cancel_other`).
    CancelOthersAndFire,
    /// A run is going and the policy is `skip`.
    Skipped,
    /// Wait for the running run to end (`buffer_one`, `buffer_all`).
    Buffered,
    /// `buffer_one` already holds a tick.
    Dropped,
    Missed(MissReason),
}

impl Outcome {
    /// Whether the tick makes a run (now or once buffered).
    pub fn makes_run(self) -> bool {
        matches!(
            self,
            Outcome::Fire | Outcome::CancelOthersAndFire | Outcome::Buffered
        )
    }
}

/// One tick's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub nominal: i64,
    pub outcome: Outcome,
}

/// What to do now, and when to wake next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub decisions: Vec<Decision>,
    /// The new latest decided nominal time.
    pub last_nominal: i64,
    /// When the next tick fires (jitter included); `None` once the schedule is done (its `end`
    /// passed or its `limit` reached).
    pub next_fire: Option<i64>,
}

/// Decide the ticks of `schedule` that are due at `now`, given `state`.
pub fn plan(schedule: &Schedule, state: &State, now: i64) -> Plan {
    let spec = schedule.spec();
    let window = i64::try_from(spec.catchup_window_ms).unwrap_or(i64::MAX);
    let limit = spec.limit.unwrap_or(u64::MAX);
    let floor = now
        .saturating_sub(window)
        .saturating_sub(MISSED_LOOKBACK_MS);
    // Every due tick, in order: missed (and why) or a candidate to run.
    let mut due: Vec<(i64, Option<MissReason>)> = Vec::new();
    let mut at = state.last_nominal.max(floor);
    while let Some(nominal) = schedule.next_after(at) {
        if schedule.fire_at(nominal) > now {
            break;
        }
        at = nominal;
        let miss = if state.paused {
            Some(MissReason::Paused)
        } else if now.saturating_sub(nominal) > window {
            Some(MissReason::Downtime)
        } else {
            None
        };
        due.push((nominal, miss));
    }
    if let Some(max) = spec.max_catchup {
        let max = usize::try_from(max.max(1)).unwrap_or(usize::MAX);
        let candidates = due.iter().filter(|(_, m)| m.is_none()).count();
        let mut late = candidates.saturating_sub(max);
        for (_, miss) in &mut due {
            if late == 0 {
                break;
            }
            if miss.is_none() {
                *miss = Some(MissReason::CatchupLimit);
                late -= 1;
            }
        }
    }
    let mut decisions = Vec::with_capacity(due.len());
    let mut last_nominal = state.last_nominal;
    let (mut active, mut buffered, mut runs) = (state.active, state.buffered, state.fired);
    let mut done = runs >= limit;
    for (nominal, miss) in due {
        if done {
            break;
        }
        let outcome = match miss {
            Some(reason) => Outcome::Missed(reason),
            None if active == 0 && buffered == 0 => Outcome::Fire,
            None => match spec.overlap {
                Overlap::Skip => Outcome::Skipped,
                Overlap::BufferOne if buffered == 0 => Outcome::Buffered,
                Overlap::BufferOne => Outcome::Dropped,
                Overlap::BufferAll => Outcome::Buffered,
                Overlap::CancelOther => Outcome::CancelOthersAndFire,
                Overlap::AllowAll => Outcome::Fire,
            },
        };
        match outcome {
            Outcome::Fire => active += 1,
            Outcome::CancelOthersAndFire => active = 1,
            Outcome::Buffered => buffered += 1,
            _ => {}
        }
        if outcome.makes_run() {
            runs += 1;
            done = runs >= limit;
        }
        last_nominal = nominal;
        decisions.push(Decision { nominal, outcome });
    }
    let next_fire = if done {
        None
    } else {
        schedule
            .next_after(last_nominal.max(floor))
            .map(|n| schedule.fire_at(n))
    };
    Plan {
        decisions,
        last_nominal,
        next_fire,
    }
}

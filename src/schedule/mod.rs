//! Schedules (issue 12): when a workflow runs by itself. Pure schedule math with an injectable
//! clock, no SQL: the store records ticks and runs (`store::*::schedules`), the firing loop
//! (`control::local_schedules`) drives it.
//!
//! - [`ScheduleSpec`]: what an operator writes (`cron` or `every`, time zone, DST policy,
//!   jitter, start/end, limit, overlap, catch-up, pause on failure) — serialised as stored.
//! - [`Schedule`]: a spec compiled: its nominal times ([`Schedule::next_after`],
//!   [`Schedule::upcoming`]) and the jittered time each fires ([`Schedule::fire_at`]).
//! - [`plan`]: what one wake of the scheduler does with the ticks that came due since the last
//!   one — fire, skip, buffer, drop or record as missed ([`Decision`]).
//! - [`Clock`]: the time source; tests use [`ManualClock`].
//! - [`CompiledSchedules`]: stored specs compiled once per text, for the scheduler's passes.
//!
//! A *nominal time* is the instant a tick stands for (03:00 Berlin time as UTC milliseconds);
//! it is the tick's identity: one run at most per (schedule, nominal time). Jitter only delays
//! when the run is created, never the nominal time, so every replica agrees on both.

mod clock;
mod compiled;
mod dst;
mod jitter;
mod plan;
mod spec;
#[cfg(test)]
mod tests_dst;
#[cfg(test)]
mod tests_plan;
mod timing;

pub use clock::{Clock, ManualClock, SystemClock};
pub use compiled::{Compiled, CompiledSchedules};
pub use jitter::jitter_ms;
pub use plan::{Decision, MissReason, Outcome, Plan, State, plan};
pub use spec::{DEFAULT_CATCHUP_WINDOW_MS, DstPolicy, Fold, Gap, Overlap, ScheduleSpec};
pub use timing::{MIN_EVERY_MS, Schedule, parse_cron, parse_tz};

/// A schedule that cannot be compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("bad cron expression {expr:?}: {reason}")]
    Cron { expr: String, reason: String },
    #[error("unknown time zone {0:?} (use an IANA name such as \"Europe/Berlin\" or \"UTC\")")]
    TimeZone(String),
    #[error("a schedule needs exactly one of `cron` and `every`")]
    Timing,
    #[error("`every` must be at least 1s")]
    EveryTooShort,
    #[error("`start` is after `end`")]
    StartAfterEnd,
}

impl From<ScheduleError> for crate::Error {
    fn from(e: ScheduleError) -> Self {
        crate::Error::invalid(e.to_string())
    }
}

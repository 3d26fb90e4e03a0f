//! Schedules inside one store transaction (issue 12): the schedule rows, the tick records, the
//! runs ticks make, and the SQLite scheduler's lease. SQL only; what to fire is decided by
//! `crate::schedule` and driven by `store::schedules`.

use std::sync::Arc;

use crate::Result;
use crate::model::{ScheduleInfo, Tick, TickCounts, TickOutcome};
use crate::schedule::{Compiled, CompiledSchedules, MissReason};

/// A tick to record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewTick<'a> {
    pub schedule: &'a str,
    pub nominal_time: i64,
    pub outcome: TickOutcome,
    pub reason: Option<MissReason>,
    pub recorded_at: i64,
    /// The run it is recorded with (a fired tick whose run the same transaction makes).
    pub run_id: Option<&'a str>,
}

/// A due schedule as a pass decides it ([`SchedulesTx::due_schedules`]): its state, its spec
/// compiled, and what of the store its plan depends on.
#[derive(Debug, Clone)]
pub struct DueSchedule {
    /// Where the backend keeps the row (SQLite: its rowid), to advance it without looking the
    /// name up again; `None` where the name is the key (PostgreSQL).
    pub row: Option<i64>,
    pub name: String,
    pub workflow: String,
    pub compiled: Arc<Compiled>,
    pub paused: bool,
    /// `pause_on_failure` looks at runs ended after it.
    pub checked_at: i64,
    /// The latest nominal time decided.
    pub last_nominal: i64,
    pub fired: u64,
    /// Ids of its runs not ended.
    pub going: Vec<String>,
    /// How many buffered ticks it holds.
    pub buffered: u32,
}

/// What a pass decided for one schedule ([`SchedulesTx::advance_schedules`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advance<'a> {
    pub name: &'a str,
    /// [`DueSchedule::row`] of the schedule, when it was read as due in this transaction.
    pub row: Option<i64>,
    /// The latest nominal time decided.
    pub last_nominal: i64,
    pub next_fire: Option<i64>,
    /// The ticks decided, added to the schedule's counts.
    pub counts: TickCounts,
}

/// Schedules: rows, ticks, and their runs.
pub trait SchedulesTx {
    /// Insert a schedule; `false` (and nothing changed) when one of that name exists.
    fn insert_schedule(&self, s: &ScheduleInfo) -> Result<bool>;
    /// Replace a schedule's spec, workflow and origin, and its next fire time.
    fn update_schedule(&self, s: &ScheduleInfo) -> Result<()>;
    /// Delete a schedule and its ticks (its runs keep its name); `false` if there was none.
    fn delete_schedule(&self, name: &str) -> Result<bool>;
    fn get_schedule(&self, name: &str) -> Result<Option<ScheduleInfo>>;
    /// Every schedule, by name.
    fn list_schedules(&self) -> Result<Vec<ScheduleInfo>>;
    /// Schedules whose next tick fires at or before `now`, earliest first, at most `limit`,
    /// locked (PostgreSQL: rows another transaction holds are skipped, as that one is firing
    /// them), each with its runs not ended and its buffered ticks counted. Their specs are
    /// compiled through `compiled` (a spec whose text it has seen is not read again).
    fn due_schedules(
        &self,
        now: i64,
        limit: u32,
        compiled: &CompiledSchedules,
    ) -> Result<Vec<DueSchedule>>;
    /// After a wake: the latest nominal time decided, the next fire time, and the ticks it
    /// decided added to the schedule's counts (buffered ones count as fired).
    fn advance_schedule(
        &self,
        name: &str,
        last_nominal: i64,
        next_fire: Option<i64>,
        counts: &TickCounts,
    ) -> Result<()>;
    /// [`advance_schedule`](Self::advance_schedule) for each of a pass's batch at once.
    fn advance_schedules(&self, advances: &[Advance<'_>]) -> Result<()>;
    /// Pause or resume; `false` if there is no such schedule. Resuming moves `checked_at` to
    /// `now` (failures before it no longer pause it).
    fn set_schedule_paused(
        &self,
        name: &str,
        paused: bool,
        note: Option<&str>,
        now: i64,
    ) -> Result<bool>;
    /// The earliest next fire time of any schedule.
    fn next_schedule_fire(&self) -> Result<Option<i64>>;
    /// Ids of the schedule's runs that have not ended.
    fn schedule_active_runs(&self, name: &str) -> Result<Vec<String>>;
    /// Record a tick, unless one is recorded for (schedule, nominal time): whether it was.
    fn insert_tick(&self, tick: &NewTick<'_>) -> Result<bool>;
    /// [`insert_tick`](Self::insert_tick) for each of `ticks` at once (a pass's batch): for
    /// each, in order, whether this call recorded it.
    fn insert_ticks(&self, ticks: &[NewTick<'_>]) -> Result<Vec<bool>>;
    /// Forget a tick's record (before recording it again).
    fn delete_tick(&self, schedule: &str, nominal_time: i64) -> Result<()>;
    /// Turn a recorded tick without a run (missed, skipped, dropped) into `outcome`, or record
    /// it if there is none (`schedule backfill`): whether it now belongs to the caller.
    fn claim_tick(&self, tick: &NewTick<'_>) -> Result<bool>;
    /// Turn a buffered tick into a fired one: whether it was still buffered.
    fn take_buffered_tick(&self, schedule: &str, nominal_time: i64, now: i64) -> Result<bool>;
    /// Give each tick (schedule, nominal time) its run: the run was created with
    /// [`RunRequest::schedule`](crate::store::api::RunRequest) naming the tick.
    fn link_tick_runs(&self, links: &[(&str, i64, &str)]) -> Result<()>;
    /// The schedule's oldest buffered tick.
    fn oldest_buffered_tick(&self, schedule: &str) -> Result<Option<i64>>;
    /// How many buffered ticks the schedule holds.
    fn buffered_ticks(&self, schedule: &str) -> Result<u32>;
    /// Names of schedules holding buffered ticks.
    fn schedules_with_buffered(&self) -> Result<Vec<String>>;
    /// Ticks of a schedule with nominal times in `[from, to]`, oldest first, at most `limit`.
    fn ticks(&self, schedule: &str, from: i64, to: i64, limit: u32) -> Result<Vec<Tick>>;
    /// The latest run of the schedule that failed or timed out, ending after `after`: its id.
    fn failed_run_after(&self, schedule: &str, after: i64) -> Result<Option<String>>;
    /// Take or renew the scheduler's lease for `holder` until `until` unless another holder's
    /// lease lasts past `now`: whether `holder` holds it. SQLite only (one row in `meta`); on a
    /// store whose maintenance is already fenced by a leader lease (PostgreSQL) always `true`.
    fn hold_scheduler_lease(&self, holder: &str, now: i64, until: i64) -> Result<bool>;
}

//! What is read for display inside one store transaction: `imx status` counts, the event feed,
//! logs, and the dashboard's overview and pages.

use std::collections::BTreeMap;

use crate::Result;
use crate::control::{AgentQuery, AuditFilter, Overview, RunQuery, WorkflowOutcomes};
use crate::model::{
    Agent, AgentState, AgentStep, AuditRecord, Event, LogLine, LogMark, Page, Run, RunStatus,
};

/// Run and step counts.
#[derive(Debug, Clone, Default)]
pub struct StatusCounts {
    pub runs: BTreeMap<RunStatus, u64>,
    pub agents: BTreeMap<AgentState, u64>,
    pub steps_ready: u64,
    pub steps_running: u64,
    pub workflows: u64,
}

/// Counts, the event feed and logs.
pub trait ViewsTx {
    /// Counts by state for `imx status` (every state present, 0 when none).
    fn status_counts(&self) -> Result<StatusCounts>;
    /// Events after `after`, oldest first (`after < 0`: only the latest one).
    fn events_after(&self, after: i64, limit: u32) -> Result<Vec<Event>>;
    /// For each run with lines newer than `after`, its newest line id, in that order (at most
    /// `limit` runs). A negative `after`: only the newest line's mark.
    fn log_marks(&self, after: i64, limit: u32) -> Result<Vec<LogMark>>;
    /// A run's lines after line `after` (of one step, or all), oldest first, at most `limit`.
    fn log_page(
        &self,
        run_id: &str,
        step: Option<&str>,
        after: i64,
        limit: u32,
    ) -> Result<Vec<LogLine>>;
    /// A run's newest lines before line `before` (of one step, or all), oldest first, at most
    /// `limit` (`before` = `i64::MAX`: the last lines): reading a log backwards, each page
    /// costing its own lines however long the log is.
    fn log_page_before(
        &self,
        run_id: &str,
        step: Option<&str>,
        before: i64,
        limit: u32,
    ) -> Result<Vec<LogLine>>;
}

/// The dashboard's reads (index-backed and bounded).
pub trait DashboardTx {
    /// Ended runs per (minute, status) since `from_ms`: (minute, status, count).
    fn run_minutes(&self, from_ms: i64) -> Result<Vec<(i64, RunStatus, u64)>>;
    /// Ended steps per minute since `from_ms`: (minute, count).
    fn step_minutes(&self, from_ms: i64) -> Result<Vec<(i64, u64)>>;
    /// Durations of the last `n` steps that ran and ended since `from_ms`, sorted.
    fn step_durations(&self, from_ms: i64, n: u32) -> Result<Vec<i64>>;
    /// Everything in the overview that is not per-minute buckets, at `now` (with up to
    /// `failures` recent failures).
    fn overview_counts(&self, now: i64, failures: u32) -> Result<Overview>;
    /// One window of runs.
    fn dashboard_runs(&self, q: &RunQuery) -> Result<Page<Run>>;
    /// One window of agents, by name, with the steps each holds (states at `now`).
    fn dashboard_agents(&self, q: &AgentQuery, now: i64) -> Result<Page<Agent>>;
    /// The steps the agent named `agent` holds or ran last, the most recently taken first (at
    /// most `limit`; index-backed).
    fn agent_steps(&self, agent: &str, limit: u32) -> Result<Vec<AgentStep>>;
    /// Live workflows with their versions and the outcomes of their latest `recent` runs.
    fn dashboard_workflows(&self, recent: u32) -> Result<Vec<WorkflowOutcomes>>;
    /// The newest audit records matching `filter` (at or after `filter.since`, index-bounded)
    /// with `seq` below `before`, newest first.
    fn audit_tail(
        &self,
        filter: &AuditFilter,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditRecord>>;
}

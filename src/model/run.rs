//! Runs, their steps' states, and what agents are given and report.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::StepKind;

/// Run lifecycle: `queued → running → succeeded | failed | cancelled | timed_out`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
    TimedOut,
}

impl RunStatus {
    pub const ALL: [RunStatus; 6] = [
        RunStatus::Queued,
        RunStatus::Running,
        RunStatus::Succeeded,
        RunStatus::Failed,
        RunStatus::Cancelled,
        RunStatus::TimedOut,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Queued => "queued",
            RunStatus::Running => "running",
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
            RunStatus::Cancelled => "cancelled",
            RunStatus::TimedOut => "timed_out",
        }
    }

    /// Whether the run has ended.
    pub fn is_terminal(self) -> bool {
        !matches!(self, RunStatus::Queued | RunStatus::Running)
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RunStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RunStatus::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown run status {s:?} (expected one of: {})",
                    RunStatus::ALL.map(|s| s.as_str()).join(", ")
                )
            })
    }
}

/// Step lifecycle: `pending → ready → leased → running → succeeded | failed | skipped | cancelled`;
/// an `approval:` step goes `pending → waiting → succeeded | failed` (approved, rejected or
/// timed out) instead of being given to an agent.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Pending,
    Ready,
    /// An approval step waiting for a person (`imx run approve|reject`).
    Waiting,
    Leased,
    Running,
    Succeeded,
    Failed,
    Skipped,
    Cancelled,
}

impl StepStatus {
    pub const ALL: [StepStatus; 9] = [
        StepStatus::Pending,
        StepStatus::Ready,
        StepStatus::Waiting,
        StepStatus::Leased,
        StepStatus::Running,
        StepStatus::Succeeded,
        StepStatus::Failed,
        StepStatus::Skipped,
        StepStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StepStatus::Pending => "pending",
            StepStatus::Ready => "ready",
            StepStatus::Waiting => "waiting",
            StepStatus::Leased => "leased",
            StepStatus::Running => "running",
            StepStatus::Succeeded => "succeeded",
            StepStatus::Failed => "failed",
            StepStatus::Skipped => "skipped",
            StepStatus::Cancelled => "cancelled",
        }
    }

    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            StepStatus::Succeeded
                | StepStatus::Failed
                | StepStatus::Skipped
                | StepStatus::Cancelled
        )
    }
}

impl fmt::Display for StepStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for StepStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        StepStatus::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| format!("unknown step status {s:?}"))
    }
}

/// A workflow run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Run {
    pub id: String,
    pub workflow: String,
    pub workflow_version: u32,
    pub status: RunStatus,
    pub params: BTreeMap<String, serde_json::Value>,
    #[serde(with = "crate::model::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
    #[serde(default, with = "crate::model::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub started_at: Option<i64>,
    #[serde(default, with = "crate::model::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub finished_at: Option<i64>,
    /// When the run times out, if it has a timeout.
    #[serde(default, with = "crate::model::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub deadline: Option<i64>,
    pub created_by: String,
    /// Steps by state, for tables: total and how many succeeded.
    pub steps_total: u32,
    pub steps_succeeded: u32,
    /// Why the run failed, was cancelled or timed out.
    pub error: Option<String>,
    /// Wall time from start to end in milliseconds; `null` until the run has ended (see
    /// [`Run::duration_ms`](Run::duration_ms()) for the time so far).
    #[serde(default)]
    pub duration_ms: Option<i64>,
    /// The run's concurrency key and its place in the key's queue; `null` when its workflow
    /// has no `concurrency:`.
    #[serde(default)]
    pub concurrency: Option<RunConcurrency>,
    /// The schedule whose tick made the run, if one did.
    #[serde(default)]
    pub schedule: Option<String>,
    /// The nominal time of that tick.
    #[serde(default, with = "crate::model::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub nominal_time: Option<i64>,
    /// The run's labels (`imx workflow run -l key=value`), to find it by (`run list -l`);
    /// `{}` when it has none.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// The run this one reruns (`imx run rerun`), if it is a rerun.
    #[serde(default)]
    pub rerun_of: Option<String>,
    /// Whether one of its approval steps waits for a person (`imx run approve`); such runs are
    /// the ones `run list --status waiting` lists (the dashboard marks them).
    #[serde(default)]
    pub awaiting_approval: bool,
}

/// A run's concurrency key (its workflow's `concurrency.key` rendered with its params) and,
/// while it waits for one of the key's slots, where it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RunConcurrency {
    pub key: String,
    /// How many runs of the key may be active at once (its workflow version's `limit`).
    pub limit: u32,
    /// When the run got a slot; `null` while it waits (status `queued`) or if it never got one
    /// (cancelled or skipped while waiting).
    #[serde(default, with = "crate::model::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub admitted_at: Option<i64>,
    /// While it waits: its place in the key's queue, 1 being next; else `null`.
    #[serde(default)]
    pub position: Option<u32>,
    /// While it waits: the runs holding the key's slots (oldest first), one of which must end
    /// before it can start; else empty.
    #[serde(default)]
    pub waiting_for: Vec<String>,
}

impl Run {
    /// Whether the run waits for a slot of its concurrency key (steps held back).
    pub fn is_waiting_for_slot(&self) -> bool {
        self.status == RunStatus::Queued
            && self
                .concurrency
                .as_ref()
                .is_some_and(|c| c.admitted_at.is_none())
    }
}

/// The length of a finished span, for the `duration_ms` fields.
pub fn span_ms(started_at: Option<i64>, finished_at: Option<i64>) -> Option<i64> {
    Some(finished_at?.saturating_sub(started_at?).max(0))
}

impl Run {
    /// Wall time from start to end (or to `now` while running).
    pub fn duration_ms(&self, now: i64) -> Option<i64> {
        let start = self.started_at?;
        Some(self.finished_at.unwrap_or(now).saturating_sub(start))
    }
}

/// The state of one step within a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StepState {
    pub step_id: String,
    pub kind: String,
    pub status: StepStatus,
    /// The current (or last) attempt number; it only ever grows (it is the fencing token).
    pub attempt: u32,
    pub needs: Vec<String>,
    pub agent: Option<String>,
    #[serde(default, with = "crate::model::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub started_at: Option<i64>,
    #[serde(default, with = "crate::model::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub finished_at: Option<i64>,
    #[serde(default, with = "crate::model::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub not_before: Option<i64>,
    pub exit_code: Option<i32>,
    pub outputs: BTreeMap<String, String>,
    pub error: Option<String>,
    /// Wall time of the last attempt in milliseconds; `null` until it has ended.
    #[serde(default)]
    pub duration_ms: Option<i64>,
    /// For an `approval:` step: who may decide, what it asks, until when it waits, and once
    /// decided who decided, when and with what comment; `null` for other steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<StepApproval>,
}

/// How an approval step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalDecision {
    Approved,
    Rejected,
}

impl ApprovalDecision {
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalDecision::Approved => "approved",
            ApprovalDecision::Rejected => "rejected",
        }
    }
}

impl fmt::Display for ApprovalDecision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An approval step as `run show` shows it (see [`StepState::approval`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StepApproval {
    /// Who may approve or reject it (admins always may).
    pub approvers: super::Approvers,
    /// What the approver is asked, rendered with the run's params.
    #[serde(default)]
    pub message: Option<String>,
    /// While it waits: when it times out (`null`: at the run's timeout).
    #[serde(default, with = "crate::model::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub deadline: Option<i64>,
    /// `approved` or `rejected` once someone decided; `null` while waiting (and after a
    /// timeout, a cancel or a skip).
    #[serde(default)]
    pub decision: Option<ApprovalDecision>,
    /// Who decided (a principal: `user:alice`, `local:root`).
    #[serde(default)]
    pub by: Option<String>,
    /// When they decided.
    #[serde(default, with = "crate::model::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub at: Option<i64>,
    #[serde(default)]
    pub comment: Option<String>,
}

impl StepState {
    pub fn duration_ms(&self, now: i64) -> Option<i64> {
        let start = self.started_at?;
        Some(self.finished_at.unwrap_or(now).saturating_sub(start))
    }
}

/// A run with its steps (in workflow order).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RunDetail {
    #[serde(flatten)]
    pub run: Run,
    pub steps: Vec<StepState>,
    /// Why steps that are not running cannot start now: ready steps no online agent can take
    /// (none online, none with the labels, all busy, or a retry backoff), and pending steps whose
    /// labels no online agent has. Empty when every step can go as soon as it is ready.
    #[serde(default)]
    pub waiting: Vec<StepWait>,
}

/// Why a step is waiting (see [`RunDetail::waiting`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WaitReason {
    /// No agent is online (draining agents take no steps).
    NoAgent,
    /// Agents are online, but none has the labels the step asks for.
    NoMatch,
    /// Every online agent that matches is busy (all its slots taken).
    Busy,
    /// The step is waiting out its retry backoff.
    Backoff,
}

/// One step that cannot start now, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StepWait {
    pub step_id: String,
    /// `ready` or `pending`.
    pub status: StepStatus,
    pub reason: WaitReason,
    /// The labels the step asks for (empty: any agent).
    pub labels: BTreeMap<String, String>,
    /// For people, e.g. `no online agent matches labels tier=etl; 2 agents online: w1
    /// {os=linux}, w2 {}`, or `no agent online`.
    pub message: String,
}

/// Filters for listing runs; results are newest first.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RunFilter {
    pub workflow: Option<String>,
    pub status: Option<RunStatus>,
    /// Only runs not ended with a step `waiting` for approval (`run list --status waiting`;
    /// such a run's status stays `running`).
    #[serde(default)]
    pub waiting: bool,
    /// Only runs created at or after this time.
    pub since: Option<i64>,
    /// Only runs made by this schedule's ticks.
    #[serde(default)]
    pub schedule: Option<String>,
    /// Only runs with every one of these labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    pub limit: Option<u32>,
    /// Continue after this run id (exclusive), from a previous page.
    pub cursor: Option<String>,
}

/// One page of results with the cursor for the next.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// Identifies one attempt of one step held by one agent: the fencing token for every report.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeaseRef {
    pub run_id: String,
    pub step_id: String,
    pub attempt: u32,
    pub agent_id: String,
}

/// A step granted to an agent, with templates rendered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StepTask {
    pub lease: LeaseRef,
    pub workflow: String,
    pub kind: StepKind,
    pub env: BTreeMap<String, String>,
    pub workdir: Option<String>,
    pub timeout_ms: Option<u64>,
    /// Stable across attempts of this step in this run, for de-duplicating side effects.
    pub idempotency_key: String,
    /// When the lease runs out unless renewed by a heartbeat.
    #[serde(with = "crate::model::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub lease_until: i64,
    /// The most bytes of outputs (keys plus values) the control plane accepts from this
    /// attempt; a larger result fails the step. Absent from servers that predate it.
    #[serde(default)]
    pub max_output_bytes: Option<u64>,
    /// The most bytes of log lines the control plane keeps from this attempt; the agent cuts
    /// the rest and says how much it cut. Absent from servers that predate it.
    #[serde(default)]
    pub max_log_bytes: Option<u64>,
    /// The values of the secrets the step uses (`{{ secrets.NAME }}`), sent only with its
    /// lease: the agent replaces each (and its base64 and URL-encoded forms) with `***` in
    /// everything the step reports. Never stored.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mask: Vec<crate::auth::Secret>,
    /// The step's `artifacts:` (paths or globs in its working directory), uploaded once it
    /// succeeds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub artifacts: Vec<String>,
    /// The step's `inputs:`: upstream steps whose artifacts go in its working directory
    /// before it starts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<String>,
    /// The most bytes of artifacts this step may upload (all its files together); more fails
    /// the step. Absent when it has no `artifacts:`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_artifact_bytes: Option<u64>,
    /// Where the step's rendered templates hold secret placeholders, for the control plane to
    /// fill in when it hands the step out (never on the wire).
    #[serde(skip)]
    #[schema(ignore)]
    pub secret_slots: Option<crate::spec::SecretSlots>,
}

/// How an attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StepOutcome {
    Succeeded,
    Failed,
}

/// What an agent reports when an attempt ends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepResult {
    pub outcome: StepOutcome,
    pub exit_code: Option<i32>,
    pub outputs: BTreeMap<String, String>,
    pub error: Option<String>,
}

impl StepResult {
    pub fn ok(outputs: BTreeMap<String, String>) -> Self {
        StepResult {
            outcome: StepOutcome::Succeeded,
            exit_code: Some(0),
            outputs,
            error: None,
        }
    }

    pub fn failed(error: impl Into<String>, exit_code: Option<i32>) -> Self {
        StepResult {
            outcome: StepOutcome::Failed,
            exit_code,
            outputs: BTreeMap::new(),
            error: Some(error.into()),
        }
    }
}

//! Plain data types shared by every layer (serde): workflows and their steps, runs, step states,
//! agents, events, log lines, audit records, users and tokens, triggers. No behaviour beyond small helpers.

mod agent;
mod artifact;
mod audit;
mod event;
mod fanout;
mod ids;
pub mod labels;
mod run;
mod schedule;
mod secret;
pub mod time;
mod trigger;
mod user;
mod workflow;

pub use agent::{Agent, AgentRegistration, AgentState, AgentStep};
pub use artifact::{Artifact, ArtifactPrune, ArtifactPruneReport, check_artifact_path};
pub use audit::AuditRecord;
pub use event::{CapturedLine, Event, LogLine, LogMark, LogStream};
pub use fanout::{
    DEFAULT_MAX_INSTANCES, FanOut, ForeachSource, InstanceVars, MAX_INSTANCES_LIMIT, MatrixAxis,
    base_step_id, foreach_instance_id, is_instance_id, value_text,
};
pub use ids::{new_id, new_id_at, now_ms, short_id};
pub use run::{
    ApprovalDecision, LeaseRef, Page, Run, RunConcurrency, RunDetail, RunFilter, RunStatus,
    StepApproval, StepOutcome, StepResult, StepState, StepStatus, StepTask, StepWait, WaitReason,
    span_ms,
};
pub use schedule::{ScheduleInfo, Tick, TickCounts, TickOutcome};
pub use secret::{Rekeyed, SecretInfo, SecretValue, valid_secret_name};
pub use trigger::{CreatedTrigger, HookOutcome, NewTrigger, Trigger, TriggerKind};
pub use user::{
    IssuedToken, NewToken, NewUser, PasswordChange, Token, TokenState, User, UserUpdate,
};
pub use workflow::{
    AgentSelector, ApprovalSpec, Approvers, BUILT_IN_RUN_TIMEOUT_MS, Backoff, ConcurrencySpec,
    HttpSpec, OnConflict, ParamSpec, ParamType, RetrySpec, RunAfter, RunTimeout, StepKind,
    StepSpec, TimeoutSource, When, Workflow, WorkflowSpec, WorkflowSummary, duration_text,
};

/// Milliseconds since the Unix epoch; every timestamp in the model uses it. In JSON and YAML the
/// model's times are RFC 3339 (see [`time`]); durations are whole milliseconds in `*_ms` fields.
pub type Millis = i64;

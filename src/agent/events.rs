//! What an agent tells its host (the CLI prints these as "agent X started step Y" lines).

use crate::model::{LeaseRef, StepOutcome};

/// One thing the agent did.
#[derive(Debug, Clone, PartialEq)]
pub enum AgentEvent {
    /// Registered with the control plane under this id.
    Registered { agent_id: String },
    /// How its steps are contained, e.g. "a cgroup per step, under /sys/fs/cgroup".
    Containment(String),
    /// Started a step (`kind` is `run`, `http` or `noop`).
    StepStarted { lease: LeaseRef, kind: &'static str },
    /// A step ended; `accepted` says whether the control plane took the report (a stopped
    /// step is never reported).
    StepFinished {
        lease: LeaseRef,
        outcome: StepOutcome,
        error: Option<String>,
        accepted: bool,
    },
    /// Draining started (`true`) or ended (`false`).
    Draining(bool),
    /// Something went wrong and is being retried or worked around.
    Warning(String),
    /// Deregistered (or removed) and about to return.
    Stopped,
}

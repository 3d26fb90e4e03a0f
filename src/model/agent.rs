//! Agents: the worker processes that execute steps.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// What an operator sees of an agent. `online`/`busy`/`offline` are derived from heartbeats and
/// load; `draining` is set by an operator.
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
pub enum AgentState {
    Online,
    Busy,
    Draining,
    Offline,
}

impl AgentState {
    pub const ALL: [AgentState; 4] = [
        AgentState::Online,
        AgentState::Busy,
        AgentState::Draining,
        AgentState::Offline,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AgentState::Online => "online",
            AgentState::Busy => "busy",
            AgentState::Draining => "draining",
            AgentState::Offline => "offline",
        }
    }
}

impl fmt::Display for AgentState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A registered agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Agent {
    pub id: String,
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub slots: u32,
    pub state: AgentState,
    pub draining: bool,
    /// Steps it holds now (leased or running).
    pub running: u32,
    #[serde(with = "crate::model::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub registered_at: i64,
    #[serde(with = "crate::model::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub last_heartbeat: i64,
    pub hostname: String,
    pub pid: u32,
    pub version: String,
    /// The steps it holds, as `run/step#attempt`.
    #[serde(default)]
    pub current: Vec<String>,
    /// The lease length (ms) the control plane grants this agent's claims, set when it
    /// registered and refreshed by its heartbeats. The agent heartbeats at a third of it and is
    /// offline once it has not been heard from for this long. Absent (`null`) only from servers
    /// that predate it.
    #[serde(default)]
    pub lease_ms: Option<u64>,
    /// The principal that registered it (`user:NAME`, `token:NAME`, `local:USER`): only that
    /// principal may claim, heartbeat and complete its leases. `null` for agents registered
    /// before agents were bound to principals, and from servers that predate it.
    #[serde(default)]
    pub registered_by: Option<String>,
}

/// What an agent says about itself when it starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentRegistration {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub slots: u32,
    pub hostname: String,
    pub pid: u32,
    pub version: String,
    /// The supervisor's nonce for this process (`imx agent run --instance`, e.g. systemd's
    /// `$INVOCATION_ID`): a registration with a new one takes the name over from an agent of
    /// the same principal that registered with another, live or not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// Where `pid` names a process (the boot and PID namespace); none where it cannot be told.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid_scope: Option<String>,
    /// Take the name over from the agent of the same principal running as this pid on this
    /// host (same `pid_scope`): the registering process checked that it is no longer alive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces_pid: Option<u32>,
}

#[cfg(test)]
impl AgentRegistration {
    /// A registration for tests: `name` with `slots`, no labels, host "test", pid 1.
    pub(crate) fn for_test(name: &str, slots: u32) -> Self {
        AgentRegistration {
            name: name.into(),
            labels: BTreeMap::new(),
            slots,
            hostname: "test".into(),
            pid: 1,
            version: "test".into(),
            instance: None,
            pid_scope: None,
            replaces_pid: None,
        }
    }
}

/// A step an agent holds now or ran last (`imx agent show`, the dashboard's agent drill-down):
/// the step's current attempt, as long as this agent was the last to take it. Earlier attempts
/// are not kept, so a step retried on another agent leaves this agent's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AgentStep {
    pub run_id: String,
    pub workflow: String,
    pub step_id: String,
    pub status: crate::model::StepStatus,
    pub attempt: u32,
    /// When this agent took the attempt.
    #[serde(default, with = "crate::model::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub started_at: Option<i64>,
    #[serde(default, with = "crate::model::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub finished_at: Option<i64>,
}

impl AgentStep {
    /// Start to end, or to `now` while it is held (`None`: not started, or waiting to be
    /// tried again with no end recorded).
    pub fn duration_ms(&self, now: i64) -> Option<i64> {
        use crate::model::StepStatus;
        let start = self.started_at?;
        let end = match self.finished_at {
            Some(end) => end,
            None if matches!(self.status, StepStatus::Leased | StepStatus::Running) => now,
            None => return None,
        };
        Some(end.saturating_sub(start))
    }
}

//! The agent runtime: the worker loop (register, claim, heartbeat, report) and the executors
//! that run steps (`run` via /bin/sh, `http`, `noop`).

use std::collections::BTreeMap;
use std::time::Duration;

use crate::Result;
use crate::auth::Principal;
use crate::control::Plane;

/// How an agent runs.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    /// Steps run at once.
    pub slots: u32,
    /// How often leases are renewed; keep it well under the lease length.
    pub heartbeat: Duration,
}

/// What an agent did before it stopped.
#[derive(Debug, Clone, Default)]
pub struct AgentSummary {
    pub succeeded: u64,
    pub failed: u64,
}

/// Run an agent until `shutdown` turns true, then drain: stop claiming, let running steps finish,
/// release and deregister.
pub async fn run(
    _plane: Plane,
    _who: Principal,
    _config: AgentConfig,
    _shutdown: tokio::sync::watch::Receiver<bool>,
) -> Result<AgentSummary> {
    Err(crate::Error::Internal(
        "the agent runtime is not built yet".into(),
    ))
}

//! The agent runtime: the worker loop (register, claim, heartbeat, report) and the executors
//! that run steps (`run` via /bin/sh, `http`, `noop`).
//!
//! Layout: [`worker`] is the claim loop, `step` runs one granted step, `logs` buffers its output
//! and ships it with back-pressure, `reporter` batches completions (bounded by bytes) into one
//! `complete_steps` call, `heartbeat` renews leases — at a third of the lease the control plane
//! grants — and learns about revocations and drains, `takeover` lets a restarted agent take its
//! name over from a process that is gone, [`executor`] holds the executors, `artifacts` moves
//! a `run` step's inputs in and its artifacts out.

mod artifacts;
pub(crate) mod backoff;
mod events;
pub mod executor;
mod heartbeat;
mod logs;
pub mod mask;
mod mask_filter;
mod reporter;
mod shared;
mod step;
mod takeover;
mod worker;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod fake;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

pub use artifacts::ArtifactClient;
pub use events::AgentEvent;
pub use executor::launch::shim::{SHIM_COMMAND, main as shim_main};
pub use executor::launch::{Containment, StepLaunch, StepUser, check_pass_env_name};
pub use logs::LogSink;

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
    /// How often leases are renewed. `None` (the default): a third of the lease length the
    /// control plane grants, learned when the agent registers (and from heartbeats, if the
    /// control plane's setting changes); [`DEFAULT_HEARTBEAT`] if the control plane does not
    /// say. A fixed interval must stay well under the control plane's lease.
    pub heartbeat: Option<Duration>,
    /// How long one `claim` waits for work before the agent looks at shutdown again.
    pub claim_wait: Duration,
    /// Between SIGTERM and SIGKILL when a step is stopped (timeout, cancel).
    pub kill_grace: Duration,
    /// Where to send what the agent does (step started/finished, warnings), e.g. for the CLI.
    pub on_event: Option<mpsc::UnboundedSender<AgentEvent>>,
    /// The supervisor's nonce for this process (e.g. systemd's `$INVOCATION_ID`): registering
    /// with a new one takes the name over from the previous process at once.
    pub instance: Option<String>,
    /// How `run` steps are started and contained: shim, environment, user, working directory.
    pub launch: StepLaunch,
}

impl AgentConfig {
    /// A config with the defaults: 4 slots, heartbeats at a third of the control plane's lease,
    /// 500 ms claim waits, 2 s grace.
    pub fn new(name: impl Into<String>) -> Self {
        AgentConfig {
            name: name.into(),
            labels: BTreeMap::new(),
            slots: 4,
            heartbeat: None,
            claim_wait: Duration::from_millis(500),
            kill_grace: Duration::from_secs(2),
            on_event: None,
            instance: None,
            launch: StepLaunch::default(),
        }
    }
}

/// The heartbeat interval when the control plane does not say how long its leases are (a
/// server that predates telling): a third of the default 30 s lease.
pub const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(10);

/// The heartbeat interval for a lease of `lease_ms`: a third of it, at least 100 ms.
pub fn heartbeat_for_lease(lease_ms: u64) -> Duration {
    Duration::from_millis((lease_ms / 3).max(100))
}

/// What an agent did before it stopped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentSummary {
    /// Steps reported as succeeded and accepted.
    pub succeeded: u64,
    /// Steps reported as failed and accepted.
    pub failed: u64,
    /// Reports the control plane refused (stale attempt, step no longer held).
    pub rejected: u64,
    /// Steps stopped because their lease was revoked or lost, or the agent was removed.
    pub cancelled: u64,
    /// Results that could not be delivered before the agent stopped.
    pub unreported: u64,
}

/// Run an agent until `shutdown` turns true (or its sender is dropped), then drain: stop
/// claiming, let running steps finish, report them and deregister. Returns early with an error
/// only when the control plane refuses the agent (e.g. forbidden, or its store is read-only);
/// unavailability is retried.
pub async fn run(
    plane: Plane,
    who: Principal,
    config: AgentConfig,
    shutdown: watch::Receiver<bool>,
) -> Result<AgentSummary> {
    worker::run(plane, who, config, shutdown).await
}

//! Executors: each runs one granted step ([`StepTask`]) to its end and says how it went
//! ([`StepResult`]), streaming output lines into a [`LogSink`] and stopping early when asked.
//!
//! - `run`: `/bin/sh -c`, with a clean environment and contained ([`shell`], [`launch`]).
//! - `http`: one request with a shared client ([`http`]).
//! - `noop`: succeeds at once with no outputs.

mod http;
pub mod launch;
mod lines;
mod output_file;
mod shell;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::logs::LogSink;
use crate::model::{StepKind, StepResult, StepTask};
pub use lines::pump;

/// Why a step is being stopped before it ends on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// The control plane revoked the lease (run cancelled, step reassigned).
    Revoked,
    /// A report for the lease was rejected as stale: the lease is gone.
    Stale,
    /// The agent was removed.
    Removed,
}

/// What an executor is given besides the task.
#[derive(Clone)]
pub struct ExecContext {
    /// The agent's shared HTTP client (connection pooling across steps).
    pub http: reqwest::Client,
    /// Between SIGTERM and SIGKILL when a step is stopped.
    pub kill_grace: Duration,
    /// Where output lines go.
    pub logs: LogSink,
    /// Turns `Some` when the step must stop.
    pub stop: watch::Receiver<Option<StopReason>>,
    /// How `run` steps are started and contained.
    pub launcher: Arc<launch::Launcher>,
    /// How `run` steps' inputs and artifacts move (`None`: the executor alone, in tests).
    pub artifacts: Option<crate::agent::ArtifactClient>,
}

/// Run `task` to its end. Never fails: every problem is a failed [`StepResult`].
pub async fn execute(task: &StepTask, ctx: ExecContext) -> StepResult {
    match &task.kind {
        StepKind::Noop => StepResult::ok(BTreeMap::new()),
        StepKind::Run { command } => shell::run(task, command, ctx).await,
        StepKind::Http(spec) => http::run(task, spec, ctx).await,
        // Never granted (the control plane holds approval steps `waiting`); an older server
        // that handed one out gets a clear failure rather than a silent success.
        StepKind::Approval(_) => {
            StepResult::failed("an approval step is not run by an agent", None)
        }
    }
}

/// The HTTP client the agent shares between steps.
pub fn http_client() -> crate::Result<reqwest::Client> {
    reqwest::Client::builder()
        .user_agent(concat!("imx-agent/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| crate::Error::Internal(format!("cannot build the HTTP client: {e}")))
}

/// Resolves when a stop is requested; never, if the sender is gone without asking.
async fn stop_requested(stop: &mut watch::Receiver<Option<StopReason>>) -> StopReason {
    let reason = match stop.wait_for(Option::is_some).await {
        Ok(reason) => *reason,
        Err(_) => None,
    };
    match reason {
        Some(reason) => reason,
        None => std::future::pending().await,
    }
}

/// `5s`, `1m 30s`: how timeouts are named in errors.
fn human(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
pub(crate) mod test_support {
    use super::*;
    use crate::model::LeaseRef;

    pub(crate) fn task(kind: StepKind) -> StepTask {
        StepTask {
            mask: Vec::new(),
            secret_slots: None,
            lease: LeaseRef {
                run_id: "run1".into(),
                step_id: "step1".into(),
                attempt: 2,
                agent_id: "agent1".into(),
            },
            workflow: "wf".into(),
            kind,
            env: BTreeMap::new(),
            workdir: None,
            timeout_ms: None,
            idempotency_key: "idem-1".into(),
            lease_until: 0,
            max_output_bytes: None,
            max_log_bytes: None,
            artifacts: Vec::new(),
            inputs: Vec::new(),
            max_artifact_bytes: None,
        }
    }

    pub(crate) fn ctx() -> (ExecContext, watch::Sender<Option<StopReason>>) {
        let (tx, rx) = watch::channel(None);
        let ctx = ExecContext {
            http: http_client().unwrap(),
            kill_grace: Duration::from_millis(300),
            logs: LogSink::new(),
            stop: rx,
            launcher: Arc::new(launch::Launcher::plain()),
            artifacts: None,
        };
        (ctx, tx)
    }

    pub(crate) fn lines(sink: &LogSink) -> Vec<String> {
        sink.take().into_iter().map(|l| l.line).collect()
    }

    #[tokio::test]
    async fn noop_succeeds_without_outputs() {
        let (ctx, _tx) = ctx();
        let r = execute(&task(StepKind::Noop), ctx).await;
        assert_eq!(r, StepResult::ok(BTreeMap::new()));
    }
}

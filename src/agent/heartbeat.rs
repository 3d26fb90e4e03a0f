//! The heartbeat: every `config.heartbeat` it renews the agent and the leases it holds, stops
//! the steps whose leases were revoked, and picks up drain and removal. Failures are retried
//! with backoff and never stop the agent.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::AgentEvent;
use super::backoff::{Backoff, is_transient};
use super::executor::StopReason;
use super::shared::Shared;
use crate::error::ErrorKind;

/// Heartbeat until `stop` turns true or its sender is dropped.
pub(crate) async fn run(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let every = shared.config.heartbeat;
    let mut backoff = Backoff::new(
        Duration::from_millis(100),
        every.max(Duration::from_millis(100)),
    );
    let mut delay = every;
    let mut failing = false;
    loop {
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        let leases = shared.held_leases();
        match shared
            .plane
            .heartbeat(&shared.who, &shared.agent_id, &leases)
            .await
        {
            Ok(reply) => {
                if failing {
                    failing = false;
                    shared.emit(|| {
                        AgentEvent::Warning("heartbeats are getting through again".into())
                    });
                }
                backoff.reset();
                delay = every;
                for lease in &reply.revoked {
                    shared.stop(lease, StopReason::Revoked);
                }
                if reply.removed {
                    shared.set_removed();
                    return;
                }
                shared.set_draining(reply.draining);
            }
            Err(e) if e.kind() == ErrorKind::NotFound => {
                shared.emit(|| AgentEvent::Warning(format!("the agent was removed: {e}")));
                shared.set_removed();
                return;
            }
            Err(e) => {
                if !failing {
                    failing = true;
                    let retry = if is_transient(&e) {
                        "will retry"
                    } else {
                        "refused"
                    };
                    shared.emit(|| AgentEvent::Warning(format!("heartbeat failed ({retry}): {e}")));
                }
                delay = backoff.next_delay();
            }
        }
    }
}

//! The heartbeat: every third of the control plane's lease (or `config.heartbeat`) it renews the
//! agent and the leases it holds, stops the steps whose leases were revoked, and picks up drain,
//! removal and a changed lease length. Failures are retried
//! with backoff and never stop the agent. Between heartbeats it watches the control plane's
//! change feed and checks its leases read-only, so a cancelled step is stopped within moments.

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
    let mut backoff = Backoff::new(
        Duration::from_millis(100),
        shared.heartbeat_every().max(Duration::from_millis(100)),
    );
    let mut delay = shared.heartbeat_every();
    let mut failing = false;
    loop {
        tokio::select! {
            () = watch_between(&shared, delay) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        if shared.removed() {
            return;
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
                shared.set_lease(reply.lease_ms);
                delay = shared.heartbeat_every();
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

/// The least time between two read-only lease checks (the feed can change thousands of times a
/// second under a fan-out).
const CHECK_EVERY: Duration = Duration::from_millis(25);

/// Wait `delay`; meanwhile, whenever the control plane changes while steps are held, check
/// read-only whether any was revoked (cancelled run, lost lease) or the agent must drain.
async fn watch_between(shared: &Shared, delay: Duration) {
    let deadline = tokio::time::Instant::now() + delay;
    // Wait from where the feed was at the last check: the agents embedded in a server share
    // its plane, and one must not sleep through a change another saw first.
    let mut seen = shared.plane.change_seq();
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() {
            return;
        }
        shared.plane.wait_for_change_since(seen, left).await;
        seen = shared.plane.change_seq();
        let leases = shared.held_leases();
        if let Ok(reply) = shared
            .plane
            .check_leases(&shared.who, &shared.agent_id, &leases)
            .await
        {
            for lease in &reply.revoked {
                shared.stop(lease, StopReason::Revoked);
            }
            if reply.removed {
                shared.set_removed();
                return;
            }
            shared.set_draining(reply.draining);
        }
        tokio::time::sleep(CHECK_EVERY.min(left)).await;
    }
}

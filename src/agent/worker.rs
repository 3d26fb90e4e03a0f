//! The claim loop: register, then claim as many steps as there are free slots, hand each to a
//! step task (noop steps finish inline, and their results go with the loop's next claim: one
//! request and one transaction record them and lease what they readied), and on shutdown
//! drain: stop claiming, let running steps finish, report them, stop the heartbeat and
//! deregister.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use super::backoff::{Backoff, is_transient};
use super::executor::http_client;
use super::executor::launch::Launcher;
use super::shared::{Shared, emit};
use super::step::{self, Report};
use super::{AgentConfig, AgentEvent, AgentSummary, heartbeat, reporter, takeover};
use crate::auth::Principal;
use crate::control::Plane;
use crate::error::ErrorKind;
use crate::model::{Agent, AgentRegistration, StepKind, StepResult, StepTask};
use crate::{Error, Result};

/// Attempts at deregistering before the agent gives up (its leases expire anyway).
const DEREGISTER_TRIES: u32 = 5;

pub(crate) async fn run(
    plane: Plane,
    who: Principal,
    config: AgentConfig,
    mut shutdown: watch::Receiver<bool>,
) -> Result<AgentSummary> {
    if config.slots == 0 {
        return Err(Error::invalid("an agent needs at least one slot"));
    }
    if config.heartbeat.is_some_and(|h| h.is_zero()) {
        return Err(Error::invalid(
            "the heartbeat interval must be greater than zero",
        ));
    }
    let http = http_client()?;
    let Some(agent) = register(&plane, &who, &config, &mut shutdown).await? else {
        return Ok(AgentSummary::default());
    };
    emit(&config, || AgentEvent::Registered {
        agent_id: agent.id.clone(),
    });
    let started = Launcher::start(
        &config.launch,
        &plane.location(),
        &config.name,
        config.kill_grace,
    )
    .await;
    let launcher = match started {
        Ok((launcher, warnings)) => {
            emit(&config, || {
                AgentEvent::Containment(launcher.describe().to_string())
            });
            for w in warnings {
                emit(&config, || AgentEvent::Warning(w));
            }
            Arc::new(launcher)
        }
        Err(e) => {
            let _ = plane.deregister_agent(&who, &agent.id).await;
            return Err(e);
        }
    };
    let shared = Arc::new(Shared::new(plane, who, agent.id, config, http, launcher));
    shared.set_lease(agent.lease_ms);
    shared.set_draining(agent.draining);

    let (reports, reports_rx) = mpsc::unbounded_channel();
    let reporter = tokio::spawn(reporter::run(shared.clone(), reports_rx));
    let (heartbeat_stop, heartbeat_rx) = watch::channel(false);
    let heartbeat = tokio::spawn(heartbeat::run(shared.clone(), heartbeat_rx));

    let mut steps = JoinSet::new();
    let outcome = claim_loop(&shared, &mut shutdown, &mut steps, &reports).await;

    // Drain: running steps finish (on removal they were told to stop) and are reported.
    while steps.join_next().await.is_some() {}
    drop(reports);
    if let Err(e) = reporter.await {
        shared.emit(|| AgentEvent::Warning(format!("the reporter crashed: {e}")));
    }
    let _ = heartbeat_stop.send(true);
    if let Err(e) = heartbeat.await {
        shared.emit(|| AgentEvent::Warning(format!("the heartbeat crashed: {e}")));
    }
    if !shared.removed() {
        deregister(&shared).await;
    }
    shared.emit(|| AgentEvent::Stopped);
    outcome.map(|()| shared.summary())
}

/// Whether the host asked the agent to stop (a dropped sender counts as asking).
fn stopping(shutdown: &watch::Receiver<bool>) -> bool {
    *shutdown.borrow() || shutdown.has_changed().is_err()
}

async fn register(
    plane: &Plane,
    who: &Principal,
    config: &AgentConfig,
    shutdown: &mut watch::Receiver<bool>,
) -> Result<Option<Agent>> {
    let mut reg = AgentRegistration {
        name: config.name.clone(),
        labels: config.labels.clone(),
        slots: config.slots,
        hostname: crate::config::hostname(),
        pid: std::process::id(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        instance: config.instance.clone(),
        pid_scope: takeover::pid_scope(),
        replaces_pid: None,
    };
    let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(10));
    loop {
        if stopping(shutdown) {
            return Ok(None);
        }
        match plane.register_agent(who, reg.clone()).await {
            Ok(agent) => return Ok(Some(agent)),
            // The name's holder on this host is gone: take the name over.
            Err(e) if takeover::retry_as_takeover(&mut reg, &e) => {}
            Err(e) if is_transient(&e) => {
                emit(config, || {
                    AgentEvent::Warning(format!("cannot register, will retry: {e}"))
                });
                tokio::select! {
                    () = tokio::time::sleep(backoff.next_delay()) => {}
                    _ = shutdown.changed() => {}
                }
            }
            Err(e) => return Err(e),
        }
    }
}

/// Claim and dispatch until shutdown or removal. An error means the plane refuses the agent.
async fn claim_loop(
    shared: &Arc<Shared>,
    shutdown: &mut watch::Receiver<bool>,
    steps: &mut JoinSet<()>,
    reports: &mpsc::UnboundedSender<Report>,
) -> Result<()> {
    let mut backoff = Backoff::new(Duration::from_millis(50), Duration::from_secs(5));
    let mut failing = false;
    // Results of noop steps, which end as they are dispatched: they ride with the next claim.
    let mut done: Vec<Report> = Vec::new();
    loop {
        while steps.try_join_next().is_some() {}
        if stopping(shutdown) || shared.removed() {
            hand_over(&mut done, reports);
            return Ok(());
        }
        let free = shared.free_slots();
        if !done.is_empty() {
            // One request, one transaction: the results, and a claim of what they readied
            // (a chain's next step is leased in its predecessor's commit).
            let max = if shared.draining() { 0 } else { free };
            match shared
                .plane
                .complete_and_claim(&shared.who, &shared.agent_id, &done, max)
                .await
            {
                Ok((accepted, tasks)) => {
                    reporter::settle(shared, &done, |i| accepted.get(i).copied().unwrap_or(false));
                    done.clear();
                    for task in tasks {
                        dispatch(shared, task, steps, reports, &mut done);
                    }
                }
                // The reporter delivers them (retrying as it does); the claim below meets
                // the same trouble and says so. Results the plane did record before the
                // trouble are then answered as not accepted.
                Err(_) => hand_over(&mut done, reports),
            }
            continue;
        }
        if free == 0 || shared.draining() {
            tokio::select! {
                () = shared.wake.notified() => {}
                _ = shutdown.changed() => {}
            }
            continue;
        }
        let claimed = shared
            .plane
            .claim(
                &shared.who,
                &shared.agent_id,
                free,
                shared.config.claim_wait,
            )
            .await;
        match claimed {
            Ok(tasks) => {
                if failing {
                    failing = false;
                    shared.emit(|| AgentEvent::Warning("claiming work again".into()));
                }
                backoff.reset();
                for task in tasks {
                    dispatch(shared, task, steps, reports, &mut done);
                }
            }
            Err(e) if e.kind() == ErrorKind::NotFound => {
                shared.emit(|| AgentEvent::Warning(format!("the agent was removed: {e}")));
                shared.set_removed();
                return Ok(());
            }
            Err(e) if is_transient(&e) || e.kind() == ErrorKind::Conflict => {
                if !failing {
                    failing = true;
                    shared.emit(|| AgentEvent::Warning(format!("cannot claim, will retry: {e}")));
                }
                tokio::select! {
                    () = tokio::time::sleep(backoff.next_delay()) => {}
                    _ = shutdown.changed() => {}
                }
            }
            Err(e) => return Err(e),
        }
    }
}

/// Start one granted step: noop steps are done at once (leased → succeeded needs no start
/// report), their results kept in `done` for the next claim; the others get their own task,
/// which reports through the reporter.
fn dispatch(
    shared: &Arc<Shared>,
    task: StepTask,
    steps: &mut JoinSet<()>,
    reports: &mpsc::UnboundedSender<Report>,
    done: &mut Vec<Report>,
) {
    if matches!(task.kind, StepKind::Noop) {
        shared.emit(|| AgentEvent::StepStarted {
            lease: task.lease.clone(),
            kind: "noop",
        });
        shared.hold(task.lease.clone(), None, false);
        done.push((task.lease, StepResult::ok(BTreeMap::new())));
        return;
    }
    let (stop_tx, stop_rx) = watch::channel(None);
    shared.hold(task.lease.clone(), Some(stop_tx), true);
    steps.spawn(step::run(shared.clone(), task, stop_rx, reports.clone()));
}

/// Results the claim loop holds go to the reporter, which delivers them.
fn hand_over(done: &mut Vec<Report>, reports: &mpsc::UnboundedSender<Report>) {
    for report in done.drain(..) {
        // The reporter outlives the claim loop, so this send cannot fail while we claim.
        let _ = reports.send(report);
    }
}

async fn deregister(shared: &Shared) {
    let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(2));
    for attempt in 1..=DEREGISTER_TRIES {
        match shared
            .plane
            .deregister_agent(&shared.who, &shared.agent_id)
            .await
        {
            Ok(()) => return,
            Err(e) if is_transient(&e) && attempt < DEREGISTER_TRIES => {
                tokio::time::sleep(backoff.next_delay()).await;
            }
            Err(e) => {
                shared.emit(|| AgentEvent::Warning(format!("cannot deregister: {e}")));
                return;
            }
        }
    }
}

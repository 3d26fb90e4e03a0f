//! Agents' names and leases through the local control plane: a replacement process takes a
//! name over once the old one is gone, and every way an agent loses its leases (reaped,
//! replaced, deregistered, removed) goes through the one lease-lost transition, with its
//! budget, event and log line.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::time::Duration;

use super::tests::{Env, env, env_with_lease};
use super::*;
use crate::auth::{Principal, Role};
use crate::engine::LOST_BUDGET;
use crate::model::{AgentRegistration, StepKind, StepSpec, StepState, WorkflowSpec};

/// A one-step workflow `wf` and a run of it.
async fn one_step_run(e: &Env) -> String {
    let spec = WorkflowSpec::new("wf", vec![StepSpec::new("a", StepKind::Noop)]);
    e.plane.apply_workflow(&e.who, spec, false).await.unwrap();
    e.plane
        .start_run(
            &e.who,
            StartRun {
                workflow: "wf".into(),
                ..StartRun::default()
            },
        )
        .await
        .unwrap()
        .id
}

fn registration(name: &str, pid: u32) -> AgentRegistration {
    AgentRegistration {
        name: name.into(),
        labels: BTreeMap::new(),
        slots: 1,
        hostname: "h".into(),
        pid,
        version: "t".into(),
        instance: None,
        pid_scope: None,
        replaces_pid: None,
    }
}

/// A registration from host `h` that can tell its pids apart (a pid scope).
fn scoped(name: &str, pid: u32) -> AgentRegistration {
    AgentRegistration {
        pid_scope: Some("boot/pid:[1]".into()),
        ..registration(name, pid)
    }
}

fn agents_token(name: &str) -> Principal {
    Principal::token(name, Role::Agent, "10.0.0.1")
}

fn is_name_held(r: &Result<crate::model::Agent>, pid: u32) -> bool {
    matches!(r, Err(crate::Error::NameHeld { hostname, pid: p, .. }) if hostname == "h" && *p == pid)
}

async fn step(e: &Env, run: &str) -> StepState {
    e.plane.get_run(&e.who, run).await.unwrap().steps[0].clone()
}

async fn log_lines(e: &Env, run: &str) -> Vec<String> {
    e.plane
        .run_logs(&e.who, run, None, 0, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.line)
        .collect()
}

async fn claim_one(e: &Env, who: &Principal, agent: &str) -> StepTask {
    e.plane
        .claim(who, agent, 1, Duration::ZERO)
        .await
        .unwrap()
        .pop()
        .expect("a step to claim")
}

/// issue 10: an agent that stops while it holds a step (deregisters with leases, e.g. after
/// its reports failed) loses them through the lease-lost transition: counted against the
/// budget, logged, and the step fails once the budget is spent — never one attempt more.
#[tokio::test]
async fn deregistering_with_held_leases_spends_the_lost_agent_budget() {
    let e = env();
    let run = one_step_run(&e).await;
    for n in 1..=LOST_BUDGET + 1 {
        let agent = e
            .plane
            .register_agent(&e.who, registration("w", 100 + n))
            .await
            .unwrap();
        let task = claim_one(&e, &e.who, &agent.id).await;
        assert_eq!(task.lease.attempt, n);
        e.plane.deregister_agent(&e.who, &agent.id).await.unwrap();
        let lines = log_lines(&e, &run).await;
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with(&format!("attempt {n} lost: agent w"))),
            "{lines:?}"
        );
    }
    let s = step(&e, &run).await;
    assert_eq!(s.status, StepStatus::Failed, "{s:?}");
    assert_eq!(s.attempt, LOST_BUDGET + 1);
    let error = s.error.unwrap_or_default();
    assert!(
        error.contains(&format!("lost its agent {} times", LOST_BUDGET + 1)),
        "{error}"
    );
    let agent = e
        .plane
        .register_agent(&e.who, registration("w", 999))
        .await
        .unwrap();
    assert!(
        e.plane
            .claim(&e.who, &agent.id, 1, Duration::ZERO)
            .await
            .unwrap()
            .is_empty(),
        "no attempt beyond the budget"
    );
}

/// issue 10: a name held by a live agent is taken over only when its process is known to be
/// gone, and only by the principal that registered it; the old agent's attempt is lost (log
/// line, event, budget) and the old agent learns it was removed.
#[tokio::test]
async fn a_name_is_taken_over_when_its_holders_process_is_gone() {
    let e = env();
    let run = one_step_run(&e).await;
    let p = agents_token("agents");
    let old = e.plane.register_agent(&p, scoped("w", 100)).await.unwrap();
    let task = claim_one(&e, &p, &old.id).await;

    // Not without saying which process is gone, nor for another pid, host or pid scope.
    let r = e.plane.register_agent(&p, scoped("w", 200)).await;
    assert!(is_name_held(&r, 100), "{r:?}");
    for reg in [
        AgentRegistration {
            replaces_pid: Some(999),
            ..scoped("w", 200)
        },
        AgentRegistration {
            replaces_pid: Some(100),
            hostname: "elsewhere".into(),
            ..scoped("w", 200)
        },
        AgentRegistration {
            replaces_pid: Some(100),
            pid_scope: Some("another-boot/pid:[1]".into()),
            ..scoped("w", 200)
        },
        AgentRegistration {
            replaces_pid: Some(100),
            pid_scope: None,
            ..scoped("w", 200)
        },
    ] {
        let r = e.plane.register_agent(&p, reg.clone()).await;
        assert!(r.is_err(), "{reg:?}: {r:?}");
        assert_eq!(r.unwrap_err().kind(), crate::error::ErrorKind::Conflict);
    }
    // Not by another principal, whatever it says.
    let other = agents_token("other");
    let r = e
        .plane
        .register_agent(
            &other,
            AgentRegistration {
                replaces_pid: Some(100),
                ..scoped("w", 200)
            },
        )
        .await;
    match r {
        Err(crate::Error::Conflict(m)) => assert!(m.contains("another principal"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(step(&e, &run).await.status, StepStatus::Leased);

    let new = e
        .plane
        .register_agent(
            &p,
            AgentRegistration {
                replaces_pid: Some(100),
                ..scoped("w", 200)
            },
        )
        .await
        .unwrap();
    assert_ne!(new.id, old.id);
    assert_eq!(new.pid, 200);
    let s = step(&e, &run).await;
    assert_eq!((s.status, s.attempt), (StepStatus::Ready, 1));
    assert!(log_lines(&e, &run).await.contains(
        &"attempt 1 lost: agent w was replaced: its process (pid 100 on h) is gone".into()
    ));
    let events = e.plane.events(&e.who, 0, 1000).await.unwrap();
    let lost = events
        .iter()
        .find(|ev| ev.kind == "step.lease_expired")
        .expect("a lease-lost event");
    assert_eq!(lost.data["reason"], "replaced");
    // The old agent's reports are stale; it learns it was removed.
    let beat = e
        .plane
        .heartbeat(&p, &old.id, std::slice::from_ref(&task.lease))
        .await
        .unwrap();
    assert!(beat.removed);
    assert!(
        !e.plane
            .complete_steps(&p, &[(task.lease.clone(), StepResult::ok(BTreeMap::new()))])
            .await
            .unwrap()[0]
    );
    // The new one gets the step again, as attempt 2.
    assert_eq!(claim_one(&e, &p, &new.id).await.lease.attempt, 2);
}

/// The same process registering again (say its first registration's answer was lost) gets its
/// name back; without a pid scope, a pid proves nothing.
#[tokio::test]
async fn the_same_process_registering_again_gets_its_name_back() {
    let e = env();
    let p = agents_token("agents");
    let first = e.plane.register_agent(&p, scoped("w", 100)).await.unwrap();
    let again = e.plane.register_agent(&p, scoped("w", 100)).await.unwrap();
    assert_ne!(first.id, again.id);

    e.plane
        .register_agent(&p, registration("u", 100))
        .await
        .unwrap();
    let r = e.plane.register_agent(&p, registration("u", 100)).await;
    assert!(is_name_held(&r, 100), "{r:?}");
}

/// A supervisor's new instance nonce takes the name over, wherever the old process ran; the
/// same nonce, or none on either side, does not.
#[tokio::test]
async fn a_new_instance_takes_the_name_over() {
    let e = env();
    let p = agents_token("agents");
    let with = |instance: Option<&str>, host: &str, pid: u32| AgentRegistration {
        instance: instance.map(str::to_string),
        hostname: host.into(),
        ..registration("w", pid)
    };
    e.plane
        .register_agent(&p, with(Some("i1"), "h", 100))
        .await
        .unwrap();
    assert!(
        e.plane
            .register_agent(&p, with(Some("i1"), "h", 200))
            .await
            .is_err()
    );
    assert!(
        e.plane
            .register_agent(&p, with(None, "h", 200))
            .await
            .is_err()
    );
    let r = e
        .plane
        .register_agent(&agents_token("other"), with(Some("i2"), "h", 200))
        .await;
    assert!(matches!(r, Err(crate::Error::Conflict(_))), "{r:?}");
    let new = e
        .plane
        .register_agent(&p, with(Some("i2"), "elsewhere", 300))
        .await
        .unwrap();
    assert_eq!((new.hostname.as_str(), new.pid), ("elsewhere", 300));
    // Without a nonce of its own, a registration cannot say the holder is gone.
    e.plane
        .register_agent(&p, with(None, "h", 400))
        .await
        .unwrap_err();
}

/// issue 10: `agent remove` refuses an online agent that runs steps unless forced; forced, the
/// steps are lost through the lease-lost transition (counted, logged). An offline one goes.
#[tokio::test]
async fn removing_an_agent_with_running_steps_needs_force() {
    let e = env();
    let run = one_step_run(&e).await;
    let agent = e
        .plane
        .register_agent(&e.who, registration("w", 100))
        .await
        .unwrap();
    let task = claim_one(&e, &e.who, &agent.id).await;
    e.plane.start_step(&e.who, &task.lease).await.unwrap();
    let r = e.plane.remove_agent(&e.who, "w", false).await;
    match r {
        Err(crate::Error::Conflict(m)) => {
            assert!(m.contains("1 running step;"), "{m}");
            assert!(m.contains("imx agent drain w"), "{m}");
            assert!(m.contains("--force"), "{m}");
        }
        other => panic!("{other:?}"),
    }
    // Draining is not enough while the step runs.
    e.plane.drain_agent(&e.who, "w").await.unwrap();
    assert!(e.plane.remove_agent(&e.who, "w", false).await.is_err());
    assert_eq!(step(&e, &run).await.status, StepStatus::Running);

    let removed = e.plane.remove_agent(&e.who, "w", true).await.unwrap();
    assert_eq!(removed.current.len(), 1);
    assert_eq!(step(&e, &run).await.status, StepStatus::Ready);
    assert!(
        log_lines(&e, &run)
            .await
            .contains(&"attempt 1 lost: agent w was removed".into())
    );
    assert!(e.plane.list_agents(&e.who).await.unwrap().is_empty());
    let record = e.plane.audit_records().unwrap().pop().unwrap();
    assert_eq!(
        (record.action.as_str(), record.details["force"].as_bool()),
        ("agent.remove", Some(true))
    );
}

#[tokio::test]
async fn an_offline_agent_is_removed_without_force() {
    let e = env_with_lease(300);
    let run = one_step_run(&e).await;
    let agent = e
        .plane
        .register_agent(&e.who, registration("w", 100))
        .await
        .unwrap();
    claim_one(&e, &e.who, &agent.id).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while e.plane.get_agent(&e.who, "w").await.unwrap().state != crate::model::AgentState::Offline {
        assert!(std::time::Instant::now() < deadline, "never offline");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    e.plane.remove_agent(&e.who, "w", false).await.unwrap();
    let s = step(&e, &run).await;
    assert_eq!(s.status, StepStatus::Ready, "{s:?}");
    assert!(
        log_lines(&e, &run)
            .await
            .iter()
            .any(|l| l.starts_with("attempt 1 lost: agent w")),
    );
}

/// The reaper, a takeover, a deregistration and a forced removal all spend one budget: the
/// fourth lost attempt fails the step, whichever path lost it.
#[tokio::test]
async fn every_way_of_losing_an_agent_spends_one_budget() {
    let e = env_with_lease(1_000);
    let run = one_step_run(&e).await;
    let p = agents_token("agents");
    // 1: a takeover (the same process registering again).
    let a = e.plane.register_agent(&p, scoped("w", 100)).await.unwrap();
    claim_one(&e, &p, &a.id).await;
    let a = e.plane.register_agent(&p, scoped("w", 100)).await.unwrap();
    // 2: a deregistration.
    claim_one(&e, &p, &a.id).await;
    e.plane.deregister_agent(&p, &a.id).await.unwrap();
    // 3: a forced removal.
    let a = e.plane.register_agent(&p, scoped("w", 100)).await.unwrap();
    claim_one(&e, &p, &a.id).await;
    e.plane.remove_agent(&e.who, "w", true).await.unwrap();
    // 4: the reaper, once the lease expires.
    let a = e.plane.register_agent(&p, scoped("w", 100)).await.unwrap();
    assert_eq!(claim_one(&e, &p, &a.id).await.lease.attempt, 4);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let s = loop {
        e.plane.wait_for_change(Duration::from_millis(100)).await;
        let s = step(&e, &run).await;
        if s.status == StepStatus::Failed {
            break s;
        }
        assert!(std::time::Instant::now() < deadline, "never failed: {s:?}");
    };
    assert_eq!(s.attempt, 4);
    assert_eq!(s.error.as_deref(), Some("lost its agent 4 times (last: w)"));
    let lines = log_lines(&e, &run).await;
    for n in 1..=4 {
        let prefix = format!("attempt {n} lost: agent w");
        assert!(lines.iter().any(|l| l.starts_with(&prefix)), "{lines:?}");
    }
}

/// Agents registered before agents were bound to principals (schema 4) belong to no one: after
/// the upgrade their calls are refused, saying to register again, and registering again under
/// the same name succeeds at once.
#[tokio::test]
async fn agents_from_before_the_binding_must_register_again() {
    let Env {
        _dir: dir,
        plane,
        who,
    } = env();
    drop(plane);
    // A store as imx with schema 4 left it, holding an online agent "w".
    let path = dir.path().join("old.db");
    let old_id = crate::model::new_id();
    crate::store::testing::schema4_store_with_agent(&path, &old_id);
    let plane = LocalControlPlane::open(&path, LocalOptions::default()).unwrap();
    let r = plane.heartbeat(&who, &old_id, &[]).await;
    match r {
        Err(crate::Error::Forbidden { action, .. }) => {
            assert!(action.contains("register again"), "{action}");
        }
        other => panic!("{other:?}"),
    }
    let new = plane
        .register_agent(&who, registration("w", 200))
        .await
        .unwrap();
    assert_eq!(new.pid, 200);
    plane.heartbeat(&who, &new.id, &[]).await.unwrap();
}

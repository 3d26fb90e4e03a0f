//! Agents' names and leases through the local control plane: a replacement process takes a
//! name over once the old one is gone, and every way an agent loses its leases (reaped,
//! replaced, deregistered, removed) goes through the one lease-lost transition, with its
//! budget, event and log line.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::time::Duration;

use super::tests::{Env, env};
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
    let _ = Role::Agent;
}

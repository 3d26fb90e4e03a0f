//! The worker protocol's terms through the local control plane: each agent's lease is recorded
//! with it (its state reads the same whatever the reader's setting), and the control plane
//! enforces its limits on what an attempt produces even for an agent that does not.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use super::*;
use crate::auth::Principal;
use crate::engine::StepLimits;
use crate::model::{
    AgentRegistration, AgentState, CapturedLine, LogStream, StepKind, StepSpec, WorkflowSpec,
};

fn open(path: &Path, lease_ms: u64, limits: StepLimits) -> LocalControlPlane {
    LocalControlPlane::open(
        path,
        LocalOptions {
            lease_ms,
            create: true,
            limits,
        },
    )
    .unwrap()
}

fn registration(name: &str) -> AgentRegistration {
    AgentRegistration::for_test(name, 1)
}

/// One `noop` step, started, claimed by a new agent: its task.
async fn claimed(plane: &LocalControlPlane, who: &Principal) -> StepTask {
    let spec = WorkflowSpec::new("w", vec![StepSpec::new("s", StepKind::Noop)]);
    plane.apply_workflow(who, spec, false).await.unwrap();
    plane
        .start_run(
            who,
            StartRun {
                workflow: "w".into(),
                ..StartRun::default()
            },
        )
        .await
        .unwrap();
    let agent = plane.register_agent(who, registration("a1")).await.unwrap();
    let mut tasks = plane
        .claim(who, &agent.id, 1, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(tasks.len(), 1);
    tasks.remove(0)
}

/// An agent registered through a plane with a 300 ms lease is online, then offline once it is
/// not heard from for 300 ms — read through another plane on the same store whose own lease is
/// 30 s. Heartbeats through a plane record that plane's lease.
#[tokio::test]
async fn agent_states_follow_each_agents_own_lease() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("imx.db");
    let who = Principal::local_owner();
    let short = open(&path, 300, StepLimits::default());
    let reader = open(&path, 30_000, StepLimits::default());
    let agent = short.register_agent(&who, registration("a")).await.unwrap();
    assert_eq!(agent.lease_ms, Some(300));
    let read = || async { reader.get_agent(&who, "a").await.unwrap() };
    assert_eq!(read().await.state, AgentState::Online);
    let deadline = Instant::now() + Duration::from_secs(10);
    while read().await.state != AgentState::Offline {
        assert!(
            Instant::now() < deadline,
            "never offline: {:?}",
            read().await
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A heartbeat through the 30 s plane brings it back, on that plane's lease.
    let reply = reader.heartbeat(&who, &agent.id, &[]).await.unwrap();
    assert_eq!(reply.lease_ms, Some(30_000));
    let now = read().await;
    assert_eq!(
        (now.state, now.lease_ms),
        (AgentState::Online, Some(30_000))
    );
    let listed = short.list_agents(&who).await.unwrap();
    assert_eq!(listed[0].state, AgentState::Online);
}

/// Claims carry the limits; a result whose outputs are over the limit is recorded as a failed
/// attempt that names the size and the limit, whoever reports it.
#[tokio::test]
async fn the_control_plane_refuses_outputs_over_its_limit() {
    let dir = tempfile::tempdir().unwrap();
    let who = Principal::local_owner();
    let limits = StepLimits {
        max_output_bytes: 10,
        max_log_bytes: 1000,
    };
    let plane = open(&dir.path().join("imx.db"), 30_000, limits);
    let task = claimed(&plane, &who).await;
    assert_eq!(task.max_output_bytes, Some(10));
    assert_eq!(task.max_log_bytes, Some(1000));
    let outputs = BTreeMap::from([("key".to_string(), "0123456789".to_string())]);
    let accepted = plane
        .complete_steps(&who, &[(task.lease.clone(), StepResult::ok(outputs))])
        .await
        .unwrap();
    assert_eq!(accepted, [true]);
    let run = plane.get_run(&who, &task.lease.run_id).await.unwrap();
    let step = &run.steps[0];
    assert_eq!(step.status, crate::model::StepStatus::Failed);
    assert!(step.outputs.is_empty());
    assert_eq!(
        step.error.as_deref(),
        Some(crate::engine::limits::outputs_too_large(13, 10).as_str())
    );
}

/// An agent that sends more log than the cap: output lines past it are not stored, one line
/// says the limit was reached, and imx's own lines still are.
#[tokio::test]
async fn the_control_plane_caps_an_attempts_log() {
    let dir = tempfile::tempdir().unwrap();
    let who = Principal::local_owner();
    let limits = StepLimits {
        max_output_bytes: 1000,
        max_log_bytes: 25,
    };
    let plane = open(&dir.path().join("imx.db"), 30_000, limits);
    let task = claimed(&plane, &who).await;
    let line = |s: &str| CapturedLine::new(LogStream::Stdout, s);
    let send = |lines: Vec<CapturedLine>| {
        let plane = &plane;
        let who = &who;
        let lease = task.lease.clone();
        async move { plane.append_logs(who, &lease, &lines).await.unwrap() }
    };
    send(vec![line("0123456789"), line("0123456789")]).await;
    send(vec![line("abcdefghij"), line("x")]).await;
    send(vec![
        line("more"),
        CapturedLine::new(LogStream::System, "imx: a note"),
    ])
    .await;
    let logs: Vec<String> = plane
        .run_logs(&who, &task.lease.run_id, None, 0, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.line)
        .collect();
    assert_eq!(
        logs,
        [
            "0123456789".to_string(),
            "0123456789".to_string(),
            crate::engine::limits::log_limit_reached_line(25),
            "imx: a note".to_string(),
        ]
    );
    // The next attempt starts from nothing.
    let run = task.lease.run_id.clone();
    plane
        .complete_steps(
            &who,
            &[(task.lease.clone(), StepResult::failed("boom", Some(1)))],
        )
        .await
        .unwrap();
    plane.retry_run(&who, &run, None).await.unwrap();
    let agent = plane.get_agent(&who, "a1").await.unwrap();
    let again = plane
        .claim(&who, &agent.id, 1, Duration::ZERO)
        .await
        .unwrap();
    plane
        .append_logs(&who, &again[0].lease, &[line("0123456789")])
        .await
        .unwrap();
    let last = plane.run_logs(&who, &run, None, 0, 100).await.unwrap();
    assert_eq!(last.last().map(|l| l.line.as_str()), Some("0123456789"));
}

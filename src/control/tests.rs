//! Engine semantics through the local control plane, without the CLI: DAG order, retries,
//! fencing, lease expiry, cancellation, retry of a run, audit chain.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::auth::Principal;
use crate::model::{
    AgentRegistration, AgentSelector, RetrySpec, RunStatus, StepKind, StepResult, StepSpec,
    StepStatus, WorkflowSpec,
};

fn step(id: &str, needs: &[&str]) -> StepSpec {
    StepSpec::new(id, StepKind::Noop).needing(needs)
}

fn wf(name: &str, steps: Vec<StepSpec>) -> WorkflowSpec {
    WorkflowSpec::new(name, steps)
}

/// A local plane on a temp store, acting as its owner (shared by the control-plane tests).
pub(super) struct Env {
    pub(super) _dir: tempfile::TempDir,
    pub(super) plane: Arc<LocalControlPlane>,
    pub(super) who: Principal,
}

pub(super) fn env_with_lease(lease_ms: u64) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let plane = LocalControlPlane::open(
        &dir.path().join("imx.db"),
        LocalOptions {
            lease_ms,
            create: true,
            ..LocalOptions::default()
        },
    )
    .unwrap();
    Env {
        _dir: dir,
        plane: Arc::new(plane),
        who: Principal::local_owner(),
    }
}

pub(super) fn env() -> Env {
    env_with_lease(30_000)
}

async fn agent(e: &Env, name: &str, labels: &[(&str, &str)]) -> String {
    e.plane
        .register_agent(
            &e.who,
            AgentRegistration {
                name: name.into(),
                labels: labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                slots: 4,
                hostname: "test".into(),
                pid: 1,
                version: "test".into(),
                instance: None,
                pid_scope: None,
                replaces_pid: None,
            },
        )
        .await
        .unwrap()
        .id
}

async fn claim(e: &Env, agent: &str, max: u32) -> Vec<StepTask> {
    e.plane
        .claim(&e.who, agent, max, Duration::from_millis(0))
        .await
        .unwrap()
}

async fn ok(e: &Env, t: &StepTask) -> bool {
    e.plane
        .complete_steps(
            &e.who,
            &[(t.lease.clone(), StepResult::ok(BTreeMap::new()))],
        )
        .await
        .unwrap()[0]
}

async fn start(e: &Env, name: &str) -> Run {
    e.plane
        .start_run(
            &e.who,
            StartRun {
                workflow: name.into(),
                ..StartRun::default()
            },
        )
        .await
        .unwrap()
}

fn ids(tasks: &[StepTask]) -> Vec<&str> {
    let mut v: Vec<&str> = tasks.iter().map(|t| t.lease.step_id.as_str()).collect();
    v.sort();
    v
}

#[tokio::test]
async fn dag_runs_in_dependency_order_and_fans_out() {
    let e = env();
    let spec = wf(
        "d",
        vec![
            step("a", &[]),
            step("b", &["a"]),
            step("c", &["a"]),
            step("d", &["b", "c"]),
        ],
    );
    e.plane.apply_workflow(&e.who, spec, false).await.unwrap();
    let run = start(&e, "d").await;
    assert_eq!(run.status, RunStatus::Queued);
    let ag = agent(&e, "a1", &[]).await;

    let t = claim(&e, &ag, 10).await;
    assert_eq!(ids(&t), ["a"]);
    assert!(claim(&e, &ag, 10).await.is_empty(), "b and c wait for a");
    assert!(ok(&e, &t[0]).await);
    let t = claim(&e, &ag, 10).await;
    assert_eq!(
        ids(&t),
        ["b", "c"],
        "independent branches are ready together"
    );
    assert!(ok(&e, &t[0]).await);
    assert!(claim(&e, &ag, 10).await.is_empty(), "d needs both");
    assert!(ok(&e, &t[1]).await);
    let t = claim(&e, &ag, 10).await;
    assert_eq!(ids(&t), ["d"]);
    assert!(ok(&e, &t[0]).await);
    let detail = e.plane.get_run(&e.who, &run.id).await.unwrap();
    assert_eq!(detail.run.status, RunStatus::Succeeded);
    assert!(
        detail
            .steps
            .iter()
            .all(|s| s.status == StepStatus::Succeeded)
    );
}

#[tokio::test]
async fn failure_skips_dependents_and_fails_the_run_after_independent_branches() {
    let e = env();
    let spec = wf("f", vec![step("a", &[]), step("b", &["a"]), step("c", &[])]);
    e.plane.apply_workflow(&e.who, spec, false).await.unwrap();
    let run = start(&e, "f").await;
    let ag = agent(&e, "a1", &[]).await;
    let t = claim(&e, &ag, 10).await;
    let a = t.iter().find(|t| t.lease.step_id == "a").unwrap();
    let c = t.iter().find(|t| t.lease.step_id == "c").unwrap();
    e.plane
        .complete_steps(
            &e.who,
            &[(a.lease.clone(), StepResult::failed("exit code 3", Some(3)))],
        )
        .await
        .unwrap();
    let d = e.plane.get_run(&e.who, &run.id).await.unwrap();
    assert_eq!(d.run.status, RunStatus::Running, "c is still running");
    assert_eq!(d.steps[1].status, StepStatus::Skipped);
    assert!(ok(&e, c).await);
    let d = e.plane.get_run(&e.who, &run.id).await.unwrap();
    assert_eq!(d.run.status, RunStatus::Failed);
    assert!(d.run.error.unwrap().contains("\"a\""));
    assert_eq!(d.steps[0].exit_code, Some(3));
}

#[tokio::test]
async fn retries_with_backoff_then_succeeds_with_a_new_attempt() {
    let e = env();
    let mut s = step("flaky", &[]);
    s.retry = RetrySpec {
        max: 2,
        initial_ms: 50,
        jitter: 0.0,
        ..RetrySpec::default()
    };
    e.plane
        .apply_workflow(&e.who, wf("r", vec![s]), false)
        .await
        .unwrap();
    let run = start(&e, "r").await;
    let ag = agent(&e, "a1", &[]).await;
    let t = claim(&e, &ag, 1).await;
    assert_eq!(t[0].lease.attempt, 1);
    e.plane
        .complete_steps(
            &e.who,
            &[(t[0].lease.clone(), StepResult::failed("boom", Some(1)))],
        )
        .await
        .unwrap();
    assert!(claim(&e, &ag, 1).await.is_empty(), "backing off");
    let t2 = e
        .plane
        .claim(&e.who, &ag, 1, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(t2[0].lease.attempt, 2);
    assert!(!ok(&e, &t[0]).await, "the old attempt is fenced off");
    assert!(ok(&e, &t2[0]).await);
    let d = e.plane.get_run(&e.who, &run.id).await.unwrap();
    assert_eq!(d.run.status, RunStatus::Succeeded);
    assert_eq!(d.steps[0].attempt, 2);
}

#[tokio::test]
async fn expired_lease_is_reclaimed_and_late_reports_are_rejected() {
    let e = env_with_lease(150);
    e.plane
        .apply_workflow(&e.who, wf("l", vec![step("s", &[])]), false)
        .await
        .unwrap();
    let run = start(&e, "l").await;
    let a1 = agent(&e, "a1", &[]).await;
    let a2 = agent(&e, "a2", &[]).await;
    let t1 = claim(&e, &a1, 1).await;
    e.plane.start_step(&e.who, &t1[0].lease).await.unwrap();
    // a1 goes silent; a2 gets the step once the lease runs out.
    let t2 = e
        .plane
        .claim(&e.who, &a2, 1, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(t2[0].lease.attempt, 2);
    let hb = e
        .plane
        .heartbeat(&e.who, &a1, &[t1[0].lease.clone()])
        .await
        .unwrap();
    assert_eq!(hb.revoked.len(), 1, "the stale lease is not renewed");
    assert!(e.plane.start_step(&e.who, &t1[0].lease).await.is_err());
    assert!(!ok(&e, &t1[0]).await, "late completion rejected");
    assert!(ok(&e, &t2[0]).await);
    let d = e.plane.get_run(&e.who, &run.id).await.unwrap();
    assert_eq!(d.run.status, RunStatus::Succeeded);
    assert_eq!(d.steps[0].agent.as_deref(), Some("a2"));
}

#[tokio::test]
async fn labels_select_agents() {
    let e = env();
    let mut s = step("gpu", &[]);
    s.agent = Some(AgentSelector {
        labels: [("gpu".to_string(), "yes".to_string())].into(),
    });
    e.plane
        .apply_workflow(&e.who, wf("g", vec![s]), false)
        .await
        .unwrap();
    start(&e, "g").await;
    let plain = agent(&e, "plain", &[]).await;
    let gpu = agent(&e, "gpu", &[("gpu", "yes")]).await;
    assert!(claim(&e, &plain, 4).await.is_empty());
    assert_eq!(claim(&e, &gpu, 4).await.len(), 1);
}

#[tokio::test]
async fn cancel_stops_everything_and_retry_reruns_failed_steps() {
    let e = env();
    e.plane
        .apply_workflow(
            &e.who,
            wf("c", vec![step("a", &[]), step("b", &["a"])]),
            false,
        )
        .await
        .unwrap();
    let run = start(&e, "c").await;
    let ag = agent(&e, "a1", &[]).await;
    let t = claim(&e, &ag, 4).await;
    let cancelled = e.plane.cancel_run(&e.who, &run.id[..14]).await.unwrap();
    assert_eq!(cancelled.status, RunStatus::Cancelled);
    let hb = e
        .plane
        .heartbeat(&e.who, &ag, &[t[0].lease.clone()])
        .await
        .unwrap();
    assert_eq!(hb.revoked.len(), 1, "the agent is told to stop the step");
    assert!(!ok(&e, &t[0]).await);
    assert!(
        e.plane.cancel_run(&e.who, &run.id).await.is_err(),
        "already ended"
    );

    let retried = e.plane.retry_run(&e.who, &run.id, None).await.unwrap();
    assert_eq!(retried.status, RunStatus::Running);
    let t = claim(&e, &ag, 4).await;
    assert_eq!(
        t[0].lease.attempt, 2,
        "attempts keep growing across retries"
    );
    assert!(ok(&e, &t[0]).await);
    let t = claim(&e, &ag, 4).await;
    assert!(ok(&e, &t[0]).await);
    assert_eq!(
        e.plane.get_run(&e.who, &run.id).await.unwrap().run.status,
        RunStatus::Succeeded
    );
    // --from reruns a step and everything downstream of it.
    let again = e.plane.retry_run(&e.who, &run.id, Some("a")).await.unwrap();
    assert_eq!(again.steps_succeeded, 0);
    let err = e
        .plane
        .retry_run(&e.who, &run.id, Some("b"))
        .await
        .unwrap_err();
    assert!(matches!(err, crate::Error::Conflict(_)), "{err}");
}

#[tokio::test]
async fn run_timeout_times_out_the_run() {
    let e = env();
    let mut spec = wf("t", vec![step("a", &[])]);
    spec.timeout_ms = Some(50);
    e.plane.apply_workflow(&e.who, spec, false).await.unwrap();
    let run = start(&e, "t").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        e.plane.wait_for_change(Duration::from_millis(100)).await;
        let d = e.plane.get_run(&e.who, &run.id).await.unwrap();
        if d.run.status == RunStatus::TimedOut {
            assert_eq!(d.steps[0].status, StepStatus::Cancelled);
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never timed out");
    }
}

#[tokio::test]
async fn every_mutation_is_audited_in_a_valid_chain() {
    let e = env();
    e.plane
        .apply_workflow(&e.who, wf("a", vec![step("a", &[])]), false)
        .await
        .unwrap();
    let unchanged = e
        .plane
        .apply_workflow(&e.who, wf("a", vec![step("a", &[])]), false)
        .await
        .unwrap();
    assert_eq!(unchanged.action, ApplyAction::Unchanged);
    let run = start(&e, "a").await;
    e.plane.cancel_run(&e.who, &run.id).await.unwrap();
    let ag = agent(&e, "x", &[]).await;
    e.plane.drain_agent(&e.who, "x").await.unwrap();
    e.plane.resume_agent(&e.who, &ag).await.unwrap();
    e.plane.remove_agent(&e.who, "x", false).await.unwrap();
    e.plane.delete_workflow(&e.who, "a").await.unwrap();
    let records = e.plane.audit_records().unwrap();
    let actions: Vec<&str> = records.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "workflow.apply",
            "run.start",
            "run.cancel",
            "agent.register",
            "agent.drain",
            "agent.resume",
            "agent.remove",
            "workflow.delete"
        ]
    );
    assert!(records.iter().all(|r| r.actor.starts_with("local:")));
    assert_eq!(crate::audit::verify(&records), Ok(()));
    let mut tampered = records.clone();
    tampered[3].target = "someone-else".into();
    assert_eq!(crate::audit::verify(&tampered), Err(4));
    tampered.remove(3);
    assert!(crate::audit::verify(&tampered).is_err());
}

#[tokio::test]
async fn viewers_cannot_mutate_and_denials_are_audited() {
    let e = env();
    let viewer = Principal {
        name: "user:vera".into(),
        role: crate::auth::Role::Viewer,
        source: "test".into(),
    };
    let err = e
        .plane
        .apply_workflow(&viewer, wf("a", vec![step("a", &[])]), false)
        .await
        .unwrap_err();
    assert!(matches!(err, crate::Error::Forbidden { .. }));
    let records = e.plane.audit_records().unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].outcome, "denied");
}

#[tokio::test]
async fn log_marks_say_which_runs_have_new_output_and_nothing_reaches_the_event_feed() {
    let e = env();
    e.plane
        .apply_workflow(&e.who, wf("talk", vec![step("a", &[])]), false)
        .await
        .unwrap();
    let a = agent(&e, "w", &[]).await;
    assert!(e.plane.log_marks(&e.who, -1, 1).await.unwrap().is_empty());
    let r1 = start(&e, "talk").await;
    let r2 = start(&e, "talk").await;
    let tasks = claim(&e, &a, 2).await;
    assert_eq!(tasks.len(), 2);
    let events_before = e.plane.events(&e.who, 0, 10_000).await.unwrap().len();
    let audit_before = e.plane.audit_records().unwrap().len();
    let say = |t: &StepTask, n: usize| {
        let lines: Vec<_> = (0..n)
            .map(|i| {
                crate::model::CapturedLine::new(
                    crate::model::LogStream::Stdout,
                    format!("line {i}"),
                )
            })
            .collect();
        let lease = t.lease.clone();
        let plane = e.plane.clone();
        let who = e.who.clone();
        async move { plane.append_logs(&who, &lease, &lines).await.unwrap() }
    };
    let (t1, t2) = if tasks[0].lease.run_id == r1.id {
        (&tasks[0], &tasks[1])
    } else {
        (&tasks[1], &tasks[0])
    };
    say(t1, 3).await;
    say(t2, 2).await;
    let head = e.plane.log_marks(&e.who, -1, 1).await.unwrap();
    assert_eq!(head.len(), 1);
    assert_eq!(head[0].run_id, r2.id, "the newest line's mark");
    let all = e.plane.log_marks(&e.who, 0, 100).await.unwrap();
    assert_eq!(
        all.iter().map(|m| m.run_id.as_str()).collect::<Vec<_>>(),
        [r1.id.as_str(), r2.id.as_str()],
        "oldest mark first"
    );
    assert_eq!(all[1].last_id, head[0].last_id);
    let lines = e
        .plane
        .run_logs(&e.who, &r1.id, None, 0, 100)
        .await
        .unwrap();
    assert_eq!(all[0].last_id, lines.last().unwrap().id);
    // Only what is newer than the mark given; a limit keeps the oldest marks.
    let since = e
        .plane
        .log_marks(&e.who, all[0].last_id, 100)
        .await
        .unwrap();
    assert_eq!(since, all[1..]);
    let first = e.plane.log_marks(&e.who, 0, 1).await.unwrap();
    assert_eq!(first, all[..1]);
    assert!(
        e.plane
            .log_marks(&e.who, head[0].last_id, 100)
            .await
            .unwrap()
            .is_empty()
    );
    // Log lines are not mutations of record: no events, no audit records.
    assert_eq!(
        e.plane.events(&e.who, 0, 10_000).await.unwrap().len(),
        events_before
    );
    assert_eq!(e.plane.audit_records().unwrap().len(), audit_before);
}

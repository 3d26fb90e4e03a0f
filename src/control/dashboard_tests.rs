//! The dashboard's queries through the local control plane: overview counts, windows of runs and
//! agents, workflows with recent outcomes, the audit tail.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::time::Duration;

use super::*;
use crate::auth::{Principal, Role};
use crate::model::{AgentRegistration, RunStatus, StepKind, StepSpec, WorkflowSpec};

fn spec(name: &str, steps: &[&str]) -> WorkflowSpec {
    let mut spec = WorkflowSpec::new(
        name,
        steps
            .iter()
            .map(|id| StepSpec::new(*id, StepKind::Noop))
            .collect(),
    );
    spec.description = Some(format!("{name} things"));
    spec
}

use super::tests::{Env, env};

impl Env {
    async fn start(&self, wf: &str) -> Run {
        self.plane
            .start_run(
                &self.who,
                StartRun {
                    workflow: wf.into(),
                    ..StartRun::default()
                },
            )
            .await
            .unwrap()
    }

    async fn agent(&self, name: &str) -> String {
        let reg = AgentRegistration {
            name: name.into(),
            labels: BTreeMap::from([("os".into(), "linux".into())]),
            slots: 2,
            hostname: "h".into(),
            pid: 1,
            version: "t".into(),
            instance: None,
            pid_scope: None,
            replaces_pid: None,
        };
        self.plane.register_agent(&self.who, reg).await.unwrap().id
    }
}

#[tokio::test]
async fn overview_counts_agents_active_runs_outcomes_and_throughput() {
    let e = env();
    e.plane
        .apply_workflow(&e.who, spec("a", &["one"]), false)
        .await
        .unwrap();
    let agent = e.agent("w1").await;
    let done = e
        .start(
            &e.plane
                .apply_workflow(&e.who, spec("a", &["one"]), false)
                .await
                .unwrap()
                .name,
        )
        .await;
    let cancelled = e.start("a").await;
    let _queued = e.start("a").await;
    let tasks = e
        .plane
        .claim(&e.who, &agent, 1, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].lease.run_id, done.id);
    e.plane
        .complete_steps(
            &e.who,
            &[(
                tasks[0].lease.clone(),
                crate::model::StepResult::ok(BTreeMap::new()),
            )],
        )
        .await
        .unwrap();
    e.plane.cancel_run(&e.who, &cancelled.id).await.unwrap();

    let o = e.plane.overview(&e.who).await.unwrap();
    assert_eq!(o.agents.get(&crate::model::AgentState::Online), Some(&1));
    assert_eq!((o.runs_running, o.runs_queued), (0, 1));
    assert_eq!((o.last_hour.succeeded, o.last_hour.cancelled), (1, 1));
    assert_eq!(o.last_day.total(), 2);
    assert_eq!(o.throughput.len(), THROUGHPUT_MINUTES);
    assert!(o.throughput.iter().sum::<u64>() >= 2, "{:?}", o.throughput);
    assert!(o.step_p50_ms.is_some());
    assert!(o.event_id > 0);
    assert!(o.latest_failures.is_empty());
    // A second read counts the same (the closed minutes are cached, the current one re-read).
    let again = e.plane.overview(&e.who).await.unwrap();
    assert_eq!((again.last_hour, again.last_day), (o.last_hour, o.last_day));
}

#[tokio::test]
async fn runs_come_in_windows_newest_or_oldest_first_and_filtered() {
    let e = env();
    e.plane
        .apply_workflow(&e.who, spec("alpha", &["s"]), false)
        .await
        .unwrap();
    e.plane
        .apply_workflow(&e.who, spec("beta", &["s"]), false)
        .await
        .unwrap();
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(e.start(if i % 2 == 0 { "alpha" } else { "beta" }).await.id);
    }
    let mut q = RunQuery {
        limit: 2,
        ..RunQuery::default()
    };
    let mut seen = Vec::new();
    loop {
        let page = e.plane.dashboard_runs(&e.who, q.clone()).await.unwrap();
        seen.extend(page.items.iter().map(|r| r.id.clone()));
        match page.next_cursor {
            Some(c) => q.cursor = Some(c),
            None => break,
        }
    }
    // Newest first is id order (ULIDs sort by creation time).
    let mut newest_first = ids.clone();
    newest_first.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, newest_first);
    let oldest = e
        .plane
        .dashboard_runs(
            &e.who,
            RunQuery {
                sort: RunSort::Oldest,
                limit: 1,
                ..RunQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(oldest.items[0].id, *newest_first.last().unwrap());
    let beta = e
        .plane
        .dashboard_runs(
            &e.who,
            RunQuery {
                text: Some("et".into()),
                limit: 10,
                ..RunQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        beta.items.len(),
        2,
        "text matches part of the workflow name"
    );
    let by_id = e
        .plane
        .dashboard_runs(
            &e.who,
            RunQuery {
                text: Some(ids[2][..20].to_lowercase()),
                limit: 10,
                ..RunQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(by_id.items.len(), 1);
    let queued_alpha = e
        .plane
        .dashboard_runs(
            &e.who,
            RunQuery {
                status: Some(RunStatus::Queued),
                workflow: Some("alpha".into()),
                limit: 10,
                ..RunQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(queued_alpha.items.len(), 3);
    let wild = e
        .plane
        .dashboard_runs(
            &e.who,
            RunQuery {
                text: Some("%".into()),
                limit: 10,
                ..RunQuery::default()
            },
        )
        .await
        .unwrap();
    assert!(
        wild.items.is_empty(),
        "LIKE wildcards in the text are literal"
    );
}

#[tokio::test]
async fn agents_come_in_windows_by_name() {
    let e = env();
    for n in ["c", "a", "b"] {
        e.agent(n).await;
    }
    let p1 = e
        .plane
        .dashboard_agents(
            &e.who,
            AgentQuery {
                limit: 2,
                ..AgentQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        p1.items.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(),
        ["a", "b"]
    );
    let p2 = e
        .plane
        .dashboard_agents(
            &e.who,
            AgentQuery {
                limit: 2,
                after: p1.next_cursor,
                ..AgentQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        p2.items.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(),
        ["c"]
    );
    assert!(p2.next_cursor.is_none());
    let b = e
        .plane
        .dashboard_agents(
            &e.who,
            AgentQuery {
                text: Some("b".into()),
                limit: 10,
                ..AgentQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(b.items.len(), 1);
}

#[tokio::test]
async fn workflows_show_versions_and_recent_outcomes() {
    let e = env();
    e.plane
        .apply_workflow(&e.who, spec("w", &["a"]), false)
        .await
        .unwrap();
    e.plane
        .apply_workflow(&e.who, spec("w", &["a", "b"]), false)
        .await
        .unwrap();
    let r = e.start("w").await;
    e.plane.cancel_run(&e.who, &r.id).await.unwrap();
    let all = e.plane.dashboard_workflows(&e.who, 5).await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].version, 2);
    assert_eq!(
        all[0].versions.iter().map(|v| v.0).collect::<Vec<_>>(),
        [2, 1]
    );
    assert_eq!(all[0].recent, vec![(r.id, RunStatus::Cancelled)]);
}

#[tokio::test]
async fn the_audit_tail_is_newest_first_and_filtered() {
    let e = env();
    e.plane
        .apply_workflow(&e.who, spec("w", &["a"]), false)
        .await
        .unwrap();
    e.start("w").await;
    let viewer = Principal {
        name: "user:vic".into(),
        role: Role::Viewer,
        source: "local".into(),
    };
    assert!(e.plane.drain_agent(&viewer, "nobody").await.is_err());
    let all = e
        .plane
        .audit_tail(&e.who, AuditFilter::default(), None, 10)
        .await
        .unwrap();
    let actions: Vec<&str> = all.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(actions, ["agent.drain", "run.start", "workflow.apply"]);
    let denied = e
        .plane
        .audit_tail(
            &e.who,
            AuditFilter {
                outcome: Some("denied".into()),
                ..AuditFilter::default()
            },
            None,
            10,
        )
        .await
        .unwrap();
    assert_eq!(denied.len(), 1);
    assert_eq!(denied[0].actor, "user:vic");
    let text = e
        .plane
        .audit_tail(
            &e.who,
            AuditFilter {
                text: Some("run.".into()),
                ..AuditFilter::default()
            },
            None,
            10,
        )
        .await
        .unwrap();
    assert_eq!(text.len(), 1);
    let older = e
        .plane
        .audit_tail(&e.who, AuditFilter::default(), Some(all[0].seq), 10)
        .await
        .unwrap();
    assert_eq!(older.len(), 2);
}

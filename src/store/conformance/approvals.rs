//! Approval steps on every backend: an approval step is never claimed; once its needs succeed
//! it waits (and `run list --status waiting` finds its run); approving releases what follows
//! and the run succeeds; rejecting fails it with the comment; a step a run starts with waits
//! at once, and the reaper times it out past its deadline.

use std::sync::Arc;

use super::{claim, complete, postgres, register, run_status, sqlite, start_run, step_statuses};
use crate::engine::transitions::approval::Verdict;
use crate::model::{
    ApprovalDecision, ApprovalSpec, Approvers, RunFilter, RunStatus, StepKind, StepResult,
    StepSpec, StepStatus, WorkflowSpec,
};
use crate::store::api::Backend;

on_both!(
    an_approval_step_waits_until_decided,
    an_approval_nobody_decides_is_reaped,
);

fn approval(timeout_ms: Option<u64>) -> StepKind {
    StepKind::Approval(ApprovalSpec {
        approvers: Approvers {
            users: vec!["alice".into()],
            roles: Vec::new(),
        },
        timeout_ms,
        message: Some("ok?".into()),
    })
}

/// The runs `run list --status waiting` lists; the dashboard's window with `waiting` (its
/// `/status:waiting`) lists the same, and each of them says it waits (`awaiting_approval`).
fn waiting_runs(store: &Arc<dyn Backend>) -> Vec<String> {
    let filter = RunFilter {
        waiting: true,
        ..RunFilter::default()
    };
    let page = store.read(|tx| tx.list_runs(&filter)).unwrap();
    assert!(page.items.iter().all(|r| r.awaiting_approval), "{page:?}");
    let q = crate::control::RunQuery {
        waiting: true,
        limit: 50,
        ..crate::control::RunQuery::default()
    };
    let window = store.read(|tx| tx.dashboard_runs(&q)).unwrap();
    assert!(
        window.items.iter().all(|r| r.awaiting_approval),
        "{window:?}"
    );
    let ids: Vec<String> = page.items.into_iter().map(|r| r.id).collect();
    assert_eq!(
        window.items.into_iter().map(|r| r.id).collect::<Vec<_>>(),
        ids
    );
    ids
}

/// Whether run `id` says an approval step of it waits, read alone and in every list.
fn awaits(store: &Arc<dyn Backend>, id: &str) -> bool {
    let cache = store.specs();
    let one = store.read(|tx| tx.run_detail(cache, id)).unwrap().run;
    let listed = store
        .read(|tx| tx.list_runs(&RunFilter::default()))
        .unwrap();
    let listed = listed.items.iter().find(|r| r.id == id).unwrap();
    let q = crate::control::RunQuery {
        limit: 50,
        ..crate::control::RunQuery::default()
    };
    let window = store.read(|tx| tx.dashboard_runs(&q)).unwrap();
    let shown = window.items.iter().find(|r| r.id == id).unwrap();
    assert_eq!(
        (listed.awaiting_approval, shown.awaiting_approval),
        (one.awaiting_approval, one.awaiting_approval)
    );
    one.awaiting_approval
}

fn decide(store: &Arc<dyn Backend>, run: &str, decision: ApprovalDecision) -> crate::Result<()> {
    let cache = store.specs();
    let verdict = Verdict {
        decision,
        by: "user:alice".into(),
        comment: Some("because".into()),
    };
    store
        .write(|tx| tx.decide_approval(cache, run, "gate", &verdict))
        .map(|_| ())
}

fn status_of(store: &Arc<dyn Backend>, run: &str, step: &str) -> StepStatus {
    step_statuses(store, run)
        .into_iter()
        .find(|(s, _)| s == step)
        .map(|(_, st)| st)
        .unwrap()
}

fn an_approval_step_waits_until_decided(store: &Arc<dyn Backend>) {
    let wf = WorkflowSpec::new(
        "gated",
        vec![
            StepSpec::new("build", StepKind::Noop),
            StepSpec::new("gate", approval(Some(3_600_000))).needing(&["build"]),
            StepSpec::new("ship", StepKind::Noop).needing(&["gate"]),
        ],
    );
    super::apply(store, &wf);
    let agent = register(store, "w1");
    let approved = start_run(store, "gated");
    let rejected = start_run(store, "gated");
    // Only the builds are handed out; deciding before the gate waits is a conflict.
    let tasks = claim(store, &agent, 10, super::LEASE);
    assert_eq!(tasks.len(), 2, "{tasks:?}");
    assert!(tasks.iter().all(|t| t.lease.step_id == "build"));
    assert!(matches!(
        decide(store, &approved, ApprovalDecision::Approved),
        Err(crate::Error::Conflict(_))
    ));
    assert!(
        !awaits(store, &approved),
        "the gate waits only once build is done"
    );
    for t in &tasks {
        assert!(complete(
            store,
            &t.lease,
            StepResult::ok(Default::default())
        ));
    }
    for run in [&approved, &rejected] {
        assert_eq!(status_of(store, run, "gate"), StepStatus::Waiting);
        assert_eq!(run_status(store, run), RunStatus::Running);
        assert!(awaits(store, run));
    }
    assert!(claim(store, &agent, 10, super::LEASE).is_empty());
    let mut listed = waiting_runs(store);
    listed.sort();
    let mut both = vec![approved.clone(), rejected.clone()];
    both.sort();
    assert_eq!(listed, both);

    decide(store, &approved, ApprovalDecision::Approved).unwrap();
    assert_eq!(status_of(store, &approved, "gate"), StepStatus::Succeeded);
    assert!(!awaits(store, &approved));
    let tasks = claim(store, &agent, 10, super::LEASE);
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    assert_eq!(tasks[0].lease.step_id, "ship");
    assert!(complete(
        store,
        &tasks[0].lease,
        StepResult::ok(Default::default())
    ));
    assert_eq!(run_status(store, &approved), RunStatus::Succeeded);
    let cache = store.specs();
    let detail = store.read(|tx| tx.run_detail(cache, &approved)).unwrap();
    let gate = detail.steps.iter().find(|s| s.step_id == "gate").unwrap();
    assert_eq!(gate.outputs["by"], "user:alice");
    assert_eq!(gate.outputs["comment"], "because");

    decide(store, &rejected, ApprovalDecision::Rejected).unwrap();
    assert_eq!(run_status(store, &rejected), RunStatus::Failed);
    assert_eq!(status_of(store, &rejected, "ship"), StepStatus::Skipped);
    let detail = store.read(|tx| tx.run_detail(cache, &rejected)).unwrap();
    assert_eq!(
        detail.run.error.as_deref(),
        Some("step \"gate\" failed: rejected by user:alice: because")
    );
    assert!(waiting_runs(store).is_empty());
    // Decided once: a second decision is a conflict.
    assert!(matches!(
        decide(store, &rejected, ApprovalDecision::Approved),
        Err(crate::Error::Conflict(_))
    ));
}

fn an_approval_nobody_decides_is_reaped(store: &Arc<dyn Backend>) {
    let wf = WorkflowSpec::new(
        "lapse",
        vec![
            StepSpec::new("gate", approval(Some(20))),
            StepSpec::new("after", StepKind::Noop).needing(&["gate"]),
        ],
    );
    super::apply(store, &wf);
    let run = start_run(store, "lapse");
    // It waits from the start: the run's first step.
    assert_eq!(status_of(store, &run, "gate"), StepStatus::Waiting);
    assert_eq!(waiting_runs(store), std::slice::from_ref(&run));
    let cache = store.specs();
    super::wait_for("the approval's deadline", || {
        store.read(|tx| tx.reap_due()).unwrap()
    });
    assert_eq!(store.write(|tx| tx.reap(cache)).unwrap(), 1);
    assert_eq!(status_of(store, &run, "gate"), StepStatus::Failed);
    assert_eq!(run_status(store, &run), RunStatus::Failed);
    assert!(!store.read(|tx| tx.reap_due()).unwrap());
}

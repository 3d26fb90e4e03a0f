//! Concurrency limits on every backend: a key's runs beyond its limit wait (steps not
//! claimable), are admitted first come first served as slots free, leave the queue when
//! cancelled; `skip` and `cancel_running`; keys do not block each other; a retry takes a free
//! slot or is refused.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{LEASE, apply, claim, complete, postgres, register, run_status, sqlite, step};
use crate::model::{
    ConcurrencySpec, OnConflict, ParamSpec, ParamType, Run, RunFilter, RunStatus, StepResult,
    StepStatus, WorkflowSpec,
};
use crate::store::api::Backend;

on_both!(
    a_full_key_queues_runs_and_admits_them_in_order,
    skip_and_cancel_running_decide_at_once,
    a_retry_takes_a_free_slot_or_is_refused,
);

fn deploy(limit: u32, on_conflict: OnConflict) -> WorkflowSpec {
    let mut spec = WorkflowSpec::new("deploy", vec![step("a", &[]), step("b", &["a"])]);
    spec.params = vec![ParamSpec {
        name: "env".into(),
        ty: ParamType::String,
        required: true,
        default: None,
        allowed: None,
        description: None,
    }];
    spec.concurrency = Some(ConcurrencySpec {
        key: "deploy-{{ params.env }}".into(),
        limit,
        on_conflict,
    });
    spec
}

fn start(store: &Arc<dyn Backend>, env: &str) -> Run {
    let cache = store.specs();
    let params = BTreeMap::from([("env".to_string(), serde_json::json!(env))]);
    store
        .write(|tx| tx.create_run(cache, "deploy", &params, None, None, "tester"))
        .unwrap()
}

fn show(store: &Arc<dyn Backend>, id: &str) -> Run {
    let cache = store.specs();
    store.read(|tx| tx.run_detail(cache, id)).unwrap().run
}

/// Run every claimable step of the store to its end; the runs whose steps were claimed.
fn work_off(store: &Arc<dyn Backend>, agent: &str) -> Vec<String> {
    let mut runs = Vec::new();
    loop {
        let tasks = claim(store, agent, 10, LEASE);
        if tasks.is_empty() {
            return runs;
        }
        for t in tasks {
            if !runs.contains(&t.lease.run_id) {
                runs.push(t.lease.run_id.clone());
            }
            assert!(complete(store, &t.lease, StepResult::ok(BTreeMap::new())));
        }
    }
}

fn a_full_key_queues_runs_and_admits_them_in_order(store: &Arc<dyn Backend>) {
    apply(store, &deploy(1, OnConflict::Queue));
    let r1 = start(store, "prod");
    let r2 = start(store, "prod");
    let r3 = start(store, "prod");
    let r4 = start(store, "prod");
    let other = start(store, "staging");
    let c1 = r1.concurrency.clone().unwrap();
    assert_eq!(c1.key, "deploy-prod");
    assert!(c1.admitted_at.is_some() && c1.position.is_none());
    assert!(r1.deadline.is_some());
    let c2 = r2.concurrency.clone().unwrap();
    assert_eq!((c2.position, c2.admitted_at), (Some(1), None));
    assert_eq!(c2.waiting_for, vec![r1.id.clone()]);
    assert!(
        r2.deadline.is_none(),
        "a waiting run's timeout has not started"
    );
    assert_eq!(show(store, &r3.id).concurrency.unwrap().position, Some(2));
    assert!(
        other.concurrency.unwrap().admitted_at.is_some(),
        "another key"
    );

    let queued = store
        .read(|tx| {
            tx.list_runs(&RunFilter {
                status: Some(RunStatus::Queued),
                ..RunFilter::default()
            })
        })
        .unwrap();
    // Listed newest first by id; runs made in one millisecond have ids in no set order, so
    // the queue is compared by position.
    let mut waiting: Vec<(String, Option<u32>)> = queued
        .items
        .iter()
        .filter(|r| r.is_waiting_for_slot())
        .map(|r| {
            (
                r.id.clone(),
                r.concurrency.as_ref().and_then(|c| c.position),
            )
        })
        .collect();
    waiting.sort_by_key(|(_, position)| std::cmp::Reverse(*position));
    assert_eq!(
        waiting,
        vec![
            (r4.id.clone(), Some(3)),
            (r3.id.clone(), Some(2)),
            (r2.id.clone(), Some(1))
        ]
    );

    // Cancelling a waiting run takes it out of the queue: those behind it move up.
    let cache = store.specs();
    let cancelled = store.write(|tx| tx.cancel_run(cache, &r3.id)).unwrap();
    assert_eq!(cancelled.status, RunStatus::Cancelled);
    assert_eq!(show(store, &r4.id).concurrency.unwrap().position, Some(2));

    // Only the admitted runs' steps can be claimed; each end admits the next waiting run.
    let agent = register(store, "w1");
    let tasks = claim(store, &agent, 10, LEASE);
    let mut claimed: Vec<&str> = tasks.iter().map(|t| t.lease.run_id.as_str()).collect();
    claimed.sort_unstable();
    let mut expected = vec![r1.id.as_str(), other.id.as_str()];
    expected.sort_unstable();
    assert_eq!(claimed, expected);
    for t in &tasks {
        assert!(complete(store, &t.lease, StepResult::ok(BTreeMap::new())));
    }
    assert!(
        show(store, &r2.id)
            .concurrency
            .unwrap()
            .admitted_at
            .is_none()
    );
    let ran = work_off(store, &agent);
    let prod: Vec<&String> = ran.iter().filter(|id| **id != other.id).collect();
    assert_eq!(
        prod,
        vec![&r1.id, &r2.id, &r4.id],
        "first come, first served"
    );
    for id in [&r1.id, &r2.id, &r4.id, &other.id] {
        assert_eq!(run_status(store, id), RunStatus::Succeeded);
    }
    assert_eq!(run_status(store, &r3.id), RunStatus::Cancelled);
    let r2_done = show(store, &r2.id);
    assert!(r2_done.concurrency.unwrap().admitted_at.is_some());
}

fn skip_and_cancel_running_decide_at_once(store: &Arc<dyn Backend>) {
    apply(store, &deploy(1, OnConflict::Skip));
    let first = start(store, "prod");
    let skipped = start(store, "prod");
    assert_eq!(skipped.status, RunStatus::Cancelled);
    let err = skipped.error.unwrap();
    assert!(
        err.starts_with("skipped: concurrency key \"deploy-prod\" is at its limit")
            && err.contains(crate::model::short_id(&first.id)),
        "{err}"
    );
    let cache = store.specs();
    let steps = store
        .read(|tx| tx.run_detail(cache, &skipped.id))
        .unwrap()
        .steps;
    assert!(steps.iter().all(|s| s.status == StepStatus::Skipped));
    assert_eq!(
        start(store, "staging").status,
        RunStatus::Queued,
        "another key"
    );

    // A new version that cancels the running one instead.
    apply(store, &deploy(1, OnConflict::CancelRunning));
    let agent = register(store, "w1");
    let held = claim(store, &agent, 10, LEASE);
    assert!(held.iter().any(|t| t.lease.run_id == first.id), "{held:?}");
    let newer = start(store, "prod");
    assert!(newer.concurrency.unwrap().admitted_at.is_some());
    let old = show(store, &first.id);
    assert_eq!(old.status, RunStatus::Cancelled);
    let why = old.error.unwrap();
    assert!(
        why.contains("cancel_running") && why.contains(crate::model::short_id(&newer.id)),
        "{why}"
    );
    // The old run's step is cancelled (its agent is told at its next heartbeat); the new
    // run's steps are claimable.
    let cache = store.specs();
    let old_steps = store
        .read(|tx| tx.run_detail(cache, &first.id))
        .unwrap()
        .steps;
    assert_eq!(old_steps[0].status, StepStatus::Cancelled, "{old_steps:?}");
    let next = claim(store, &agent, 10, LEASE);
    assert!(next.iter().any(|t| t.lease.run_id == newer.id), "{next:?}");
}

fn a_retry_takes_a_free_slot_or_is_refused(store: &Arc<dyn Backend>) {
    apply(store, &deploy(1, OnConflict::Queue));
    let first = start(store, "prod");
    let cache = store.specs();
    store.write(|tx| tx.cancel_run(cache, &first.id)).unwrap();
    let second = start(store, "prod");
    assert!(second.concurrency.unwrap().admitted_at.is_some());
    let refused = store
        .write(|tx| tx.retry_run(cache, &first.id, None))
        .unwrap_err();
    assert!(
        matches!(&refused, crate::Error::Conflict(m) if m.contains("at its limit")),
        "{refused:?}"
    );
    store.write(|tx| tx.cancel_run(cache, &second.id)).unwrap();
    let again = store
        .write(|tx| tx.retry_run(cache, &first.id, None))
        .unwrap();
    assert_eq!(again.status, RunStatus::Running);
    // It holds the slot now: a new run waits behind it.
    let third = start(store, "prod");
    assert_eq!(
        third.concurrency.unwrap().waiting_for,
        vec![first.id.clone()]
    );
}

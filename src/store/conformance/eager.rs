//! What eager dispatch (`control::local::eager`) relies on, on every backend: recording results
//! says whether a step may have become ready, and a claim made in the same transaction as the
//! completion leases that step there, as the ordinary claim would (labels included), once.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{LEASE, apply, claim, postgres, register, sqlite, start_run, step, step_statuses};
use crate::engine::StepLimits;
use crate::model::{
    AgentSelector, ConcurrencySpec, LeaseRef, OnConflict, StepResult, StepStatus, StepTask,
    WorkflowSpec,
};
use crate::store::api::{Backend, Completed};

on_both!(
    a_completion_says_what_it_readied_and_a_claim_in_its_transaction_takes_it,
    a_run_admitted_by_an_end_counts_as_readied,
);

/// Complete `lease` and, in the same transaction, claim up to `max` for `agent`.
fn complete_then_claim(
    store: &Arc<dyn Backend>,
    lease: &LeaseRef,
    agent: &str,
    max: u32,
) -> (Completed, Vec<StepTask>) {
    let cache = store.specs();
    let results = [(lease.clone(), StepResult::ok(BTreeMap::new()))];
    store
        .write(|tx| {
            let done = tx.complete_steps_detailed(cache, &results, 1 << 20)?;
            let claimed = tx.claim(cache, agent, max, LEASE, &StepLimits::default())?;
            Ok((done, claimed.tasks))
        })
        .unwrap()
}

fn status(store: &Arc<dyn Backend>, run: &str, id: &str) -> StepStatus {
    step_statuses(store, run)
        .into_iter()
        .find(|(s, _)| s == id)
        .map(|(_, s)| s)
        .unwrap()
}

fn a_completion_says_what_it_readied_and_a_claim_in_its_transaction_takes_it(
    store: &Arc<dyn Backend>,
) {
    let mut gpu = step("gpu", &["a"]);
    gpu.agent = Some(AgentSelector {
        labels: BTreeMap::from([("gpu".to_string(), "yes".to_string())]),
    });
    apply(
        store,
        &WorkflowSpec::new("chain", vec![step("a", &[]), step("b", &["a"]), gpu]),
    );
    let run = start_run(store, "chain");
    let plain = register(store, "plain");
    let a = claim(store, &plain, 1, LEASE);
    assert_eq!(a.len(), 1);
    // `a` readies `b` and `gpu`; the plain agent's claim in the same transaction takes `b`
    // (its labels do not satisfy `gpu`'s selector), with the first attempt.
    let (done, got) = complete_then_claim(store, &a[0].lease, &plain, 4);
    assert_eq!(done.accepted, [true]);
    assert!(
        done.readied,
        "a completion that readies its dependents says so"
    );
    let ids: Vec<&str> = got.iter().map(|t| t.lease.step_id.as_str()).collect();
    assert_eq!(ids, ["b"]);
    assert_eq!(got[0].lease.attempt, 1);
    assert_eq!(status(store, &run, "b"), StepStatus::Leased);
    assert_eq!(status(store, &run, "gpu"), StepStatus::Ready);
    // Granted once: an ordinary claim now finds nothing for the plain agent.
    assert!(claim(store, &plain, 4, LEASE).is_empty());
    // `b` readies nothing (`gpu` was ready already).
    let (done, got) = complete_then_claim(store, &got[0].lease, &plain, 4);
    assert_eq!(done.accepted, [true]);
    assert!(!done.readied);
    assert!(got.is_empty());
    // A refused (stale) result readies nothing either.
    let (done, _) = complete_then_claim(store, &a[0].lease, &plain, 4);
    assert_eq!(done.accepted, [false]);
    assert!(!done.readied);
}

/// A run's end frees its concurrency slot: the next waiting run is admitted with its ready
/// steps, which counts as readied.
fn a_run_admitted_by_an_end_counts_as_readied(store: &Arc<dyn Backend>) {
    let mut spec = WorkflowSpec::new("one", vec![step("only", &[])]);
    spec.concurrency = Some(ConcurrencySpec {
        key: "k".into(),
        limit: 1,
        on_conflict: OnConflict::Queue,
    });
    apply(store, &spec);
    let first = start_run(store, "one");
    let second = start_run(store, "one");
    let agent = register(store, "w1");
    let got = claim(store, &agent, 4, LEASE);
    assert_eq!(got.len(), 1, "only the admitted run's step is ready");
    assert_eq!(got[0].lease.run_id, first);
    let (done, next) = complete_then_claim(store, &got[0].lease, &agent, 4);
    assert!(done.readied);
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].lease.run_id, second);
}

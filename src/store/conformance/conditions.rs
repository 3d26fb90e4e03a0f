//! `if:` and `when:` on every backend: a run's root steps pass their gate when it is created,
//! also while it waits for its concurrency slot (a false one is skipped at once, a true one
//! becomes ready only when the run is admitted), and a condition over an upstream output is
//! decided from the outputs the store holds.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{
    LEASE, apply, claim, complete, postgres, register, run_status, sqlite, step, step_statuses,
};
use crate::model::{
    ConcurrencySpec, OnConflict, ParamSpec, ParamType, RunStatus, StepResult, StepStatus,
    WorkflowSpec,
};
use crate::store::api::Backend;

on_both!(
    root_gates_are_passed_at_creation_and_admission_makes_open_ones_ready,
    a_condition_reads_stored_outputs,
);

fn start(store: &Arc<dyn Backend>, workflow: &str, go: bool) -> String {
    let cache = store.specs();
    let params = BTreeMap::from([("go".to_string(), serde_json::json!(go))]);
    store
        .write(|tx| tx.create_run(cache, workflow, &params, None, None, "tester"))
        .unwrap()
        .id
}

fn go_param() -> Vec<ParamSpec> {
    vec![ParamSpec {
        name: "go".into(),
        ty: ParamType::Bool,
        required: false,
        default: Some(false.into()),
        allowed: None,
        description: None,
    }]
}

fn status_of(store: &Arc<dyn Backend>, run: &str, step: &str) -> StepStatus {
    step_statuses(store, run)
        .into_iter()
        .find(|(id, _)| id == step)
        .map(|(_, s)| s)
        .unwrap()
}

fn root_gates_are_passed_at_creation_and_admission_makes_open_ones_ready(store: &Arc<dyn Backend>) {
    let mut maybe = step("maybe", &[]);
    maybe.condition = Some("params.go".into());
    let mut never = step("never", &[]);
    never.condition = Some("not params.go".into());
    let mut spec = WorkflowSpec::new("gated", vec![maybe, never]);
    spec.params = go_param();
    spec.concurrency = Some(ConcurrencySpec {
        key: "one".into(),
        limit: 1,
        on_conflict: OnConflict::Queue,
    });
    apply(store, &spec);
    let first = start(store, "gated", true);
    assert_eq!(status_of(store, &first, "maybe"), StepStatus::Ready);
    assert_eq!(status_of(store, &first, "never"), StepStatus::Skipped);
    // The second waits for the slot: its open root step stays pending, the other is skipped.
    let second = start(store, "gated", true);
    assert_eq!(status_of(store, &second, "maybe"), StepStatus::Pending);
    assert_eq!(status_of(store, &second, "never"), StepStatus::Skipped);
    let agent = register(store, "w1");
    let tasks = claim(store, &agent, 10, LEASE);
    assert_eq!(tasks.len(), 1, "only the admitted run's step is claimable");
    assert_eq!(tasks[0].lease.run_id, first);
    assert!(complete(
        store,
        &tasks[0].lease,
        StepResult::ok(BTreeMap::new())
    ));
    assert_eq!(run_status(store, &first), RunStatus::Succeeded);
    // Admitted: its open root step is ready now.
    assert_eq!(status_of(store, &second, "maybe"), StepStatus::Ready);
    // go=false: `maybe` is skipped at once, `never` waits for the slot.
    let other = start(store, "gated", false);
    assert_eq!(status_of(store, &other, "maybe"), StepStatus::Skipped);
    assert_eq!(status_of(store, &other, "never"), StepStatus::Pending);
    for _ in 0..2 {
        let tasks = claim(store, &agent, 10, LEASE);
        assert_eq!(tasks.len(), 1);
        assert!(complete(
            store,
            &tasks[0].lease,
            StepResult::ok(BTreeMap::new())
        ));
    }
    assert_eq!(run_status(store, &second), RunStatus::Succeeded);
    // A step skipped by a condition, nothing failed: the run succeeded.
    assert_eq!(status_of(store, &other, "never"), StepStatus::Succeeded);
    assert_eq!(run_status(store, &other), RunStatus::Succeeded);
}

fn a_condition_reads_stored_outputs(store: &Arc<dyn Backend>) {
    // `check` is gated when `other` ends, after `build` stored its outputs.
    let mut check = step("check", &["build", "other"]);
    check.condition =
        Some("steps.build.outputs.v == '2' and steps.other.status == 'succeeded'".into());
    let mut after = step("after", &["check"]);
    after.when = crate::model::When::Always;
    let mut spec = WorkflowSpec::new(
        "outs",
        vec![step("build", &[]), step("other", &[]), check, after],
    );
    spec.params = go_param();
    apply(store, &spec);
    for (v, want) in [("2", StepStatus::Ready), ("3", StepStatus::Skipped)] {
        let run = start(store, "outs", true);
        let agent = register(store, &format!("w-{v}"));
        let tasks = claim(store, &agent, 10, LEASE);
        let lease = |id: &str| &tasks.iter().find(|t| t.lease.step_id == id).unwrap().lease;
        let outputs = BTreeMap::from([("v".to_string(), v.to_string())]);
        assert!(complete(store, lease("build"), StepResult::ok(outputs)));
        assert_eq!(status_of(store, &run, "check"), StepStatus::Pending);
        assert!(complete(
            store,
            lease("other"),
            StepResult::ok(BTreeMap::new())
        ));
        assert_eq!(status_of(store, &run, "check"), want, "v={v}");
        // `after` runs either way (when: always).
        if want == StepStatus::Ready {
            assert_eq!(status_of(store, &run, "after"), StepStatus::Pending);
        } else {
            assert_eq!(status_of(store, &run, "after"), StepStatus::Ready, "v={v}");
        }
    }
}

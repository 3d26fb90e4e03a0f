//! Fan-out on every backend (issue 13): a matrix run's instance rows (with their variables,
//! handed to the agent), `max_parallel` holding instances back until a slot frees, and a
//! `foreach:` step adding its instance rows when its source step succeeds — counted in the
//! run, listed in order, retried like any step; retried from, the step's instance rows are
//! removed and made anew (from its source's new output when the source reran).

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{
    LEASE, apply, claim, complete, postgres, register, run_status, sqlite, start_run, step,
    step_statuses,
};
use crate::model::{FanOut, MatrixAxis, RunStatus, StepResult, StepStatus, WorkflowSpec};
use crate::store::api::Backend;

on_both!(
    matrix_instances_get_their_values_one_slot_at_a_time,
    a_foreach_step_adds_its_instances_when_its_source_succeeds,
    a_retry_from_a_foreach_step_makes_its_instances_anew,
);

fn ok() -> StepResult {
    StepResult::ok(BTreeMap::new())
}

fn total(store: &Arc<dyn Backend>, run: &str) -> u32 {
    let cache = store.specs();
    store
        .read(|tx| tx.run_detail(cache, run))
        .unwrap()
        .run
        .steps_total
}

fn matrix_instances_get_their_values_one_slot_at_a_time(store: &Arc<dyn Backend>) {
    let mut test = step("test", &[]);
    let mut fan = FanOut::matrix(vec![MatrixAxis {
        name: "region".into(),
        values: vec!["eu".into(), "us".into(), "ap".into()],
    }]);
    fan.max_parallel = Some(1);
    test.fan_out = Some(fan);
    apply(
        store,
        &WorkflowSpec::new("fan", vec![test, step("report", &["test"])]),
    );
    let run = start_run(store, "fan");
    assert_eq!(total(store, &run), 4);
    let agent = register(store, "w1");
    for region in ["eu", "us", "ap"] {
        let tasks = claim(store, &agent, 4, LEASE);
        assert_eq!(tasks.len(), 1, "one slot: {tasks:?}");
        assert_eq!(tasks[0].lease.step_id, format!("test[region={region}]"));
        let var = ["IMX_MATRIX_", "REGION"].concat();
        assert_eq!(tasks[0].env.get(&var).map(String::as_str), Some(region));
        assert!(complete(store, &tasks[0].lease, ok()));
    }
    let last = claim(store, &agent, 4, LEASE);
    assert_eq!(last.len(), 1);
    assert_eq!(last[0].lease.step_id, "report");
    assert!(complete(store, &last[0].lease, ok()));
    assert_eq!(run_status(store, &run), RunStatus::Succeeded);
}

fn a_foreach_step_adds_its_instances_when_its_source_succeeds(store: &Arc<dyn Backend>) {
    let mut each = step("each", &["list"]);
    each.fan_out = Some(FanOut::foreach("list", "items"));
    apply(
        store,
        &WorkflowSpec::new(
            "each",
            vec![step("list", &[]), each, step("after", &["each"])],
        ),
    );
    let run = start_run(store, "each");
    assert_eq!(total(store, &run), 3);
    let agent = register(store, "w1");
    let list = claim(store, &agent, 4, LEASE);
    assert_eq!(list.len(), 1);
    let items = BTreeMap::from([("items".to_string(), r#"["a", "b"]"#.to_string())]);
    assert!(complete(store, &list[0].lease, StepResult::ok(items)));
    assert_eq!(total(store, &run), 5);
    let ids: Vec<String> = step_statuses(store, &run)
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(ids, ["list", "each", "each[0]", "each[1]", "after"]);
    let mut tasks = claim(store, &agent, 4, LEASE);
    tasks.sort_by(|a, b| a.lease.step_id.cmp(&b.lease.step_id));
    let got: Vec<(&str, &str)> = tasks
        .iter()
        .map(|t| (t.lease.step_id.as_str(), t.env["IMX_ITEM"].as_str()))
        .collect();
    assert_eq!(got, [("each[0]", "a"), ("each[1]", "b")]);
    // One item fails: the step after is skipped and the run fails; a retry runs that item
    // again, and the step after waits for it.
    assert!(complete(store, &tasks[0].lease, ok()));
    let failed = StepResult::failed("exit code 1", Some(1));
    assert!(complete(store, &tasks[1].lease, failed));
    assert_eq!(run_status(store, &run), RunStatus::Failed);
    let cache = store.specs();
    store.write(|tx| tx.retry_run(cache, &run, None)).unwrap();
    let statuses: BTreeMap<String, StepStatus> = step_statuses(store, &run).into_iter().collect();
    assert_eq!(statuses["each[1]"], StepStatus::Ready);
    assert_eq!(statuses["after"], StepStatus::Pending);
    let again = claim(store, &agent, 4, LEASE);
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].lease.step_id, "each[1]");
    assert_eq!(again[0].env["IMX_ITEM"], "b");
    assert!(complete(store, &again[0].lease, ok()));
    let after = claim(store, &agent, 4, LEASE);
    assert_eq!(after[0].lease.step_id, "after");
    assert!(complete(store, &after[0].lease, ok()));
    assert_eq!(run_status(store, &run), RunStatus::Succeeded);
}

/// Claim what is ready (up to 4), complete each ok; the `IMX_ITEM` of each, by step id.
fn run_ready(store: &Arc<dyn Backend>, agent: &str) -> Vec<(String, String)> {
    let mut tasks = claim(store, agent, 4, LEASE);
    tasks.sort_by(|a, b| a.lease.step_id.cmp(&b.lease.step_id));
    let mut got = Vec::new();
    for t in &tasks {
        let item = t.env.get("IMX_ITEM").cloned().unwrap_or_default();
        got.push((t.lease.step_id.clone(), item));
        assert!(complete(store, &t.lease, ok()));
    }
    got
}

fn ids(store: &Arc<dyn Backend>, run: &str) -> Vec<String> {
    step_statuses(store, run)
        .into_iter()
        .map(|(id, _)| id)
        .collect()
}

fn a_retry_from_a_foreach_step_makes_its_instances_anew(store: &Arc<dyn Backend>) {
    let mut each = step("each", &["list"]);
    each.fan_out = Some(FanOut::foreach("list", "items"));
    apply(
        store,
        &WorkflowSpec::new(
            "again",
            vec![step("list", &[]), each, step("after", &["each"])],
        ),
    );
    let run = start_run(store, "again");
    let agent = register(store, "w1");
    let list = claim(store, &agent, 4, LEASE);
    let items = |json: &str| BTreeMap::from([("items".to_string(), json.to_string())]);
    assert!(complete(
        store,
        &list[0].lease,
        StepResult::ok(items(r#"["a", "b", "c"]"#))
    ));
    assert_eq!(run_ready(store, &agent).len(), 3);
    assert_eq!(run_ready(store, &agent)[0].0, "after");
    assert_eq!(run_status(store, &run), RunStatus::Succeeded);
    let cache = store.specs();

    // From the foreach step: three new instance rows from the stored output.
    store
        .write(|tx| tx.retry_run(cache, &run, Some("each")))
        .unwrap();
    assert_eq!(total(store, &run), 6);
    let statuses: BTreeMap<String, StepStatus> = step_statuses(store, &run).into_iter().collect();
    assert_eq!(statuses["each"], StepStatus::Succeeded);
    assert_eq!(statuses["each[2]"], StepStatus::Ready);
    assert_eq!(statuses["after"], StepStatus::Pending);
    let again = run_ready(store, &agent);
    let want: Vec<(String, String)> = ["a", "b", "c"]
        .iter()
        .enumerate()
        .map(|(i, v)| (format!("each[{i}]"), (*v).to_string()))
        .collect();
    assert_eq!(again, want);
    assert_eq!(run_ready(store, &agent)[0].0, "after");
    assert_eq!(run_status(store, &run), RunStatus::Succeeded);

    // From the source: no instances until it ran again, then one per item of its new output.
    store
        .write(|tx| tx.retry_run(cache, &run, Some("list")))
        .unwrap();
    assert_eq!(ids(store, &run), ["list", "each", "after"]);
    assert_eq!(total(store, &run), 3);
    let list = claim(store, &agent, 4, LEASE);
    assert_eq!(list.len(), 1);
    assert!(complete(
        store,
        &list[0].lease,
        StepResult::ok(items(r#"["z"]"#))
    ));
    assert_eq!(ids(store, &run), ["list", "each", "each[0]", "after"]);
    assert_eq!(total(store, &run), 4);
    assert_eq!(
        run_ready(store, &agent),
        [("each[0]".to_string(), "z".to_string())]
    );
    assert_eq!(run_ready(store, &agent)[0].0, "after");
    assert_eq!(run_status(store, &run), RunStatus::Succeeded);
}

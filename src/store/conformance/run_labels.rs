//! Run labels and reruns on every backend: a run keeps its labels and the run it reruns (read
//! back by id and in lists); `list_runs` with labels returns only runs with all of them, newest
//! first, paged by cursor and combined with the other filters; a run at an older workflow
//! version can be started; retention deletes a run's labels with it; a notification rule keeps
//! its labels and fires only on the ends of runs that have them all.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{LEASE, WorkflowSpec, apply, claim, complete, postgres, register, sqlite, step};
use crate::model::{Run, RunFilter, StepResult};
use crate::store::api::{Backend, RunRequest};

on_both!(
    labels_are_kept_and_filter_runs,
    a_rerun_names_its_run_and_may_run_an_older_version,
    retention_deletes_a_runs_labels,
    a_rule_scoped_by_labels_fires_only_for_runs_with_them,
    a_runs_id_carries_its_creation_time,
);

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect()
}

fn start(
    store: &Arc<dyn Backend>,
    workflow: &str,
    version: Option<u32>,
    labels: &BTreeMap<String, String>,
    rerun_of: Option<&str>,
) -> Run {
    let cache = store.specs();
    store
        .write(|tx| {
            tx.create_run_with(
                cache,
                &RunRequest {
                    workflow,
                    version,
                    params: &BTreeMap::new(),
                    timeout_ms: None,
                    default_timeout_ms: None,
                    created_by: "tester",
                    labels,
                    rerun_of,
                    schedule: None,
                    id: None,
                },
            )
        })
        .unwrap()
}

fn list(store: &Arc<dyn Backend>, filter: RunFilter) -> (Vec<String>, Option<String>) {
    let page = store.read(|tx| tx.list_runs(&filter)).unwrap();
    (
        page.items.into_iter().map(|r| r.id).collect(),
        page.next_cursor,
    )
}

/// `ids` newest first as lists give them: by id (runs made in one millisecond have ULIDs in no
/// set order, so creation order is not id order).
fn newest_first(ids: &[&str]) -> Vec<String> {
    let mut ids: Vec<String> = ids.iter().map(|s| (*s).to_string()).collect();
    ids.sort_by(|a, b| b.cmp(a));
    ids
}

fn labels_are_kept_and_filter_runs(store: &Arc<dyn Backend>) {
    apply(store, &WorkflowSpec::new("one", vec![step("a", &[])]));
    apply(store, &WorkflowSpec::new("two", vec![step("a", &[])]));
    let pr42 = labels(&[("pr", "42"), ("sha", "abc")]);
    let a = start(store, "one", None, &pr42, None);
    let b = start(
        store,
        "one",
        None,
        &labels(&[("pr", "42"), ("sha", "def")]),
        None,
    );
    let c = start(store, "two", None, &labels(&[("pr", "42")]), None);
    let d = start(store, "one", None, &labels(&[("pr", "7")]), None);
    let none = start(store, "one", None, &BTreeMap::new(), None);
    assert_eq!(a.labels, pr42);
    assert!(none.labels.is_empty());
    // Read back by id and in a plain list.
    let cache = store.specs();
    let detail = store.read(|tx| tx.run_detail(cache, &a.id)).unwrap();
    assert_eq!(detail.run.labels, pr42);
    assert_eq!(detail.run.rerun_of, None);
    let all = store
        .read(|tx| tx.list_runs(&RunFilter::default()))
        .unwrap();
    assert_eq!(all.items.len(), 5);
    assert_eq!(
        all.items.iter().find(|r| r.id == d.id).unwrap().labels["pr"],
        "7"
    );

    let by = |pairs: &[(&str, &str)]| RunFilter {
        labels: labels(pairs),
        ..RunFilter::default()
    };
    // One label: every run with it, newest first.
    let (ids, _) = list(store, by(&[("pr", "42")]));
    let pr42 = newest_first(&[&a.id, &b.id, &c.id]);
    assert_eq!(ids, pr42);
    // Several: all must match.
    let (ids, _) = list(store, by(&[("pr", "42"), ("sha", "abc")]));
    assert_eq!(ids, vec![a.id.clone()]);
    let (ids, _) = list(store, by(&[("pr", "42"), ("sha", "nope")]));
    assert!(ids.is_empty());
    // A value of another key does not match.
    let (ids, _) = list(store, by(&[("sha", "42")]));
    assert!(ids.is_empty());
    // With the other filters.
    let (ids, _) = list(
        store,
        RunFilter {
            workflow: Some("one".into()),
            ..by(&[("pr", "42")])
        },
    );
    assert_eq!(ids, newest_first(&[&a.id, &b.id]));
    // Paged by cursor.
    let (ids, next) = list(
        store,
        RunFilter {
            limit: Some(2),
            ..by(&[("pr", "42")])
        },
    );
    assert_eq!(ids, pr42[..2]);
    assert_eq!(next.as_deref(), Some(pr42[1].as_str()));
    let (ids, next) = list(
        store,
        RunFilter {
            limit: Some(2),
            cursor: next,
            ..by(&[("pr", "42")])
        },
    );
    assert_eq!(ids, pr42[2..]);
    assert_eq!(next, None);

    // The dashboard's window filters the same way (`/pr=42`), with its other filters.
    let window = |pairs: &[(&str, &str)], workflow: Option<&str>| {
        let q = crate::control::RunQuery {
            labels: labels(pairs),
            workflow: workflow.map(str::to_string),
            limit: 50,
            ..crate::control::RunQuery::default()
        };
        let page = store.read(|tx| tx.dashboard_runs(&q)).unwrap();
        page.items.into_iter().map(|r| r.id).collect::<Vec<_>>()
    };
    assert_eq!(window(&[("pr", "42")], None), pr42);
    assert_eq!(
        window(&[("pr", "42"), ("sha", "abc")], None),
        vec![a.id.clone()]
    );
    assert!(window(&[("pr", "42"), ("sha", "nope")], None).is_empty());
    assert!(window(&[("sha", "42")], None).is_empty());
    assert_eq!(
        window(&[("pr", "42")], Some("one")),
        newest_first(&[&a.id, &b.id])
    );
}

fn a_rerun_names_its_run_and_may_run_an_older_version(store: &Arc<dyn Backend>) {
    apply(store, &WorkflowSpec::new("one", vec![step("a", &[])]));
    let old = start(store, "one", None, &labels(&[("pr", "1")]), None);
    assert_eq!(old.workflow_version, 1);
    apply(
        store,
        &WorkflowSpec::new("one", vec![step("a", &[]), step("b", &["a"])]),
    );
    let again = start(store, "one", Some(1), &old.labels, Some(&old.id));
    assert_eq!(again.workflow_version, 1);
    assert_eq!(again.steps_total, 1);
    assert_eq!(again.rerun_of.as_deref(), Some(old.id.as_str()));
    assert_eq!(again.labels, old.labels);
    let latest = start(store, "one", None, &BTreeMap::new(), Some(&old.id));
    assert_eq!(latest.workflow_version, 2);
    assert_eq!(latest.steps_total, 2);
    let cache = store.specs();
    let detail = store.read(|tx| tx.run_detail(cache, &again.id)).unwrap();
    assert_eq!(detail.run.rerun_of.as_deref(), Some(old.id.as_str()));
    // The old run is untouched.
    let old_now = store.read(|tx| tx.run_detail(cache, &old.id)).unwrap().run;
    assert_eq!(old_now.rerun_of, None);
    assert_eq!(old_now.status, old.status);
    // An unknown version is not found.
    let err = store
        .write(|tx| {
            tx.create_run_with(
                cache,
                &RunRequest {
                    workflow: "one",
                    version: Some(9),
                    params: &BTreeMap::new(),
                    timeout_ms: None,
                    default_timeout_ms: None,
                    created_by: "tester",
                    labels: &BTreeMap::new(),
                    rerun_of: None,
                    schedule: None,
                    id: None,
                },
            )
        })
        .unwrap_err();
    assert_eq!(err.kind(), crate::error::ErrorKind::NotFound, "{err}");
}

fn retention_deletes_a_runs_labels(store: &Arc<dyn Backend>) {
    apply(store, &WorkflowSpec::new("one", vec![step("a", &[])]));
    let run = start(store, "one", None, &labels(&[("pr", "9")]), None);
    let agent = register(store, "w1");
    let task = claim(store, &agent, 1, LEASE).remove(0);
    assert!(complete(
        store,
        &task.lease,
        StepResult::ok(BTreeMap::new())
    ));
    let count = || store.read(|tx| tx.row_count("run_labels")).unwrap();
    assert_eq!(count(), 1);
    let cutoff = crate::model::now_ms() + 60_000;
    let (runs, _) = store
        .write(|tx| tx.delete_finished_runs(cutoff, 1_000))
        .unwrap();
    assert_eq!(runs, 1);
    assert_eq!(count(), 0);
    let (ids, _) = list(
        store,
        RunFilter {
            labels: labels(&[("pr", "9")]),
            ..RunFilter::default()
        },
    );
    assert!(ids.is_empty(), "{} is gone", run.id);
}

fn a_rule_scoped_by_labels_fires_only_for_runs_with_them(store: &Arc<dyn Backend>) {
    use crate::notify::{NewRule, On, Rule, RuleSource};
    apply(store, &WorkflowSpec::new("one", vec![step("a", &[])]));
    let rule = Rule {
        id: "r-pr42".into(),
        rule: NewRule {
            on: On::Succeeded,
            channel: "ops".into(),
            workflow: None,
            labels: labels(&[("pr", "42"), ("team", "ops")]),
            threshold_ms: None,
            after: 1,
            cooldown_ms: 0,
            group_ms: 0,
        },
        source: RuleSource::Command,
        created_at: crate::model::now_ms(),
        created_by: "tester".into(),
    };
    store.write(|tx| tx.notify_insert_rule(&rule)).unwrap();
    let rules = store.read(|tx| tx.notify_rules()).unwrap();
    assert_eq!(rules, vec![rule.clone()], "the rule keeps its labels");

    let agent = register(store, "w1");
    let finish = |run: &Run| {
        let task = claim(store, &agent, 1, LEASE).remove(0);
        assert_eq!(task.lease.run_id, run.id);
        assert!(complete(
            store,
            &task.lease,
            StepResult::ok(BTreeMap::new())
        ));
        let now = crate::model::now_ms();
        store
            .write(|tx| crate::notify::deliver::process_outbox(tx, &rules, now))
            .unwrap();
        store.read(|tx| tx.notify_latest(&rule.id)).unwrap()
    };
    // A run with only one of the labels, and one with none: no message.
    let partial = start(store, "one", None, &labels(&[("pr", "42")]), None);
    assert_eq!(
        store.read(|tx| tx.notify_run_labels(&partial.id)).unwrap(),
        partial.labels
    );
    assert!(finish(&partial).is_none());
    let plain = start(store, "one", None, &BTreeMap::new(), None);
    assert!(finish(&plain).is_none());
    // A run with both (and another): a message.
    let both = start(
        store,
        "one",
        None,
        &labels(&[("pr", "42"), ("team", "ops"), ("sha", "x")]),
        None,
    );
    assert!(finish(&both).is_some());
}

/// A run's id (a ULID) carries the very millisecond of its `created_at`, so `list_runs` since
/// a run's creation time (an id bound) always lists it. The id used to be made a moment
/// before the time was read: across a millisecond's edge the run fell out of `--since`.
fn a_runs_id_carries_its_creation_time(store: &Arc<dyn Backend>) {
    apply(store, &WorkflowSpec::new("one", vec![step("a", &[])]));
    for _ in 0..300 {
        let run = start(store, "one", None, &BTreeMap::new(), None);
        let at = ulid::Ulid::from_string(&run.id).unwrap().timestamp_ms();
        assert_eq!(i64::try_from(at).unwrap(), run.created_at, "{}", run.id);
        let filter = RunFilter {
            since: Some(run.created_at),
            limit: Some(500),
            ..RunFilter::default()
        };
        assert!(list(store, filter).0.contains(&run.id), "{}", run.id);
    }
}

//! Every table, row by row ([`Tables`]), on every backend: an export imports into a fresh
//! store of either kind with the same rows per table, a verifying audit chain, and ids that
//! continue (the event feed's cursors included); `store::copy` refuses a target holding data
//! unless forced, and copies SQLite → PostgreSQL → SQLite with nothing lost.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{
    LEASE, WorkflowSpec, apply, claim, complete, postgres, register, run_status, sqlite, start_run,
    step,
};
use crate::Error;
use crate::auth::Principal;
use crate::backup::logical;
use crate::model::{CapturedLine, LogStream, RunStatus, StepResult};
use crate::store::api::Backend;
use crate::store::copy::copy;

on_both!(
    an_export_imports_into_a_fresh_store_of_either_kind,
    a_copy_refuses_a_store_holding_data_unless_forced,
);

/// Rows per table, read through [`Tables`].
fn counts(store: &Arc<dyn Backend>) -> BTreeMap<String, u64> {
    store
        .read(|tx| {
            let mut out = BTreeMap::new();
            for t in tx.table_names()? {
                let n = tx.row_count(&t)?;
                out.insert(t, n);
            }
            Ok(out)
        })
        .unwrap()
}

/// A store with a bit of everything: workflows, a finished run and a queued one, an agent,
/// log lines, audit records (more than one export batch of them).
fn populate(store: &Arc<dyn Backend>) -> (String, String) {
    apply(store, &WorkflowSpec::new("one", vec![step("a", &[])]));
    let done = start_run(store, "one");
    let agent = register(store, "w1");
    let task = claim(store, &agent, 1, LEASE).remove(0);
    let lines = [CapturedLine::new(LogStream::Stdout, "hello")];
    store
        .write(|tx| tx.append_logs(&task.lease, &lines, 1 << 20))
        .unwrap();
    assert!(complete(
        store,
        &task.lease,
        StepResult::ok(BTreeMap::new())
    ));
    assert_eq!(run_status(store, &done), RunStatus::Succeeded);
    // The queued run is a labelled rerun of the done one: labels and `rerun_of` travel too.
    let cache = store.specs();
    let queued = store
        .write(|tx| {
            tx.create_run_with(
                cache,
                &crate::store::api::RunRequest {
                    workflow: "one",
                    version: None,
                    params: &BTreeMap::new(),
                    timeout_ms: None,
                    default_timeout_ms: None,
                    created_by: "tester",
                    labels: &labelled(),
                    rerun_of: Some(&done),
                    schedule: None,
                    id: None,
                },
            )
        })
        .unwrap()
        .id;
    let who = Principal::local_owner();
    store
        .write(|tx| {
            for i in 0..2500 {
                crate::audit::append(tx, &who, "test.fill", &i.to_string(), "ok", 1.into())?;
            }
            Ok(())
        })
        .unwrap();
    (done, queued)
}

/// The labels of the populated store's queued run.
fn labelled() -> BTreeMap<String, String> {
    BTreeMap::from([("pr".to_string(), "42".to_string())])
}

/// The queued run reads back with its labels and the run it reruns, and the label filter finds
/// it: what an export or a copy must carry.
fn check_labelled(store: &Arc<dyn Backend>, done: &str, queued: &str) {
    let cache = store.specs();
    let run = store.read(|tx| tx.run_detail(cache, queued)).unwrap().run;
    assert_eq!(run.labels, labelled(), "{}", store.location());
    assert_eq!(run.rerun_of.as_deref(), Some(done));
    let found = store
        .read(|tx| {
            tx.list_runs(&crate::model::RunFilter {
                labels: labelled(),
                ..Default::default()
            })
        })
        .unwrap();
    assert_eq!(found.items.len(), 1);
    assert_eq!(found.items[0].id, queued);
}

/// The latest event's id (the feed's cursor).
fn last_event(store: &Arc<dyn Backend>) -> i64 {
    store
        .read_feeds(|tx| tx.events_after(-1, 1))
        .unwrap()
        .last()
        .map_or(0, |e| e.id)
}

fn fresh_stores() -> Vec<(Box<dyn std::any::Any>, Arc<dyn Backend>)> {
    let mut out: Vec<(Box<dyn std::any::Any>, Arc<dyn Backend>)> = Vec::new();
    let (dir, s) = sqlite();
    out.push((Box::new(dir), s));
    if let Some((db, s)) = postgres() {
        out.push((Box::new(db), s));
    }
    out
}

/// Export the populated store; import into a fresh store of each kind: the same rows per
/// table, the chain verifies, the queued run goes on, and new ids (steps, events, audit) come
/// after the imported ones.
fn an_export_imports_into_a_fresh_store_of_either_kind(store: &Arc<dyn Backend>) {
    let (done, queued) = populate(store);
    let before = counts(store);
    assert_eq!(before["run_labels"], 1);
    let mut export = Vec::new();
    let (_, exported) = store
        .read(|tx| logical::export(tx, &mut export, &crate::backup::NoProgress))
        .unwrap();
    assert_eq!(exported, before);
    assert_eq!(before["audit"], 2500);
    let cursor = last_event(store);
    for (_keep, target) in fresh_stores() {
        let (_, imported) = target
            .write(|tx| logical::import(tx, &mut export.as_slice()))
            .unwrap();
        assert_eq!(imported, before);
        assert_eq!(counts(&target), before, "{}", target.location());
        check_labelled(&target, &done, &queued);
        let chain = target
            .read(|tx| crate::audit::chain::verify(tx, &[], &mut |_| {}))
            .unwrap();
        assert!(chain.ok && chain.records == before["audit"], "{chain:?}");
        assert_eq!(
            last_event(&target),
            cursor,
            "the feed's cursor carries over"
        );
        let id = |s: &Arc<dyn Backend>| s.read(|tx| crate::audit::store_id(tx)).unwrap();
        assert_eq!(id(&target), id(store), "the store keeps its identity");
        // The queued run goes on in the copy, and a new one starts: new ids never collide.
        let agent = register(&target, "w2");
        for _ in 0..2 {
            let fresh = start_run(&target, "one");
            for run in [&queued, &fresh] {
                if run_status(&target, run) == RunStatus::Succeeded {
                    continue;
                }
                let task = claim(&target, &agent, 1, LEASE).remove(0);
                assert!(complete(
                    &target,
                    &task.lease,
                    StepResult::ok(BTreeMap::new())
                ));
            }
            assert_eq!(run_status(&target, &fresh), RunStatus::Succeeded);
        }
        assert_eq!(run_status(&target, &queued), RunStatus::Succeeded);
        assert!(
            last_event(&target) > cursor,
            "new events follow the imported ones"
        );
        let who = Principal::local_owner();
        target
            .write(|tx| crate::audit::append(tx, &who, "test.after", "", "ok", 1.into()))
            .unwrap();
        let chain = target
            .read(|tx| crate::audit::chain::verify(tx, &[], &mut |_| {}))
            .unwrap();
        assert!(chain.ok, "{:?}", chain.problem);
    }
}

/// A copy into a store holding data is refused and changes nothing; forced, it replaces the
/// target's rows with the source's.
fn a_copy_refuses_a_store_holding_data_unless_forced(store: &Arc<dyn Backend>) {
    populate(store);
    for (_keep, target) in fresh_stores() {
        apply(&target, &WorkflowSpec::new("other", vec![step("x", &[])]));
        let mine = counts(&target);
        let e = copy(&**store, &*target, false, &mut |_| {}).unwrap_err();
        assert!(matches!(e, Error::Conflict(_)), "{e:?}");
        assert_eq!(counts(&target), mine, "a refused copy changes nothing");
        let report = copy(&**store, &*target, true, &mut |_| {}).unwrap();
        assert!(report.replaced && report.audit.ok);
        assert_eq!(report.tables, counts(store));
        assert_eq!(counts(&target), counts(store));
    }
}

/// SQLite → PostgreSQL → SQLite: the same rows per table at each step, the chain verifies on
/// each, and what was queued still runs at the end.
#[test]
fn sqlite_to_postgres_and_back() {
    let Some((_db, pg)) = postgres() else { return };
    let (_a, first) = sqlite();
    let (_b, back) = sqlite();
    let (done, queued) = populate(&first);
    let up = copy(&*first, &*pg, false, &mut |_| {}).unwrap();
    check_labelled(&pg, &done, &queued);
    let down = copy(&*pg, &*back, false, &mut |_| {}).unwrap();
    check_labelled(&back, &done, &queued);
    assert_eq!(up.tables, counts(&first));
    assert_eq!(down.tables, up.tables);
    assert_eq!(counts(&back), counts(&first));
    assert_eq!(last_event(&back), last_event(&first));
    assert!(up.audit.ok && down.audit.ok);
    assert_eq!(down.audit.head_hash, up.audit.head_hash);
    let agent = register(&back, "w3");
    let task = claim(&back, &agent, 1, LEASE).remove(0);
    assert_eq!(task.lease.run_id, queued);
    assert!(complete(
        &back,
        &task.lease,
        StepResult::ok(BTreeMap::new())
    ));
    assert_eq!(run_status(&back, &queued), RunStatus::Succeeded);
    // Copying a store onto itself is refused.
    let e = copy(&*back, &*back, true, &mut |_| {}).unwrap_err();
    assert!(matches!(e, Error::Invalid { .. }), "{e:?}");
}

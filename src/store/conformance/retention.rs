//! Retention of finished runs on every backend: finished runs that ended before the cutoff go
//! with their steps, log lines and events, in batches; runs that have not finished (and their
//! rows) stay; followers holding a cursor from before a prune see what comes after it.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{
    LEASE, WorkflowSpec, apply, claim, complete, postgres, register, sqlite, start_run, step,
};
use crate::Error;
use crate::model::{CapturedLine, LogStream, StepResult, now_ms};
use crate::store::api::Backend;
use crate::store::api::retention::FeedTable;
use crate::store::retention::{self, Mode};

on_both!(
    finished_runs_go_with_their_rows_and_open_runs_stay,
    batches_are_bounded_and_walks_resume,
    followers_carry_on_after_everything_was_pruned,
);

fn lines(text: &[&str]) -> Vec<CapturedLine> {
    text.iter()
        .map(|t| CapturedLine::new(LogStream::Stdout, *t))
        .collect()
}

fn exists(store: &Arc<dyn Backend>, run: &str) -> bool {
    let cache = store.specs();
    match store.read(|tx| tx.run_detail(cache, run)) {
        Ok(_) => true,
        Err(Error::NotFound { .. }) => false,
        Err(e) => panic!("{e:?}"),
    }
}

/// Every event's run, in feed order.
fn event_runs(store: &Arc<dyn Backend>) -> Vec<Option<String>> {
    store
        .read_feeds(|tx| tx.events_after(0, 10_000))
        .unwrap()
        .into_iter()
        .map(|e| e.run_id)
        .collect()
}

/// A succeeded run with output and a cancelled one go, with every row of theirs; a run whose
/// step an agent holds and a queued run stay, with theirs. A dry count says the same first.
fn finished_runs_go_with_their_rows_and_open_runs_stay(store: &Arc<dyn Backend>) {
    apply(store, &WorkflowSpec::new("one", vec![step("a", &[])]));
    let done = start_run(store, "one");
    let agent = register(store, "w1");
    let tasks = claim(store, &agent, 1, LEASE);
    store
        .write(|tx| tx.append_logs(&tasks[0].lease, &lines(&["d1", "d2", "d3"]), 1 << 20))
        .unwrap();
    assert!(complete(
        store,
        &tasks[0].lease,
        StepResult::ok(BTreeMap::new())
    ));
    let cancelled = start_run(store, "one");
    let cache = store.specs();
    store.write(|tx| tx.cancel_run(cache, &cancelled)).unwrap();
    let held = start_run(store, "one");
    let tasks = claim(store, &agent, 1, LEASE);
    assert_eq!(tasks[0].lease.run_id, held);
    store
        .write(|tx| tx.append_logs(&tasks[0].lease, &lines(&["h1"]), 1 << 20))
        .unwrap();
    let queued = start_run(store, "one");

    // Nothing ended before a cutoff in the past.
    let past = now_ms() - 60_000;
    assert_eq!(retention::count(&**store, past).unwrap().runs, 0);
    let cutoff = now_ms() + 1;
    let counted = retention::count(&**store, cutoff).unwrap();
    assert_eq!((counted.runs, counted.steps), (2, 2));

    let mut heard = Vec::new();
    let pruned = retention::prune(&**store, cutoff, Mode::Now, &mut |p| heard.push(*p)).unwrap();
    assert!(pruned.complete);
    assert_eq!((pruned.runs, pruned.steps, pruned.log_lines), (2, 2, 3));
    assert!(pruned.events >= 2, "{pruned:?}");
    assert_eq!(
        heard.last(),
        Some(&crate::store::retention::Pruned {
            complete: false,
            ..pruned
        })
    );
    assert!(!exists(store, &done) && !exists(store, &cancelled));
    assert!(exists(store, &held) && exists(store, &queued));
    let runs = event_runs(store);
    assert!(
        !runs.iter().flatten().any(|r| *r == done || *r == cancelled),
        "{runs:?}"
    );
    assert!(runs.iter().flatten().any(|r| *r == held));
    assert!(runs.iter().flatten().any(|r| *r == queued));
    let kept = store
        .read_feeds(|tx| tx.log_page(&held, None, 0, 100))
        .unwrap();
    assert_eq!(kept.len(), 1, "the held run's output stays");
    assert!(
        store
            .read_feeds(|tx| tx.log_page(&done, None, 0, 100))
            .unwrap()
            .is_empty()
    );
    // Once the held run ends it goes too (at the next prune); the queued one never.
    assert!(complete(
        store,
        &tasks[0].lease,
        StepResult::ok(BTreeMap::new())
    ));
    // As maintenance: on a store shared by replicas, once this one leads it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while store.maintenance_leader() == Some(false) {
        assert!(
            std::time::Instant::now() < deadline,
            "never led maintenance"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let again = retention::prune(&**store, now_ms() + 1, Mode::Maintenance, &mut |_| {}).unwrap();
    // Its line is the logs table's newest row, which stays (ids are never handed out twice).
    assert_eq!((again.runs, again.log_lines), (1, 0));
    assert!(!exists(store, &held) && exists(store, &queued));
    let nothing = retention::prune(&**store, now_ms() + 1, Mode::Now, &mut |_| {}).unwrap();
    assert_eq!((nothing.runs, nothing.steps), (0, 0));
}

/// One batch deletes about its step budget (at least one run); a walk through a feed table
/// pages by id and says where to go on, and stops at rows newer than the cutoff.
fn batches_are_bounded_and_walks_resume(store: &Arc<dyn Backend>) {
    apply(
        store,
        &WorkflowSpec::new("two", vec![step("a", &[]), step("b", &[])]),
    );
    let cache = store.specs();
    let runs: Vec<String> = (0..3).map(|_| start_run(store, "two")).collect();
    for r in &runs {
        store.write(|tx| tx.cancel_run(cache, r)).unwrap();
    }
    let cutoff = now_ms() + 1;
    // A budget below one run's steps still takes one run; then two runs' worth takes two.
    let one = store
        .write(|tx| tx.delete_finished_runs(cutoff, 1))
        .unwrap();
    assert_eq!(one, (1, 2));
    let two = store
        .write(|tx| tx.delete_finished_runs(cutoff, 4))
        .unwrap();
    assert_eq!(two, (2, 4));
    assert_eq!(
        store
            .write(|tx| tx.delete_finished_runs(cutoff, 4))
            .unwrap(),
        (0, 0)
    );
    // The events of the deleted runs, two rows at a time.
    let total = event_runs(store).len();
    assert!(total >= 6, "{total}");
    let mut after = 0;
    let mut deleted = 0;
    let mut pages = 0;
    loop {
        let w = store
            .write(|tx| tx.prune_feed(FeedTable::Events, after, cutoff, 2))
            .unwrap();
        deleted += w.deleted;
        pages += 1;
        match w.next {
            Some(next) => {
                assert!(next > after);
                after = next;
            }
            None => break,
        }
    }
    assert!(pages >= total / 2, "{pages} pages for {total} rows");
    // All but the newest row, which is kept so no id is handed out twice.
    assert_eq!(deleted as usize, total - 1);
    assert_eq!(event_runs(store).len(), 1);
    // Rows newer than the cutoff stay, and end the walk.
    let w = store
        .write(|tx| tx.prune_feed(FeedTable::Events, 0, now_ms() - 60_000, 2))
        .unwrap();
    assert_eq!((w.deleted, w.next), (0, None));
}

/// Every run finished and was pruned: the feeds' cursors still only grow, so followers that
/// held one from before the prune see each new event and log line after it.
fn followers_carry_on_after_everything_was_pruned(store: &Arc<dyn Backend>) {
    apply(store, &WorkflowSpec::new("one", vec![step("a", &[])]));
    let agent = register(store, "w1");
    let first = start_run(store, "one");
    let tasks = claim(store, &agent, 1, LEASE);
    store
        .write(|tx| tx.append_logs(&tasks[0].lease, &lines(&["a", "b"]), 1 << 20))
        .unwrap();
    assert!(complete(
        store,
        &tasks[0].lease,
        StepResult::ok(BTreeMap::new())
    ));
    let event_cursor = store.read_feeds(|tx| tx.events_after(-1, 1)).unwrap()[0].id;
    let log_cursor = store.read_feeds(|tx| tx.log_marks(-1, 1)).unwrap()[0].last_id;

    let pruned = retention::prune(&**store, now_ms() + 1, Mode::Now, &mut |_| {}).unwrap();
    assert_eq!(pruned.runs, 1);
    assert!(!exists(store, &first));

    let second = start_run(store, "one");
    let tasks = claim(store, &agent, 1, LEASE);
    store
        .write(|tx| tx.append_logs(&tasks[0].lease, &lines(&["c"]), 1 << 20))
        .unwrap();
    let events = store
        .read_feeds(|tx| tx.events_after(event_cursor, 100))
        .unwrap();
    assert!(
        events.iter().any(|e| e.run_id.as_deref() == Some(&second)),
        "a follower at {event_cursor} misses the new run's events: {events:?}"
    );
    assert!(events.iter().all(|e| e.id > event_cursor));
    let marks = store
        .read_feeds(|tx| tx.log_marks(log_cursor, 100))
        .unwrap();
    assert_eq!(marks.len(), 1, "{marks:?}");
    assert_eq!(marks[0].run_id, second);
    let page = store
        .read_feeds(|tx| tx.log_page(&second, None, 0, 100))
        .unwrap();
    assert_eq!(page.len(), 1);
    assert!(page[0].id > log_cursor);
}

//! The event feed and log lines paged by cursor, on every backend: a follower paging from any
//! cursor sees each row once, in order, and the "latest" cursors agree with the pages; a log
//! read backwards from its end, a page at a time, gives the same lines.

use std::sync::Arc;

use super::{WorkflowSpec, apply, claim, postgres, register, sqlite, start_run, step};
use crate::model::{CapturedLine, LogStream, now_ms};
use crate::store::api::Backend;

on_both!(
    events_are_paged_in_order,
    log_lines_are_paged_in_order,
    logs_are_read_backwards_from_any_line
);

/// Every event, read in pages of `limit` from cursor 0.
fn all_events(store: &Arc<dyn Backend>, limit: u32) -> Vec<(i64, String)> {
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let page = store
            .read_feeds(|tx| tx.events_after(after, limit))
            .unwrap();
        assert!(page.len() <= limit as usize);
        let Some(last) = page.last() else {
            return out;
        };
        after = last.id;
        out.extend(page.into_iter().map(|e| (e.id, e.kind)));
    }
}

/// Events come oldest first with growing ids; any page size gives the same sequence; the
/// latest event (`after < 0`) and the overview's event id are the last one.
fn events_are_paged_in_order(store: &Arc<dyn Backend>) {
    assert!(
        store
            .read_feeds(|tx| tx.events_after(-1, 10))
            .unwrap()
            .is_empty()
    );
    apply(store, &WorkflowSpec::new("one", vec![step("a", &[])]));
    start_run(store, "one");
    start_run(store, "one");
    let all = all_events(store, 1000);
    assert!(all.len() >= 3, "{all:?}");
    assert!(all.windows(2).all(|w| w[0].0 < w[1].0), "{all:?}");
    assert_eq!(all_events(store, 2), all);
    assert_eq!(all_events(store, 1), all);
    let last = all[all.len() - 1].0;
    let latest = store.read_feeds(|tx| tx.events_after(-1, 10)).unwrap();
    assert_eq!(latest.len(), 1);
    assert_eq!(latest[0].id, last);
    let overview = store
        .read_feeds(|tx| tx.overview_counts(now_ms(), 0))
        .unwrap();
    assert_eq!(overview.event_id, last);
    start_run(store, "one");
    let more = store.read_feeds(|tx| tx.events_after(last, 1000)).unwrap();
    assert!(!more.is_empty());
    assert!(more.iter().all(|e| e.id > last));
    assert_eq!(all_events(store, 3).len(), all.len() + more.len());
}

/// A run's lines come oldest first, paged from any line; the marks name each run whose log
/// grew, with its newest line, and a negative cursor gives the newest line's mark.
fn log_lines_are_paged_in_order(store: &Arc<dyn Backend>) {
    assert!(
        store
            .read_feeds(|tx| tx.log_marks(-1, 1))
            .unwrap()
            .is_empty()
    );
    apply(store, &WorkflowSpec::new("one", vec![step("a", &[])]));
    let r1 = start_run(store, "one");
    let r2 = start_run(store, "one");
    let agent = register(store, "w1");
    let tasks = claim(store, &agent, 2, super::LEASE);
    assert_eq!(tasks.len(), 2);
    let lease = |run: &str| {
        tasks
            .iter()
            .find(|t| t.lease.run_id == run)
            .unwrap()
            .lease
            .clone()
    };
    let lines = |text: &[&str]| -> Vec<CapturedLine> {
        text.iter()
            .map(|t| CapturedLine::new(LogStream::Stdout, *t))
            .collect()
    };
    let (l1, l2) = (lease(&r1), lease(&r2));
    store
        .write(|tx| tx.append_logs(&l1, &lines(&["1a", "1b"]), 1 << 20))
        .unwrap();
    store
        .write(|tx| tx.append_logs(&l2, &lines(&["2a"]), 1 << 20))
        .unwrap();
    store
        .write(|tx| tx.append_logs(&l1, &lines(&["1c"]), 1 << 20))
        .unwrap();

    let page = store
        .read_feeds(|tx| tx.log_page(&r1, None, 0, 100))
        .unwrap();
    let text: Vec<&str> = page.iter().map(|l| l.line.as_str()).collect();
    assert_eq!(text, ["1a", "1b", "1c"]);
    assert!(page.windows(2).all(|w| w[0].id < w[1].id));
    assert!(page.iter().all(|l| l.step_id == "a" && l.attempt == 1));
    let rest = store
        .read_feeds(|tx| tx.log_page(&r1, Some("a"), page[0].id, 1))
        .unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].line, "1b");
    assert!(
        store
            .read_feeds(|tx| tx.log_page(&r1, Some("zz"), 0, 100))
            .unwrap()
            .is_empty()
    );
    let other = store
        .read_feeds(|tx| tx.log_page(&r2, None, 0, 100))
        .unwrap();
    assert_eq!(other.len(), 1);

    let marks = store.read_feeds(|tx| tx.log_marks(0, 100)).unwrap();
    let runs: Vec<&str> = marks.iter().map(|m| m.run_id.as_str()).collect();
    assert_eq!(runs, [r2.as_str(), r1.as_str()], "by newest line");
    assert_eq!(marks[0].last_id, other[0].id);
    assert_eq!(marks[1].last_id, page[2].id);
    let head = store.read_feeds(|tx| tx.log_marks(-1, 100)).unwrap();
    assert_eq!(head.len(), 1);
    assert_eq!(head[0].last_id, page[2].id);
    let since = store
        .read_feeds(|tx| tx.log_marks(other[0].id, 100))
        .unwrap();
    assert_eq!(since.len(), 1);
    assert_eq!(since[0].run_id, r1);
    assert!(
        store
            .read_feeds(|tx| tx.log_marks(page[2].id, 100))
            .unwrap()
            .is_empty()
    );
}

/// A log read backwards: the last lines (`i64::MAX`), then the page before each page's first
/// line, oldest first within a page; of one step or all; never another run's lines. Paging
/// back to the start gives exactly what paging forwards gives.
fn logs_are_read_backwards_from_any_line(store: &Arc<dyn Backend>) {
    apply(
        store,
        &WorkflowSpec::new("two", vec![step("a", &[]), step("b", &[])]),
    );
    let r1 = start_run(store, "two");
    let r2 = start_run(store, "two");
    let agent = register(store, "w1");
    let tasks = claim(store, &agent, 4, super::LEASE);
    assert_eq!(tasks.len(), 4);
    let lease = |run: &str, step: &str| {
        tasks
            .iter()
            .find(|t| t.lease.run_id == run && t.lease.step_id == step)
            .unwrap()
            .lease
            .clone()
    };
    let line = |t: String| vec![CapturedLine::new(LogStream::Stdout, t)];
    for i in 0..25 {
        let (l, other) = if i % 3 == 0 {
            (lease(&r1, "b"), lease(&r2, "a"))
        } else {
            (lease(&r1, "a"), lease(&r2, "b"))
        };
        let step = if i % 3 == 0 { "b" } else { "a" };
        store
            .write(|tx| tx.append_logs(&l, &line(format!("{step}{i}")), 1 << 20))
            .unwrap();
        store
            .write(|tx| tx.append_logs(&other, &line(format!("other{i}")), 1 << 20))
            .unwrap();
    }
    let text = |page: &[crate::model::LogLine]| -> Vec<String> {
        page.iter().map(|l| l.line.clone()).collect()
    };
    let forward = |step: Option<&str>| {
        store
            .read_feeds(|tx| tx.log_page(&r1, step, 0, 1000))
            .unwrap()
    };
    let backward = |step: Option<&str>, limit: u32| {
        let mut pages = Vec::new();
        let mut before = i64::MAX;
        loop {
            let page = store
                .read_feeds(|tx| tx.log_page_before(&r1, step, before, limit))
                .unwrap();
            assert!(page.len() <= limit as usize);
            assert!(page.windows(2).all(|w| w[0].id < w[1].id), "oldest first");
            let Some(first) = page.first() else {
                break;
            };
            before = first.id;
            pages.push(page);
        }
        pages
    };

    let tail = store
        .read_feeds(|tx| tx.log_page_before(&r1, None, i64::MAX, 3))
        .unwrap();
    assert_eq!(text(&tail), ["a22", "a23", "b24"], "the last lines");
    let before = store
        .read_feeds(|tx| tx.log_page_before(&r1, None, tail[0].id, 2))
        .unwrap();
    assert_eq!(text(&before), ["a20", "b21"], "the lines before a line");
    let steps = store
        .read_feeds(|tx| tx.log_page_before(&r1, Some("b"), i64::MAX, 2))
        .unwrap();
    assert_eq!(text(&steps), ["b21", "b24"], "one step's last lines");
    for (step, limit) in [
        (None, 1),
        (None, 4),
        (None, 1000),
        (Some("a"), 3),
        (Some("b"), 2),
    ] {
        let pages = backward(step, limit);
        let lines: Vec<_> = pages.into_iter().rev().flatten().collect();
        assert_eq!(lines, forward(step), "{step:?} in pages of {limit}");
    }
    assert_eq!(forward(None).len(), 25);
    assert!(
        store
            .read_feeds(|tx| tx.log_page_before(&r1, None, forward(None)[0].id, 10))
            .unwrap()
            .is_empty(),
        "nothing before the first line"
    );
    assert!(
        store
            .read_feeds(|tx| tx.log_page_before(&r1, Some("zz"), i64::MAX, 10))
            .unwrap()
            .is_empty()
    );
}

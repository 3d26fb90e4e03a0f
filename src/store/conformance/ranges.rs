//! What the dashboard's drill-downs and time ranges read, on every backend: an agent's current
//! and recent steps, runs and audit records from a time on (the whole range, not the newest
//! page of it), and log lines stamped with the time their agent captured them.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{
    LEASE, WorkflowSpec, apply, claim, complete, postgres, register, sqlite, start_run, step,
    wait_for,
};
use crate::audit::{AuditStore, record_hash};
use crate::control::{AuditFilter, RunQuery, RunSort};
use crate::model::{AuditRecord, CapturedLine, LogStream, StepResult, StepStatus, now_ms};
use crate::store::api::Backend;

on_both!(
    an_agent_lists_the_steps_it_holds_and_ran,
    runs_since_a_time_are_cut_by_creation_time,
    the_audit_tail_since_a_time_reads_the_whole_range,
    log_lines_keep_the_time_their_agent_captured_them,
);

const HOUR: i64 = 3_600_000;

/// An agent's steps: the one it holds first, then those it ran, newest first; another agent's
/// are not among them.
fn an_agent_lists_the_steps_it_holds_and_ran(store: &Arc<dyn Backend>) {
    apply(store, &WorkflowSpec::new("one", vec![step("a", &[])]));
    let first = start_run(store, "one");
    let second = start_run(store, "one");
    let w1 = register(store, "w1");
    register(store, "w2");
    let done = claim(store, &w1, 1, LEASE).remove(0);
    assert!(complete(
        store,
        &done.lease,
        StepResult::ok(BTreeMap::new())
    ));
    // The next step is taken in a later millisecond than the first one.
    let at = now_ms();
    wait_for("the clock to move on", || now_ms() > at);
    let held = claim(store, &w1, 1, LEASE).remove(0);
    let steps = store.read(|tx| tx.agent_steps("w1", 10)).unwrap();
    let got: Vec<(&str, &str, StepStatus, u32)> = steps
        .iter()
        .map(|s| (s.run_id.as_str(), s.step_id.as_str(), s.status, s.attempt))
        .collect();
    assert_eq!(
        got,
        [
            (held.lease.run_id.as_str(), "a", StepStatus::Leased, 1),
            (done.lease.run_id.as_str(), "a", StepStatus::Succeeded, 1),
        ]
    );
    assert_eq!(
        [steps[0].run_id.as_str(), steps[1].run_id.as_str()],
        [second.as_str(), first.as_str()]
    );
    assert!(steps.iter().all(|s| s.workflow == "one"));
    assert!(steps[1].finished_at >= steps[1].started_at);
    assert_eq!(steps[0].finished_at, None);
    assert_eq!(store.read(|tx| tx.agent_steps("w1", 1)).unwrap().len(), 1);
    assert!(
        store
            .read(|tx| tx.agent_steps("w2", 10))
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .read(|tx| tx.agent_steps("nobody", 10))
            .unwrap()
            .is_empty()
    );
}

/// `since` keeps the runs created at or after it, in both orders and with a filter.
fn runs_since_a_time_are_cut_by_creation_time(store: &Arc<dyn Backend>) {
    apply(store, &WorkflowSpec::new("one", vec![step("a", &[])]));
    let mut ids = Vec::new();
    for _ in 0..3 {
        let at = now_ms();
        wait_for("the clock to move on", || now_ms() > at);
        ids.push(start_run(store, "one"));
    }
    let since = store
        .read(|tx| tx.run_detail(store.specs(), &ids[1]))
        .unwrap()
        .run
        .created_at;
    let page = |sort, text: Option<&str>| -> Vec<String> {
        let q = RunQuery {
            sort,
            since: Some(since),
            text: text.map(str::to_string),
            limit: 10,
            ..RunQuery::default()
        };
        let p = store.read(|tx| tx.dashboard_runs(&q)).unwrap();
        p.items.into_iter().map(|r| r.id).collect()
    };
    assert_eq!(
        page(RunSort::Newest, None),
        [ids[2].clone(), ids[1].clone()]
    );
    assert_eq!(
        page(RunSort::Oldest, None),
        [ids[1].clone(), ids[2].clone()]
    );
    assert_eq!(
        page(RunSort::Newest, Some("tes")),
        [ids[2].clone(), ids[1].clone()]
    );
    let q = RunQuery {
        since: Some(now_ms() + HOUR),
        limit: 10,
        ..RunQuery::default()
    };
    assert!(
        store
            .read(|tx| tx.dashboard_runs(&q))
            .unwrap()
            .items
            .is_empty()
    );
}

/// Append one audit record at time `time` to the chain.
fn record_at(tx: &dyn AuditStore, time: i64, outcome: &str) {
    let last = match tx.head().unwrap() {
        Some(head) => head,
        None => tx.base().unwrap(),
    };
    let mut rec = AuditRecord {
        seq: last.seq + 1,
        time,
        actor: "user:admin".into(),
        source: "cli".into(),
        action: "run.start".into(),
        target: "r".into(),
        outcome: outcome.into(),
        details: serde_json::json!({}),
        prev_hash: last.hash,
        hash: String::new(),
    };
    rec.hash = record_hash(&rec);
    tx.insert(&rec).unwrap();
}

/// 250 records in the last hour, 300 before it: a tail since an hour ago holds exactly the 250
/// (more than the dashboard's plain tail of 200), newest first; filters and `before` still
/// apply; a range with no records is empty.
fn the_audit_tail_since_a_time_reads_the_whole_range(store: &Arc<dyn Backend>) {
    let now = now_ms();
    store
        .write(|tx| {
            for i in 0..300 {
                record_at(tx, now - 3 * HOUR + i, "ok");
            }
            for i in 0..250 {
                record_at(
                    tx,
                    now - HOUR + 1_000 + i,
                    if i % 5 == 0 { "denied" } else { "ok" },
                );
            }
            Ok(())
        })
        .unwrap();
    let since = AuditFilter {
        since: Some(now - HOUR),
        ..AuditFilter::default()
    };
    let tail = store.read(|tx| tx.audit_tail(&since, None, 1_000)).unwrap();
    assert_eq!(tail.len(), 250);
    assert!(tail.iter().all(|r| r.time >= now - HOUR));
    assert!(tail.windows(2).all(|w| w[0].seq > w[1].seq), "newest first");
    assert_eq!(tail[0].seq, 550);
    assert_eq!(tail[249].seq, 301);
    let denied = AuditFilter {
        outcome: Some("denied".into()),
        ..since.clone()
    };
    assert_eq!(
        store
            .read(|tx| tx.audit_tail(&denied, None, 1_000))
            .unwrap()
            .len(),
        50
    );
    let older = store
        .read(|tx| tx.audit_tail(&since, Some(401), 1_000))
        .unwrap();
    assert_eq!(older.len(), 100);
    let none = AuditFilter {
        since: Some(now + HOUR),
        ..AuditFilter::default()
    };
    assert!(
        store
            .read(|tx| tx.audit_tail(&none, None, 10))
            .unwrap()
            .is_empty()
    );
    // Without a range: the newest, across the hour's boundary.
    let all = store
        .read(|tx| tx.audit_tail(&AuditFilter::default(), None, 1_000))
        .unwrap();
    assert_eq!(all.len(), 550);
}

/// A line is stored with the time its agent captured it, not the time it arrived; one with no
/// time (an older agent) gets the time it arrived; one from the future, no later than that.
fn log_lines_keep_the_time_their_agent_captured_them(store: &Arc<dyn Backend>) {
    apply(store, &WorkflowSpec::new("one", vec![step("a", &[])]));
    let run = start_run(store, "one");
    let agent = register(store, "w1");
    let lease = claim(store, &agent, 1, LEASE).remove(0).lease;
    let captured = now_ms() - 5_000;
    let lines = [
        CapturedLine::at(LogStream::Stdout, "early", captured),
        CapturedLine::new(LogStream::Stdout, "unstamped"),
        CapturedLine::at(LogStream::Stderr, "from the future", now_ms() + HOUR),
    ];
    let before = now_ms();
    store
        .write(|tx| tx.append_logs(&lease, &lines, 1 << 20))
        .unwrap();
    let after = now_ms();
    let logs = store
        .read_feeds(|tx| tx.log_page(&run, None, 0, 10))
        .unwrap();
    let got: Vec<(&str, i64)> = logs.iter().map(|l| (l.line.as_str(), l.time)).collect();
    assert_eq!(got[0], ("early", captured));
    assert_eq!(got[1].0, "unstamped");
    assert!((before..=after).contains(&got[1].1), "{got:?}");
    assert_eq!(got[2].0, "from the future");
    assert!((before..=after).contains(&got[2].1), "{got:?}");
}

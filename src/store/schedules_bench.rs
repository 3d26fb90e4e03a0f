//! The schedules benchmark (issue 12), an ignored test: 10,000 schedules `every: 1m` on a
//! SQLite store; one scheduler pass at the minute fires them all. Prints the pass's CPU and
//! wall time, the decision work alone (compile + plan, no store), the idle wake's cost, and
//! how long after the pass began each run was made (p50, p99, max): the lag from nominal time
//! when the pass starts on time (the loop sleeps until the next fire time).
//!
//! ```text
//! cargo test --release --lib schedules_bench -- --ignored --nocapture
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::model::{RunFilter, StepKind, StepSpec, WorkflowSpec, now_ms};
use crate::schedule::{Schedule, ScheduleSpec, State, plan};
use crate::store::api::Backend;
use crate::store::schedules::{fire_due, new_info};

const SCHEDULES: usize = 10_000;
const MINUTE: i64 = 60_000;

/// CPU time of this process (user + system).
fn cpu() -> Duration {
    use nix::sys::resource::{UsageWho, getrusage};
    let u = getrusage(UsageWho::RUSAGE_SELF).unwrap();
    let tv = |t: nix::sys::time::TimeVal| {
        Duration::from_secs(u64::try_from(t.tv_sec()).unwrap())
            + Duration::from_micros(u64::try_from(t.tv_usec()).unwrap())
    };
    tv(u.user_time()) + tv(u.system_time())
}

fn pct(sorted: &[i64], p: f64) -> i64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

#[test]
#[ignore = "benchmark: run with --ignored --nocapture (see the module doc)"]
fn schedules_bench() {
    let dir = tempfile::tempdir().unwrap();
    let store: std::sync::Arc<dyn Backend> =
        std::sync::Arc::new(crate::store::Store::open(&dir.path().join("imx.db"), true).unwrap());
    store
        .write(|tx| {
            tx.apply_workflow(
                &WorkflowSpec::new("tick", vec![StepSpec::new("a", StepKind::Noop)]),
                false,
            )
        })
        .unwrap();
    // Created just before a minute: every schedule's first tick is that minute.
    let t0 = (now_ms() / MINUTE) * MINUTE - 1;
    let specs: Vec<ScheduleSpec> = (0..SCHEDULES)
        .map(|i| {
            let mut s = ScheduleSpec::new(format!("s{i:05}"), "tick");
            s.every_ms = Some(60_000);
            s
        })
        .collect();
    store
        .write(|tx| {
            for s in &specs {
                tx.insert_schedule(&new_info(s.clone(), "command", t0)?)?;
            }
            Ok(())
        })
        .unwrap();
    let minute = t0 + 1;

    // The decisions alone: compile and plan every schedule (what a pass computes per row).
    let (c0, w0) = (cpu(), Instant::now());
    let mut fires = 0;
    for s in &specs {
        let compiled = Schedule::compile(s.clone()).unwrap();
        let state = State {
            last_nominal: t0,
            ..State::default()
        };
        fires += plan(&compiled, &state, minute).decisions.len();
    }
    let (decide_cpu, decide_wall) = (cpu() - c0, w0.elapsed());
    assert_eq!(fires, SCHEDULES);

    // The idle wake: nothing due yet (one indexed read).
    let (c0, w0) = (cpu(), Instant::now());
    let next = store.read_quick(|tx| tx.next_schedule_fire()).unwrap();
    let (idle_cpu, idle_wall) = (cpu() - c0, w0.elapsed());
    assert_eq!(next, Some(minute));

    // The pass at the minute: every tick recorded and its run made, in one transaction.
    let cache = store.specs();
    let (c0, w0, started) = (cpu(), Instant::now(), now_ms());
    let report = store.write(|tx| fire_due(tx, cache, minute, None)).unwrap();
    let (pass_cpu, pass_wall) = (cpu() - c0, w0.elapsed());
    let fired: u64 = report.ticks.values().map(|c| c.fired).sum();
    assert_eq!(fired, SCHEDULES as u64);

    let runs = store
        .read(|tx| {
            let mut all = Vec::new();
            let mut cursor = None;
            loop {
                let page = tx.list_runs(&RunFilter {
                    limit: Some(1000),
                    cursor: cursor.take(),
                    ..RunFilter::default()
                })?;
                all.extend(page.items);
                match page.next_cursor {
                    Some(c) => cursor = Some(c),
                    None => return Ok(all),
                }
            }
        })
        .unwrap();
    let mut lag: Vec<i64> = runs
        .iter()
        .map(|r| {
            assert_eq!(r.nominal_time, Some(minute));
            r.created_at - started
        })
        .collect();
    lag.sort_unstable();
    let by: BTreeMap<&str, String> = BTreeMap::from([
        (
            "decide (compile+plan) cpu",
            format!("{decide_cpu:?} (wall {decide_wall:?})"),
        ),
        (
            "idle wake cpu",
            format!("{idle_cpu:?} (wall {idle_wall:?})"),
        ),
        (
            "pass at the minute cpu",
            format!("{pass_cpu:?} (wall {pass_wall:?})"),
        ),
        (
            "run created after the pass began (ms)",
            format!(
                "p50 {} p99 {} max {}",
                pct(&lag, 0.5),
                pct(&lag, 0.99),
                lag[lag.len() - 1]
            ),
        ),
    ]);
    println!("{SCHEDULES} schedules, every: 1m, SQLite:");
    for (k, v) in by {
        println!("  {k}: {v}");
    }
}

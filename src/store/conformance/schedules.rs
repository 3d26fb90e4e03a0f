//! Schedules on every backend: a tick makes one run however many processes fire it at once
//! (the (schedule, nominal time) key), catch-up and buffered ticks, pauses, and the runs
//! filtered by schedule; a pass in batches (one transaction each) keeps every tick to one
//! run, and a firer that loses its lease mid-pass leaves the rest due.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::{
    LEASE, WorkflowSpec, apply, claim, complete, postgres, register, sqlite, start_run,
    start_tick_run, step,
};
use crate::model::StepResult;
use crate::model::{RunFilter, RunStatus, TickOutcome, now_ms};
use crate::schedule::{MissReason, Overlap, ScheduleSpec};
use crate::store::api::{Backend, NewTick};
use crate::store::schedules::{fire_due, fire_due_batched, new_info};

on_both!(
    three_firers_racing_for_the_same_ticks_make_one_run_each,
    three_firers_racing_in_batches_make_one_run_each,
    a_batched_pass_commits_batch_by_batch_and_stops_when_its_lease_is_lost,
    a_tick_recorded_twice_is_recorded_once,
    a_buffered_tick_runs_when_the_going_run_ends,
    a_paused_schedule_records_its_ticks_missed,
    a_failed_run_pauses_a_schedule_that_asks_for_it,
    ticks_missed_while_down_go_to_the_notification_outbox,
    the_dashboard_pages_the_runs_of_one_schedule,
    a_fired_tick_names_its_run_with_or_without_a_concurrency_key,
);

const SEC: i64 = 1_000;

/// A schedule of workflow `one` every second, created at `t0`.
fn every_second(store: &Arc<dyn Backend>, name: &str, overlap: Overlap, t0: i64) {
    apply(store, &WorkflowSpec::new("one", vec![step("a", &[])]));
    let mut spec = ScheduleSpec::new(name, "one");
    spec.every_ms = Some(1_000);
    spec.overlap = overlap;
    let info = new_info(spec, "command", t0).unwrap();
    assert!(store.write(|tx| tx.insert_schedule(&info)).unwrap());
}

fn pass(store: &Arc<dyn Backend>, now: i64) -> crate::store::schedules::PassReport {
    let cache = store.specs();
    store.write(|tx| fire_due(tx, cache, now, None)).unwrap()
}

fn runs_of(store: &Arc<dyn Backend>, schedule: &str) -> Vec<crate::model::Run> {
    store
        .read(|tx| {
            tx.list_runs(&RunFilter {
                schedule: Some(schedule.into()),
                limit: Some(1000),
                ..RunFilter::default()
            })
        })
        .unwrap()
        .items
}

/// Ten ticks are due; three threads run a pass at the same moment, twice: ten runs, one per
/// nominal time, each tagged with it, and ten `fired` tick records naming them.
fn three_firers_racing_for_the_same_ticks_make_one_run_each(store: &Arc<dyn Backend>) {
    let t0 = (now_ms() / SEC - 20) * SEC;
    every_second(store, "race", Overlap::AllowAll, t0);
    let now = t0 + 10 * SEC;
    let barrier = Arc::new(std::sync::Barrier::new(3));
    let firers: Vec<_> = (0..3)
        .map(|_| {
            let (store, barrier) = (store.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                let a = pass(&store, now);
                let b = pass(&store, now);
                a.ticks.values().map(|c| c.fired).sum::<u64>()
                    + b.ticks.values().map(|c| c.fired).sum::<u64>()
            })
        })
        .collect();
    let fired: u64 = firers.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(fired, 10, "the passes together fired each tick once");
    let runs = runs_of(store, "race");
    let nominal: BTreeSet<i64> = runs.iter().filter_map(|r| r.nominal_time).collect();
    assert_eq!(runs.len(), 10);
    assert_eq!(nominal, (1..=10).map(|k| t0 + k * SEC).collect());
    let ticks = store.read(|tx| tx.ticks("race", t0, now, 100)).unwrap();
    assert_eq!(ticks.len(), 10);
    assert_ticks_name_their_runs(store, "race", t0, now, 10);
    let info = store.read(|tx| tx.get_schedule("race")).unwrap().unwrap();
    assert_eq!((info.fired, info.last_nominal), (10, now));
    assert_eq!(info.next_fire, Some(now + SEC));
}

/// `schedule`'s ticks in `(t0, now]` are `fired` tick records, `n` of them, each naming the
/// run made for its nominal time.
fn assert_ticks_name_their_runs(
    store: &Arc<dyn Backend>,
    schedule: &str,
    t0: i64,
    now: i64,
    n: usize,
) {
    let runs: std::collections::BTreeMap<i64, String> = runs_of(store, schedule)
        .into_iter()
        .filter_map(|r| Some((r.nominal_time?, r.id)))
        .collect();
    let ticks = store.read(|tx| tx.ticks(schedule, t0, now, 100)).unwrap();
    assert_eq!(ticks.len(), n, "{schedule}: {ticks:?}");
    for t in &ticks {
        assert_eq!(t.outcome, TickOutcome::Fired, "{t:?}");
        assert_eq!(
            t.run_id.as_ref(),
            runs.get(&t.nominal_time),
            "{schedule}: the tick at {} names its run",
            t.nominal_time
        );
    }
}

/// A pass records a fired tick with the id its run takes; a workflow with a concurrency key
/// gives its runs their ids under the key's lock, and the tick is given that run's.
fn a_fired_tick_names_its_run_with_or_without_a_concurrency_key(store: &Arc<dyn Backend>) {
    let t0 = (now_ms() / SEC - 20) * SEC;
    every_second(store, "plain", Overlap::AllowAll, t0);
    let mut keyed = WorkflowSpec::new("keyed", vec![step("a", &[])]);
    keyed.concurrency = Some(crate::model::ConcurrencySpec {
        key: "k".into(),
        limit: 10,
        on_conflict: Default::default(),
    });
    apply(store, &keyed);
    let mut spec = ScheduleSpec::new("keyed", "keyed");
    spec.every_ms = Some(1_000);
    spec.overlap = Overlap::AllowAll;
    let info = new_info(spec, "command", t0).unwrap();
    assert!(store.write(|tx| tx.insert_schedule(&info)).unwrap());
    let now = t0 + 3 * SEC;
    let report = pass(store, now);
    assert_eq!(report.ticks["plain"].fired, 3);
    assert_eq!(report.ticks["keyed"].fired, 3);
    assert_ticks_name_their_runs(store, "plain", t0, now, 3);
    assert_ticks_name_their_runs(store, "keyed", t0, now, 3);
}

/// Forty schedules every second, created at `t0`: `b00` … `b39`.
fn forty_schedules(store: &Arc<dyn Backend>, t0: i64) {
    apply(store, &WorkflowSpec::new("one", vec![step("a", &[])]));
    store
        .write(|tx| {
            for i in 0..40 {
                let mut spec = ScheduleSpec::new(format!("b{i:02}"), "one");
                spec.every_ms = Some(1_000);
                spec.overlap = Overlap::AllowAll;
                tx.insert_schedule(&new_info(spec, "command", t0)?)?;
            }
            Ok(())
        })
        .unwrap();
}

/// Wait until this process leads maintenance (PostgreSQL; at once on SQLite): a batched pass
/// runs as maintenance.
fn lead(store: &Arc<dyn Backend>) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while store.maintenance_leader() == Some(false) {
        assert!(
            std::time::Instant::now() < deadline,
            "never led maintenance"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// Every run of the store, by (schedule, nominal time).
fn all_runs(store: &Arc<dyn Backend>) -> Vec<(String, i64)> {
    let runs = store
        .read(|tx| {
            tx.list_runs(&RunFilter {
                limit: Some(1000),
                ..RunFilter::default()
            })
        })
        .unwrap()
        .items;
    let mut out: Vec<(String, i64)> = runs
        .into_iter()
        .map(|r| (r.schedule.unwrap(), r.nominal_time.unwrap()))
        .collect();
    out.sort();
    out
}

/// Forty schedules with three ticks due each; three threads run batched passes (seven
/// schedules per transaction) at the same moment, twice: 120 runs, one per tick.
fn three_firers_racing_in_batches_make_one_run_each(store: &Arc<dyn Backend>) {
    let t0 = (now_ms() / SEC - 20) * SEC;
    forty_schedules(store, t0);
    lead(store);
    let now = t0 + 3 * SEC;
    let barrier = Arc::new(std::sync::Barrier::new(3));
    let firers: Vec<_> = (0..3)
        .map(|_| {
            let (store, barrier) = (store.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                let mut fired = 0;
                for _ in 0..2 {
                    let r = fire_due_batched(&*store, now, None, 7, |_| Ok(true))
                        .unwrap()
                        .unwrap();
                    fired += r.ticks.values().map(|c| c.fired).sum::<u64>();
                }
                fired
            })
        })
        .collect();
    let fired: u64 = firers.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(fired, 120, "the passes together fired each tick once");
    let want: Vec<(String, i64)> = (0..40)
        .flat_map(|i| (1..=3).map(move |k| (format!("b{i:02}"), t0 + k * SEC)))
        .collect();
    assert_eq!(all_runs(store), want);
    let next = store.read(|tx| tx.next_schedule_fire()).unwrap();
    assert_eq!(next, Some(now + SEC));
}

/// A batched pass asks for the lease once per transaction: forty schedules, seven at a time,
/// are six transactions. A firer whose lease is lost after two stops there with fourteen runs
/// made and the next fire time `now` (the rest still due), which the next pass fires.
fn a_batched_pass_commits_batch_by_batch_and_stops_when_its_lease_is_lost(
    store: &Arc<dyn Backend>,
) {
    let t0 = (now_ms() / SEC - 20) * SEC;
    forty_schedules(store, t0);
    lead(store);
    let now = t0 + SEC;
    let mut asked = 0;
    let lost = fire_due_batched(&**store, now, None, 7, |_| {
        asked += 1;
        Ok(asked <= 2)
    })
    .unwrap()
    .unwrap();
    assert_eq!(asked, 3);
    assert_eq!(lost.ticks.values().map(|c| c.fired).sum::<u64>(), 14);
    assert_eq!(lost.next_fire, Some(now));
    assert_eq!(all_runs(store).len(), 14);
    // Not holding it from the start: no pass at all.
    assert_eq!(
        fire_due_batched(&**store, now, None, 7, |_| Ok(false)).unwrap(),
        None
    );
    let mut asked = 0;
    let rest = fire_due_batched(&**store, now, None, 7, |_| {
        asked += 1;
        Ok(true)
    })
    .unwrap()
    .unwrap();
    assert_eq!(asked, 4, "26 schedules left: 7 + 7 + 7 + 5");
    assert_eq!(rest.ticks.values().map(|c| c.fired).sum::<u64>(), 26);
    assert_eq!(rest.next_fire, Some(now + SEC));
    assert_eq!(all_runs(store).len(), 40);
}

/// The key itself: a tick recorded by one transaction is not recorded by another, and a
/// second run cannot carry the same (schedule, nominal time).
fn a_tick_recorded_twice_is_recorded_once(store: &Arc<dyn Backend>) {
    let t0 = (now_ms() / SEC - 20) * SEC;
    every_second(store, "key", Overlap::AllowAll, t0);
    let tick = NewTick {
        schedule: "key",
        nominal_time: t0 + SEC,
        outcome: TickOutcome::Fired,
        reason: None,
        recorded_at: t0,
        run_id: None,
    };
    assert!(store.write(|tx| tx.insert_tick(&tick)).unwrap());
    assert!(!store.write(|tx| tx.insert_tick(&tick)).unwrap());
    let cache = store.specs();
    let make = |store: &Arc<dyn Backend>| {
        store.write(|tx| start_tick_run(tx, cache, "one", "key", t0 + SEC))
    };
    make(store).unwrap();
    assert!(
        make(store).is_err(),
        "a second run under the same key is refused"
    );
    assert_eq!(runs_of(store, "key").len(), 1);
}

/// `buffer_one` with four ticks due at once: the first runs, the second waits, the rest are
/// dropped; once the run ends, the next pass starts the buffered tick's run.
fn a_buffered_tick_runs_when_the_going_run_ends(store: &Arc<dyn Backend>) {
    let t0 = (now_ms() / SEC - 20) * SEC;
    every_second(store, "buf", Overlap::BufferOne, t0);
    let report = pass(store, t0 + 4 * SEC);
    let c = report.ticks["buf"];
    assert_eq!((c.fired, c.buffered, c.dropped), (1, 1, 2), "{c:?}");
    let first = runs_of(store, "buf");
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].nominal_time, Some(t0 + SEC));
    // Nothing ends yet: the buffered tick waits.
    assert_eq!(
        pass(store, t0 + 4 * SEC)
            .ticks
            .get("buf")
            .map_or(0, |c| c.fired),
        0
    );
    let cache = store.specs();
    store
        .write(|tx| tx.cancel_run(cache, &first[0].id))
        .unwrap();
    let report = pass(store, t0 + 4 * SEC);
    assert_eq!(report.ticks["buf"].fired, 1);
    let runs = runs_of(store, "buf");
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0].nominal_time, Some(t0 + 2 * SEC));
    assert_eq!(runs[0].status, RunStatus::Queued);
    let ticks = store
        .read(|tx| tx.ticks("buf", t0, t0 + 4 * SEC, 10))
        .unwrap();
    let outcomes: Vec<TickOutcome> = ticks.iter().map(|t| t.outcome).collect();
    assert_eq!(
        outcomes,
        [
            TickOutcome::Fired,
            TickOutcome::Fired,
            TickOutcome::Dropped,
            TickOutcome::Dropped
        ]
    );
}

fn a_paused_schedule_records_its_ticks_missed(store: &Arc<dyn Backend>) {
    let t0 = (now_ms() / SEC - 20) * SEC;
    every_second(store, "p", Overlap::Skip, t0);
    assert!(
        store
            .write(|tx| tx.set_schedule_paused("p", true, Some("maintenance"), t0))
            .unwrap()
    );
    let report = pass(store, t0 + 2 * SEC);
    assert_eq!(report.ticks["p"].missed, 2);
    assert!(runs_of(store, "p").is_empty());
    let ticks = store
        .read(|tx| tx.ticks("p", t0, t0 + 2 * SEC, 10))
        .unwrap();
    assert!(
        ticks.iter().all(|t| t.reason == Some(MissReason::Paused)),
        "{ticks:?}"
    );
    let info = store.read(|tx| tx.get_schedule("p")).unwrap().unwrap();
    assert_eq!(info.note.as_deref(), Some("maintenance"));
    assert!(
        store
            .write(|tx| tx.set_schedule_paused("p", false, None, t0))
            .unwrap()
    );
    assert_eq!(pass(store, t0 + 3 * SEC).ticks["p"].fired, 1);
}

/// `pause_on_failure`: once a run of the schedule has failed, the next pass pauses it (with a
/// note naming the run) and records its due tick as missed; resuming lets ticks fire again.
fn a_failed_run_pauses_a_schedule_that_asks_for_it(store: &Arc<dyn Backend>) {
    let t0 = (now_ms() / SEC - 20) * SEC;
    apply(store, &WorkflowSpec::new("one", vec![step("a", &[])]));
    let mut spec = ScheduleSpec::new("pof", "one");
    spec.every_ms = Some(1_000);
    spec.pause_on_failure = true;
    let info = new_info(spec, "command", t0).unwrap();
    store.write(|tx| tx.insert_schedule(&info)).unwrap();
    assert_eq!(pass(store, t0 + SEC).ticks["pof"].fired, 1);
    let agent = register(store, "w1");
    let tasks = claim(store, &agent, 1, LEASE);
    assert_eq!(tasks.len(), 1);
    assert!(complete(
        store,
        &tasks[0].lease,
        StepResult::failed("boom", Some(1))
    ));
    let run = runs_of(store, "pof").remove(0);
    assert_eq!(run.status, RunStatus::Failed);
    let report = pass(store, t0 + 2 * SEC);
    assert_eq!(report.paused, ["pof"]);
    assert_eq!(report.ticks["pof"].missed, 1);
    let info = store.read(|tx| tx.get_schedule("pof")).unwrap().unwrap();
    assert!(info.paused);
    assert!(
        info.note.as_deref().unwrap().contains(&run.id),
        "{:?}",
        info.note
    );
    // Resumed: the failure before the resume no longer pauses it.
    assert!(
        store
            .write(|tx| tx.set_schedule_paused("pof", false, None, now_ms()))
            .unwrap()
    );
    let report = pass(store, t0 + 3 * SEC);
    assert!(report.paused.is_empty());
    assert_eq!(report.ticks["pof"].fired, 1);
}

/// Ticks missed for downtime (past the catch-up window) are put in the notification outbox for
/// `on: missed_schedule` rules, once each, in the pass that records them; paused ticks are not.
fn ticks_missed_while_down_go_to_the_notification_outbox(store: &Arc<dyn Backend>) {
    let t0 = (now_ms() / SEC - 3 * 3600) * SEC;
    apply(store, &WorkflowSpec::new("one", vec![step("a", &[])]));
    let mut spec = ScheduleSpec::new("tenmin", "one");
    spec.every_ms = Some(600_000);
    let info = new_info(spec, "command", t0).unwrap();
    assert!(store.write(|tx| tx.insert_schedule(&info)).unwrap());
    every_second(store, "paused", Overlap::Skip, t0);
    assert!(
        store
            .write(|tx| tx.set_schedule_paused("paused", true, None, t0))
            .unwrap()
    );
    let report = pass(store, t0 + 3 * 3600 * SEC);
    let missed = report.ticks["tenmin"].missed;
    assert!(missed >= 10, "{report:?}");
    let outbox = store.read(|tx| tx.notify_outbox_new(100_000)).unwrap();
    let of = |name: &str| {
        outbox
            .iter()
            .filter(|r| r.kind == "schedule.missed" && r.data["schedule"] == name)
            .count()
    };
    assert_eq!(of("tenmin"), usize::try_from(missed).unwrap());
    assert_eq!(of("paused"), 0);
    // Another pass decides nothing again, and enqueues nothing again.
    pass(store, t0 + 3 * 3600 * SEC);
    let again = store.read(|tx| tx.notify_outbox_new(100_000)).unwrap();
    assert_eq!(again.len(), outbox.len());
}

/// The dashboard's runs filtered by schedule (the Schedules view's enter, and each schedule's
/// last run): only the runs its ticks made, newest first, paged like any other filter.
fn the_dashboard_pages_the_runs_of_one_schedule(store: &Arc<dyn Backend>) {
    use crate::control::RunQuery;
    let t0 = (now_ms() / SEC - 20) * SEC;
    every_second(store, "dash", Overlap::AllowAll, t0);
    let mut other = ScheduleSpec::new("other", "one");
    other.every_ms = Some(1_000);
    let info = new_info(other, "command", t0).unwrap();
    assert!(store.write(|tx| tx.insert_schedule(&info)).unwrap());
    assert_eq!(pass(store, t0 + 3 * SEC).ticks["dash"].fired, 3);
    let by_hand = start_run(store, "one");
    let mine: Vec<String> = runs_of(store, "dash").into_iter().map(|r| r.id).collect();
    assert_eq!(mine.len(), 3);
    let page = |limit, cursor: Option<String>| {
        let q = RunQuery {
            schedule: Some("dash".into()),
            limit,
            cursor,
            ..RunQuery::default()
        };
        store.read(|tx| tx.dashboard_runs(&q)).unwrap()
    };
    let last = page(1, None);
    assert_eq!(last.items.len(), 1);
    let newest = last.items[0].clone();
    assert_eq!(newest.schedule.as_deref(), Some("dash"));
    assert_eq!(
        Some(&newest.id),
        mine.iter().max(),
        "the newest of its runs (runs made in one millisecond are in no set order)"
    );
    assert_ne!(newest.id, by_hand);
    let rest = page(10, last.next_cursor.clone());
    assert_eq!(rest.items.len(), 2);
    assert!(rest.next_cursor.is_none());
    let all: BTreeSet<String> = std::iter::once(newest.id)
        .chain(rest.items.into_iter().map(|r| r.id))
        .collect();
    assert_eq!(all, mine.into_iter().collect());
    let q = RunQuery {
        schedule: Some("nope".into()),
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

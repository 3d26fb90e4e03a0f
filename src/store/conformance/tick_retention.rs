//! Retention of schedules' tick records on every backend: the ones older than the cutoff and
//! than the schedule's catch-up window go when their run is gone; a buffered tick, a tick whose
//! run is still stored, a tick inside the catch-up window and a schedule's newest tick stay.

use std::sync::Arc;

use super::{WorkflowSpec, apply, postgres, sqlite, start_tick_run, step};
use crate::model::{TickCounts, TickOutcome, now_ms};
use crate::schedule::{MissReason, ScheduleSpec};
use crate::store::api::{Backend, NewTick};
use crate::store::retention::{self, Mode};
use crate::store::schedules::new_info;

on_both!(
    old_ticks_whose_run_is_gone_go_and_the_ones_that_matter_stay,
    a_batch_takes_at_most_its_limit_oldest_first,
);

const MIN: i64 = 60_000;

/// A schedule of workflow `one` every minute with a catch-up window of `window_min` minutes,
/// whose latest decided tick is `last`.
fn schedule(store: &Arc<dyn Backend>, name: &str, window_min: u64, last: i64) {
    apply(store, &WorkflowSpec::new("one", vec![step("a", &[])]));
    let mut spec = ScheduleSpec::new(name, "one");
    spec.every_ms = Some(60_000);
    spec.catchup_window_ms = window_min * 60_000;
    let info = new_info(spec, "command", last - 1).unwrap();
    assert!(store.write(|tx| tx.insert_schedule(&info)).unwrap());
    store
        .write(|tx| tx.advance_schedule(name, last, Some(last + MIN), &TickCounts::default()))
        .unwrap();
}

fn tick(store: &Arc<dyn Backend>, schedule: &str, nominal: i64, outcome: TickOutcome) {
    let reason = (outcome == TickOutcome::Missed).then_some(MissReason::Downtime);
    let t = NewTick {
        schedule,
        nominal_time: nominal,
        outcome,
        reason,
        recorded_at: nominal,
        run_id: None,
    };
    assert!(store.write(|tx| tx.insert_tick(&t)).unwrap());
}

fn nominal_times(store: &Arc<dyn Backend>, schedule: &str) -> Vec<i64> {
    store
        .read(|tx| tx.ticks(schedule, 0, i64::MAX, 1000))
        .unwrap()
        .into_iter()
        .map(|t| t.nominal_time)
        .collect()
}

/// Ticks two hours old: missed, fired with a run that ended (the prune deletes it), fired
/// with a run still going, buffered; ticks inside the 30-minute catch-up window; the newest. A prune with the
/// cutoff now takes only the first two kinds. A schedule whose ticks are all old keeps its
/// newest.
fn old_ticks_whose_run_is_gone_go_and_the_ones_that_matter_stay(store: &Arc<dyn Backend>) {
    let now = (now_ms() / MIN) * MIN;
    let old = now - 120 * MIN;
    schedule(store, "hourly", 30, now - MIN);
    tick(store, "hourly", old, TickOutcome::Missed);
    tick(store, "hourly", old + MIN, TickOutcome::Fired);
    let cache = store.specs();
    let gone = store
        .write(|tx| start_tick_run(tx, cache, "one", "hourly", old + MIN))
        .unwrap();
    tick(store, "hourly", old + 2 * MIN, TickOutcome::Fired);
    // A run still going: its tick stays.
    store
        .write(|tx| start_tick_run(tx, cache, "one", "hourly", old + 2 * MIN))
        .unwrap();
    tick(store, "hourly", old + 3 * MIN, TickOutcome::Buffered);
    tick(store, "hourly", now - 20 * MIN, TickOutcome::Missed);
    tick(store, "hourly", now - 2 * MIN, TickOutcome::Skipped);
    tick(store, "hourly", now - MIN, TickOutcome::Missed);
    // The run of `old + MIN` ended: the prune deletes it, then its tick.
    store.write(|tx| tx.cancel_run(cache, &gone)).unwrap();

    schedule(store, "quiet", 30, old + 2 * MIN);
    for k in 0..3 {
        tick(store, "quiet", old + k * MIN, TickOutcome::Missed);
    }

    let cutoff = now_ms() + 1;
    let done = retention::prune(&**store, cutoff, Mode::Now, &mut |_| {}).unwrap();
    assert!(done.complete);
    assert_eq!((done.runs, done.ticks), (1, 4), "{done:?}");
    assert_eq!(
        nominal_times(store, "hourly"),
        vec![
            old + 2 * MIN,
            old + 3 * MIN,
            now - 20 * MIN,
            now - 2 * MIN,
            now - MIN
        ]
    );
    assert_eq!(nominal_times(store, "quiet"), vec![old + 2 * MIN]);

    // Exactly once still holds inside the window: the kept ticks cannot be recorded again.
    let again = NewTick {
        schedule: "hourly",
        nominal_time: now - 20 * MIN,
        outcome: TickOutcome::Fired,
        reason: None,
        recorded_at: now,
        run_id: None,
    };
    assert!(!store.write(|tx| tx.insert_tick(&again)).unwrap());
    // A second prune finds nothing more.
    let done = retention::prune(&**store, cutoff, Mode::Now, &mut |_| {}).unwrap();
    assert_eq!(done.ticks, 0);
}

/// `prune_ticks` deletes at most `limit` rows a call, the oldest first, and never the newest.
fn a_batch_takes_at_most_its_limit_oldest_first(store: &Arc<dyn Backend>) {
    let now = (now_ms() / MIN) * MIN;
    let old = now - 600 * MIN;
    schedule(store, "batched", 1, old + 9 * MIN);
    for k in 0..10 {
        tick(store, "batched", old + k * MIN, TickOutcome::Missed);
    }
    let n = store.write(|tx| tx.prune_ticks("batched", now, 4)).unwrap();
    assert_eq!(n, 4);
    assert_eq!(nominal_times(store, "batched")[0], old + 4 * MIN);
    let n = store
        .write(|tx| tx.prune_ticks("batched", now, 100))
        .unwrap();
    assert_eq!(n, 5, "the newest stays");
    assert_eq!(nominal_times(store, "batched"), vec![old + 9 * MIN]);
    assert_eq!(
        store
            .write(|tx| tx.prune_ticks("batched", now, 100))
            .unwrap(),
        0
    );
}

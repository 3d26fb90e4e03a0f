//! The scheduler loop ([`run_scheduler`]) itself: when it looks at the store. A schedule this
//! process creates is fired without waiting for the loop's look at other commits.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::tests::env;
use super::*;
use crate::model::{RunFilter, StepKind, StepSpec, WorkflowSpec};
use crate::schedule::{ScheduleSpec, SystemClock};

/// A store without schedules sleeps for an hour; creating an `every: 1s` schedule through the
/// plane wakes the loop at once, so its first run comes about a second later — well before
/// the loop would look at other commits (`LOOK_OTHER`, 5 s).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schedule_created_here_wakes_the_scheduler_at_once() {
    let e = env();
    e.plane
        .apply_workflow(
            &e.who,
            WorkflowSpec::new("tick", vec![StepSpec::new("a", StepKind::Noop)]),
            false,
        )
        .await
        .unwrap();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let looping = tokio::spawn(run_scheduler(
        e.plane.clone(),
        Arc::new(SystemClock),
        stop_rx,
        |_| {},
    ));
    // Let the loop look once (nothing to do) and go to sleep.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut spec = ScheduleSpec::new("every-second", "tick");
    spec.every_ms = Some(1_000);
    let created = Instant::now();
    e.plane.create_schedule(&e.who, spec).await.unwrap();
    let filter = RunFilter {
        schedule: Some("every-second".into()),
        ..RunFilter::default()
    };
    let deadline = created + Duration::from_secs(30);
    loop {
        let runs = e.plane.list_runs(&e.who, filter.clone()).await.unwrap();
        if !runs.items.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "the schedule never fired");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let took = created.elapsed();
    let _ = stop_tx.send(true);
    looping.await.unwrap();
    assert!(
        took < Duration::from_millis(4_500),
        "the first run came {took:?} after the schedule was made: the loop was not woken"
    );
}

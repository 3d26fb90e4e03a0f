//! What a wake decides: catch-up after two hours down under each overlap policy, the catch-up
//! window and `max_catchup`, pauses, limits, jitter, and an on-time wake.

#![allow(clippy::unwrap_used)]

use super::*;

const MIN: i64 = 60_000;
/// 2026-01-01T00:00:00Z.
const T0: i64 = 1_767_225_600_000;

fn every_15m(overlap: Overlap) -> Schedule {
    let mut spec = ScheduleSpec::new("s", "w");
    spec.every_ms = Some(15 * 60_000);
    spec.overlap = overlap;
    Schedule::compile(spec).unwrap()
}

fn outcomes(p: &Plan) -> Vec<(i64, Outcome)> {
    p.decisions
        .iter()
        .map(|d| ((d.nominal - T0) / MIN, d.outcome))
        .collect()
}

/// The scheduler last decided the tick at T0, then was down for two hours: the ticks more than
/// the window (1 h) old are missed for downtime; the four within it go by the overlap policy
/// (no run was going when it went down; the first catch-up run is still going for the rest).
#[test]
fn catch_up_after_two_hours_down_with_each_policy() {
    use MissReason::Downtime;
    use Outcome::*;
    let now = T0 + 120 * MIN + 1_000;
    let state = State {
        last_nominal: T0,
        ..State::default()
    };
    let missed = [
        (15, Missed(Downtime)),
        (30, Missed(Downtime)),
        (45, Missed(Downtime)),
        (60, Missed(Downtime)),
    ];
    let cases = [
        (Overlap::Skip, [Fire, Skipped, Skipped, Skipped]),
        (Overlap::BufferOne, [Fire, Buffered, Dropped, Dropped]),
        (Overlap::BufferAll, [Fire, Buffered, Buffered, Buffered]),
        (
            Overlap::CancelOther,
            [
                Fire,
                CancelOthersAndFire,
                CancelOthersAndFire,
                CancelOthersAndFire,
            ],
        ),
        (Overlap::AllowAll, [Fire, Fire, Fire, Fire]),
    ];
    for (overlap, late) in cases {
        let p = plan(&every_15m(overlap), &state, now);
        let mut want: Vec<(i64, Outcome)> = missed.to_vec();
        want.extend([75, 90, 105, 120].into_iter().zip(late));
        assert_eq!(outcomes(&p), want, "{overlap:?}");
        assert_eq!(p.last_nominal, T0 + 120 * MIN);
        assert_eq!(p.next_fire, Some(T0 + 135 * MIN));
    }
}

/// The same downtime with a run still going from before it: nothing fires under `skip`.
#[test]
fn catch_up_with_a_run_still_going() {
    let now = T0 + 120 * MIN + 1_000;
    let state = State {
        last_nominal: T0,
        active: 1,
        ..State::default()
    };
    let p = plan(&every_15m(Overlap::Skip), &state, now);
    assert!(p.decisions.iter().all(|d| !d.outcome.makes_run()), "{p:?}");
    let p = plan(&every_15m(Overlap::BufferOne), &state, now);
    let buffered: Vec<i64> = p
        .decisions
        .iter()
        .filter(|d| d.outcome == Outcome::Buffered)
        .map(|d| (d.nominal - T0) / MIN)
        .collect();
    assert_eq!(buffered, [75]);
}

#[test]
fn max_catchup_keeps_the_latest_ticks() {
    let mut spec = ScheduleSpec::new("s", "w");
    spec.every_ms = Some(15 * 60_000);
    spec.overlap = Overlap::AllowAll;
    spec.max_catchup = Some(2);
    let s = Schedule::compile(spec).unwrap();
    let state = State {
        last_nominal: T0,
        ..State::default()
    };
    let p = plan(&s, &state, T0 + 120 * MIN + 1_000);
    let late: Vec<(i64, Outcome)> = outcomes(&p).into_iter().skip(4).collect();
    assert_eq!(
        late,
        [
            (75, Outcome::Missed(MissReason::CatchupLimit)),
            (90, Outcome::Missed(MissReason::CatchupLimit)),
            (105, Outcome::Fire),
            (120, Outcome::Fire),
        ]
    );
}

#[test]
fn an_on_time_wake_fires_one_tick_and_a_paused_one_records_it_missed() {
    let s = every_15m(Overlap::Skip);
    let state = State {
        last_nominal: T0,
        ..State::default()
    };
    let early = plan(&s, &state, T0 + 15 * MIN - 1);
    assert!(early.decisions.is_empty());
    assert_eq!(early.next_fire, Some(T0 + 15 * MIN));
    let p = plan(&s, &state, T0 + 15 * MIN);
    assert_eq!(outcomes(&p), [(15, Outcome::Fire)]);
    let paused = State {
        paused: true,
        ..state
    };
    let p = plan(&s, &paused, T0 + 15 * MIN);
    assert_eq!(outcomes(&p), [(15, Outcome::Missed(MissReason::Paused))]);
    assert_eq!(p.next_fire, Some(T0 + 30 * MIN));
}

#[test]
fn limit_stops_the_schedule_counting_only_runs() {
    let mut spec = ScheduleSpec::new("s", "w");
    spec.every_ms = Some(15 * 60_000);
    spec.limit = Some(3);
    let s = Schedule::compile(spec).unwrap();
    let state = State {
        last_nominal: T0,
        fired: 1,
        active: 1,
        ..State::default()
    };
    // One run is going: the skipped ticks do not count; after it ends two more may run.
    let p = plan(&s, &state, T0 + 30 * MIN);
    assert_eq!(
        outcomes(&p),
        [(15, Outcome::Skipped), (30, Outcome::Skipped)]
    );
    let idle = State {
        last_nominal: T0 + 30 * MIN,
        fired: 2,
        ..State::default()
    };
    let p = plan(&s, &idle, T0 + 45 * MIN);
    assert_eq!(outcomes(&p), [(45, Outcome::Fire)]);
    assert_eq!(p.next_fire, None, "the third run was the last");
}

#[test]
fn jitter_delays_the_fire_but_not_the_nominal_time() {
    let mut spec = ScheduleSpec::new("s", "w");
    spec.every_ms = Some(15 * 60_000);
    spec.jitter_ms = 60_000;
    let s = Schedule::compile(spec).unwrap();
    let nominal = T0 + 15 * MIN;
    let fire = s.fire_at(nominal);
    assert!(fire >= nominal && fire < nominal + MIN);
    let state = State {
        last_nominal: T0,
        ..State::default()
    };
    if fire > nominal {
        assert!(plan(&s, &state, fire - 1).decisions.is_empty());
    }
    let p = plan(&s, &state, fire);
    assert_eq!(
        p.decisions,
        [Decision {
            nominal,
            outcome: Outcome::Fire
        }]
    );
}

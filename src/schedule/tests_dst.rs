//! Nominal times across daylight-saving changes in America/New_York and Europe/Berlin, with
//! every DST option, and the other timing rules (nicknames, every, start/end, limits).

#![allow(clippy::unwrap_used)]

use super::*;

fn at(rfc3339: &str) -> i64 {
    crate::model::time::from_rfc3339(rfc3339).unwrap()
}

fn iso(ms: i64) -> String {
    crate::model::time::to_rfc3339(ms).unwrap()
}

fn cron(expr: &str, tz: &str, gap: Gap, fold: Option<Fold>) -> Schedule {
    let mut spec = ScheduleSpec::new("s", "w");
    spec.cron = Some(expr.into());
    spec.timezone = tz.into();
    spec.dst = DstPolicy { gap, fold };
    Schedule::compile(spec).unwrap()
}

fn next5(s: &Schedule, after: &str) -> Vec<String> {
    s.upcoming(at(after), 5).into_iter().map(iso).collect()
}

/// A fixed-time job at a local time each zone skips one spring night and repeats one autumn
/// night, under every (gap, fold) pair: spring depends on `gap` only, autumn on `fold` only.
#[test]
fn fixed_time_jobs_across_both_changes_in_both_zones_with_every_option() {
    // (zone, expression, spring: the day before, shift's instant, skip's next instant,
    //  autumn: the day before, first, last)
    let cases = [
        (
            "America/New_York",
            "30 2 * * *",
            "2026-03-07T07:30:00.000Z",
            "2026-03-08T07:00:00.000Z",
            "2026-03-09T06:30:00.000Z",
        ),
        (
            "Europe/Berlin",
            "30 2 * * *",
            "2026-03-28T01:30:00.000Z",
            "2026-03-29T01:00:00.000Z",
            "2026-03-30T00:30:00.000Z",
        ),
    ];
    let autumn = [
        (
            "America/New_York",
            "30 1 * * *",
            "2026-10-31T05:30:00.000Z",
            "2026-11-01T05:30:00.000Z",
            "2026-11-01T06:30:00.000Z",
            "2026-11-02T06:30:00.000Z",
        ),
        (
            "Europe/Berlin",
            "30 2 * * *",
            "2026-10-24T00:30:00.000Z",
            "2026-10-25T00:30:00.000Z",
            "2026-10-25T01:30:00.000Z",
            "2026-10-26T01:30:00.000Z",
        ),
    ];
    for fold in [None, Some(Fold::First), Some(Fold::Last), Some(Fold::Both)] {
        for gap in [Gap::Shift, Gap::Skip] {
            for (tz, expr, before, shifted, skipped) in cases {
                let s = cron(expr, tz, gap, fold);
                let got = s.next_after(at(before)).map(iso).unwrap();
                let want = if gap == Gap::Shift { shifted } else { skipped };
                assert_eq!(got, want, "{tz} spring, gap {gap:?} fold {fold:?}");
            }
            for (tz, expr, before, first, last, day_after) in autumn {
                let s = cron(expr, tz, gap, fold);
                let got: Vec<String> = s.upcoming(at(before), 3).into_iter().map(iso).collect();
                let want: Vec<&str> = match fold.unwrap_or(Fold::First) {
                    Fold::First => vec![before, first, day_after],
                    Fold::Last => vec![before, last, day_after],
                    Fold::Both => vec![before, first, last],
                };
                // `upcoming` is strictly after `before`: drop it from the expectation.
                let want: Vec<String> = want
                    .into_iter()
                    .filter(|w| *w != before)
                    .map(String::from)
                    .collect();
                assert_eq!(
                    got[..want.len()],
                    want[..],
                    "{tz} autumn, gap {gap:?} fold {fold:?}"
                );
            }
        }
    }
}

/// Vixie's wildcard jobs: an hour-wildcard expression fires through the repeated hour twice by
/// default, once with `fold: first`; through the skipped hour every skipped time fires once at
/// the jump (shift), which is also the first regular time after it.
#[test]
fn wildcard_jobs_fire_through_the_repeated_hour_and_once_at_the_jump() {
    let ny = cron("*/30 * * * *", "America/New_York", Gap::Shift, None);
    assert_eq!(ny.fold(), Fold::Both);
    // 00:30 EDT, then 01:00/01:30 EDT, 01:00/01:30 EST, 02:00 EST.
    assert_eq!(
        next5(&ny, "2026-11-01T04:30:00Z"),
        [
            "2026-11-01T05:00:00.000Z",
            "2026-11-01T05:30:00.000Z",
            "2026-11-01T06:00:00.000Z",
            "2026-11-01T06:30:00.000Z",
            "2026-11-01T07:00:00.000Z",
        ]
    );
    let first = cron(
        "*/30 * * * *",
        "America/New_York",
        Gap::Shift,
        Some(Fold::First),
    );
    assert_eq!(
        next5(&first, "2026-11-01T04:30:00Z"),
        [
            "2026-11-01T05:00:00.000Z",
            "2026-11-01T05:30:00.000Z",
            "2026-11-01T07:00:00.000Z",
            "2026-11-01T07:30:00.000Z",
            "2026-11-01T08:00:00.000Z",
        ]
    );
    let last = cron(
        "*/30 * * * *",
        "America/New_York",
        Gap::Shift,
        Some(Fold::Last),
    );
    assert_eq!(
        next5(&last, "2026-11-01T04:30:00Z"),
        [
            "2026-11-01T06:00:00.000Z",
            "2026-11-01T06:30:00.000Z",
            "2026-11-01T07:00:00.000Z",
            "2026-11-01T07:30:00.000Z",
            "2026-11-01T08:00:00.000Z",
        ]
    );
    // Berlin, spring: 01:45 CET, then 02:00..02:45 (skipped) and 03:00 CEST are one instant.
    for gap in [Gap::Shift, Gap::Skip] {
        let berlin = cron("*/15 * * * *", "Europe/Berlin", gap, None);
        assert_eq!(
            next5(&berlin, "2026-03-29T00:40:00Z"),
            [
                "2026-03-29T00:45:00.000Z",
                "2026-03-29T01:00:00.000Z",
                "2026-03-29T01:15:00.000Z",
                "2026-03-29T01:30:00.000Z",
                "2026-03-29T01:45:00.000Z",
            ],
            "{gap:?}"
        );
    }
}

/// Ordinary days are unaffected by the search near changes, and `@daily` reads in the zone.
#[test]
fn nicknames_and_zones() {
    let s = cron("@daily", "Europe/Berlin", Gap::Shift, None);
    assert_eq!(
        next5(&s, "2026-06-01T12:00:00Z")[..2],
        ["2026-06-01T22:00:00.000Z", "2026-06-02T22:00:00.000Z"]
    );
    let h = cron("@hourly", "UTC", Gap::Shift, None);
    assert_eq!(
        next5(&h, "2026-06-01T12:00:00Z")[..2],
        ["2026-06-01T13:00:00.000Z", "2026-06-01T14:00:00.000Z"]
    );
}

#[test]
fn every_counts_from_start_and_stops_at_end() {
    let mut spec = ScheduleSpec::new("s", "w");
    spec.every_ms = Some(15 * 60_000);
    spec.start = Some(at("2026-01-01T00:05:00Z"));
    spec.end = Some(at("2026-01-01T00:40:00Z"));
    let s = Schedule::compile(spec).unwrap();
    assert_eq!(
        next5(&s, "2025-12-31T00:00:00Z"),
        [
            "2026-01-01T00:05:00.000Z",
            "2026-01-01T00:20:00.000Z",
            "2026-01-01T00:35:00.000Z",
        ]
    );
    let mut every_second = ScheduleSpec::new("s", "w");
    every_second.every_ms = Some(1_000);
    let s = Schedule::compile(every_second).unwrap();
    assert_eq!(s.next_after(1_500), Some(2_000));
}

#[test]
fn bad_specs_are_refused_with_reasons() {
    let mut spec = ScheduleSpec::new("s", "w");
    assert_eq!(
        Schedule::compile(spec.clone()).unwrap_err(),
        ScheduleError::Timing
    );
    spec.every_ms = Some(500);
    assert_eq!(
        Schedule::compile(spec.clone()).unwrap_err(),
        ScheduleError::EveryTooShort
    );
    spec.every_ms = None;
    spec.cron = Some("0 0 * * * *".into());
    assert!(matches!(
        Schedule::compile(spec.clone()).unwrap_err(),
        ScheduleError::Cron { .. }
    ));
    spec.cron = Some("61 * * * *".into());
    assert!(matches!(
        Schedule::compile(spec.clone()).unwrap_err(),
        ScheduleError::Cron { .. }
    ));
    spec.cron = Some("0 * * * *".into());
    spec.timezone = "Mars/Olympus".into();
    assert_eq!(
        Schedule::compile(spec).unwrap_err(),
        ScheduleError::TimeZone("Mars/Olympus".into())
    );
}

//! Local wall-clock times to instants under a DST policy: a time the clock skips (a gap) fires
//! at the jump or not at all; a time the clock repeats (a fold) fires at its first, its last or
//! both occurrences.

use chrono::{LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::spec::{Fold, Gap};

/// The instants (epoch ms, ascending) at which the local time `local` in `tz` fires.
pub(super) fn instants(tz: Tz, local: NaiveDateTime, gap: Gap, fold: Fold) -> Vec<i64> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => vec![t.timestamp_millis()],
        LocalResult::Ambiguous(first, last) => match fold {
            Fold::First => vec![first.timestamp_millis()],
            Fold::Last => vec![last.timestamp_millis()],
            Fold::Both => vec![first.timestamp_millis(), last.timestamp_millis()],
        },
        LocalResult::None => match gap {
            Gap::Skip => Vec::new(),
            Gap::Shift => jump_after(tz, local).into_iter().collect(),
        },
    }
}

/// The instant the clock jumped over `local` (a time in a gap): the first instant whose local
/// time is later than `local`, found by bisection within a day either side.
fn jump_after(tz: Tz, local: NaiveDateTime) -> Option<i64> {
    let as_utc = Utc.from_utc_datetime(&local).timestamp();
    let later = |secs: i64| {
        Utc.timestamp_opt(secs, 0)
            .single()
            .is_some_and(|t| t.with_timezone(&tz).naive_local() > local)
    };
    let (mut lo, mut hi) = (as_utc - 86_400, as_utc + 86_400);
    if later(lo) || !later(hi) {
        return None;
    }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if later(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Some(hi * 1000)
}

/// The local time of the instant `ms` in `tz`.
pub(super) fn local(tz: Tz, ms: i64) -> Option<NaiveDateTime> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .map(|t| t.with_timezone(&tz).naive_local())
}

/// The UTC offset (seconds) in force at `ms` in `tz`.
pub(super) fn offset_secs(tz: Tz, ms: i64) -> Option<i32> {
    use chrono::Offset;
    Utc.timestamp_millis_opt(ms)
        .single()
        .map(|t| t.with_timezone(&tz).offset().fix().local_minus_utc())
}

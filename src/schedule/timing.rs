//! [`Schedule`]: a spec compiled into its nominal times. A cron expression is matched against
//! local wall-clock times in the schedule's zone (croner, on naive times), and each matching
//! local time becomes zero, one or two instants by the DST policy (`dst.rs`). `every` counts
//! fixed intervals from `start` (else the epoch), in absolute time: no DST applies.

use std::str::FromStr;

use chrono::{NaiveDateTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use croner::parser::{CronParser, Seconds, Year};
use croner::{Cron, JobType};

use super::ScheduleError;
use super::dst;
use super::jitter::jitter_ms;
use super::spec::{Fold, ScheduleSpec};

/// The smallest `every`.
pub const MIN_EVERY_MS: u64 = 1_000;

/// How far a daylight-saving change can move local time from absolute time, with margin: the
/// search for the next cron instant looks this far around local times.
const SHIFT: TimeDelta = TimeDelta::hours(3);

/// How far ahead a cron expression is searched before it is taken to never match again.
const HORIZON: TimeDelta = TimeDelta::days(366 * 5);

enum Timing {
    Cron(Box<Cron>),
    Every(i64),
}

/// A compiled schedule.
pub struct Schedule {
    spec: ScheduleSpec,
    timing: Timing,
    tz: Tz,
    fold: Fold,
}

impl std::fmt::Debug for Schedule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Schedule")
            .field("spec", &self.spec)
            .finish()
    }
}

/// Parse a 5-field crontab expression or a nickname (`@daily`).
pub fn parse_cron(expr: &str) -> Result<Cron, ScheduleError> {
    let parser = CronParser::builder()
        .seconds(Seconds::Disallowed)
        .year(Year::Disallowed)
        .build();
    parser.parse(expr).map_err(|e| ScheduleError::Cron {
        expr: expr.to_string(),
        reason: e.to_string(),
    })
}

/// Parse an IANA time zone name.
pub fn parse_tz(name: &str) -> Result<Tz, ScheduleError> {
    Tz::from_str(name).map_err(|_| ScheduleError::TimeZone(name.to_string()))
}

impl Schedule {
    /// Check and compile `spec`.
    pub fn compile(spec: ScheduleSpec) -> Result<Schedule, ScheduleError> {
        let tz = parse_tz(&spec.timezone)?;
        if let (Some(s), Some(e)) = (spec.start, spec.end)
            && s > e
        {
            return Err(ScheduleError::StartAfterEnd);
        }
        let (timing, fold) = match (&spec.cron, spec.every_ms) {
            (Some(expr), None) => {
                let cron = parse_cron(expr)?;
                let vixie = match cron.determine_job_type() {
                    JobType::FixedTime => Fold::First,
                    JobType::IntervalWildcard => Fold::Both,
                };
                (Timing::Cron(Box::new(cron)), spec.dst.fold.unwrap_or(vixie))
            }
            (None, Some(ms)) if ms < MIN_EVERY_MS => return Err(ScheduleError::EveryTooShort),
            (None, Some(ms)) => (
                Timing::Every(i64::try_from(ms).unwrap_or(i64::MAX)),
                Fold::First,
            ),
            _ => return Err(ScheduleError::Timing),
        };
        Ok(Schedule {
            spec,
            timing,
            tz,
            fold,
        })
    }

    pub fn spec(&self) -> &ScheduleSpec {
        &self.spec
    }

    pub fn name(&self) -> &str {
        &self.spec.name
    }

    pub fn tz(&self) -> Tz {
        self.tz
    }

    /// The fold policy in force (the spec's, else the Vixie default for the expression).
    pub fn fold(&self) -> Fold {
        self.fold
    }

    /// The first nominal time strictly after `after`, within `start`/`end`.
    pub fn next_after(&self, after: i64) -> Option<i64> {
        let after = match self.spec.start {
            Some(s) if after < s => s - 1,
            _ => after,
        };
        let next = match &self.timing {
            Timing::Every(every) => {
                let anchor = self.spec.start.unwrap_or(0);
                let k = if after < anchor {
                    0
                } else {
                    (after - anchor).div_euclid(*every) + 1
                };
                anchor.checked_add(k.checked_mul(*every)?)?
            }
            Timing::Cron(cron) => self.cron_next(cron, after)?,
        };
        match self.spec.end {
            Some(end) if next > end => None,
            _ => Some(next),
        }
    }

    /// The next `n` nominal times after `after`.
    pub fn upcoming(&self, after: i64, n: usize) -> Vec<i64> {
        let mut out = Vec::with_capacity(n);
        let mut at = after;
        while out.len() < n {
            let Some(next) = self.next_after(at) else {
                break;
            };
            out.push(next);
            at = next;
        }
        out
    }

    /// When the tick at `nominal` fires: its nominal time plus the schedule's jitter for it.
    pub fn fire_at(&self, nominal: i64) -> i64 {
        let j = jitter_ms(&self.spec.name, nominal, self.spec.jitter_ms);
        nominal.saturating_add(i64::try_from(j).unwrap_or(0))
    }

    /// The next cron instant after `after`: the local times matching the expression, each
    /// turned into instants by the DST policy, the earliest one after `after`.
    fn cron_next(&self, cron: &Cron, after: i64) -> Option<i64> {
        let local_after = dst::local(self.tz, after)?;
        // Fast path: no offset change near, so local and absolute time move together.
        if let Some(candidate) = next_local(cron, local_after)
            && let chrono::LocalResult::Single(t) = self.tz.from_local_datetime(&candidate)
        {
            let at = t.timestamp_millis();
            let shift = SHIFT.num_milliseconds();
            let offsets =
                [after - shift, after, at, at + shift].map(|ms| dst::offset_secs(self.tz, ms));
            if offsets.iter().all(|o| o.is_some() && *o == offsets[0]) && at > after {
                return Some(at);
            }
        }
        self.cron_next_slow(cron, after, local_after)
    }

    /// [`cron_next`](Self::cron_next) near an offset change: local times from a shift before
    /// `after`'s, until one more shift past the best instant found.
    fn cron_next_slow(&self, cron: &Cron, after: i64, local_after: NaiveDateTime) -> Option<i64> {
        let mut cursor = local_after - SHIFT;
        let give_up = local_after + HORIZON;
        let mut best: Option<(i64, NaiveDateTime)> = None;
        loop {
            let next = next_local(cron, cursor)?;
            if next > give_up {
                return None;
            }
            if let Some((_, best_local)) = best
                && next > best_local + SHIFT
            {
                break;
            }
            for at in dst::instants(self.tz, next, self.spec.dst.gap, self.fold) {
                if at > after && best.is_none_or(|(b, _)| at < b) {
                    best = Some((at, next));
                }
            }
            cursor = next;
        }
        best.map(|(at, _)| at)
    }
}

/// The first local time strictly after `local` that `cron` matches (croner on UTC, which has no
/// offset changes, is croner on naive times).
fn next_local(cron: &Cron, local: NaiveDateTime) -> Option<NaiveDateTime> {
    cron.find_next_occurrence(&Utc.from_utc_datetime(&local), false)
        .ok()
        .map(|t| t.naive_utc())
}

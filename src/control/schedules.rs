//! What the schedule operations of [`ControlPlane`](super::ControlPlane) take and give (issue
//! 12): `schedule show` ([`ScheduleDetail`] with the next fire times), `schedule backfill`
//! ([`Backfill`], [`BackfillReport`]) and `schedule missed` ([`MissedTick`]).

use serde::{Deserialize, Serialize};

use crate::model::ScheduleInfo;
use crate::schedule::{Fold, Schedule};

/// How many upcoming ticks `schedule show` gives.
pub const UPCOMING: usize = 5;

/// Most ticks one backfill or one `missed` listing covers.
pub const MAX_TICKS: usize = 1000;

/// A schedule with its next fire times.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ScheduleDetail {
    pub schedule: ScheduleInfo,
    /// The DST fold policy in force (the spec's, else the Vixie default for its expression).
    pub fold: Fold,
    /// The next nominal times, in the schedule's zone and in UTC.
    pub upcoming: Vec<UpcomingTick>,
}

/// One upcoming tick.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UpcomingTick {
    #[serde(with = "crate::model::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub nominal_time: i64,
    /// The nominal time in the schedule's zone, RFC 3339 with its offset.
    pub local: String,
    /// When its run is made (nominal time plus jitter).
    #[serde(with = "crate::model::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub fire_at: i64,
}

impl ScheduleDetail {
    /// `info` with its next [`UPCOMING`] ticks after `now` (none once paused ticks are missed
    /// all the same: they are still shown).
    pub fn new(info: ScheduleInfo, now: i64) -> crate::Result<ScheduleDetail> {
        let compiled = Schedule::compile(info.spec.clone())?;
        let after = now.max(info.last_nominal);
        let remaining = info
            .spec
            .limit
            .map_or(UPCOMING, |l| {
                usize::try_from(l.saturating_sub(info.fired)).unwrap_or(UPCOMING)
            })
            .min(UPCOMING);
        let upcoming = compiled
            .upcoming(after, remaining)
            .into_iter()
            .map(|n| UpcomingTick {
                nominal_time: n,
                local: local_text(&compiled, n),
                fire_at: compiled.fire_at(n),
            })
            .collect();
        Ok(ScheduleDetail {
            fold: compiled.fold(),
            schedule: info,
            upcoming,
        })
    }
}

/// `ms` in the schedule's zone, RFC 3339 with its offset.
fn local_text(s: &Schedule, ms: i64) -> String {
    use chrono::TimeZone;
    chrono::Utc
        .timestamp_millis_opt(ms)
        .single()
        .map(|t| {
            t.with_timezone(&s.tz())
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
        })
        .unwrap_or_default()
}

/// `schedule backfill`: make the runs of the ticks in `[from, to]` that have none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Backfill {
    #[serde(with = "crate::model::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub from: i64,
    #[serde(with = "crate::model::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub to: i64,
    /// Only say which runs would be made.
    #[serde(default)]
    pub dry_run: bool,
}

/// What a backfill did (or would do) per tick.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BackfillTick {
    #[serde(with = "crate::model::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub nominal_time: i64,
    /// `created`, `would_create`, or `exists` (the tick has a run, or is buffered).
    pub action: String,
    pub run_id: Option<String>,
}

/// What a backfill did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BackfillReport {
    pub schedule: String,
    pub dry_run: bool,
    pub ticks: Vec<BackfillTick>,
}

/// An expected tick with no run, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MissedTick {
    pub schedule: String,
    #[serde(with = "crate::model::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub nominal_time: i64,
    /// `missed`, `skipped`, `dropped`, or `pending` (due, but no scheduler has run since).
    pub outcome: String,
    /// Why, in words.
    pub reason: String,
}

/// Body of `POST /schedules/{name}/pause`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PauseBody {
    pub note: Option<String>,
}

/// Query of `GET /schedules/{name}/missed`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MissedQuery {
    /// From this time (ms since the epoch).
    pub since: i64,
}

//! [`ScheduleSpec`]: a schedule as an operator declares it (a workflow file's `schedules:` entry
//! or `imx schedule create`), and as the store keeps it (JSON). Durations are milliseconds, times
//! epoch milliseconds.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// How long after its nominal time a tick may still fire once the scheduler is back (1 h).
pub const DEFAULT_CATCHUP_WINDOW_MS: u64 = 3_600_000;

/// One schedule of one workflow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleSpec {
    /// Unique among schedules: `[a-z0-9][a-z0-9_-]*`.
    pub name: String,
    /// The workflow each tick runs (its latest version at the tick).
    pub workflow: String,
    /// A 5-field crontab expression or a nickname (`@hourly`, `@daily`, …), read in `timezone`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cron: Option<String>,
    /// Or a fixed interval (at least 1 s), counted from `start` (else the Unix epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every_ms: Option<u64>,
    /// IANA time zone the cron expression is read in.
    #[serde(default = "utc")]
    pub timezone: String,
    #[serde(default)]
    pub dst: DstPolicy,
    /// Each tick's run starts up to this much after its nominal time (the same delay for a
    /// given schedule and tick on every replica).
    #[serde(default)]
    pub jitter_ms: u64,
    /// No tick before this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<i64>,
    /// No tick after this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<i64>,
    /// The run's parameters (raw strings, typed against the workflow as `-p k=v` are).
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    /// The labels of each run it makes (`-l key=value`; see `model::labels` for the rules), to
    /// find them by (`run list -l`). Left out when empty.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// At most this many runs from ticks, ever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    #[serde(default)]
    pub overlap: Overlap,
    /// Ticks missed while no scheduler ran fire late if they are at most this old.
    #[serde(default = "default_window")]
    pub catchup_window_ms: u64,
    /// At most this many ticks fire in one wake (the latest ones); older due ticks are recorded
    /// as missed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_catchup: Option<u32>,
    /// Pause the schedule when one of its runs fails or times out.
    #[serde(default)]
    pub pause_on_failure: bool,
}

fn utc() -> String {
    "UTC".into()
}

fn default_window() -> u64 {
    DEFAULT_CATCHUP_WINDOW_MS
}

impl ScheduleSpec {
    /// A spec with every option at its default: `cron` or `every_ms` still to be set.
    pub fn new(name: impl Into<String>, workflow: impl Into<String>) -> ScheduleSpec {
        ScheduleSpec {
            name: name.into(),
            workflow: workflow.into(),
            cron: None,
            every_ms: None,
            timezone: utc(),
            dst: DstPolicy::default(),
            jitter_ms: 0,
            start: None,
            end: None,
            params: BTreeMap::new(),
            labels: BTreeMap::new(),
            limit: None,
            overlap: Overlap::default(),
            catchup_window_ms: DEFAULT_CATCHUP_WINDOW_MS,
            max_catchup: None,
            pause_on_failure: false,
        }
    }
}

impl ScheduleSpec {
    /// The spec as a store keeps it: JSON without the options left at their defaults (read
    /// back, they take the same defaults: the same spec), so a schedule's row, which a
    /// scheduler pass rewrites at every tick, holds little more than its timing.
    pub fn to_stored_json(&self) -> serde_json::Result<String> {
        let serde_json::Value::Object(mut map) = serde_json::to_value(self)? else {
            return serde_json::to_string(self);
        };
        if let serde_json::Value::Object(defaults) =
            serde_json::to_value(ScheduleSpec::new("", ""))?
        {
            for (k, v) in defaults {
                if k != "name" && k != "workflow" && map.get(&k) == Some(&v) {
                    map.remove(&k);
                }
            }
        }
        serde_json::to_string(&map)
    }
}

/// What a tick does while a previous run of the schedule is still going.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Overlap {
    /// Record the tick as skipped.
    #[default]
    Skip,
    /// Keep one tick to start when the running one ends; later ones are dropped.
    BufferOne,
    /// Keep every tick; they start one after another.
    BufferAll,
    /// Cancel the running runs and start.
    CancelOther,
    /// Start anyway.
    AllowAll,
}

impl Overlap {
    pub const ALL: [Overlap; 5] = [
        Overlap::Skip,
        Overlap::BufferOne,
        Overlap::BufferAll,
        Overlap::CancelOther,
        Overlap::AllowAll,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Overlap::Skip => "skip",
            Overlap::BufferOne => "buffer_one",
            Overlap::BufferAll => "buffer_all",
            Overlap::CancelOther => "cancel_other",
            Overlap::AllowAll => "allow_all",
        }
    }

    pub fn parse(s: &str) -> Option<Overlap> {
        Overlap::ALL.into_iter().find(|o| o.as_str() == s)
    }
}

/// What a cron schedule does with local times that a daylight-saving change skips or repeats.
/// The default is Vixie cron's: a skipped time fires when the clock has jumped, a repeated
/// time fires once (its first occurrence) — except that a schedule whose hour field is a
/// wildcard (`*/15 * * * *`) fires at every repeated time, as Vixie's "wildcard jobs" do,
/// unless `fold` is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DstPolicy {
    #[serde(default)]
    pub gap: Gap,
    /// Unset: `first`, or `both` for an hour-wildcard expression (Vixie).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fold: Option<Fold>,
}

/// A local time the clock skips (spring forward).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Gap {
    /// Fire at the instant the clock jumps (several skipped times fire once).
    #[default]
    Shift,
    /// Do not fire.
    Skip,
}

/// A local time the clock repeats (fall back).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Fold {
    /// At its first occurrence (daylight time).
    First,
    /// At its second occurrence (standard time).
    Last,
    /// At both.
    Both,
}

impl Gap {
    pub fn parse(s: &str) -> Option<Gap> {
        match s {
            "shift" => Some(Gap::Shift),
            "skip" => Some(Gap::Skip),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Gap::Shift => "shift",
            Gap::Skip => "skip",
        }
    }
}

impl Fold {
    pub fn parse(s: &str) -> Option<Fold> {
        match s {
            "first" => Some(Fold::First),
            "last" => Some(Fold::Last),
            "both" => Some(Fold::Both),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Fold::First => "first",
            Fold::Last => "last",
            Fold::Both => "both",
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A spec is stored without its default options and read back the same, whatever it sets.
    #[test]
    fn a_stored_spec_leaves_defaults_out_and_reads_back_the_same() {
        let mut every = ScheduleSpec::new("nightly", "build");
        every.every_ms = Some(60_000);
        let json = every.to_stored_json().unwrap();
        assert_eq!(
            json,
            r#"{"every_ms":60000,"name":"nightly","workflow":"build"}"#
        );
        assert_eq!(serde_json::from_str::<ScheduleSpec>(&json).unwrap(), every);
        let mut all = ScheduleSpec::new("n", "w");
        all.cron = Some("0 3 * * *".into());
        all.timezone = "Europe/Berlin".into();
        all.dst = DstPolicy {
            gap: Gap::Skip,
            fold: Some(Fold::Both),
        };
        all.jitter_ms = 5;
        all.start = Some(1);
        all.end = Some(2);
        all.params.insert("k".into(), "v".into());
        all.labels.insert("l".into(), "x".into());
        all.limit = Some(3);
        all.overlap = Overlap::BufferAll;
        all.catchup_window_ms = 7;
        all.max_catchup = Some(4);
        all.pause_on_failure = true;
        let json = all.to_stored_json().unwrap();
        assert_eq!(serde_json::from_str::<ScheduleSpec>(&json).unwrap(), all);
        assert_eq!(json.len(), serde_json::to_string(&all).unwrap().len());
    }
}

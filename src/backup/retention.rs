//! Retention: which backups `prune` keeps. The policy reads like restic's and borg's: keep the
//! newest N, then the newest backup of each of the last D days, W ISO weeks, M months and Y years
//! that have one (UTC). A backup kept for any reason is kept; the rest are removed.

use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};

use super::BackupInfo;
use crate::{Error, Result};

/// How many of each to keep.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionPolicy {
    pub keep_last: u32,
    pub keep_hourly: u32,
    pub keep_daily: u32,
    pub keep_weekly: u32,
    pub keep_monthly: u32,
    pub keep_yearly: u32,
}

impl RetentionPolicy {
    /// Whether the policy keeps anything at all (an empty policy would delete every backup).
    pub fn is_empty(&self) -> bool {
        *self == RetentionPolicy::default()
    }

    /// The policy the seed asks for: 30 days rolling, one a month for a year, one a year.
    pub fn seed_default() -> Self {
        RetentionPolicy {
            keep_last: 4,
            keep_hourly: 24,
            keep_daily: 30,
            keep_weekly: 0,
            keep_monthly: 12,
            keep_yearly: 1,
        }
    }
}

/// One backup and whether (and why) it is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub id: String,
    pub path: std::path::PathBuf,
    #[serde(with = "crate::model::time::rfc3339")]
    pub created_at: i64,
    pub size: u64,
    pub keep: bool,
    /// `last`, `hourly`, `daily`, `weekly`, `monthly`, `yearly`.
    pub reasons: Vec<String>,
}

/// What `prune` did (or would do).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PruneReport {
    pub dry_run: bool,
    pub policy: RetentionPolicy,
    /// Newest first.
    pub decisions: Vec<Decision>,
    pub removed: u64,
    pub freed_bytes: u64,
}

type Key = fn(DateTime<Utc>) -> (i32, u32, u32, u32);

fn hour(t: DateTime<Utc>) -> (i32, u32, u32, u32) {
    (t.year(), t.ordinal(), chrono::Timelike::hour(&t), 0)
}
fn day(t: DateTime<Utc>) -> (i32, u32, u32, u32) {
    (t.year(), t.ordinal(), 0, 0)
}
fn week(t: DateTime<Utc>) -> (i32, u32, u32, u32) {
    let w = t.iso_week();
    (w.year(), w.week(), 0, 0)
}
fn month(t: DateTime<Utc>) -> (i32, u32, u32, u32) {
    (t.year(), t.month(), 0, 0)
}
fn year(t: DateTime<Utc>) -> (i32, u32, u32, u32) {
    (t.year(), 0, 0, 0)
}

/// Decide for each backup (any order in; newest first out).
pub fn plan(backups: &[BackupInfo], policy: &RetentionPolicy) -> Result<Vec<Decision>> {
    if policy.is_empty() {
        return Err(Error::invalid_with_hint(
            "a retention policy that keeps nothing would delete every backup",
            "give at least one of --keep-last, --keep-hourly, --keep-daily, --keep-weekly, --keep-monthly, --keep-yearly",
        ));
    }
    let mut sorted: Vec<&BackupInfo> = backups.iter().collect();
    sorted.sort_by(|a, b| {
        b.manifest
            .created_at
            .cmp(&a.manifest.created_at)
            .then_with(|| b.manifest.id.cmp(&a.manifest.id))
    });
    let mut out: Vec<Decision> = sorted
        .iter()
        .map(|b| Decision {
            id: b.manifest.id.clone(),
            path: b.path.clone(),
            created_at: b.manifest.created_at,
            size: b.size,
            keep: false,
            reasons: Vec::new(),
        })
        .collect();
    for d in out.iter_mut().take(policy.keep_last as usize) {
        d.keep = true;
        d.reasons.push("last".into());
    }
    let rules: [(&str, u32, Key); 5] = [
        ("hourly", policy.keep_hourly, hour),
        ("daily", policy.keep_daily, day),
        ("weekly", policy.keep_weekly, week),
        ("monthly", policy.keep_monthly, month),
        ("yearly", policy.keep_yearly, year),
    ];
    for (name, count, key) in rules {
        let mut left = count;
        let mut last = None;
        for d in out.iter_mut() {
            if left == 0 {
                break;
            }
            let Some(t) = DateTime::<Utc>::from_timestamp_millis(d.created_at) else {
                continue;
            };
            let k = key(t);
            if last != Some(k) {
                last = Some(k);
                left -= 1;
                d.keep = true;
                d.reasons.push(name.into());
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::backup::manifest::{BackupFormat, Manifest};

    fn at(rfc: &str, id: &str) -> BackupInfo {
        let t = DateTime::parse_from_rfc3339(rfc)
            .unwrap()
            .timestamp_millis();
        BackupInfo {
            path: format!("/b/{id}").into(),
            size: 10,
            duration_ms: None,
            manifest: Manifest {
                manifest_version: 1,
                id: id.into(),
                created_at: t,
                created_by: "t".into(),
                imx_version: "0".into(),
                schema_version: 1,
                store_id: "s".into(),
                source: "s".into(),
                format: BackupFormat::Sqlite,
                compression: "zstd".into(),
                snapshot_bytes: 0,
                payload_bytes: 0,
                payload_sha256: String::new(),
                tables: Default::default(),
                audit_head: Default::default(),
                encryption: None,
                note: None,
            },
        }
    }

    fn kept(d: &[Decision]) -> Vec<&str> {
        d.iter().filter(|d| d.keep).map(|d| d.id.as_str()).collect()
    }

    #[test]
    fn keeps_the_newest_of_each_period() {
        let b = vec![
            at("2024-01-01T10:00:00Z", "a"),
            at("2024-01-01T12:00:00Z", "b"),
            at("2024-01-02T09:00:00Z", "c"),
            at("2024-01-02T23:00:00Z", "d"),
            at("2024-02-15T00:00:00Z", "e"),
            at("2024-03-01T00:00:00Z", "f"),
        ];
        let p = |f: fn(&mut RetentionPolicy)| {
            let mut p = RetentionPolicy::default();
            f(&mut p);
            plan(&b, &p).unwrap()
        };
        assert_eq!(kept(&p(|p| p.keep_last = 2)), ["f", "e"]);
        assert_eq!(kept(&p(|p| p.keep_daily = 3)), ["f", "e", "d"]);
        assert_eq!(kept(&p(|p| p.keep_daily = 10)), ["f", "e", "d", "b"]);
        assert_eq!(kept(&p(|p| p.keep_monthly = 3)), ["f", "e", "d"]);
        assert_eq!(kept(&p(|p| p.keep_yearly = 5)), ["f"]);
        let both = p(|p| {
            p.keep_last = 1;
            p.keep_monthly = 2;
        });
        assert_eq!(kept(&both), ["f", "e"]);
        assert_eq!(both[0].reasons, ["last", "monthly"]);
        assert!(plan(&b, &RetentionPolicy::default()).is_err());
    }
}

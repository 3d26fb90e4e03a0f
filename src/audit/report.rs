//! `audit report`: what an auditor asks for, in one streaming pass that also verifies the chain —
//! activity by actor, action and outcome, auth failures and lockouts, privilege changes, run
//! outcomes, agent churn, backup/restore history, activity over time, and the verification
//! result with the head hash. Rendering lives in [`super::render`].

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::canonical::RecordRef;
use super::chain::{self, ChainReport, Expectation};
use crate::Result;

/// The period a report covers (both optional; epoch ms in code, RFC 3339 in JSON, which also
/// accepts epoch ms).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Window {
    #[serde(default, with = "crate::model::time::rfc3339_opt")]
    #[schema(value_type = Option<crate::model::time::TimeInput>)]
    pub since: Option<i64>,
    #[serde(default, with = "crate::model::time::rfc3339_opt")]
    #[schema(value_type = Option<crate::model::time::TimeInput>)]
    pub until: Option<i64>,
}

impl Window {
    fn contains(&self, t: i64) -> bool {
        self.since.is_none_or(|s| t >= s) && self.until.is_none_or(|u| t < u)
    }
}

/// A count by key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Count {
    pub key: String,
    pub count: u64,
    /// How many of them were denied or failed.
    pub failed: u64,
}

/// A notable record, summarised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub seq: i64,
    #[serde(with = "crate::model::time::rfc3339")]
    pub time: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub outcome: String,
    pub details: String,
}

impl Entry {
    fn of(r: &RecordRef<'_>) -> Self {
        let mut e = Entry {
            seq: 0,
            time: 0,
            actor: String::new(),
            action: String::new(),
            target: String::new(),
            outcome: String::new(),
            details: String::new(),
        };
        e.set(r);
        e
    }

    /// Make this entry summarise `r`, reusing its strings.
    fn set(&mut self, r: &RecordRef<'_>) {
        fn put(s: &mut String, v: &str) {
            s.clear();
            s.push_str(v);
        }
        self.seq = r.seq;
        self.time = r.time;
        put(&mut self.actor, r.actor);
        put(&mut self.action, r.action);
        put(&mut self.target, r.target);
        put(&mut self.outcome, r.outcome);
        put(
            &mut self.details,
            if r.details == "null" { "" } else { r.details },
        );
    }
}

/// A list of notable records: the total and the most recent ones (at most [`MAX_ENTRIES`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entries {
    pub total: u64,
    pub recent: Vec<Entry>,
}

/// How many entries of each notable kind a report lists.
pub const MAX_ENTRIES: usize = 200;

/// [`Entries`] while a report is built: a ring of the latest [`MAX_ENTRIES`]; once it is full,
/// a new record overwrites the oldest entry's strings in place (no allocation, no shifting).
#[derive(Default)]
struct Recent {
    total: u64,
    ring: Vec<Entry>,
    /// The oldest entry once the ring is full.
    oldest: usize,
}

impl Recent {
    /// Add `r`, which stands for `n` requests (see [`requests`]).
    fn push(&mut self, r: &RecordRef<'_>, n: u64) {
        self.total += n;
        if self.ring.len() < MAX_ENTRIES {
            self.ring.push(Entry::of(r));
            return;
        }
        if let Some(e) = self.ring.get_mut(self.oldest) {
            e.set(r);
        }
        self.oldest = (self.oldest + 1) % MAX_ENTRIES;
    }

    fn finish(mut self) -> Entries {
        self.ring.rotate_left(self.oldest);
        Entries {
            total: self.total,
            recent: self.ring,
        }
    }
}

/// Agents coming and going.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentChurn {
    pub registered: u64,
    pub distinct_agents: u64,
    pub drained: u64,
    pub resumed: u64,
    pub removed: u64,
}

/// Records per time bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bucket {
    #[serde(with = "crate::model::time::rfc3339")]
    pub start: i64,
    pub count: u64,
    pub failed: u64,
}

/// Everything in an audit report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditReport {
    #[serde(with = "crate::model::time::rfc3339")]
    pub generated_at: i64,
    /// The store or server the report is about.
    pub location: String,
    pub window: Window,
    /// Records in the window.
    pub records: u64,
    #[serde(default, with = "crate::model::time::rfc3339_opt")]
    pub first_time: Option<i64>,
    #[serde(default, with = "crate::model::time::rfc3339_opt")]
    pub last_time: Option<i64>,
    pub by_actor: Vec<Count>,
    pub by_action: Vec<Count>,
    pub by_outcome: Vec<Count>,
    /// Failed logins and denied operations.
    pub auth_failures: Entries,
    pub lockouts: Entries,
    /// Users, roles and tokens created, changed or revoked.
    pub privilege_changes: Entries,
    /// Runs created in the window, by final (or current) status.
    pub run_outcomes: BTreeMap<String, u64>,
    pub agent_churn: AgentChurn,
    /// Backups created, verified, restored and pruned; audit checkpoints and prunes.
    pub backups: Entries,
    /// Bucket width (ms) of `timeline`.
    pub bucket_ms: i64,
    pub timeline: Vec<Bucket>,
    pub verification: ChainReport,
}

const HOUR: i64 = 3_600_000;

/// Classify `action`/`outcome` pairs (names as the audit trail records them).
fn failed(outcome: &str) -> bool {
    outcome != "ok"
}

/// How many requests `r` stands for: repeated denials are coalesced into one record whose
/// `details.count` says how many there were (see `control::local::denials`); any other record is
/// one.
fn requests(r: &RecordRef<'_>) -> u64 {
    if r.outcome != "denied" || !r.details.contains("\"count\"") {
        return 1;
    }
    serde_json::from_str::<serde_json::Value>(r.details)
        .ok()
        .and_then(|d| d.get("count")?.as_u64())
        .filter(|&n| n > 0)
        .unwrap_or(1)
}

fn is_auth_failure(r: &RecordRef<'_>) -> bool {
    (r.outcome == "denied")
        || ((r.action.starts_with("auth.") || r.action.starts_with("login")) && failed(r.outcome))
}

fn is_lockout(r: &RecordRef<'_>) -> bool {
    r.action.contains("lockout") || r.outcome == "locked"
}

fn is_privilege_change(r: &RecordRef<'_>) -> bool {
    !failed(r.outcome)
        && ["user.", "token.", "role."]
            .iter()
            .any(|p| r.action.starts_with(p))
        && !r.action.ends_with(".list")
        && !r.action.ends_with(".get")
}

fn is_backup(r: &RecordRef<'_>) -> bool {
    r.action.starts_with("backup.")
        || r.action == "audit.prune"
        || r.action == "audit.checkpoint"
        || r.action == "audit.checkpoint.repair"
}

/// Counts by key; a fast hasher (foldhash, randomly seeded) since every record is counted thrice.
#[derive(Default)]
struct Tally {
    map: HashMap<String, (u64, u64), foldhash::fast::RandomState>,
}

impl Tally {
    /// Count `n` requests under `key`.
    fn add(&mut self, key: &str, failed: bool, n: u64) {
        let f = if failed { n } else { 0 };
        if let Some(v) = self.map.get_mut(key) {
            v.0 += n;
            v.1 += f;
        } else {
            self.map.insert(key.to_string(), (n, f));
        }
    }

    fn sorted(self) -> Vec<Count> {
        let mut v: Vec<Count> = self
            .map
            .into_iter()
            .map(|(key, (count, failed))| Count { key, count, failed })
            .collect();
        v.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
        v
    }
}

/// Build the report over `window`, verifying the whole chain on the way.
pub fn build(
    tx: &dyn super::AuditStore,
    location: &str,
    window: Window,
    expectations: &[Expectation],
    now: i64,
) -> Result<AuditReport> {
    let (mut actors, mut actions, mut outcomes) =
        (Tally::default(), Tally::default(), Tally::default());
    let mut auth = Recent::default();
    let mut lockouts = Recent::default();
    let mut privilege = Recent::default();
    let mut backups = Recent::default();
    let mut churn = AgentChurn::default();
    let mut agents: HashSet<String, foldhash::fast::RandomState> = HashSet::default();
    let mut per_hour: BTreeMap<i64, (u64, u64)> = BTreeMap::new();
    // Records come in time order (almost always): count the current hour here, and add it to
    // `per_hour` when the hour changes.
    let mut hour: Option<(i64, u64, u64)> = None;
    let (mut records, mut first, mut last) = (0u64, None, None);

    let verification = chain::verify(tx, expectations, &mut |r: &RecordRef<'_>| {
        if !window.contains(r.time) {
            return;
        }
        records += 1;
        first.get_or_insert(r.time);
        last = Some(r.time);
        let bad = failed(r.outcome);
        let n = requests(r);
        let n_bad = if bad { n } else { 0 };
        actors.add(r.actor, bad, n);
        actions.add(r.action, bad, n);
        outcomes.add(r.outcome, bad, n);
        let this_hour = r.time.div_euclid(HOUR);
        match &mut hour {
            Some((h, count, failed)) if *h == this_hour => {
                *count += n;
                *failed += n_bad;
            }
            current => {
                if let Some((h, count, failed)) = current.replace((this_hour, n, n_bad)) {
                    let e = per_hour.entry(h).or_default();
                    e.0 += count;
                    e.1 += failed;
                }
            }
        }
        if is_auth_failure(r) {
            auth.push(r, n);
        }
        if is_lockout(r) {
            lockouts.push(r, n);
        }
        if is_privilege_change(r) {
            privilege.push(r, n);
        }
        if is_backup(r) {
            backups.push(r, n);
        }
        if !bad {
            match r.action {
                "agent.register" => {
                    churn.registered += 1;
                    if !agents.contains(r.target) {
                        agents.insert(r.target.to_string());
                    }
                }
                "agent.drain" => churn.drained += 1,
                "agent.resume" => churn.resumed += 1,
                "agent.remove" => churn.removed += 1,
                _ => {}
            }
        }
    })?;
    if let Some((h, count, failed)) = hour {
        let e = per_hour.entry(h).or_default();
        e.0 += count;
        e.1 += failed;
    }
    churn.distinct_agents = agents.len() as u64;

    let run_outcomes = tx.run_outcomes(window.since, window.until)?;

    let (bucket_ms, timeline) = timeline(&per_hour, window, first, last);
    Ok(AuditReport {
        generated_at: now,
        location: location.into(),
        window,
        records,
        first_time: first,
        last_time: last,
        by_actor: actors.sorted(),
        by_action: actions.sorted(),
        by_outcome: outcomes.sorted(),
        auth_failures: auth.finish(),
        lockouts: lockouts.finish(),
        privilege_changes: privilege.finish(),
        run_outcomes,
        agent_churn: churn,
        backups: backups.finish(),
        bucket_ms,
        timeline,
        verification,
    })
}

/// Hourly counts regrouped into at most ~60 buckets of 1h, 6h, 1d, 7d or 30d, gaps filled.
fn timeline(
    per_hour: &BTreeMap<i64, (u64, u64)>,
    window: Window,
    first: Option<i64>,
    last: Option<i64>,
) -> (i64, Vec<Bucket>) {
    let (Some(first), Some(last)) = (window.since.or(first), last.max(first)) else {
        return (HOUR, Vec::new());
    };
    let end = window
        .until
        .map_or(last, |u| u.saturating_sub(1))
        .max(first);
    // Any window a caller names, up to all of i64: never more than ~60 buckets.
    let span = end.abs_diff(first);
    let year = 24 * 365 * HOUR;
    let width = [1, 6, 24, 24 * 7, 24 * 30]
        .into_iter()
        .map(|h| h * HOUR)
        .find(|w| span / w.unsigned_abs() < 60)
        .unwrap_or_else(|| {
            let years = span / 60 / year.unsigned_abs() + 1;
            i64::try_from(years).unwrap_or(i64::MAX / year) * year
        });
    let start = first.div_euclid(width);
    let stop = end.div_euclid(width);
    let mut buckets: Vec<Bucket> = (start..=stop)
        .map(|b| Bucket {
            start: b.saturating_mul(width),
            count: 0,
            failed: 0,
        })
        .collect();
    for (hour, (count, failed)) in per_hour {
        let idx = hour.saturating_mul(HOUR).div_euclid(width) - start;
        if let Some(b) = usize::try_from(idx).ok().and_then(|i| buckets.get_mut(i)) {
            b.count += count;
            b.failed += failed;
        }
    }
    (width, buckets)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn any_window_makes_a_short_timeline() {
        let per_hour = BTreeMap::from([(10, (3, 1))]);
        for (since, until) in [
            (Some(0), Some(i64::MAX - 1)),
            (Some(i64::MIN), Some(i64::MAX)),
            (Some(i64::MIN), None),
            (None, Some(i64::MAX)),
        ] {
            let (width, buckets) =
                timeline(&per_hour, Window { since, until }, Some(0), Some(HOUR * 20));
            assert!(width > 0);
            assert!(
                (1..=62).contains(&buckets.len()),
                "{since:?}..{until:?}: {} buckets",
                buckets.len()
            );
        }
    }

    #[test]
    fn the_latest_entries_are_kept_in_order_and_hours_are_counted_out_of_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open(&dir.path().join("imx.db"), true).unwrap();
        let who = crate::auth::Principal::local_owner();
        let n = MAX_ENTRIES as i64 * 2 + 17;
        store
            .write(|tx| {
                for i in 0..n {
                    crate::audit::append(
                        tx,
                        &who,
                        "backup.create",
                        &format!("b{i}"),
                        if i % 5 == 0 { "error" } else { "ok" },
                        serde_json::json!({ "i": i }),
                    )?;
                }
                // Times that go back and forth between three hours (clock steps, imports), from
                // the first hour (the first record) to the last (the last record).
                for seq in 1..=n {
                    let time = match seq {
                        1 => 0,
                        s if s == n => 2 * HOUR,
                        s => (s % 3) * HOUR,
                    };
                    crate::store::testing::tamper::set(tx, seq, "time", time)?;
                }
                Ok(())
            })
            .unwrap();
        let r = store
            .read(|tx| build(tx, "test", Window::default(), &[], 0))
            .unwrap();
        assert_eq!(r.records, n as u64);
        assert_eq!(r.backups.total, n as u64);
        let seqs: Vec<i64> = r.backups.recent.iter().map(|e| e.seq).collect();
        let expected: Vec<i64> = (n - MAX_ENTRIES as i64 + 1..=n).collect();
        assert_eq!(seqs, expected, "the most recent, oldest first");
        let last = r.backups.recent.last().unwrap();
        assert_eq!(
            (last.target.as_str(), last.details.as_str()),
            (
                format!("b{}", n - 1).as_str(),
                format!("{{\"i\":{}}}", n - 1).as_str()
            )
        );
        assert_eq!(r.bucket_ms, HOUR);
        let counts: Vec<u64> = r.timeline.iter().map(|b| b.count).collect();
        let hour = |s: i64| match s {
            1 => 0,
            s if s == n => 2,
            s => s % 3,
        };
        let per = |k: i64| (1..=n).filter(|&s| hour(s) == k).count() as u64;
        assert_eq!(counts, [per(0), per(1), per(2)]);
        let failed: u64 = r.timeline.iter().map(|b| b.failed).sum();
        assert_eq!(failed, (0..n).filter(|i| i % 5 == 0).count() as u64);
        // The chain was rewritten by the UPDATE, which the verification names.
        assert!(!r.verification.ok);
    }
}

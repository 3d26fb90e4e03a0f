//! `audit report`: what an auditor asks for, in one streaming pass that also verifies the chain —
//! activity by actor, action and outcome, auth failures and lockouts, privilege changes, run
//! outcomes, agent churn, backup/restore history, activity over time, and the verification
//! result with the head hash. Rendering lives in [`super::render`].

use std::collections::{BTreeMap, HashMap};

use rusqlite::Transaction;
use serde::{Deserialize, Serialize};

use super::canonical::RecordRef;
use super::chain::{self, ChainReport, Expectation};
use crate::Result;

/// The period a report covers (ms; both optional).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Window {
    pub since: Option<i64>,
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
    pub time: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub outcome: String,
    pub details: String,
}

impl Entry {
    fn of(r: &RecordRef<'_>) -> Self {
        Entry {
            seq: r.seq,
            time: r.time,
            actor: r.actor.into(),
            action: r.action.into(),
            target: r.target.into(),
            outcome: r.outcome.into(),
            details: if r.details == "null" {
                String::new()
            } else {
                r.details.into()
            },
        }
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

impl Entries {
    fn push(&mut self, r: &RecordRef<'_>) {
        self.total += 1;
        if self.recent.len() == MAX_ENTRIES {
            self.recent.remove(0);
        }
        self.recent.push(Entry::of(r));
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
    pub start: i64,
    pub count: u64,
    pub failed: u64,
}

/// Everything in an audit report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditReport {
    pub generated_at: i64,
    /// The store or server the report is about.
    pub location: String,
    pub window: Window,
    /// Records in the window.
    pub records: u64,
    pub first_time: Option<i64>,
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
    r.action.starts_with("backup.") || r.action == "audit.prune" || r.action == "audit.checkpoint"
}

#[derive(Default)]
struct Tally {
    map: HashMap<String, (u64, u64)>,
}

impl Tally {
    fn add(&mut self, key: &str, failed: bool) {
        let f = u64::from(failed);
        if let Some(v) = self.map.get_mut(key) {
            v.0 += 1;
            v.1 += f;
        } else {
            self.map.insert(key.to_string(), (1, f));
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
    tx: &Transaction<'_>,
    location: &str,
    window: Window,
    expectations: &[Expectation],
    now: i64,
) -> Result<AuditReport> {
    let (mut actors, mut actions, mut outcomes) =
        (Tally::default(), Tally::default(), Tally::default());
    let mut auth = Entries::default();
    let mut lockouts = Entries::default();
    let mut privilege = Entries::default();
    let mut backups = Entries::default();
    let mut churn = AgentChurn::default();
    let mut agents = std::collections::HashSet::new();
    let mut per_hour: BTreeMap<i64, (u64, u64)> = BTreeMap::new();
    let (mut records, mut first, mut last) = (0u64, None, None);

    let verification = chain::verify(tx, expectations, &mut |r: &RecordRef<'_>| {
        if !window.contains(r.time) {
            return;
        }
        records += 1;
        first.get_or_insert(r.time);
        last = Some(r.time);
        let bad = failed(r.outcome);
        actors.add(r.actor, bad);
        actions.add(r.action, bad);
        outcomes.add(r.outcome, bad);
        let h = per_hour.entry(r.time.div_euclid(HOUR)).or_default();
        h.0 += 1;
        h.1 += u64::from(bad);
        if is_auth_failure(r) {
            auth.push(r);
        }
        if is_lockout(r) {
            lockouts.push(r);
        }
        if is_privilege_change(r) {
            privilege.push(r);
        }
        if is_backup(r) {
            backups.push(r);
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
    churn.distinct_agents = agents.len() as u64;

    let mut run_outcomes = BTreeMap::new();
    {
        let mut stmt = tx.prepare(
            "SELECT status, count(*) FROM runs
             WHERE (?1 IS NULL OR created_at >= ?1) AND (?2 IS NULL OR created_at < ?2)
             GROUP BY status",
        )?;
        let rows = stmt.query_map(rusqlite::params![window.since, window.until], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })?;
        for row in rows {
            let (status, n) = row?;
            run_outcomes.insert(status, u64::try_from(n).unwrap_or(0));
        }
    }

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
        auth_failures: auth,
        lockouts,
        privilege_changes: privilege,
        run_outcomes,
        agent_churn: churn,
        backups,
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
    let end = window.until.map_or(last, |u| u - 1).max(first);
    let span = end - first;
    let width = [1, 6, 24, 24 * 7, 24 * 30]
        .into_iter()
        .map(|h| h * HOUR)
        .find(|w| span / w < 60)
        .unwrap_or(24 * 365 * HOUR);
    let start = first.div_euclid(width);
    let stop = end.div_euclid(width);
    let mut buckets: Vec<Bucket> = (start..=stop)
        .map(|b| Bucket {
            start: b * width,
            count: 0,
            failed: 0,
        })
        .collect();
    for (hour, (count, failed)) in per_hour {
        let idx = (hour * HOUR).div_euclid(width) - start;
        if let Some(b) = usize::try_from(idx).ok().and_then(|i| buckets.get_mut(i)) {
            b.count += count;
            b.failed += failed;
        }
    }
    (width, buckets)
}

//! Turning the outbox into deliveries, inside one transaction of the process that leads
//! maintenance (`control::local_notify` runs it, then sends what is due): each new outbox row
//! is matched against the rules ([`super::rules`]); a firing becomes a new delivery, joins
//! the rule's open grouping window, or is recorded as suppressed by the cooldown. Long and
//! stuck runs are found here too and put in the outbox once per (rule, run).

use crate::Result;
use crate::model::{new_id, now_ms};
use crate::store::api::StoreTx;
use crate::store::api::notify::DeliveryInsert;

use super::rules::{self, Placement, Seen};
use super::{DeliveryState, EventSummary, On, OutboxInsert, Rule};

/// Outbox rows taken per transaction.
pub const BATCH: u32 = 200;

/// How long a claim on a delivery lasts: an attempt's timeout and some slack. A process that
/// dies mid-attempt leaves the delivery to be tried again after this.
pub fn claim_ms() -> i64 {
    i64::try_from(super::send::TIMEOUT.as_millis()).unwrap_or(10_000) + 5_000
}

/// Find running runs past a `duration_over` or `stuck` rule's threshold and put each in the
/// outbox once per (rule, run). How many were new.
pub fn scan_runs(tx: &dyn StoreTx, rules: &[Rule], now: i64) -> Result<usize> {
    let mut found = 0;
    for r in rules {
        let Some(threshold) = r.rule.threshold_ms else {
            continue;
        };
        let before = now.saturating_sub(i64::try_from(threshold).unwrap_or(i64::MAX));
        let (runs, kind) = match r.rule.on {
            On::DurationOver => (
                tx.notify_long_runs(r.rule.workflow.as_deref(), before)?,
                "run.duration_over",
            ),
            On::Stuck => (
                tx.notify_stuck_runs(r.rule.workflow.as_deref(), before)?,
                "run.stuck",
            ),
            _ => continue,
        };
        for (run_id, workflow, since) in runs {
            let ev = OutboxInsert {
                kind: kind.into(),
                workflow,
                run_id: Some(run_id.clone()),
                dedupe: Some(format!("{}:{}:{run_id}", r.rule.on, r.id)),
                data: serde_json::json!({
                    "rule_id": r.id,
                    "threshold_ms": threshold,
                    "since": crate::model::time::json(since),
                }),
                at: now,
            };
            if tx.notify_enqueue(&ev)? {
                found += 1;
            }
        }
    }
    Ok(found)
}

/// Process up to [`BATCH`] new outbox rows at `now`: how many.
pub fn process_outbox(tx: &dyn StoreTx, rules: &[Rule], now: i64) -> Result<usize> {
    let rows = tx.notify_outbox_new(BATCH)?;
    let longest = rules.iter().map(|r| r.rule.after).max().unwrap_or(1).max(2);
    for row in &rows {
        let is_run_end = row.run_id.is_some()
            && matches!(
                row.kind.as_str(),
                "run.failed" | "run.succeeded" | "run.cancelled" | "run.timed_out"
            );
        let previous = match (&row.run_id, is_run_end) {
            (Some(run), true) => tx.notify_run_history(&row.workflow, run, longest)?,
            _ => Vec::new(),
        };
        let mut data = row.data.clone();
        if let (Some(run), true) = (&row.run_id, is_run_end) {
            let facts = tx.notify_run_facts(run)?;
            if let (Some(d), serde_json::Value::Object(f)) = (data.as_object_mut(), facts) {
                d.extend(f);
            }
        }
        let for_rule = row.data.get("rule_id").and_then(|v| v.as_str());
        // Only rules scoped by labels need the run's.
        let labels = match &row.run_id {
            Some(run) if rules.iter().any(|r| !r.rule.labels.is_empty()) => {
                tx.notify_run_labels(run)?
            }
            _ => Default::default(),
        };
        let seen = Seen {
            kind: &row.kind,
            workflow: &row.workflow,
            for_rule,
            labels: &labels,
            previous: &previous,
        };
        for r in rules.iter().filter(|r| rules::fires(&r.id, &r.rule, &seen)) {
            let mut event = EventSummary {
                kind: row.kind.clone(),
                workflow: row.workflow.clone(),
                run_id: row.run_id.clone(),
                at: row.at,
                data: data.clone(),
            };
            if r.rule.on == On::Recovered {
                event.data["recovered"] = true.into();
            }
            let latest = tx.notify_latest(&r.id)?;
            match rules::place(&r.rule, latest.as_ref(), now) {
                Placement::Join(id) => tx.notify_join(&id, &event)?,
                Placement::New { due_at, grouping } => {
                    tx.notify_insert_delivery(&DeliveryInsert {
                        id: new_id(),
                        rule_id: Some(r.id.clone()),
                        channel: r.rule.channel.clone(),
                        kind: event.kind.clone(),
                        events: vec![event],
                        state: if grouping {
                            DeliveryState::Grouping
                        } else {
                            DeliveryState::Pending
                        },
                        created_at: now,
                        due_at,
                        attempts: 0,
                    })?;
                }
                Placement::Suppressed => {
                    tx.notify_insert_delivery(&DeliveryInsert {
                        id: new_id(),
                        rule_id: Some(r.id.clone()),
                        channel: r.rule.channel.clone(),
                        kind: event.kind.clone(),
                        events: vec![event],
                        state: DeliveryState::Suppressed,
                        created_at: now,
                        due_at: now,
                        attempts: 0,
                    })?;
                }
            }
        }
        tx.notify_outbox_done(&row.id, now)?;
    }
    Ok(rows.len())
}

/// A delivery for `channel` now, outside any rule (`imx notify channel test`), claimed for its
/// first attempt for `claim` ms.
pub fn test_delivery(channel: &str, claim: i64) -> DeliveryInsert {
    let now = now_ms();
    DeliveryInsert {
        id: new_id(),
        rule_id: None,
        channel: channel.into(),
        kind: "test".into(),
        events: vec![EventSummary {
            kind: "test".into(),
            workflow: "imx".into(),
            run_id: None,
            at: now,
            data: serde_json::json!({ "channel": channel }),
        }],
        state: DeliveryState::Pending,
        created_at: now,
        due_at: now + claim,
        attempts: 1,
    }
}

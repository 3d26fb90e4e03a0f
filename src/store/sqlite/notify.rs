//! Notifications on SQLite (see `store::api::notify` and `crate::notify`): channels, rules, the
//! outbox — including [`run_ended`], which the changeset applier calls in a run's final
//! transaction — deliveries and attempts.

use rusqlite::{OptionalExtension, Transaction, params};

use crate::model::RunStatus;
use crate::notify::rules::Latest;
use crate::notify::{
    Attempt, Channel, ChannelRow, Delivery, DeliveryState, EventSummary, NewRule, OutboxInsert,
    OutboxRow, Rule, RuleSource,
};
use crate::store::api::notify::{AfterAttempt, Claimed, DeliveryInsert, NotifyTx, RunSince};
use crate::{Error, Result};

/// How many log lines of the failing step a message carries.
pub const LOG_TAIL: u32 = 10;

/// The run `run_id` of `workflow` ended with `status` at `at`: put it in the outbox if any
/// rule could care (one statement; nothing when there are no rules for the workflow).
pub fn run_ended(tx: &Transaction<'_>, run_id: &str, status: RunStatus, at: i64) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO notify_outbox (id, kind, run_id, workflow, data, at)
         SELECT ?1, ?2, id, workflow, '{}', ?3 FROM runs
         WHERE id = ?4 AND EXISTS (
             SELECT 1 FROM notify_rules
             WHERE notify_rules.workflow IS NULL OR notify_rules.workflow = runs.workflow)",
    )?
    .execute(params![
        crate::model::new_id(),
        format!("run.{status}"),
        at,
        run_id
    ])?;
    Ok(())
}

/// The approval step `step_id` of run `run_id` started waiting at `at` (until `until`): put
/// it in the outbox, in the same transaction, if any rule could care.
pub fn step_waiting(
    tx: &Transaction<'_>,
    run_id: &str,
    step_id: &str,
    until: Option<i64>,
    at: i64,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO notify_outbox (id, kind, run_id, workflow, data, at)
         SELECT ?1, 'step.waiting', id, workflow, ?2, ?3 FROM runs
         WHERE id = ?4 AND EXISTS (
             SELECT 1 FROM notify_rules
             WHERE notify_rules.workflow IS NULL OR notify_rules.workflow = runs.workflow)",
    )?
    .execute(params![
        crate::model::new_id(),
        waiting_data(step_id, until),
        at,
        run_id
    ])?;
    Ok(())
}

/// What the outbox row of a waiting approval step says.
pub fn waiting_data(step_id: &str, until: Option<i64>) -> String {
    serde_json::json!({
        "step": step_id,
        "deadline": until.map(crate::model::time::json),
    })
    .to_string()
}

/// A run's status, error, start and end.
type RunEnd = (String, Option<String>, Option<i64>, Option<i64>);

fn channel_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ChannelRow> {
    let kind: String = r.get(2)?;
    let config: String = r.get(4)?;
    let sealed: Option<Vec<u8>> = r.get(5)?;
    Ok(ChannelRow {
        channel: Channel {
            id: r.get(0)?,
            name: r.get(1)?,
            kind: kind.parse().unwrap_or(crate::notify::ChannelKind::Webhook),
            target: r.get(3)?,
            smtp: serde_json::from_str::<serde_json::Value>(&config)
                .ok()
                .and_then(|c| c.get("smtp").and_then(|s| s.as_str()).map(str::to_string)),
            has_secret: sealed.is_some(),
            created_at: r.get(6)?,
            created_by: r.get(7)?,
        },
        config,
        sealed,
    })
}

const CHANNEL_COLS: &str =
    "id, name, kind, target, config, secret, created_at, created_by FROM notify_channels";

fn rule_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Rule> {
    let on: String = r.get(2)?;
    let source: String = r.get(8)?;
    let threshold: Option<i64> = r.get(3)?;
    let after: i64 = r.get(5)?;
    let cooldown: i64 = r.get(6)?;
    let group: i64 = r.get(7)?;
    Ok(Rule {
        id: r.get(0)?,
        rule: NewRule {
            on: on.parse().unwrap_or(crate::notify::On::Failed),
            channel: r.get(4)?,
            workflow: r.get(1)?,
            labels: crate::store::sqlite::rows::labels_from(r.get_ref(11)?.as_str_or_null()?),
            threshold_ms: threshold.and_then(|t| u64::try_from(t).ok()),
            after: u32::try_from(after).unwrap_or(1),
            cooldown_ms: u64::try_from(cooldown).unwrap_or(0),
            group_ms: u64::try_from(group).unwrap_or(0),
        },
        source: if source == "workflow" {
            RuleSource::Workflow
        } else {
            RuleSource::Command
        },
        created_at: r.get(9)?,
        created_by: r.get(10)?,
    })
}

const RULE_COLS: &str = "id, workflow, on_event, threshold_ms, channel, after, cooldown_ms, \
                         group_ms, source, created_at, created_by, labels FROM notify_rules";

fn ms(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn insert_rule(tx: &Transaction<'_>, rule: &Rule) -> Result<()> {
    let r = &rule.rule;
    tx.prepare_cached(
        "INSERT INTO notify_rules (id, workflow, on_event, threshold_ms, channel, after, \
         cooldown_ms, group_ms, source, created_at, created_by, labels) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?
    .execute(params![
        rule.id,
        r.workflow,
        r.on.as_str(),
        r.threshold_ms.map(ms),
        r.channel,
        r.after,
        ms(r.cooldown_ms),
        ms(r.group_ms),
        rule.source.as_str(),
        rule.created_at,
        rule.created_by,
        crate::store::sqlite::runs::labels_json(&r.labels)?
    ])?;
    Ok(())
}

fn events_json(events: &[EventSummary]) -> Result<String> {
    serde_json::to_string(events).map_err(|e| Error::Internal(format!("encoding events: {e}")))
}

impl NotifyTx for Transaction<'_> {
    fn notify_insert_channel(&self, row: &ChannelRow) -> Result<()> {
        if self.notify_channel(&row.channel.name)?.is_some() {
            return Err(Error::Conflict(format!(
                "a channel named {:?} exists already",
                row.channel.name
            )));
        }
        let c = &row.channel;
        self.prepare_cached(
            "INSERT INTO notify_channels (id, name, kind, target, config, secret, created_at, \
             created_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?
        .execute(params![
            c.id,
            c.name,
            c.kind.as_str(),
            c.target,
            row.config,
            row.sealed,
            c.created_at,
            c.created_by
        ])?;
        Ok(())
    }

    fn notify_channels(&self) -> Result<Vec<ChannelRow>> {
        let mut st = self.prepare_cached(&format!("SELECT {CHANNEL_COLS} ORDER BY name"))?;
        let rows = st.query_map([], channel_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn notify_channel(&self, name: &str) -> Result<Option<ChannelRow>> {
        Ok(self
            .prepare_cached(&format!("SELECT {CHANNEL_COLS} WHERE name = ?1"))?
            .query_row([name], channel_from_row)
            .optional()?)
    }

    fn notify_delete_channel(&self, name: &str) -> Result<bool> {
        Ok(self
            .prepare_cached("DELETE FROM notify_channels WHERE name = ?1")?
            .execute([name])?
            > 0)
    }

    fn notify_insert_rule(&self, rule: &Rule) -> Result<()> {
        insert_rule(self, rule)
    }

    fn notify_rules(&self) -> Result<Vec<Rule>> {
        let mut st = self.prepare_cached(&format!("SELECT {RULE_COLS} ORDER BY created_at, id"))?;
        let rows = st.query_map([], rule_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn notify_delete_rule(&self, id: &str) -> Result<bool> {
        Ok(self
            .prepare_cached("DELETE FROM notify_rules WHERE id = ?1")?
            .execute([id])?
            > 0)
    }

    fn notify_replace_workflow_rules(&self, workflow: &str, rules: &[Rule]) -> Result<()> {
        crate::notify::file::check_workflow_rules(workflow, rules)?;
        self.prepare_cached(
            "DELETE FROM notify_rules WHERE source = 'workflow' AND workflow = ?1",
        )?
        .execute([workflow])?;
        for r in rules {
            insert_rule(self, r)?;
        }
        Ok(())
    }

    fn notify_enqueue(&self, ev: &OutboxInsert) -> Result<bool> {
        let n = self
            .prepare_cached(
                "INSERT INTO notify_outbox (id, kind, run_id, workflow, dedupe, data, at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (dedupe) DO NOTHING",
            )?
            .execute(params![
                crate::model::new_id(),
                ev.kind,
                ev.run_id,
                ev.workflow,
                ev.dedupe,
                ev.data.to_string(),
                ev.at
            ])?;
        Ok(n > 0)
    }

    fn notify_outbox_new(&self, limit: u32) -> Result<Vec<OutboxRow>> {
        let mut st = self.prepare_cached(
            "SELECT id, kind, workflow, run_id, data, at FROM notify_outbox \
             WHERE processed_at IS NULL ORDER BY id LIMIT ?1",
        )?;
        let rows = st.query_map([limit], |r| {
            let data: String = r.get(4)?;
            Ok(OutboxRow {
                id: r.get(0)?,
                kind: r.get(1)?,
                workflow: r.get(2)?,
                run_id: r.get(3)?,
                data: serde_json::from_str(&data).unwrap_or(serde_json::Value::Null),
                at: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn notify_outbox_done(&self, id: &str, now: i64) -> Result<()> {
        self.prepare_cached("UPDATE notify_outbox SET processed_at = ?2 WHERE id = ?1")?
            .execute(params![id, now])?;
        Ok(())
    }

    fn notify_run_history(&self, workflow: &str, run_id: &str, limit: u32) -> Result<Vec<String>> {
        let mut st = self.prepare_cached(
            "SELECT status FROM runs WHERE workflow = ?1 AND id < ?2 \
             AND status IN ('succeeded', 'failed', 'cancelled', 'timed_out') \
             ORDER BY id DESC LIMIT ?3",
        )?;
        let rows = st.query_map(params![workflow, run_id, limit], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn notify_run_labels(
        &self,
        run_id: &str,
    ) -> Result<std::collections::BTreeMap<String, String>> {
        let json: Option<Option<String>> = self
            .prepare_cached("SELECT labels FROM runs WHERE id = ?1")?
            .query_row([run_id], |r| r.get(0))
            .optional()?;
        Ok(crate::store::sqlite::rows::labels_from(
            json.flatten().as_deref(),
        ))
    }

    fn notify_run_facts(&self, run_id: &str) -> Result<serde_json::Value> {
        let run: Option<RunEnd> = self
            .prepare_cached(
                "SELECT status, error, started_at, finished_at FROM runs WHERE id = ?1",
            )?
            .query_row([run_id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .optional()?;
        let Some((status, error, started, finished)) = run else {
            return Ok(serde_json::Value::Null);
        };
        let failed: Option<(String, i64)> = self
            .prepare_cached(
                "SELECT step_id, attempt FROM steps WHERE run_id = ?1 AND status = 'failed' \
                 ORDER BY finished_at, idx LIMIT 1",
            )?
            .query_row([run_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let mut facts = serde_json::json!({ "status": status, "error": error });
        if let (Some(s), Some(f)) = (started, finished) {
            facts["duration_ms"] = (f - s).max(0).into();
        }
        if let Some((step, attempt)) = failed {
            let mut st = self.prepare_cached(
                "SELECT line FROM logs WHERE run_id = ?1 AND step_id = ?2 AND attempt = ?3 \
                 ORDER BY id DESC LIMIT ?4",
            )?;
            let mut lines: Vec<String> = st
                .query_map(params![run_id, step, attempt, LOG_TAIL], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            lines.reverse();
            facts["failed_step"] = step.into();
            facts["log_tail"] = lines.into();
        }
        Ok(facts)
    }

    fn notify_latest(&self, rule_id: &str) -> Result<Option<Latest>> {
        Ok(self
            .prepare_cached(
                "SELECT id, created_at, state FROM notify_deliveries \
                 WHERE rule_id = ?1 AND state <> 'suppressed' ORDER BY created_at DESC, id DESC LIMIT 1",
            )?
            .query_row([rule_id], |r| {
                let state: String = r.get(2)?;
                Ok(Latest {
                    id: r.get(0)?,
                    created_at: r.get(1)?,
                    grouping: state == "grouping",
                })
            })
            .optional()?)
    }

    fn notify_insert_delivery(&self, d: &DeliveryInsert) -> Result<()> {
        self.prepare_cached(
            "INSERT INTO notify_deliveries (id, rule_id, channel, kind, events, state, created_at, \
             due_at, attempts) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?
        .execute(params![
            d.id,
            d.rule_id,
            d.channel,
            d.kind,
            events_json(&d.events)?,
            d.state.as_str(),
            d.created_at,
            d.due_at,
            d.attempts
        ])?;
        Ok(())
    }

    fn notify_join(&self, delivery_id: &str, event: &EventSummary) -> Result<()> {
        let events: Option<String> = self
            .prepare_cached("SELECT events FROM notify_deliveries WHERE id = ?1")?
            .query_row([delivery_id], |r| r.get(0))
            .optional()?;
        let mut list: Vec<EventSummary> = match events {
            Some(e) => serde_json::from_str(&e)?,
            None => return Err(Error::not_found("delivery", delivery_id)),
        };
        list.push(event.clone());
        self.prepare_cached("UPDATE notify_deliveries SET events = ?2 WHERE id = ?1")?
            .execute(params![delivery_id, events_json(&list)?])?;
        Ok(())
    }

    fn notify_claim_due(&self, now: i64, lease_until: i64, limit: u32) -> Result<Vec<Claimed>> {
        let mut st = self.prepare_cached(
            "SELECT id, channel, events, attempts FROM notify_deliveries \
             WHERE state IN ('grouping', 'pending') AND due_at <= ?1 ORDER BY due_at LIMIT ?2",
        )?;
        let due: Vec<(String, String, String, u32)> = st
            .query_map(params![now, limit], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        let mut out = Vec::with_capacity(due.len());
        for (id, channel, events, attempts) in due {
            self.prepare_cached(
                "UPDATE notify_deliveries SET state = 'pending', due_at = ?2, attempts = ?3 \
                 WHERE id = ?1",
            )?
            .execute(params![id, lease_until, attempts + 1])?;
            out.push(Claimed {
                id,
                channel,
                events: serde_json::from_str(&events)?,
                attempt: attempts + 1,
            });
        }
        Ok(out)
    }

    fn notify_next_due(&self) -> Result<Option<i64>> {
        Ok(self
            .prepare_cached(
                "SELECT MIN(due_at) FROM notify_deliveries WHERE state IN ('grouping', 'pending')",
            )?
            .query_row([], |r| r.get(0))?)
    }

    fn notify_record_attempt(&self, id: &str, a: &Attempt, after: AfterAttempt) -> Result<()> {
        let n = self
            .prepare_cached(
                "INSERT INTO notify_attempts (delivery_id, attempt, at, ok, detail, duration_ms) \
                 SELECT ?1, ?2, ?3, ?4, ?5, ?6 FROM notify_deliveries \
                 WHERE id = ?1 AND attempts = ?2 AND state = 'pending' \
                 ON CONFLICT DO NOTHING",
            )?
            .execute(params![
                id,
                a.attempt,
                a.at,
                a.ok,
                a.detail,
                ms(a.duration_ms)
            ])?;
        if n == 0 {
            return Ok(());
        }
        let (state, due, delivered, error) = match after {
            AfterAttempt::Delivered => ("delivered", a.at, Some(a.at), None),
            AfterAttempt::Retry(at) => ("pending", at, None, Some(&a.detail)),
            AfterAttempt::Failed => ("failed", a.at, None, Some(&a.detail)),
        };
        self.prepare_cached(
            "UPDATE notify_deliveries SET state = ?2, due_at = ?3, delivered_at = ?4, \
             last_error = ?5 WHERE id = ?1",
        )?
        .execute(params![id, state, due, delivered, error])?;
        Ok(())
    }

    fn notify_deliveries(&self, limit: u32) -> Result<Vec<Delivery>> {
        let mut st = self.prepare_cached(
            "SELECT id, rule_id, channel, kind, state, events, created_at, due_at, delivered_at \
             FROM notify_deliveries ORDER BY created_at DESC, id DESC LIMIT ?1",
        )?;
        let rows: Vec<(Delivery, String)> = st
            .query_map([limit], |r| {
                let state: String = r.get(4)?;
                Ok((
                    Delivery {
                        id: r.get(0)?,
                        rule_id: r.get(1)?,
                        channel: r.get(2)?,
                        kind: r.get(3)?,
                        state: state.parse().unwrap_or(DeliveryState::Pending),
                        events: Vec::new(),
                        created_at: r.get(6)?,
                        due_at: r.get(7)?,
                        delivered_at: r.get(8)?,
                        attempts: Vec::new(),
                    },
                    r.get::<_, String>(5)?,
                ))
            })?
            .collect::<rusqlite::Result<_>>()?;
        let mut out = Vec::with_capacity(rows.len());
        let mut att = self.prepare_cached(
            "SELECT attempt, at, ok, detail, duration_ms FROM notify_attempts \
             WHERE delivery_id = ?1 ORDER BY attempt",
        )?;
        for (mut d, events) in rows {
            d.events = serde_json::from_str(&events)?;
            d.attempts = att
                .query_map([&d.id], |r| {
                    Ok(Attempt {
                        attempt: r.get(0)?,
                        at: r.get(1)?,
                        ok: r.get(2)?,
                        detail: r.get(3)?,
                        duration_ms: r.get::<_, i64>(4).map(|v| u64::try_from(v).unwrap_or(0))?,
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            out.push(d);
        }
        Ok(out)
    }

    fn notify_long_runs(&self, workflow: Option<&str>, before: i64) -> Result<Vec<RunSince>> {
        let mut st = self.prepare_cached(
            "SELECT id, workflow, started_at FROM runs WHERE status = 'running' \
             AND started_at < ?1 AND (?2 IS NULL OR workflow = ?2)",
        )?;
        let rows = st.query_map(params![before, workflow], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn notify_stuck_runs(&self, workflow: Option<&str>, before: i64) -> Result<Vec<RunSince>> {
        let mut st = self.prepare_cached(
            "SELECT r.id, r.workflow, MAX(COALESCE(r.started_at, r.created_at), \
                    COALESCE(MAX(s.started_at), 0), COALESCE(MAX(s.finished_at), 0)) AS last \
             FROM runs r LEFT JOIN steps s ON s.run_id = r.id \
             WHERE r.status = 'running' AND (?2 IS NULL OR r.workflow = ?2) \
             GROUP BY r.id HAVING last < ?1",
        )?;
        let rows = st.query_map(params![before, workflow], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

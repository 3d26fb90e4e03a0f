//! Notifications on PostgreSQL, as on SQLite (`store::sqlite::notify`): channels, rules, the
//! outbox — [`run_ended`] is deferred with the run's final UPDATE, so it commits with it —
//! deliveries and attempts. Claims take due deliveries with `FOR UPDATE SKIP LOCKED`.

use super::tx::{PgTx, get, get_u32, owned};
use crate::model::RunStatus;
use crate::notify::rules::Latest;
use crate::notify::{
    Attempt, Channel, ChannelRow, Delivery, EventSummary, NewRule, OutboxInsert, OutboxRow, Rule,
    RuleSource,
};
use crate::store::api::notify::{AfterAttempt, Claimed, DeliveryInsert, NotifyTx, RunSince};
use crate::store::sqlite::notify::LOG_TAIL;
use crate::{Error, Result};

/// The run `run_id` ended with `status` at `at`: put it in the outbox, with the run's final
/// UPDATE, if any rule could care.
pub fn run_ended(tx: &PgTx<'_>, run_id: &str, status: RunStatus, at: i64) {
    tx.defer(
        "INSERT INTO notify_outbox (id, kind, run_id, workflow, data, at)
         SELECT $1, $2, id, workflow, '{}', $3 FROM runs
         WHERE id = $4 AND EXISTS (
             SELECT 1 FROM notify_rules
             WHERE notify_rules.workflow IS NULL OR notify_rules.workflow = runs.workflow)"
            .into(),
        owned![
            crate::model::new_id(),
            format!("run.{status}"),
            at,
            run_id.to_string(),
        ],
        None,
    );
}

/// The approval step `step_id` of run `run_id` started waiting at `at` (until `until`): put
/// it in the outbox, with the step's UPDATE, if any rule could care.
pub fn step_waiting(tx: &PgTx<'_>, run_id: &str, step_id: &str, until: Option<i64>, at: i64) {
    tx.defer(
        "INSERT INTO notify_outbox (id, kind, run_id, workflow, data, at)
         SELECT $1, 'step.waiting', id, workflow, $2, $3 FROM runs
         WHERE id = $4 AND EXISTS (
             SELECT 1 FROM notify_rules
             WHERE notify_rules.workflow IS NULL OR notify_rules.workflow = runs.workflow)"
            .into(),
        owned![
            crate::model::new_id(),
            crate::store::sqlite::notify::waiting_data(step_id, until),
            at,
            run_id.to_string(),
        ],
        None,
    );
}

const CHANNEL_COLS: &str =
    "id, name, kind, target, config, secret, created_at, created_by FROM notify_channels";

fn channel(r: &tokio_postgres::Row) -> Result<ChannelRow> {
    let kind: String = get(r, 2)?;
    let config: String = get(r, 4)?;
    let sealed: Option<Vec<u8>> = get(r, 5)?;
    Ok(ChannelRow {
        channel: Channel {
            id: get(r, 0)?,
            name: get(r, 1)?,
            kind: kind.parse()?,
            target: get(r, 3)?,
            smtp: serde_json::from_str::<serde_json::Value>(&config)
                .ok()
                .and_then(|c| c.get("smtp").and_then(|s| s.as_str()).map(str::to_string)),
            has_secret: sealed.is_some(),
            created_at: get(r, 6)?,
            created_by: get(r, 7)?,
        },
        config,
        sealed,
    })
}

const RULE_COLS: &str = "id, workflow, on_event, threshold_ms, channel, after, cooldown_ms, \
                         group_ms, source, created_at, created_by, labels FROM notify_rules";

fn rule(r: &tokio_postgres::Row) -> Result<Rule> {
    let on: String = get(r, 2)?;
    let source: String = get(r, 8)?;
    let threshold: Option<i64> = get(r, 3)?;
    let cooldown: i64 = get(r, 6)?;
    let group: i64 = get(r, 7)?;
    Ok(Rule {
        id: get(r, 0)?,
        rule: NewRule {
            on: on
                .parse()
                .map_err(|_| Error::Store(format!("unknown rule event {on:?}")))?,
            channel: get(r, 4)?,
            workflow: get(r, 1)?,
            labels: crate::store::sqlite::rows::labels_from(get(r, 11)?),
            threshold_ms: threshold.and_then(|t| u64::try_from(t).ok()),
            after: get_u32(r, 5)?,
            cooldown_ms: u64::try_from(cooldown).unwrap_or(0),
            group_ms: u64::try_from(group).unwrap_or(0),
        },
        source: if source == "workflow" {
            RuleSource::Workflow
        } else {
            RuleSource::Command
        },
        created_at: get(r, 9)?,
        created_by: get(r, 10)?,
    })
}

fn ms(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn insert_rule(tx: &PgTx<'_>, rule: &Rule) -> Result<()> {
    let r = &rule.rule;
    tx.execute(
        "INSERT INTO notify_rules (id, workflow, on_event, threshold_ms, channel, after, \
         cooldown_ms, group_ms, source, created_at, created_by, labels) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        &[
            &rule.id,
            &r.workflow,
            &r.on.as_str(),
            &r.threshold_ms.map(ms),
            &r.channel,
            &i64::from(r.after),
            &ms(r.cooldown_ms),
            &ms(r.group_ms),
            &rule.source.as_str(),
            &rule.created_at,
            &rule.created_by,
            &crate::store::sqlite::runs::labels_json(&r.labels)?,
        ],
    )?;
    Ok(())
}

fn events_json(events: &[EventSummary]) -> Result<String> {
    serde_json::to_string(events).map_err(|e| Error::Internal(format!("encoding events: {e}")))
}

impl NotifyTx for PgTx<'_> {
    fn notify_insert_channel(&self, row: &ChannelRow) -> Result<()> {
        let c = &row.channel;
        let n = self.execute(
            "INSERT INTO notify_channels (id, name, kind, target, config, secret, created_at, \
             created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (name) DO NOTHING",
            &[
                &c.id,
                &c.name,
                &c.kind.as_str(),
                &c.target,
                &row.config,
                &row.sealed,
                &c.created_at,
                &c.created_by,
            ],
        )?;
        if n == 0 {
            return Err(Error::Conflict(format!(
                "a channel named {:?} exists already",
                c.name
            )));
        }
        Ok(())
    }

    fn notify_channels(&self) -> Result<Vec<ChannelRow>> {
        self.query(
            &format!("SELECT {CHANNEL_COLS} ORDER BY name COLLATE \"C\""),
            &[],
        )?
        .iter()
        .map(channel)
        .collect()
    }

    fn notify_channel(&self, name: &str) -> Result<Option<ChannelRow>> {
        self.query_opt(&format!("SELECT {CHANNEL_COLS} WHERE name = $1"), &[&name])?
            .as_ref()
            .map(channel)
            .transpose()
    }

    fn notify_delete_channel(&self, name: &str) -> Result<bool> {
        Ok(self.execute("DELETE FROM notify_channels WHERE name = $1", &[&name])? > 0)
    }

    fn notify_insert_rule(&self, rule: &Rule) -> Result<()> {
        insert_rule(self, rule)
    }

    fn notify_rules(&self) -> Result<Vec<Rule>> {
        self.query(
            &format!("SELECT {RULE_COLS} ORDER BY created_at, id COLLATE \"C\""),
            &[],
        )?
        .iter()
        .map(rule)
        .collect()
    }

    fn notify_delete_rule(&self, id: &str) -> Result<bool> {
        Ok(self.execute("DELETE FROM notify_rules WHERE id = $1", &[&id])? > 0)
    }

    fn notify_replace_workflow_rules(&self, workflow: &str, rules: &[Rule]) -> Result<()> {
        crate::notify::file::check_workflow_rules(workflow, rules)?;
        self.execute(
            "DELETE FROM notify_rules WHERE source = 'workflow' AND workflow = $1",
            &[&workflow],
        )?;
        for r in rules {
            insert_rule(self, r)?;
        }
        Ok(())
    }

    fn notify_enqueue(&self, ev: &OutboxInsert) -> Result<bool> {
        let n = self.execute(
            "INSERT INTO notify_outbox (id, kind, run_id, workflow, dedupe, data, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (dedupe) DO NOTHING",
            &[
                &crate::model::new_id(),
                &ev.kind,
                &ev.run_id,
                &ev.workflow,
                &ev.dedupe,
                &ev.data.to_string(),
                &ev.at,
            ],
        )?;
        Ok(n > 0)
    }

    fn notify_outbox_new(&self, limit: u32) -> Result<Vec<OutboxRow>> {
        self.query(
            "SELECT id, kind, workflow, run_id, data, at FROM notify_outbox \
             WHERE processed_at IS NULL ORDER BY id COLLATE \"C\" LIMIT $1",
            &[&i64::from(limit)],
        )?
        .iter()
        .map(|r| {
            let data: String = get(r, 4)?;
            Ok(OutboxRow {
                id: get(r, 0)?,
                kind: get(r, 1)?,
                workflow: get(r, 2)?,
                run_id: get(r, 3)?,
                data: serde_json::from_str(&data).unwrap_or(serde_json::Value::Null),
                at: get(r, 5)?,
            })
        })
        .collect()
    }

    fn notify_outbox_done(&self, id: &str, now: i64) -> Result<()> {
        self.execute(
            "UPDATE notify_outbox SET processed_at = $2 WHERE id = $1",
            &[&id, &now],
        )?;
        Ok(())
    }

    fn notify_run_history(&self, workflow: &str, run_id: &str, limit: u32) -> Result<Vec<String>> {
        self.query(
            "SELECT status FROM runs WHERE workflow = $1 AND id COLLATE \"C\" < $2 \
             AND status IN ('succeeded', 'failed', 'cancelled', 'timed_out') \
             ORDER BY id COLLATE \"C\" DESC LIMIT $3",
            &[&workflow, &run_id, &i64::from(limit)],
        )?
        .iter()
        .map(|r| get(r, 0))
        .collect()
    }

    fn notify_run_labels(
        &self,
        run_id: &str,
    ) -> Result<std::collections::BTreeMap<String, String>> {
        let row = self.query_opt("SELECT labels FROM runs WHERE id = $1", &[&run_id])?;
        let json: Option<String> = match &row {
            Some(r) => get(r, 0)?,
            None => None,
        };
        Ok(crate::store::sqlite::rows::labels_from(json.as_deref()))
    }

    fn notify_run_facts(&self, run_id: &str) -> Result<serde_json::Value> {
        let Some(run) = self.query_opt(
            "SELECT status, error, started_at, finished_at FROM runs WHERE id = $1",
            &[&run_id],
        )?
        else {
            return Ok(serde_json::Value::Null);
        };
        let (status, error): (String, Option<String>) = (get(&run, 0)?, get(&run, 1)?);
        let (started, finished): (Option<i64>, Option<i64>) = (get(&run, 2)?, get(&run, 3)?);
        let mut facts = serde_json::json!({ "status": status, "error": error });
        if let (Some(s), Some(f)) = (started, finished) {
            facts["duration_ms"] = (f - s).max(0).into();
        }
        let failed = self.query_opt(
            "SELECT step_id, attempt FROM steps WHERE run_id = $1 AND status = 'failed' \
             ORDER BY finished_at, idx LIMIT 1",
            &[&run_id],
        )?;
        if let Some(f) = failed {
            let (step, attempt): (String, i64) = (get(&f, 0)?, get(&f, 1)?);
            let mut lines: Vec<String> = self
                .query(
                    "SELECT line FROM logs WHERE run_id = $1 AND step_id = $2 AND attempt = $3 \
                     ORDER BY id DESC LIMIT $4",
                    &[&run_id, &step, &attempt, &i64::from(LOG_TAIL)],
                )?
                .iter()
                .map(|r| get(r, 0))
                .collect::<Result<_>>()?;
            lines.reverse();
            facts["failed_step"] = step.into();
            facts["log_tail"] = lines.into();
        }
        Ok(facts)
    }

    fn notify_latest(&self, rule_id: &str) -> Result<Option<Latest>> {
        self.query_opt(
            "SELECT id, created_at, state FROM notify_deliveries \
             WHERE rule_id = $1 AND state <> 'suppressed' \
             ORDER BY created_at DESC, id COLLATE \"C\" DESC LIMIT 1",
            &[&rule_id],
        )?
        .map(|r| {
            let state: String = get(&r, 2)?;
            Ok(Latest {
                id: get(&r, 0)?,
                created_at: get(&r, 1)?,
                grouping: state == "grouping",
            })
        })
        .transpose()
    }

    fn notify_insert_delivery(&self, d: &DeliveryInsert) -> Result<()> {
        self.execute(
            "INSERT INTO notify_deliveries (id, rule_id, channel, kind, events, state, created_at, \
             due_at, attempts) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            &[
                &d.id,
                &d.rule_id,
                &d.channel,
                &d.kind,
                &events_json(&d.events)?,
                &d.state.as_str(),
                &d.created_at,
                &d.due_at,
                &i64::from(d.attempts),
            ],
        )?;
        Ok(())
    }

    fn notify_join(&self, delivery_id: &str, event: &EventSummary) -> Result<()> {
        let Some(row) = self.query_opt(
            "SELECT events FROM notify_deliveries WHERE id = $1 FOR UPDATE",
            &[&delivery_id],
        )?
        else {
            return Err(Error::not_found("delivery", delivery_id));
        };
        let events: String = get(&row, 0)?;
        let mut list: Vec<EventSummary> = serde_json::from_str(&events)?;
        list.push(event.clone());
        self.execute(
            "UPDATE notify_deliveries SET events = $2 WHERE id = $1",
            &[&delivery_id, &events_json(&list)?],
        )?;
        Ok(())
    }

    fn notify_claim_due(&self, now: i64, lease_until: i64, limit: u32) -> Result<Vec<Claimed>> {
        self.query(
            "UPDATE notify_deliveries d SET state = 'pending', due_at = $2, \
                    attempts = d.attempts + 1 \
             FROM (SELECT id FROM notify_deliveries \
                   WHERE state IN ('grouping', 'pending') AND due_at <= $1 \
                   ORDER BY due_at LIMIT $3 FOR UPDATE SKIP LOCKED) due \
             WHERE d.id = due.id \
             RETURNING d.id, d.channel, d.events, d.attempts",
            &[&now, &lease_until, &i64::from(limit)],
        )?
        .iter()
        .map(|r| {
            let events: String = get(r, 2)?;
            Ok(Claimed {
                id: get(r, 0)?,
                channel: get(r, 1)?,
                events: serde_json::from_str(&events)?,
                attempt: get_u32(r, 3)?,
            })
        })
        .collect()
    }

    fn notify_next_due(&self) -> Result<Option<i64>> {
        let row = self.query_one(
            "SELECT MIN(due_at) FROM notify_deliveries WHERE state IN ('grouping', 'pending')",
            &[],
        )?;
        get(&row, 0)
    }

    fn notify_record_attempt(&self, id: &str, a: &Attempt, after: AfterAttempt) -> Result<()> {
        let n = self.execute(
            "INSERT INTO notify_attempts (delivery_id, attempt, at, ok, detail, duration_ms) \
             SELECT $1, $2, $3, $4, $5, $6 FROM notify_deliveries \
             WHERE id = $1 AND attempts = $2 AND state = 'pending' \
             ON CONFLICT DO NOTHING",
            &[
                &id,
                &i64::from(a.attempt),
                &a.at,
                &i64::from(a.ok),
                &a.detail,
                &ms(a.duration_ms),
            ],
        )?;
        if n == 0 {
            return Ok(());
        }
        let (state, due, delivered, error) = match after {
            AfterAttempt::Delivered => ("delivered", a.at, Some(a.at), None),
            AfterAttempt::Retry(at) => ("pending", at, None, Some(a.detail.as_str())),
            AfterAttempt::Failed => ("failed", a.at, None, Some(a.detail.as_str())),
        };
        self.execute(
            "UPDATE notify_deliveries SET state = $2, due_at = $3, delivered_at = $4, \
             last_error = $5 WHERE id = $1",
            &[&id, &state, &due, &delivered, &error],
        )?;
        Ok(())
    }

    fn notify_deliveries(&self, limit: u32) -> Result<Vec<Delivery>> {
        let rows = self.query(
            "SELECT id, rule_id, channel, kind, state, events, created_at, due_at, delivered_at \
             FROM notify_deliveries ORDER BY created_at DESC, id COLLATE \"C\" DESC LIMIT $1",
            &[&i64::from(limit)],
        )?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let state: String = get(r, 4)?;
            let events: String = get(r, 5)?;
            let id: String = get(r, 0)?;
            let attempts = self
                .query(
                    "SELECT attempt, at, ok, detail, duration_ms FROM notify_attempts \
                     WHERE delivery_id = $1 ORDER BY attempt",
                    &[&id],
                )?
                .iter()
                .map(|a| {
                    let ok: i64 = get(a, 2)?;
                    let dur: i64 = get(a, 4)?;
                    Ok(Attempt {
                        attempt: get_u32(a, 0)?,
                        at: get(a, 1)?,
                        ok: ok != 0,
                        detail: get(a, 3)?,
                        duration_ms: u64::try_from(dur).unwrap_or(0),
                    })
                })
                .collect::<Result<_>>()?;
            out.push(Delivery {
                id,
                rule_id: get(r, 1)?,
                channel: get(r, 2)?,
                kind: get(r, 3)?,
                state: state.parse()?,
                events: serde_json::from_str(&events)?,
                created_at: get(r, 6)?,
                due_at: get(r, 7)?,
                delivered_at: get(r, 8)?,
                attempts,
            });
        }
        Ok(out)
    }

    fn notify_long_runs(&self, workflow: Option<&str>, before: i64) -> Result<Vec<RunSince>> {
        self.query(
            "SELECT id, workflow, started_at FROM runs WHERE status = 'running' \
             AND started_at < $1 AND ($2::text IS NULL OR workflow = $2)",
            &[&before, &workflow],
        )?
        .iter()
        .map(|r| Ok((get(r, 0)?, get(r, 1)?, get(r, 2)?)))
        .collect()
    }

    fn notify_stuck_runs(&self, workflow: Option<&str>, before: i64) -> Result<Vec<RunSince>> {
        self.query(
            "SELECT id, workflow, last FROM (
                 SELECT r.id, r.workflow, GREATEST(COALESCE(r.started_at, r.created_at),
                        COALESCE(MAX(s.started_at), 0), COALESCE(MAX(s.finished_at), 0)) AS last
                 FROM runs r LEFT JOIN steps s ON s.run_id = r.id
                 WHERE r.status = 'running' AND ($2::text IS NULL OR r.workflow = $2)
                 GROUP BY r.id, r.workflow, r.started_at, r.created_at) t
             WHERE last < $1",
            &[&before, &workflow],
        )?
        .iter()
        .map(|r| Ok((get(r, 0)?, get(r, 1)?, get(r, 2)?)))
        .collect()
    }
}

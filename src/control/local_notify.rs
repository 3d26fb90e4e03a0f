//! The local control plane's notifications (issue 12, `crate::notify`): channels (their secrets
//! sealed with the store key, never returned or audited), rules, the deliveries list, and the
//! delivery work — [`LocalControlPlane::notify_pass`], run by [`deliver`] on the process that
//! leads maintenance (`imx server`: on PostgreSQL only the leader; locally `imx agent run`).
//! A pass turns new outbox rows into deliveries, finds long and stuck runs, claims what is due
//! and sends it, and records every attempt.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::local::LocalControlPlane;
use crate::auth::{Permission, Principal, Secret};
use crate::model::{new_id, now_ms};
use crate::notify::deliver::{self, claim_ms};
use crate::notify::send::{self, Target};
use crate::notify::{
    Attempt, Channel, ChannelKind, ChannelRow, Delivery, DeliveryState, NewChannel, NewRule, Rule,
    RuleSource, rules, secret_aad,
};
use crate::store::api::notify::{AfterAttempt, Claimed};
use crate::{Error, Result, audit};

/// Deliveries claimed per pass.
const CLAIM: u32 = 200;
/// How often long and stuck runs are looked for.
const SCAN_EVERY: Duration = Duration::from_secs(5);
/// The longest a delivery loop sleeps without looking (a safety net under the change feed).
const POLL: Duration = Duration::from_millis(250);
/// The shortest time between two passes: a burst of commits (a chain's steps, a fan-out's
/// completions) wakes one pass per gap, not one per commit, for at most this much more delay.
const GAP: Duration = Duration::from_millis(50);

/// The non-secret settings of a channel, kept as JSON.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct Config {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    smtp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    smtp_ca_pem: Option<String>,
}

fn check_url(what: &str, url: &str) -> Result<()> {
    let u = reqwest::Url::parse(url)
        .map_err(|e| Error::invalid(format!("{what} is not a URL: {e}")))?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(Error::invalid(format!(
            "{what} must be an http or https URL"
        )));
    }
    Ok(())
}

/// Check a new channel; what is kept of it (target and settings).
fn check_channel(c: &NewChannel) -> Result<(String, Config)> {
    if c.name.trim().is_empty()
        || !c
            .name
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '-' | '_' | '.'))
    {
        return Err(Error::invalid(format!(
            "channel name {:?}: use letters, digits, '-', '_' and '.'",
            c.name
        )));
    }
    let secret = c.secret.as_ref().filter(|s| !s.is_empty());
    match c.kind {
        ChannelKind::Webhook => {
            check_url("the webhook URL", &c.target)?;
            Ok((c.target.clone(), Config::default()))
        }
        ChannelKind::Slack => {
            let url = secret.ok_or_else(|| {
                Error::invalid_with_hint(
                    "a Slack channel needs its incoming-webhook URL, which is a secret",
                    "pass --slack without a value and the URL on stdin with --secret-stdin",
                )
            })?;
            check_url("the Slack URL", url.expose())?;
            Ok(("slack".into(), Config::default()))
        }
        ChannelKind::Email => {
            if !c.target.contains('@') {
                return Err(Error::invalid(format!(
                    "{:?} is not an email address",
                    c.target
                )));
            }
            let smtp = c.smtp.as_deref().ok_or_else(|| {
                Error::invalid_with_hint(
                    "an email channel needs an SMTP server",
                    "e.g. --smtp smtp://user@mail.example.com:587",
                )
            })?;
            let u = reqwest::Url::parse(smtp)
                .map_err(|e| Error::invalid(format!("the SMTP URL is not a URL: {e}")))?;
            if !matches!(u.scheme(), "smtp" | "smtps") || u.host_str().is_none() {
                return Err(Error::invalid(
                    "the SMTP URL must be smtp://[user@]host[:port] (STARTTLS) or smtps://…",
                ));
            }
            if u.password().is_some() {
                return Err(Error::invalid_with_hint(
                    "the SMTP URL holds a password; it would be kept in the clear",
                    "leave it out of the URL and pass it on stdin with --secret-stdin",
                ));
            }
            Ok((
                c.target.clone(),
                Config {
                    smtp: Some(smtp.to_string()),
                    from: c.from.clone(),
                    smtp_ca_pem: c.smtp_ca_pem.clone(),
                },
            ))
        }
    }
}

/// What one pass of notification work did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PassReport {
    pub outbox: usize,
    pub attempts: usize,
    pub delivered: usize,
}

impl LocalControlPlane {
    pub(super) fn do_notify_channel_add(&self, who: &Principal, c: NewChannel) -> Result<Channel> {
        self.authorize(who, Permission::Administer, "notify.channel.add", &c.name)?;
        let (target, config) = check_channel(&c)?;
        let id = new_id();
        let sealed = match c.secret.as_ref().filter(|s| !s.is_empty()) {
            Some(s) => Some(
                self.store_key()?
                    .seal(s.expose().as_bytes(), &secret_aad(&id)),
            ),
            None => None,
        };
        let row = ChannelRow {
            channel: Channel {
                id,
                name: c.name.clone(),
                kind: c.kind,
                target,
                smtp: config.smtp.clone(),
                has_secret: sealed.is_some(),
                created_at: now_ms(),
                created_by: who.name.clone(),
            },
            config: serde_json::to_string(&config)
                .map_err(|e| Error::Internal(format!("encoding a channel: {e}")))?,
            sealed,
        };
        self.store().write(|tx| {
            tx.notify_insert_channel(&row)?;
            // Never the secret: the kind, where to, and whether there is one.
            audit::append(
                tx,
                who,
                "notify.channel.add",
                &row.channel.name,
                "ok",
                serde_json::json!({
                    "kind": row.channel.kind,
                    "target": row.channel.target,
                    "smtp": row.channel.smtp,
                    "has_secret": row.channel.has_secret,
                }),
            )?;
            Ok(())
        })?;
        Ok(row.channel)
    }

    pub(super) fn do_notify_channels(&self, who: &Principal) -> Result<Vec<Channel>> {
        self.authorize(who, Permission::Read, "notify.channel.list", "")?;
        Ok(self
            .store()
            .read(|tx| tx.notify_channels())?
            .into_iter()
            .map(|r| r.channel)
            .collect())
    }

    pub(super) fn do_notify_channel_remove(&self, who: &Principal, name: &str) -> Result<Channel> {
        self.authorize(who, Permission::Administer, "notify.channel.remove", name)?;
        self.store().write(|tx| {
            let row = tx
                .notify_channel(name)?
                .ok_or_else(|| Error::not_found("channel", name))?;
            let using: Vec<Rule> = tx
                .notify_rules()?
                .into_iter()
                .filter(|r| r.rule.channel == name)
                .collect();
            if !using.is_empty() {
                // Rules from a workflow file come back with the file: name the files' workflows.
                let mut files: Vec<&str> = using
                    .iter()
                    .filter(|r| r.source == RuleSource::Workflow)
                    .filter_map(|r| r.rule.workflow.as_deref())
                    .collect();
                files.sort_unstable();
                files.dedup();
                let also = if files.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; the `notify:` of workflow(s) {} names it: change the file(s) and apply them again",
                        files.join(", ")
                    )
                };
                return Err(Error::Conflict(format!(
                    "{} rule(s) send to channel {name:?}; remove them first (imx notify rule list){also}",
                    using.len()
                )));
            }
            tx.notify_delete_channel(name)?;
            audit::append(
                tx,
                who,
                "notify.channel.remove",
                name,
                "ok",
                serde_json::json!({ "kind": row.channel.kind }),
            )?;
            Ok(row.channel)
        })
    }

    /// Where `row`'s messages go, its secret opened with the store key.
    fn target(&self, row: &ChannelRow) -> Result<Target> {
        let config: Config = serde_json::from_str(&row.config).unwrap_or_default();
        let secret = match &row.sealed {
            Some(sealed) => {
                let key = self.store_key()?;
                let plain = key
                    .open(sealed, &secret_aad(&row.channel.id))
                    .map_err(|e| {
                        super::local_store_key::unopenable(
                            &format!("channel {:?}", row.channel.name),
                            e,
                        )
                    })?;
                Some(Secret::new(String::from_utf8_lossy(&plain).into_owned()))
            }
            None => None,
        };
        Ok(Target {
            name: row.channel.name.clone(),
            kind: row.channel.kind,
            target: row.channel.target.clone(),
            smtp: config.smtp,
            from: config.from,
            smtp_ca_pem: config.smtp_ca_pem,
            secret,
        })
    }

    /// Send a test message to channel `name` now, and record the attempt.
    pub(super) async fn do_notify_channel_test(
        &self,
        who: &Principal,
        name: &str,
    ) -> Result<Delivery> {
        self.authorize(
            who,
            Permission::ManageWorkflows,
            "notify.channel.test",
            name,
        )?;
        let row = self
            .store()
            .read(|tx| tx.notify_channel(name))?
            .ok_or_else(|| Error::not_found("channel", name))?;
        let target = self.target(&row)?;
        // Made as claimed for its first attempt, which this call makes now.
        let d = deliver::test_delivery(name, claim_ms());
        self.store().write(|tx| {
            tx.notify_insert_delivery(&d)?;
            audit::append(
                tx,
                who,
                "notify.channel.test",
                name,
                "ok",
                serde_json::json!({ "delivery": d.id }),
            )
        })?;
        let started = Instant::now();
        let client = http_client()?;
        let outcome = send::send(&client, &target, &d.id, &d.events, now_ms()).await;
        let attempt = Attempt {
            attempt: 1,
            at: now_ms(),
            ok: outcome.is_ok(),
            detail: outcome.unwrap_or_else(|e| e),
            duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        };
        let after = if attempt.ok {
            AfterAttempt::Delivered
        } else {
            AfterAttempt::Failed
        };
        self.store()
            .write(|tx| tx.notify_record_attempt(&d.id, &attempt, after))?;
        Ok(Delivery {
            id: d.id,
            rule_id: None,
            channel: d.channel,
            kind: d.kind,
            state: if attempt.ok {
                DeliveryState::Delivered
            } else {
                DeliveryState::Failed
            },
            events: d.events,
            created_at: d.created_at,
            due_at: d.due_at,
            delivered_at: attempt.ok.then_some(attempt.at),
            attempts: vec![attempt],
        })
    }

    pub(super) fn do_notify_rule_add(
        &self,
        who: &Principal,
        rule: NewRule,
        source: RuleSource,
    ) -> Result<Rule> {
        self.authorize(who, Permission::ManageWorkflows, "notify.rule.add", "")?;
        rule.check()?;
        let rule = Rule {
            id: new_id(),
            rule,
            source,
            created_at: now_ms(),
            created_by: who.name.clone(),
        };
        self.store().write(|tx| {
            if tx.notify_channel(&rule.rule.channel)?.is_none() {
                return Err(Error::NotFoundHint {
                    message: format!("no channel named {:?}", rule.rule.channel),
                    hint: "add it first: imx notify channel add NAME …".into(),
                });
            }
            tx.notify_insert_rule(&rule)?;
            audit::append(
                tx,
                who,
                "notify.rule.add",
                &rule.id,
                "ok",
                serde_json::to_value(&rule.rule).unwrap_or_default(),
            )?;
            Ok(())
        })?;
        Ok(rule)
    }

    pub(super) fn do_notify_rules(&self, who: &Principal) -> Result<Vec<Rule>> {
        self.authorize(who, Permission::Read, "notify.rule.list", "")?;
        self.store().read(|tx| tx.notify_rules())
    }

    pub(super) fn do_notify_rule_remove(&self, who: &Principal, id: &str) -> Result<Rule> {
        self.authorize(who, Permission::ManageWorkflows, "notify.rule.remove", id)?;
        self.store().write(|tx| {
            let matches: Vec<Rule> = tx
                .notify_rules()?
                .into_iter()
                .filter(|r| r.id.starts_with(&id.to_ascii_uppercase()))
                .collect();
            let rule = match matches.as_slice() {
                [one] => one.clone(),
                [] => return Err(Error::not_found("rule", id)),
                many => {
                    return Err(Error::Ambiguous {
                        kind: "rule",
                        prefix: id.into(),
                        candidates: many.iter().map(|r| r.id.clone()).collect(),
                    });
                }
            };
            tx.notify_delete_rule(&rule.id)?;
            audit::append(
                tx,
                who,
                "notify.rule.remove",
                &rule.id,
                "ok",
                serde_json::to_value(&rule.rule).unwrap_or_default(),
            )?;
            Ok(rule)
        })
    }

    pub(super) fn do_notify_deliveries(
        &self,
        who: &Principal,
        limit: u32,
    ) -> Result<Vec<Delivery>> {
        self.authorize(who, Permission::Read, "notify.deliveries", "")?;
        self.store()
            .read(|tx| tx.notify_deliveries(limit.clamp(1, 1000)))
    }

    /// One pass of notification work at `now`, if this process leads maintenance (`None`
    /// when another replica does): new outbox rows become deliveries (and, with `scan`, long
    /// and stuck runs are looked for), then what is due is claimed, sent and recorded.
    pub async fn notify_pass(
        &self,
        client: &reqwest::Client,
        scan: bool,
    ) -> Result<Option<PassReport>> {
        if self.store().maintenance_leader() == Some(false) {
            return Ok(None);
        }
        let mut report = PassReport::default();
        let now = now_ms();
        let (rules, waiting, next_due) = self.store().read_quick(|tx| {
            Ok((
                tx.notify_rules()?,
                !tx.notify_outbox_new(1)?.is_empty(),
                tx.notify_next_due()?,
            ))
        })?;
        if waiting {
            // Failure tests stop a server here: the run's end is in the outbox, not yet sent.
            crate::faults::point("notify.outbox.waiting");
        }
        let outbox_pass = waiting || (scan && rules.iter().any(|r| r.rule.threshold_ms.is_some()));
        if outbox_pass {
            let done = self.store().maintain(|tx| {
                if scan {
                    deliver::scan_runs(tx, &rules, now)?;
                }
                deliver::process_outbox(tx, &rules, now)
            })?;
            report.outbox = done.unwrap_or(0);
        }
        // Claim only when something is due: an idle store gets no write from this loop, so
        // the idle WAL checkpoint (store::wal) can run, and a PostgreSQL replica takes no
        // maintenance transaction four times a second for nothing. The outbox pass above may
        // have made deliveries due now, so look again after it.
        let due = if outbox_pass {
            self.store().read_quick(|tx| tx.notify_next_due())?
        } else {
            next_due
        };
        if due.is_none_or(|d| d > now) {
            return Ok(Some(report));
        }
        let claimed = self
            .store()
            .maintain(|tx| tx.notify_claim_due(now, now + claim_ms(), CLAIM))?
            .unwrap_or_default();
        if claimed.is_empty() {
            return Ok(Some(report));
        }
        let channels = self.store().read(|tx| tx.notify_channels())?;
        let sends = claimed.iter().map(|c| self.attempt(client, &channels, c));
        let attempts = futures_util::future::join_all(sends).await;
        report.attempts = attempts.len();
        report.delivered = attempts
            .iter()
            .filter(|(_, a, _)| matches!(a, AfterAttempt::Delivered))
            .count();
        self.store().write(|tx| {
            for (attempt, after, id) in attempts.iter().map(|(at, af, id)| (at, af, id)) {
                tx.notify_record_attempt(id, attempt, *after)?;
            }
            Ok(())
        })?;
        Ok(Some(report))
    }

    /// One attempt at a claimed delivery: what happened and what it leaves the delivery as.
    async fn attempt(
        &self,
        client: &reqwest::Client,
        channels: &[ChannelRow],
        c: &Claimed,
    ) -> (Attempt, AfterAttempt, String) {
        let started = Instant::now();
        let outcome = match channels.iter().find(|r| r.channel.name == c.channel) {
            None => Err(format!("channel {:?} no longer exists", c.channel)),
            Some(row) => match self.target(row) {
                Ok(target) => send::send(client, &target, &c.id, &c.events, now_ms()).await,
                Err(e) => Err(e.to_string()),
            },
        };
        let at = now_ms();
        let ok = outcome.is_ok();
        let gone = !ok && !channels.iter().any(|r| r.channel.name == c.channel);
        let after = if ok {
            AfterAttempt::Delivered
        } else {
            match rules::retry_after_ms(c.attempt) {
                Some(d) if !gone => {
                    AfterAttempt::Retry(at.saturating_add(i64::try_from(d).unwrap_or(i64::MAX)))
                }
                _ => AfterAttempt::Failed,
            }
        };
        let attempt = Attempt {
            attempt: c.attempt,
            at,
            ok,
            detail: outcome.unwrap_or_else(|e| e),
            duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        };
        (attempt, after, c.id.clone())
    }

    /// When the next delivery is due, if any.
    fn notify_next_due(&self) -> Option<i64> {
        self.store()
            .read_quick(|tx| tx.notify_next_due())
            .ok()
            .flatten()
    }
}

/// The HTTP client deliveries use (rustls; no redirects to follow a secret elsewhere).
pub fn http_client() -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(send::TIMEOUT)
        .user_agent(concat!("imx/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Error::Internal(format!("cannot build the HTTP client: {e}")))
}

/// Deliver notifications until `stop` turns true: a pass whenever the store changes (a run's
/// end wakes it at once; passes are at least [`GAP`] apart), when a delivery falls due, and at
/// least every 250 ms. On replicas
/// sharing a store only the one leading maintenance delivers. Errors go to `on_error`.
pub async fn deliver(
    plane: Arc<LocalControlPlane>,
    mut stop: tokio::sync::watch::Receiver<bool>,
    on_error: impl Fn(&Error) + Send,
) {
    let client = match http_client() {
        Ok(c) => c,
        Err(e) => {
            on_error(&e);
            return;
        }
    };
    let mut last_scan: Option<Instant> = None;
    let mut last_pass: Option<Instant> = None;
    loop {
        if let Some(rest) = last_pass.and_then(|t| GAP.checked_sub(t.elapsed())) {
            tokio::select! {
                () = tokio::time::sleep(rest) => {}
                _ = stop.changed() => {}
            }
        }
        if *stop.borrow() {
            return;
        }
        last_pass = Some(Instant::now());
        let seen = plane.store().feed().version();
        let scan = last_scan.is_none_or(|t| t.elapsed() >= SCAN_EVERY);
        if scan {
            last_scan = Some(Instant::now());
        }
        if let Err(e) = plane.notify_pass(&client, scan).await {
            on_error(&e);
        }
        let wait = plane
            .notify_next_due()
            .map(|due| {
                Duration::from_millis(u64::try_from(due.saturating_sub(now_ms())).unwrap_or(0))
            })
            .map_or(POLL, |d| d.clamp(Duration::from_millis(10), POLL));
        tokio::select! {
            () = plane.store().feed().wait_since(seen, wait) => {}
            _ = stop.changed() => {}
        }
    }
}

//! Notifications (issue 12): channels, rules, the durable outbox and its delivery.
//!
//! - A **channel** is where messages go: a `webhook` (JSON body signed the Standard Webhooks
//!   way), a `slack` incoming webhook, or `email` over SMTP with STARTTLS. Its secret (the
//!   signing secret, the Slack URL, the SMTP password) is sealed with the store key
//!   (`crate::keys`) and never shown, returned by the API or audited.
//! - A **rule** says which events of which workflows (all, or one) and which runs (any, or
//!   those with its labels) go to which channel: `on: failed | timed_out | cancelled | succeeded |
//!   recovered | missed_schedule | duration_over D | stuck D | approval`, `after: N` consecutive,
//!   `cooldown`, and a
//!   grouping window that batches a burst into one message ([`rules`]). A workflow file's
//!   `notify:` gives that workflow rules of its own, replaced when it is applied ([`file`]).
//! - The **outbox** is written in the transaction that made the event happen: a run's end in
//!   the run's final transaction (`store::*::apply`), a missed schedule tick in the tick's
//!   ([`OutboxInsert`]: the schedules' hook). The maintenance leader turns outbox rows into
//!   deliveries by the rules, and delivers each at least once, with retries (backoff and
//!   jitter), recording every attempt ([`deliver`]; the sending itself in [`send`], the
//!   messages in [`message`]).

pub mod deliver;
pub mod file;
pub mod message;
pub mod rules;
pub mod send;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::auth::Secret;
use crate::{Error, Result};

/// The kinds of channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ChannelKind {
    Webhook,
    Slack,
    Email,
}

impl ChannelKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Webhook => "webhook",
            ChannelKind::Slack => "slack",
            ChannelKind::Email => "email",
        }
    }
}

impl FromStr for ChannelKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "webhook" => Ok(ChannelKind::Webhook),
            "slack" => Ok(ChannelKind::Slack),
            "email" => Ok(ChannelKind::Email),
            other => Err(Error::Store(format!("unknown channel kind {other:?}"))),
        }
    }
}

impl fmt::Display for ChannelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A channel as it is shown: never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Channel {
    pub id: String,
    pub name: String,
    pub kind: ChannelKind,
    /// Where messages go, without secrets: the webhook URL, `slack` (its URL is the secret),
    /// the email address.
    pub target: String,
    /// The SMTP server of an email channel, without its password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp: Option<String>,
    /// Whether the channel holds a secret (sealed with the store key).
    pub has_secret: bool,
    #[serde(with = "crate::model::time::rfc3339")]
    pub created_at: i64,
    pub created_by: String,
}

/// What `imx notify channel add` sends. The secret travels only here, never back.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NewChannel {
    pub name: String,
    pub kind: ChannelKind,
    /// The webhook URL, or the email address; empty for Slack (its URL is the secret).
    #[serde(default)]
    pub target: String,
    /// The SMTP server of an email channel: `smtp://[user@]host[:port]` (STARTTLS, required)
    /// or `smtps://…` (TLS from the start); no password in it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp: Option<String>,
    /// The sender of an email channel [default: imx@<host of the SMTP server>].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// A PEM file of extra CA certificates the SMTP server's certificate may chain to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp_ca_pem: Option<String>,
    /// The webhook signing secret (`whsec_…` or any text), the Slack URL, the SMTP password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<Secret>,
}

/// The events a rule can fire on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum On {
    Failed,
    TimedOut,
    Cancelled,
    Succeeded,
    /// A run succeeded after the workflow's previous run did not.
    Recovered,
    /// A schedule tick was recorded as missed (the schedules' ticks produce these).
    MissedSchedule,
    /// A run has been going longer than the rule's threshold.
    DurationOver,
    /// A run has made no progress (no event) for the rule's threshold.
    Stuck,
    /// An approval step started waiting for a person (`imx run approve|reject`).
    Approval,
}

impl On {
    pub const ALL: [On; 9] = [
        On::Failed,
        On::TimedOut,
        On::Cancelled,
        On::Succeeded,
        On::Recovered,
        On::MissedSchedule,
        On::DurationOver,
        On::Stuck,
        On::Approval,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            On::Failed => "failed",
            On::TimedOut => "timed_out",
            On::Cancelled => "cancelled",
            On::Succeeded => "succeeded",
            On::Recovered => "recovered",
            On::MissedSchedule => "missed_schedule",
            On::DurationOver => "duration_over",
            On::Stuck => "stuck",
            On::Approval => "approval",
        }
    }

    /// Whether the rule needs a threshold (`duration_over D`, `stuck D`).
    pub fn needs_threshold(self) -> bool {
        matches!(self, On::DurationOver | On::Stuck)
    }
}

impl FromStr for On {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        On::ALL
            .into_iter()
            .find(|o| o.as_str() == s.trim())
            .ok_or_else(|| {
                Error::invalid_with_hint(
                    format!("unknown notification event {s:?}"),
                    format!("one of: {}", On::ALL.map(On::as_str).join(", ")),
                )
            })
    }
}

impl fmt::Display for On {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a rule came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RuleSource {
    /// `imx notify rule add`.
    Command,
    /// A workflow file's `notify:` (replaced when the workflow is applied again).
    Workflow,
}

impl RuleSource {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleSource::Command => "command",
            RuleSource::Workflow => "workflow",
        }
    }
}

/// What a rule says (as given by a command or a workflow file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NewRule {
    pub on: On,
    pub channel: String,
    /// Only this workflow's runs [default: every workflow].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow: Option<String>,
    /// Only runs with every one of these labels (`imx workflow run -l`) [default: any run].
    /// A rule with labels never fires on what is not a run (`missed_schedule`).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub labels: std::collections::BTreeMap<String, String>,
    /// For `duration_over` and `stuck`: the threshold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold_ms: Option<u64>,
    /// Fire only when this many runs in a row matched (default 1).
    #[serde(default = "one")]
    pub after: u32,
    /// After a message, none for this long from the same rule.
    #[serde(default)]
    pub cooldown_ms: u64,
    /// Batch what happens within this window into one message.
    #[serde(default)]
    pub group_ms: u64,
}

fn one() -> u32 {
    1
}

impl NewRule {
    /// Check what a rule says on its own (its channel is checked by the store).
    pub fn check(&self) -> Result<()> {
        crate::model::labels::check(&self.labels)?;
        if self.on.needs_threshold() && self.threshold_ms.unwrap_or(0) == 0 {
            return Err(Error::invalid_with_hint(
                format!("`{}` needs a duration", self.on),
                format!("e.g. --on {} --for 30m", self.on),
            ));
        }
        if !self.on.needs_threshold() && self.threshold_ms.is_some() {
            return Err(Error::invalid(format!(
                "`{}` takes no duration (only duration_over and stuck do)",
                self.on
            )));
        }
        if self.after == 0 {
            return Err(Error::invalid("`after` must be at least 1"));
        }
        if self.channel.trim().is_empty() {
            return Err(Error::invalid("a rule needs a channel"));
        }
        Ok(())
    }
}

/// A stored rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Rule {
    pub id: String,
    #[serde(flatten)]
    pub rule: NewRule,
    pub source: RuleSource,
    #[serde(with = "crate::model::time::rfc3339")]
    pub created_at: i64,
    pub created_by: String,
}

/// A delivery's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryState {
    /// Collecting the events of its grouping window.
    Grouping,
    /// Due to be (re)tried.
    Pending,
    Delivered,
    /// Every attempt failed.
    Failed,
    /// Not sent: the rule's cooldown.
    Suppressed,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Grouping => "grouping",
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
            DeliveryState::Suppressed => "suppressed",
        }
    }
}

impl FromStr for DeliveryState {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "grouping" => DeliveryState::Grouping,
            "pending" => DeliveryState::Pending,
            "delivered" => DeliveryState::Delivered,
            "failed" => DeliveryState::Failed,
            "suppressed" => DeliveryState::Suppressed,
            other => return Err(Error::Store(format!("unknown delivery state {other:?}"))),
        })
    }
}

/// One event a message is about (a run's end, a missed tick, a long or stuck run).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EventSummary {
    /// `run.failed`, `run.succeeded`, `run.recovered`, `run.duration_over`, `run.stuck`,
    /// `schedule.missed`, `test`.
    pub kind: String,
    pub workflow: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    #[serde(with = "crate::model::time::rfc3339")]
    pub at: i64,
    /// What else is known: the run's status and error, the failing step and its last log
    /// lines, the schedule's nominal time.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

/// One attempt to deliver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Attempt {
    pub attempt: u32,
    #[serde(with = "crate::model::time::rfc3339")]
    pub at: i64,
    pub ok: bool,
    /// `HTTP 200`, `250 OK`, or the error.
    pub detail: String,
    pub duration_ms: u64,
}

/// A message to one channel, and every attempt to deliver it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Delivery {
    /// Also the `webhook-id` a receiver de-duplicates by.
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_id: Option<String>,
    pub channel: String,
    pub kind: String,
    pub state: DeliveryState,
    pub events: Vec<EventSummary>,
    #[serde(with = "crate::model::time::rfc3339")]
    pub created_at: i64,
    /// When it is (next) due.
    #[serde(with = "crate::model::time::rfc3339")]
    pub due_at: i64,
    #[serde(default, with = "crate::model::time::rfc3339_opt")]
    pub delivered_at: Option<i64>,
    pub attempts: Vec<Attempt>,
}

/// A row for the outbox: what happened. `dedupe` makes it once-only (a long run is reported
/// once per rule).
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxInsert {
    pub kind: String,
    pub workflow: String,
    pub run_id: Option<String>,
    pub dedupe: Option<String>,
    pub data: serde_json::Value,
    pub at: i64,
}

impl OutboxInsert {
    /// The hook for the schedules' ticks: a tick of `schedule` (of `workflow`) at `nominal`
    /// recorded as missed for `why`. Insert it with `NotifyTx::notify_enqueue` in the
    /// transaction that records the tick.
    pub fn missed_schedule(workflow: &str, schedule: &str, nominal: i64, why: &str) -> Self {
        OutboxInsert {
            kind: "schedule.missed".into(),
            workflow: workflow.into(),
            run_id: None,
            dedupe: Some(format!("missed:{schedule}:{nominal}")),
            data: serde_json::json!({
                "schedule": schedule,
                "nominal": crate::model::time::json(nominal),
                "why": why,
            }),
            at: crate::model::now_ms(),
        }
    }
}

/// An outbox row not yet turned into deliveries.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxRow {
    pub id: String,
    pub kind: String,
    pub workflow: String,
    pub run_id: Option<String>,
    pub data: serde_json::Value,
    pub at: i64,
}

/// A channel row as stored: its secret still sealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelRow {
    pub channel: Channel,
    /// Non-secret settings (JSON): the SMTP server, sender, extra CA.
    pub config: String,
    pub sealed: Option<Vec<u8>>,
}

/// The associated data a channel's secret is sealed with: it opens only on its own row.
pub fn secret_aad(channel_id: &str) -> Vec<u8> {
    format!("notify.channel:{channel_id}:secret").into_bytes()
}

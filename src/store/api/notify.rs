//! Notifications inside one store transaction (issue 12; see `crate::notify`): channels with
//! their sealed secrets, rules, the outbox, deliveries and their attempts.

use crate::Result;
use crate::notify::rules::Latest;
use crate::notify::{
    Attempt, ChannelRow, Delivery, DeliveryState, EventSummary, OutboxInsert, OutboxRow, Rule,
};

/// A new delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryInsert {
    pub id: String,
    pub rule_id: Option<String>,
    pub channel: String,
    pub kind: String,
    pub events: Vec<EventSummary>,
    pub state: DeliveryState,
    pub created_at: i64,
    pub due_at: i64,
    /// Attempts already claimed (1 for a test message sent at once).
    pub attempts: u32,
}

/// A delivery claimed for an attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct Claimed {
    pub id: String,
    pub channel: String,
    pub events: Vec<EventSummary>,
    /// This attempt's number (1 for the first).
    pub attempt: u32,
}

/// What an attempt leaves the delivery as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterAttempt {
    Delivered,
    /// Try again at this time.
    Retry(i64),
    /// Given up.
    Failed,
}

/// A running run found by a `duration_over` or `stuck` rule: id, workflow, and since when
/// (its start, or its last progress).
pub type RunSince = (String, String, i64);

/// Notification rows, inside the caller's transaction.
pub trait NotifyTx {
    /// Add a channel; a name in use is a conflict.
    fn notify_insert_channel(&self, row: &ChannelRow) -> Result<()>;
    /// Every channel, by name.
    fn notify_channels(&self) -> Result<Vec<ChannelRow>>;
    /// The channel named `name`.
    fn notify_channel(&self, name: &str) -> Result<Option<ChannelRow>>;
    /// Remove the channel named `name`; whether there was one.
    fn notify_delete_channel(&self, name: &str) -> Result<bool>;
    /// Add a rule.
    fn notify_insert_rule(&self, rule: &Rule) -> Result<()>;
    /// Every rule, oldest first.
    fn notify_rules(&self) -> Result<Vec<Rule>>;
    /// Remove the rule `id`; whether there was one.
    fn notify_delete_rule(&self, id: &str) -> Result<bool>;
    /// Replace the rules a workflow file's `notify:` gave `workflow` with `rules`.
    fn notify_replace_workflow_rules(&self, workflow: &str, rules: &[Rule]) -> Result<()>;
    /// Put an event in the outbox (the hook for schedules' missed ticks); `false` when its
    /// `dedupe` key was there already.
    fn notify_enqueue(&self, ev: &OutboxInsert) -> Result<bool>;
    /// Outbox rows not yet processed, oldest first.
    fn notify_outbox_new(&self, limit: u32) -> Result<Vec<OutboxRow>>;
    /// Mark an outbox row processed.
    fn notify_outbox_done(&self, id: &str, now: i64) -> Result<()>;
    /// The statuses of `workflow`'s ended runs created before `run_id`, newest first.
    fn notify_run_history(&self, workflow: &str, run_id: &str, limit: u32) -> Result<Vec<String>>;
    /// What a message says about a run: status, error, its failing step and that step's last
    /// log lines.
    fn notify_run_facts(&self, run_id: &str) -> Result<serde_json::Value>;
    /// A run's labels, for rules scoped by labels (none when the run is gone).
    fn notify_run_labels(&self, run_id: &str)
    -> Result<std::collections::BTreeMap<String, String>>;
    /// The rule's latest delivery that was not suppressed.
    fn notify_latest(&self, rule_id: &str) -> Result<Option<Latest>>;
    /// Add a delivery.
    fn notify_insert_delivery(&self, d: &DeliveryInsert) -> Result<()>;
    /// Add an event to a delivery still collecting its grouping window.
    fn notify_join(&self, delivery_id: &str, event: &EventSummary) -> Result<()>;
    /// Claim up to `limit` deliveries due at `now` for an attempt each: due again at
    /// `lease_until` unless the attempt is recorded (a process that dies mid-attempt leaves
    /// them to be tried again).
    fn notify_claim_due(&self, now: i64, lease_until: i64, limit: u32) -> Result<Vec<Claimed>>;
    /// The earliest time a delivery is due (to sleep until then).
    fn notify_next_due(&self) -> Result<Option<i64>>;
    /// Record an attempt and what it leaves the delivery as (only if the delivery is still at
    /// that attempt).
    fn notify_record_attempt(&self, id: &str, attempt: &Attempt, after: AfterAttempt)
    -> Result<()>;
    /// The newest deliveries, with their attempts.
    fn notify_deliveries(&self, limit: u32) -> Result<Vec<Delivery>>;
    /// Running runs (of `workflow`, or any) started before `before`.
    fn notify_long_runs(&self, workflow: Option<&str>, before: i64) -> Result<Vec<RunSince>>;
    /// Running runs (of `workflow`, or any) whose last progress (the run's or a step's start
    /// or end) was before `before`.
    fn notify_stuck_runs(&self, workflow: Option<&str>, before: i64) -> Result<Vec<RunSince>>;
}

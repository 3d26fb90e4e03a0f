//! Triggers inside one store transaction (issue 12; the rules are in `control::local_triggers`):
//! the `triggers` rows, the `trigger_fires` keys that make each firing happen once, and the
//! cursor of the run-end events the `after` triggers have been checked against.

use crate::Result;
use crate::model::Trigger;

/// A trigger row to write: the trigger and, for a webhook, its secret sealed with the store key.
pub struct TriggerRecord<'a> {
    pub trigger: &'a Trigger,
    pub sealed_secret: Option<&'a [u8]>,
}

/// Triggers: SQL only, the same on every backend.
pub trait TriggersTx {
    /// Insert a new trigger; a name taken is a conflict.
    fn insert_trigger(&self, rec: &TriggerRecord<'_>) -> Result<()>;
    /// Insert or update a trigger declared by `managed_by`'s file, keeping its counters. A
    /// trigger of that name made some other way is not touched: `false`.
    fn upsert_declared_trigger(&self, rec: &TriggerRecord<'_>) -> Result<bool>;
    /// A trigger, and its sealed secret.
    fn trigger(&self, name: &str) -> Result<Option<(Trigger, Option<Vec<u8>>)>>;
    /// Every trigger, by name.
    fn list_triggers(&self) -> Result<Vec<Trigger>>;
    /// The `after` triggers a run of `upstream` may fire.
    fn triggers_after(&self, upstream: &str) -> Result<Vec<Trigger>>;
    /// Whether any `after` trigger exists (most stores have none: then run ends are not read).
    fn any_after_trigger(&self) -> Result<bool>;
    /// Delete a trigger and its fired keys; whether it existed.
    fn delete_trigger(&self, name: &str) -> Result<bool>;
    /// Delete the triggers `workflow`'s file declared, except `keep`; their names.
    fn delete_declared_triggers(&self, workflow: &str, keep: &[String]) -> Result<Vec<String>>;
    /// Replace a webhook trigger's sealed secret.
    fn set_trigger_secret(&self, name: &str, sealed: &[u8]) -> Result<()>;
    /// Take `key` for `trigger` at `at`: `false` when it was taken before (a replay, or another
    /// replica firing the same upstream run).
    fn claim_trigger_fire(&self, trigger: &str, key: &str, at: i64) -> Result<bool>;
    /// The run a taken key started, if any.
    fn trigger_fire_run(&self, trigger: &str, key: &str) -> Result<Option<String>>;
    /// Record what a taken key did: the run it started, or why it started none.
    fn finish_trigger_fire(
        &self,
        trigger: &str,
        key: &str,
        run_id: Option<&str>,
        error: Option<&str>,
        at: i64,
    ) -> Result<()>;
    /// Forget webhook keys taken before `before` (older calls are refused for their
    /// timestamp anyway); how many. Upstream-run keys stay while their trigger does.
    fn prune_trigger_fires(&self, before: i64) -> Result<u64>;
    /// The id of the last event the `after` triggers were checked against, if ever.
    fn trigger_cursor(&self) -> Result<Option<i64>>;
    /// Move that cursor forward to `id` (never back).
    fn advance_trigger_cursor(&self, id: i64) -> Result<()>;
}

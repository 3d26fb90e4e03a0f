//! Triggers as the control plane returns them: what starts a run besides a person. A
//! `webhook` trigger starts its workflow when a signed `POST /api/v1/hooks/NAME` arrives; an
//! `after` trigger starts it when a run of another workflow ends in one of the given states.
//! Never a secret: a webhook trigger's signing secret is shown once, when it is made.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Millis, RunStatus};
use crate::auth::Secret;

/// What fires a trigger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TriggerKind {
    /// A signed HTTP call to `/api/v1/hooks/NAME` (Standard Webhooks).
    Webhook,
    /// The end of a run of `upstream`.
    After,
}

impl TriggerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TriggerKind::Webhook => "webhook",
            TriggerKind::After => "after",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "webhook" => Some(TriggerKind::Webhook),
            "after" => Some(TriggerKind::After),
            _ => None,
        }
    }
}

impl std::fmt::Display for TriggerKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A trigger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Trigger {
    pub name: String,
    pub kind: TriggerKind,
    /// The workflow whose runs it starts.
    pub workflow: String,
    /// `after`: the workflow whose runs' ends fire it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream: Option<String>,
    /// `after`: the end states that fire it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub statuses: Vec<RunStatus>,
    /// Params of the started run, each from a dotted path into the webhook's JSON body, or for
    /// `after` into `{ run: {id, workflow, status, params}, steps: {ID: {status, outputs}},
    /// outputs }` of the upstream run. Params the map does not name are taken from the
    /// body's (or the upstream outputs', then params') field of the same name.
    #[serde(default)]
    pub param_map: BTreeMap<String, String>,
    /// The labels of each run it starts (`-l key=value`; see `model::labels`), to find them by
    /// (`run list -l`); `{}` when none.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Set when the trigger is declared in its workflow's file (`on:`): `workflow apply` keeps it
    /// in line with the file, and `trigger delete` refuses it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed_by: Option<String>,
    pub created_by: String,
    #[serde(with = "crate::model::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Millis,
    /// Runs started.
    pub fired: u64,
    #[serde(default, with = "crate::model::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_fired_at: Option<Millis>,
    /// Why the last firing started no run (bad params, the workflow gone), until one does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// A trigger to make.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTrigger {
    #[schema(pattern = "^[a-z0-9][a-z0-9_-]*$", max_length = 100)]
    pub name: String,
    pub kind: TriggerKind,
    pub workflow: String,
    #[serde(default)]
    pub upstream: Option<String>,
    #[serde(default)]
    pub statuses: Vec<RunStatus>,
    #[serde(default)]
    pub param_map: BTreeMap<String, String>,
    /// The labels of each run it starts; left out when empty, so servers that predate them
    /// take the request.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// `webhook`: the signing secret to use (`whsec_…` or any text); without it one is made
    /// and returned once.
    #[serde(default)]
    pub secret: Option<Secret>,
}

/// A trigger just made (or given a new secret): a webhook trigger's secret, shown this once.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CreatedTrigger {
    pub trigger: Trigger,
    /// The path to POST to (`/api/v1/hooks/NAME`), for webhook triggers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<Secret>,
}

/// What one webhook call did.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HookOutcome {
    pub trigger: String,
    /// The run it started.
    pub run_id: String,
    /// The `webhook-id` of the call.
    pub message_id: String,
}

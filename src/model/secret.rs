//! Workflow secrets as the control plane returns them (issue 13): names, scopes, who changed
//! them and when — never a value. A value goes in once (`imx secret set`, from stdin or a
//! file), is sealed with the store key, and comes out only inside the lease of a step that uses
//! it (`{{ secrets.NAME }}`).

use serde::{Deserialize, Serialize};

use super::Millis;
use crate::auth::Secret;

/// A secret's metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SecretInfo {
    pub name: String,
    /// The workflow it belongs to; `None` for a global secret (a workflow's own secret of the
    /// same name wins).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow: Option<String>,
    /// 1 when set, one more each time it is rotated or set again.
    pub version: u64,
    pub created_at: Millis,
    pub created_by: String,
    pub updated_at: Millis,
    pub updated_by: String,
}

/// `PUT /api/v1/secrets/NAME`: set (create or replace) or rotate a secret.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SecretValue {
    /// The value (never returned), at most 64 KiB.
    #[schema(min_length = 1, max_length = 65536)]
    pub value: Secret,
    /// Scope it to a workflow; global when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^[a-z0-9][a-z0-9_-]*$", max_length = 100)]
    pub workflow: Option<String>,
    /// Rotate: the secret must exist already (a new value for the same name).
    #[serde(default)]
    pub rotate: bool,
}

/// What `imx secret rekey` did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Rekeyed {
    /// Workflow secrets sealed again under the new key.
    pub secrets: u64,
    /// Webhook triggers' secrets sealed again.
    pub triggers: u64,
    /// Notification channels' secrets sealed again.
    pub channels: u64,
    /// The new key's check value (never the key).
    pub check: String,
}

/// Whether `name` may name a secret: a letter or `_`, then letters, digits and `_` (it is
/// written `{{ secrets.NAME }}`), at most 128.
pub fn valid_secret_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= 128
}

//! Workflow secrets inside one store transaction (issue 13; the rules are in
//! `control::local_secrets`): the `secrets` rows, each value sealed with the store key, and
//! for `imx secret rekey` every sealed value the store keeps (secrets, webhook triggers'
//! secrets, notification channels' secrets) read and replaced in one transaction.

use crate::Result;
use crate::model::SecretInfo;

/// A secret's row to write. `scope` is `""` for a global secret, else its workflow.
pub struct SecretRecord<'a> {
    pub scope: &'a str,
    pub name: &'a str,
    pub sealed: &'a [u8],
    pub by: &'a str,
    pub at: i64,
}

/// Where a sealed value is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SealedAt {
    /// A workflow secret (`scope` `""` for global).
    Secret { scope: String, name: String },
    /// A webhook trigger's signing secret.
    Trigger { name: String },
    /// A notification channel's secret.
    Channel { id: String },
}

/// A sealed value and where it is kept.
#[derive(Debug, Clone)]
pub struct SealedValue {
    pub at: SealedAt,
    pub sealed: Vec<u8>,
}

/// Secrets: SQL only, the same on every backend.
pub trait SecretsTx {
    /// Insert or replace a secret (its version one more than before). With `must_exist` (a
    /// rotation) a secret that is not there is left alone: `None`.
    fn put_secret(&self, rec: &SecretRecord<'_>, must_exist: bool) -> Result<Option<SecretInfo>>;
    /// Every secret's metadata, by scope then name; only `scope`'s when given.
    fn list_secrets(&self, scope: Option<&str>) -> Result<Vec<SecretInfo>>;
    /// Delete a secret; whether it existed.
    fn delete_secret(&self, scope: &str, name: &str) -> Result<bool>;
    /// The sealed values of `names` a step of `workflow` sees: the workflow's own secret, else
    /// the global one; `(name, scope, sealed)`, names not set left out.
    fn secrets_for(
        &self,
        workflow: &str,
        names: &[String],
    ) -> Result<Vec<(String, String, Vec<u8>)>>;
    /// Every sealed value in the store (for a rekey).
    fn sealed_values(&self) -> Result<Vec<SealedValue>>;
    /// Replace one sealed value where it is kept.
    fn replace_sealed(&self, value: &SealedValue) -> Result<()>;
    /// Replace the store key's check value (after every sealed value was sealed again).
    fn set_store_key_check(&self, check: &str) -> Result<()>;
}

//! Store-wide settings inside one store transaction: the default run timeout, and the backup
//! location every replica and host uses (`imx backup location`), and the store key's check
//! value.

use crate::Result;
use crate::model::RunTimeout;

/// Settings kept in the store.
pub trait SettingsTx {
    /// The store's default run timeout, if one was set.
    fn default_run_timeout(&self) -> Result<Option<u64>>;
    /// Set the store's default run timeout.
    fn set_default_run_timeout(&self, ms: u64) -> Result<()>;
    /// The backup folder set for the store (`imx backup location DIR`), over each host's
    /// default; `None` when unset.
    fn backup_location(&self) -> Result<Option<String>>;
    /// Set the backup folder for the store, or (`None`) unset it.
    fn set_backup_location(&self, dir: Option<&str>) -> Result<()>;
    /// The check value of the store key that seals the store's secrets (`crate::keys`), if a
    /// key was ever used with it.
    fn store_key_check(&self) -> Result<Option<String>>;
    /// Record the store key's check value, unless one is there already; returns the one now
    /// recorded (the first key wins: a caller whose key differs must not seal anything).
    fn init_store_key_check(&self, check: &str) -> Result<String>;
    /// The timeout a run gets, and where it comes from: `requested`, else `workflow`'s, else
    /// `server`'s, else the store's default, else the built-in one.
    fn run_timeout(
        &self,
        requested: Option<u64>,
        workflow: Option<u64>,
        server: Option<u64>,
    ) -> Result<RunTimeout>;
}

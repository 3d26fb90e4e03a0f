//! Backup keys in the OS keyring (DESIGN §8: a key "from the OS keyring, a key file, or a
//! passphrase on stdin"). `imx backup keygen --keyring [NAME]` stores a new random 256-bit key
//! as 64 hex digits under service [`SERVICE`], account NAME (default [`DEFAULT_ENTRY`]);
//! `--keyring [NAME]` on `backup create|verify|restore` reads it back.
//!
//! The stores are the login credentials' (see [`crate::config::credentials`]): Secret Service
//! on Linux, Keychain on macOS, Credential Manager on Windows; `IMX_KEYRING=off` turns the
//! keyring off. Unlike tokens there is no file fallback: a key kept in a file is a key file,
//! and `--key-file` says so. The key never appears in output, logs or errors.

use std::sync::Arc;

use keyring_core::{CredentialStore, Entry};

use super::crypto::{KeySource, SecretKey};
use crate::{Error, Result};

/// The keyring service backup keys are filed under (apart from login tokens' `imx`).
pub const SERVICE: &str = "imx-backup-key";
/// The entry `--keyring` uses when no name is given.
pub const DEFAULT_ENTRY: &str = "default";

/// Where backup keys are kept.
pub struct BackupKeyring {
    store: std::result::Result<Arc<CredentialStore>, String>,
}

impl BackupKeyring {
    /// This machine's OS keyring (unless `IMX_KEYRING=off`).
    pub fn system() -> Self {
        BackupKeyring {
            store: crate::config::credentials::system_keyring(),
        }
    }

    /// A given store (tests use keyring-core's mock store).
    pub fn new(store: Arc<CredentialStore>) -> Self {
        BackupKeyring { store: Ok(store) }
    }

    fn unavailable(reason: &str) -> Error {
        Error::invalid_with_hint(
            format!("the OS keyring is not available for backup keys ({reason})"),
            "use a key file instead (imx backup keygen --out FILE, then --key-file FILE) or --passphrase-stdin",
        )
    }

    fn entry(&self, name: &str) -> Result<Entry> {
        if name.trim().is_empty() {
            return Err(Error::invalid("a keyring entry needs a name"));
        }
        let store = self.store.as_ref().map_err(|r| Self::unavailable(r))?;
        Entry::new_in_store(store, SERVICE, name).map_err(|e| Self::unavailable(&e.to_string()))
    }

    /// Keep `key` under `name`; refuses to replace a key already there (backups made with it
    /// could no longer be opened).
    pub fn store(&self, name: &str, key: &SecretKey) -> Result<()> {
        let entry = self.entry(name)?;
        match entry.get_password() {
            Ok(_) => {
                return Err(Error::Conflict(format!(
                    "the OS keyring already holds a backup key named {name:?}; not replacing it \
                     (backups made with it would no longer open): choose another name"
                )));
            }
            Err(keyring_core::Error::NoEntry) => {}
            Err(e) => return Err(Self::unavailable(&e.to_string())),
        }
        entry
            .set_password(key.to_hex().as_str())
            .map_err(|e| Self::unavailable(&e.to_string()))
    }

    /// The key kept under `name`, as a key source for create, verify and restore.
    pub fn load(&self, name: &str) -> Result<KeySource> {
        let text = match self.entry(name)?.get_password() {
            Ok(text) => zeroize::Zeroizing::new(text),
            Err(keyring_core::Error::NoEntry) => {
                return Err(Error::NotFoundHint {
                    message: format!("the OS keyring holds no backup key named {name:?}"),
                    hint: format!("make one with: imx backup keygen --keyring {name}"),
                });
            }
            Err(e) => return Err(Self::unavailable(&e.to_string())),
        };
        let key = SecretKey::from_hex(&text).ok_or_else(|| {
            Error::invalid(format!(
                "the OS keyring entry {name:?} (service {SERVICE}) does not hold a backup key \
                 (expected 64 hex digits)"
            ))
        })?;
        Ok(KeySource::Keyring {
            entry: name.to_string(),
            key,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::backup::crypto;

    fn mock() -> Arc<CredentialStore> {
        keyring_core::mock::Store::new().unwrap()
    }

    #[test]
    fn a_stored_key_comes_back_and_is_never_replaced() {
        let ring = BackupKeyring::new(mock());
        let key = SecretKey::generate();
        ring.store("nightly", &key).unwrap();
        let KeySource::Keyring { entry, key: back } = ring.load("nightly").unwrap() else {
            panic!("not a keyring key");
        };
        assert_eq!((entry.as_str(), &back), ("nightly", &key));
        let e = ring.store("nightly", &SecretKey::generate()).unwrap_err();
        assert!(matches!(e, Error::Conflict(_)), "{e}");
        assert_eq!(
            ring.load("nightly").unwrap(),
            KeySource::Keyring {
                entry: "nightly".into(),
                key
            },
            "the first key is kept"
        );
        let missing = ring.load("other").unwrap_err();
        assert!(matches!(missing, Error::NotFoundHint { .. }), "{missing}");
    }

    #[test]
    fn the_key_is_never_shown() {
        let ring = BackupKeyring::new(mock());
        let key = SecretKey::generate();
        ring.store(DEFAULT_ENTRY, &key).unwrap();
        let source = ring.load(DEFAULT_ENTRY).unwrap();
        let hex = key.to_hex();
        assert!(!format!("{source:?}").contains(hex.as_str()));
        assert!(!format!("{key:?}").contains(hex.as_str()));
        let (_, enc) = crypto::for_encryption(&source).unwrap();
        let manifest = serde_json::to_string(&enc).unwrap();
        assert!(!manifest.contains(hex.as_str()));
        assert_eq!(enc.keyring.as_deref(), Some(DEFAULT_ENTRY));
    }

    #[test]
    fn a_failing_or_missing_keyring_says_what_to_use_instead() {
        let store = mock();
        let entry = Entry::new_in_store(&store, SERVICE, "locked").unwrap();
        let cred: &keyring_core::mock::Cred = entry.as_any().downcast_ref().unwrap();
        cred.set_error(keyring_core::Error::NoStorageAccess(Box::new(
            std::io::Error::other("locked collection"),
        )));
        let e = BackupKeyring::new(store).load("locked").unwrap_err();
        assert!(e.to_string().contains("locked collection"), "{e}");
        assert!(e.hint().unwrap().contains("--key-file"));
        let off = BackupKeyring {
            store: Err("IMX_KEYRING is off".into()),
        };
        let e = off.store("x", &SecretKey::generate()).unwrap_err();
        assert!(e.to_string().contains("IMX_KEYRING is off"), "{e}");
    }

    #[test]
    fn a_backup_made_with_a_keyring_key_opens_with_it_or_the_same_key_in_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let ring = BackupKeyring::new(mock());
        let key = SecretKey::generate();
        ring.store("k", &key).unwrap();
        let source = ring.load("k").unwrap();
        let (_, enc) = crypto::for_encryption(&source).unwrap();
        let path = dir.path().join("b.imxb");
        crypto::for_decryption(&path, &enc, Some(&source)).unwrap();
        let file = dir.path().join("k.key");
        crypto::write_key_file(&file, &key).unwrap();
        crypto::for_decryption(&path, &enc, Some(&KeySource::File(file))).unwrap();
        // Without a key, or with another one, the entry is named.
        for given in [None, Some(&KeySource::Passphrase("nope".into()))] {
            let e = crypto::for_decryption(&path, &enc, given).unwrap_err();
            assert!(e.to_string().contains("--keyring k"), "{e}");
        }
        let other = BackupKeyring::new(mock());
        other.store("k", &SecretKey::generate()).unwrap();
        let e = crypto::for_decryption(&path, &enc, Some(&other.load("k").unwrap())).unwrap_err();
        assert!(matches!(e, Error::WrongKey { .. }), "{e}");
    }
}

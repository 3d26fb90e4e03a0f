//! Where the store key comes from, and making it on first use.
//!
//! - **Given** ([`StoreKeySource::given`], [`StoreKeySource::from_file`],
//!   [`StoreKeySource::from_env`]): `imx server --store-key-file PATH` or `IMX_STORE_KEY`, 64
//!   hex digits. Replicas of one cluster must all be given the same key; one that is given none
//!   never makes one up ([`StoreKeySource::missing`]): the operation that needs the key fails
//!   and says how to give it.
//! - **Local** ([`StoreKeySource::local_system`]): for a store on this machine, the OS keyring
//!   (service [`SERVICE`], account = the store's id, so each store has its own key), else a
//!   0600 file `<config>/imx/store-keys/<store id>.key` in a 0700 folder (DESIGN §6: where no
//!   keyring is available, with a warning when it is written). Made on first use — only while
//!   the store has no check value; a store whose secrets are sealed under a key this machine
//!   does not hold is an error, never a new key.
//!
//! The check value kept in the store is compared by [`StoreKeySource::resolve`], so every path
//! ends in either the store's key or a clear error.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use keyring_core::{CredentialStore, Entry};

use super::StoreKey;
use crate::{Error, Result};

/// The keyring service store keys are filed under.
pub const SERVICE: &str = "imx-store-key";
/// The environment variable that gives the store key (64 hex digits).
pub const ENV: &str = "IMX_STORE_KEY";

/// Where a key came from, for messages (never the key itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyOrigin {
    /// `IMX_STORE_KEY`.
    Env,
    /// A key file given by path (`--store-key-file`).
    File(PathBuf),
    /// The OS keyring entry for the store.
    Keyring,
    /// The 0600 fallback file for the store.
    Fallback(PathBuf),
}

impl std::fmt::Display for KeyOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyOrigin::Env => write!(f, "{ENV}"),
            KeyOrigin::File(p) => write!(f, "the key file {}", p.display()),
            KeyOrigin::Keyring => write!(f, "the OS keyring (service {SERVICE})"),
            KeyOrigin::Fallback(p) => write!(f, "{}", p.display()),
        }
    }
}

/// The store key and where it came from.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub key: StoreKey,
    pub origin: KeyOrigin,
    /// Set when the key was just made and kept in a file rather than a keyring: say so.
    pub warning: Option<String>,
    /// Whether the key was just made (the caller records its check value in the store).
    pub created: bool,
}

enum Kind {
    Given(StoreKey, KeyOrigin),
    Local {
        keyring: std::result::Result<Arc<CredentialStore>, String>,
        dir: PathBuf,
        insecure_ok: bool,
    },
    Missing(String),
}

/// Where this process gets the store key from.
pub struct StoreKeySource(Kind);

impl std::fmt::Debug for StoreKeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Kind::Given(_, origin) => write!(f, "StoreKeySource::Given({origin})"),
            Kind::Local { dir, .. } => write!(f, "StoreKeySource::Local({})", dir.display()),
            Kind::Missing(why) => write!(f, "StoreKeySource::Missing({why})"),
        }
    }
}

/// The default folder of fallback key files: `$XDG_CONFIG_HOME/imx/store-keys`.
pub fn default_dir() -> PathBuf {
    crate::config::credentials::default_file()
        .parent()
        .map_or_else(|| PathBuf::from("store-keys"), |d| d.join("store-keys"))
}

fn not_a_key(what: &str) -> Error {
    Error::invalid_with_hint(
        format!("{what} is not a store key (expected 64 hex digits)"),
        "make one with: openssl rand -hex 32",
    )
}

impl StoreKeySource {
    /// A key given to this process.
    pub fn given(key: StoreKey, origin: KeyOrigin) -> Self {
        StoreKeySource(Kind::Given(key, origin))
    }

    /// The key in the file at `path` (`--store-key-file`): 64 hex digits.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = zeroize::Zeroizing::new(
            std::fs::read_to_string(path)
                .map_err(|e| Error::io(format!("reading the store key {}", path.display()), e))?,
        );
        let key = StoreKey::from_hex(&text)
            .ok_or_else(|| not_a_key(&format!("the file {}", path.display())))?;
        Ok(Self::given(key, KeyOrigin::File(path.to_path_buf())))
    }

    /// The key in `IMX_STORE_KEY`, if it is set (and not empty).
    pub fn from_env() -> Result<Option<Self>> {
        let Ok(text) = std::env::var(ENV).map(zeroize::Zeroizing::new) else {
            return Ok(None);
        };
        if text.trim().is_empty() {
            return Ok(None);
        }
        let key = StoreKey::from_hex(&text).ok_or_else(|| not_a_key(ENV))?;
        Ok(Some(Self::given(key, KeyOrigin::Env)))
    }

    /// No key: operations that need one fail with `hint` (what to pass).
    pub fn missing(hint: impl Into<String>) -> Self {
        StoreKeySource(Kind::Missing(hint.into()))
    }

    /// A store on this machine: `IMX_STORE_KEY` if set, else this machine's OS keyring (unless
    /// `IMX_KEYRING=off`) with the fallback file (refused unless `insecure_ok`).
    pub fn local_system(insecure_ok: bool) -> Result<Self> {
        if let Some(given) = Self::from_env()? {
            return Ok(given);
        }
        Ok(StoreKeySource(Kind::Local {
            keyring: crate::config::credentials::system_keyring(),
            dir: default_dir(),
            insecure_ok,
        }))
    }

    /// Explicit local stores (tests: keyring-core's mock store, or `None` for no keyring).
    pub fn local(keyring: Option<Arc<CredentialStore>>, dir: PathBuf, insecure_ok: bool) -> Self {
        StoreKeySource(Kind::Local {
            keyring: keyring.ok_or_else(|| "no keyring configured".to_string()),
            dir,
            insecure_ok,
        })
    }

    /// The key of the store `store_id`, whose settings hold the check value `check` (`None`:
    /// no key has been used with it yet, so a local source may make one). A key that does not
    /// match `check` is an [`Error::StoreKey`]; so is no key for a store that has one.
    pub fn resolve(&self, store_id: &str, check: Option<&str>) -> Result<Resolved> {
        let resolved = match &self.0 {
            Kind::Given(key, origin) => Resolved {
                key: key.clone(),
                origin: origin.clone(),
                warning: None,
                created: false,
            },
            Kind::Missing(hint) => {
                return Err(Error::StoreKey {
                    message: "no store key was given to this process, and this operation needs \
                              one (it seals or opens secrets kept in the store)"
                        .into(),
                    hint: hint.clone(),
                });
            }
            Kind::Local {
                keyring,
                dir,
                insecure_ok,
            } => local(keyring, dir, *insecure_ok, store_id, check)?,
        };
        if let Some(check) = check {
            resolved.key.verify(check, &resolved.origin)?;
        }
        Ok(resolved)
    }
}

impl StoreKeySource {
    /// Whether [`save`](Self::save) can keep a new key (a local source: the OS keyring or the
    /// fallback file), rather than the key being given to this process.
    pub fn can_save(&self) -> bool {
        matches!(self.0, Kind::Local { .. })
    }

    /// Keep `key` as the store `store_id`'s key where this source keeps it (`imx secret
    /// rekey` on a local store): the keyring entry, else the fallback file, replaced. A key
    /// given to this process (`IMX_STORE_KEY`, a key file) is not this source's to replace.
    pub fn save(&self, store_id: &str, key: &StoreKey) -> Result<KeyOrigin> {
        let Kind::Local {
            keyring,
            dir,
            insecure_ok,
        } = &self.0
        else {
            return Err(Error::invalid_with_hint(
                "the store key was given to this process: imx cannot replace it",
                "give the new key with --new-key-file FILE, then use it (IMX_STORE_KEY or \
                 --store-key-file)",
            ));
        };
        let file = file_for(dir, store_id)?;
        let in_file = read_fallback(&file)?.is_some();
        if !in_file
            && let Ok(store) = keyring
            && let Ok(entry) = Entry::new_in_store(store, SERVICE, store_id)
            && entry.set_password(key.to_hex().as_str()).is_ok()
        {
            return Ok(KeyOrigin::Keyring);
        }
        if !in_file && !insecure_ok {
            return Err(Error::invalid(
                "no OS keyring is available for the new store key, and insecure storage in a \
                 file is refused",
            ));
        }
        // A new private file beside it, then renamed over it: never half a key.
        let text = zeroize::Zeroizing::new(format!("{}\n", key.to_hex().as_str()));
        let tmp = file.with_extension("key.new");
        let _ = std::fs::remove_file(&tmp);
        crate::backup::fsutil::write_private(&tmp, text.as_bytes())?;
        std::fs::rename(&tmp, &file)
            .map_err(|e| Error::io(format!("replacing {}", file.display()), e))?;
        if let Some(dir) = file.parent() {
            crate::backup::fsutil::sync_dir(dir);
        }
        Ok(KeyOrigin::Fallback(file))
    }
}

fn file_for(dir: &Path, store_id: &str) -> Result<PathBuf> {
    if store_id.is_empty()
        || !store_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(Error::Internal(format!(
            "the store id {store_id:?} cannot name a key file"
        )));
    }
    Ok(dir.join(format!("{store_id}.key")))
}

fn read_fallback(path: &Path) -> Result<Option<StoreKey>> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(format!("reading {}", path.display()), e)),
    };
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(Error::invalid_with_hint(
            format!(
                "{} holds a store key but other users can read it (mode {mode:o}); imx will not use it",
                path.display()
            ),
            format!("chmod 600 {}", path.display()),
        ));
    }
    let text = zeroize::Zeroizing::new(
        std::fs::read_to_string(path)
            .map_err(|e| Error::io(format!("reading {}", path.display()), e))?,
    );
    StoreKey::from_hex(&text)
        .map(Some)
        .ok_or_else(|| not_a_key(&format!("the file {}", path.display())))
}

fn local(
    keyring: &std::result::Result<Arc<CredentialStore>, String>,
    dir: &Path,
    insecure_ok: bool,
    store_id: &str,
    check: Option<&str>,
) -> Result<Resolved> {
    let file = file_for(dir, store_id)?;
    let entry = keyring
        .as_ref()
        .map_err(Clone::clone)
        .and_then(|s| Entry::new_in_store(s, SERVICE, store_id).map_err(|e| e.to_string()));
    let keyring_reason = match entry.as_ref().map(Entry::get_password) {
        Ok(Ok(text)) => {
            let text = zeroize::Zeroizing::new(text);
            let key = StoreKey::from_hex(&text).ok_or_else(|| {
                not_a_key(&format!(
                    "the OS keyring entry {store_id:?} (service {SERVICE})"
                ))
            })?;
            return Ok(Resolved {
                key,
                origin: KeyOrigin::Keyring,
                warning: None,
                created: false,
            });
        }
        Ok(Err(keyring_core::Error::NoEntry)) => None,
        Ok(Err(e)) => Some(e.to_string()),
        Err(reason) => Some(reason.clone()),
    };
    if let Some(key) = read_fallback(&file)? {
        return Ok(Resolved {
            key,
            origin: KeyOrigin::Fallback(file),
            warning: None,
            created: false,
        });
    }
    if check.is_some() {
        return Err(Error::StoreKey {
            message: format!(
                "this store's secrets are sealed with a store key that this machine does not \
                 hold (not in the OS keyring{}, not in {})",
                keyring_reason
                    .as_ref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default(),
                file.display()
            ),
            hint: format!("set {ENV} to the store's key (64 hex digits)"),
        });
    }
    // First use: make the key, keyring first.
    let key = StoreKey::generate();
    let keyring_reason = match entry {
        Ok(entry) if keyring_reason.is_none() => match entry.set_password(key.to_hex().as_str()) {
            Ok(()) => {
                return Ok(Resolved {
                    key,
                    origin: KeyOrigin::Keyring,
                    warning: None,
                    created: true,
                });
            }
            Err(e) => e.to_string(),
        },
        Ok(_) => keyring_reason.unwrap_or_default(),
        Err(reason) => reason,
    };
    if !insecure_ok {
        return Err(Error::invalid_with_hint(
            format!(
                "no OS keyring is available for the store key ({keyring_reason}), and insecure \
                 storage in a file is refused"
            ),
            format!("start a Secret Service (e.g. gnome-keyring) or set {ENV} to a key"),
        ));
    }
    let text = zeroize::Zeroizing::new(format!("{}\n", key.to_hex().as_str()));
    crate::backup::fsutil::write_private(&file, text.as_bytes())?;
    Ok(Resolved {
        key,
        warning: Some(format!(
            "no OS keyring is available ({keyring_reason}); the store key is kept in {} \
             (readable only by you, but not encrypted)",
            file.display()
        )),
        origin: KeyOrigin::Fallback(file),
        created: true,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn mock() -> Arc<CredentialStore> {
        keyring_core::mock::Store::new().unwrap()
    }

    const STORE: &str = "01HSTOREID";

    #[test]
    fn a_local_key_is_made_once_in_the_keyring_and_found_again() {
        let dir = tempfile::tempdir().unwrap();
        let ring = mock();
        let src = StoreKeySource::local(Some(ring.clone()), dir.path().into(), true);
        let first = src.resolve(STORE, None).unwrap();
        assert!(first.created);
        assert_eq!(first.origin, KeyOrigin::Keyring);
        assert!(first.warning.is_none());
        assert!(!dir.path().join(format!("{STORE}.key")).exists());
        let check = first.key.check();
        let again = src.resolve(STORE, Some(&check)).unwrap();
        assert!(!again.created);
        assert_eq!(again.key, first.key);
        // Another store gets its own key.
        let other = src.resolve("01HOTHER", None).unwrap();
        assert_ne!(other.key, first.key);
    }

    #[test]
    fn without_a_keyring_the_key_goes_to_a_0600_file_with_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("store-keys");
        let src = StoreKeySource::local(None, keys.clone(), true);
        let first = src.resolve(STORE, None).unwrap();
        let file = keys.join(format!("{STORE}.key"));
        assert_eq!(first.origin, KeyOrigin::Fallback(file.clone()));
        assert!(first.warning.unwrap().contains("no OS keyring"));
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let dir_mode = std::fs::metadata(&keys).unwrap().permissions().mode() & 0o777;
        assert_eq!(dir_mode, 0o700);
        let again = src.resolve(STORE, Some(&first.key.check())).unwrap();
        assert_eq!(again.key, first.key);
        // A file others can read is refused.
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = src.resolve(STORE, None).unwrap_err();
        assert!(e.to_string().contains("other users can read"), "{e}");
        // Refusing insecure storage refuses the file.
        let strict = StoreKeySource::local(None, dir.path().join("strict"), false);
        let e = strict.resolve(STORE, None).unwrap_err();
        assert!(e.to_string().contains("insecure storage"), "{e}");
    }

    #[test]
    fn a_missing_key_for_a_store_that_has_one_is_an_error_not_a_new_key() {
        let dir = tempfile::tempdir().unwrap();
        let src = StoreKeySource::local(Some(mock()), dir.path().into(), true);
        let check = StoreKey::generate().check();
        let e = src.resolve(STORE, Some(&check)).unwrap_err();
        assert!(matches!(e, Error::StoreKey { .. }), "{e}");
        assert!(e.to_string().contains("does not hold"), "{e}");
        assert!(e.hint().unwrap().contains(ENV));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        // A server given no key says how to give one.
        let none = StoreKeySource::missing("pass --store-key-file FILE or set IMX_STORE_KEY");
        let e = none.resolve(STORE, None).unwrap_err();
        assert!(e.to_string().contains("no store key"), "{e}");
        assert!(e.hint().unwrap().contains("--store-key-file"));
    }

    #[test]
    fn a_saved_key_replaces_the_old_one_where_it_was_kept() {
        let dir = tempfile::tempdir().unwrap();
        // The fallback file, replaced in place (still 0600).
        let source = StoreKeySource::local(None, dir.path().to_path_buf(), true);
        let first = source.resolve("store1", None).unwrap();
        let new = StoreKey::generate();
        let origin = source.save("store1", &new).unwrap();
        assert!(matches!(origin, KeyOrigin::Fallback(_)));
        let again = source.resolve("store1", Some(&new.check())).unwrap();
        assert_eq!(again.key, new);
        assert_ne!(first.key, new);
        let file = dir.path().join("store1.key");
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        // The keyring entry, replaced.
        let ring = mock();
        let source = StoreKeySource::local(Some(ring.clone()), dir.path().join("k"), false);
        source.resolve("store2", None).unwrap();
        let new = StoreKey::generate();
        assert_eq!(source.save("store2", &new).unwrap(), KeyOrigin::Keyring);
        assert_eq!(
            source.resolve("store2", Some(&new.check())).unwrap().key,
            new
        );
        // A given key is not this source's to replace.
        let given = StoreKeySource::given(StoreKey::generate(), KeyOrigin::Env);
        assert!(!given.can_save());
        assert!(given.save("store3", &new).is_err());
    }

    #[test]
    fn a_given_key_is_checked_against_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let key = StoreKey::generate();
        let path = dir.path().join("store.key");
        std::fs::write(&path, format!("{}\n", key.to_hex().as_str())).unwrap();
        let src = StoreKeySource::from_file(&path).unwrap();
        assert!(!format!("{src:?}").contains(key.to_hex().as_str()));
        let ok = src.resolve(STORE, Some(&key.check())).unwrap();
        assert_eq!((ok.key, ok.created), (key, false));
        let e = src
            .resolve(STORE, Some(&StoreKey::generate().check()))
            .unwrap_err();
        assert!(e.to_string().contains("wrong store key"), "{e}");
        assert!(e.to_string().contains("store.key"), "{e}");
        std::fs::write(&path, "not hex").unwrap();
        let e = StoreKeySource::from_file(&path).unwrap_err();
        assert!(e.to_string().contains("64 hex digits"), "{e}");
    }
}

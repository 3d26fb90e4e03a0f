//! Client credentials: the API token `imx login` got for a server, kept between commands.
//!
//! Where a token is looked for, in order:
//! 1. `IMX_TOKEN` (for CI): it wins over anything stored.
//! 2. The OS keyring: Secret Service on Linux, Keychain on macOS, Credential Manager on
//!    Windows (service `imx`, account = the server URL or context name).
//! 3. A fallback file, `~/.config/imx/credentials.toml`, mode 0600 in a 0700 directory — used
//!    only where no keyring is available (headless Linux without a Secret Service), with a
//!    warning each time a token is written there; refused with `--no-insecure-storage`.
//!    A fallback file that other users can read is refused, like ssh does with keys.
//!    `IMX_KEYRING=off` skips the keyring (e.g. where its unlock prompts get in the way).

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use keyring_core::{CredentialStore, Entry};
use serde::{Deserialize, Serialize};

use crate::auth::Secret;
use crate::{Error, Result};

/// The keyring service name every entry is filed under.
pub const SERVICE: &str = "imx";
/// The environment variable that overrides stored credentials.
pub const TOKEN_ENV: &str = "IMX_TOKEN";
/// `IMX_KEYRING=off` skips the OS keyring (straight to the fallback file).
pub const KEYRING_ENV: &str = "IMX_KEYRING";

/// Where a token was found or put.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// `IMX_TOKEN`.
    Env,
    /// The OS keyring.
    Keyring,
    /// The 0600 fallback file.
    File(PathBuf),
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Env => write!(f, "{TOKEN_ENV}"),
            Location::Keyring => f.write_str("the OS keyring"),
            Location::File(p) => write!(f, "{}", p.display()),
        }
    }
}

/// The result of saving a token: where it went, and a warning to show if it was not a keyring.
#[derive(Debug, Clone)]
pub struct Saved {
    pub location: Location,
    pub warning: Option<String>,
}

/// The default fallback file: `$XDG_CONFIG_HOME/imx/credentials.toml`.
pub fn default_file() -> PathBuf {
    dirs::config_dir()
        .or_else(|| dirs::home_dir().map(|h| h.join(".config")))
        .unwrap_or_else(|| PathBuf::from("."))
        .join("imx")
        .join("credentials.toml")
}

/// The OS keyring of this platform, or why there is none.
pub fn platform_keyring() -> std::result::Result<Arc<CredentialStore>, String> {
    #[cfg(target_os = "linux")]
    let store = zbus_secret_service_keyring_store::Store::new().map(|s| s as Arc<CredentialStore>);
    #[cfg(target_os = "macos")]
    let store =
        apple_native_keyring_store::keychain::Store::new().map(|s| s as Arc<CredentialStore>);
    #[cfg(target_os = "windows")]
    let store = windows_native_keyring_store::Store::new().map(|s| s as Arc<CredentialStore>);
    #[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
    let store: keyring_core::Result<Arc<CredentialStore>> =
        Err(keyring_core::Error::NotSupportedByStore(
            "no OS keyring is supported on this platform".into(),
        ));
    store.map_err(|e| e.to_string())
}

/// The OS keyring unless `IMX_KEYRING=off` (or `0`, `false`, `no`) says to skip it: what login
/// credentials and backup keys (see [`crate::backup::keyring`]) use.
pub fn system_keyring() -> std::result::Result<Arc<CredentialStore>, String> {
    let keyring_off = std::env::var(KEYRING_ENV).is_ok_and(|v| {
        matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "off" | "0" | "false" | "no"
        )
    });
    if keyring_off {
        Err(format!("{KEYRING_ENV} is off"))
    } else {
        platform_keyring()
    }
}

/// The fallback file's contents: one token per server or context.
#[derive(Debug, Default, Serialize, Deserialize)]
struct FileContents {
    #[serde(default)]
    tokens: BTreeMap<String, Secret>,
}

/// The credential stores of this client.
pub struct Credentials {
    keyring: std::result::Result<Arc<CredentialStore>, String>,
    file: PathBuf,
    insecure_ok: bool,
    env_token: Option<Secret>,
}

impl Credentials {
    /// This machine's: the platform keyring, the default file, `IMX_TOKEN`.
    /// `insecure_ok = false` (`--no-insecure-storage`) refuses the fallback file for writes.
    pub fn system(insecure_ok: bool) -> Self {
        Credentials {
            keyring: system_keyring(),
            file: default_file(),
            insecure_ok,
            env_token: std::env::var(TOKEN_ENV)
                .ok()
                .filter(|t| !t.trim().is_empty())
                .map(|t| Secret::new(t.trim())),
        }
    }

    /// Explicit stores (tests use keyring-core's mock store, or `None` for no keyring).
    pub fn new(keyring: Option<Arc<CredentialStore>>, file: PathBuf, insecure_ok: bool) -> Self {
        Credentials {
            keyring: keyring.ok_or_else(|| "no keyring configured".to_string()),
            file,
            insecure_ok,
            env_token: None,
        }
    }

    /// Use this token before anything stored (what `IMX_TOKEN` does).
    pub fn with_env_token(mut self, token: Option<Secret>) -> Self {
        self.env_token = token;
        self
    }

    /// The fallback file.
    pub fn file(&self) -> &Path {
        &self.file
    }

    fn entry(&self, key: &str) -> std::result::Result<Entry, String> {
        let store = self.keyring.as_ref().map_err(Clone::clone)?;
        Entry::new_in_store(store, SERVICE, key).map_err(|e| e.to_string())
    }

    /// Store the token for `key` (a server URL or context name): in the keyring if there is
    /// one, else in the fallback file (with a warning), unless insecure storage is refused.
    pub fn save(&self, key: &str, token: &Secret) -> Result<Saved> {
        let reason = match self
            .entry(key)
            .and_then(|e| e.set_password(token.expose()).map_err(|e| e.to_string()))
        {
            Ok(()) => {
                // A token left in the file from an earlier fallback would shadow nothing but
                // would linger on disk: remove it.
                let _ = self.remove_from_file(key);
                return Ok(Saved {
                    location: Location::Keyring,
                    warning: None,
                });
            }
            Err(reason) => reason,
        };
        if !self.insecure_ok {
            return Err(Error::invalid_with_hint(
                format!(
                    "no OS keyring is available ({reason}), and --no-insecure-storage forbids storing the token in a file"
                ),
                format!(
                    "start a Secret Service (e.g. gnome-keyring), drop --no-insecure-storage, or pass the token in {TOKEN_ENV}"
                ),
            ));
        }
        let mut contents = self.read_file()?.unwrap_or_default();
        contents.tokens.insert(key.to_string(), token.clone());
        self.write_file(&contents)?;
        Ok(Saved {
            location: Location::File(self.file.clone()),
            warning: Some(format!(
                "no OS keyring is available ({reason}); the token is stored in {} (readable only by you, but not encrypted)",
                self.file.display()
            )),
        })
    }

    /// The token for `key`, and where it came from: `IMX_TOKEN`, the keyring, the file.
    pub fn load(&self, key: &str) -> Result<Option<(Secret, Location)>> {
        if let Some(t) = &self.env_token {
            return Ok(Some((t.clone(), Location::Env)));
        }
        if let Ok(pw) = self
            .entry(key)
            .and_then(|e| e.get_password().map_err(|e| e.to_string()))
        {
            return Ok(Some((Secret::new(pw), Location::Keyring)));
        }
        Ok(self
            .read_file()?
            .and_then(|mut c| c.tokens.remove(key))
            .map(|t| (t, Location::File(self.file.clone()))))
    }

    /// Forget the token for `key` everywhere it is stored; returns where it was.
    pub fn remove(&self, key: &str) -> Result<Vec<Location>> {
        let mut removed = Vec::new();
        if self
            .entry(key)
            .is_ok_and(|entry| entry.delete_credential().is_ok())
        {
            removed.push(Location::Keyring);
        }
        if self.remove_from_file(key)? {
            removed.push(Location::File(self.file.clone()));
        }
        Ok(removed)
    }

    fn remove_from_file(&self, key: &str) -> Result<bool> {
        let Some(mut contents) = self.read_file()? else {
            return Ok(false);
        };
        if contents.tokens.remove(key).is_none() {
            return Ok(false);
        }
        if contents.tokens.is_empty() {
            std::fs::remove_file(&self.file)
                .map_err(|e| Error::io(format!("removing {}", self.file.display()), e))?;
        } else {
            self.write_file(&contents)?;
        }
        Ok(true)
    }

    fn read_file(&self) -> Result<Option<FileContents>> {
        let meta = match std::fs::metadata(&self.file) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(format!("reading {}", self.file.display()), e)),
        };
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(Error::invalid_with_hint(
                format!(
                    "{} holds tokens but other users can read it (mode {mode:o}); imx will not use it",
                    self.file.display()
                ),
                format!("chmod 600 {}", self.file.display()),
            ));
        }
        let text = std::fs::read_to_string(&self.file)
            .map_err(|e| Error::io(format!("reading {}", self.file.display()), e))?;
        // The parse error may quote the file, which holds secrets: say only where it is.
        let contents: FileContents = toml::from_str(&text).map_err(|e| {
            Error::invalid(format!(
                "{} is not a valid credentials file (at {:?}); delete it and log in again",
                self.file.display(),
                e.span()
            ))
        })?;
        Ok(Some(contents))
    }

    /// Write the file atomically: a 0600 temp file in a 0700 directory, renamed over it.
    fn write_file(&self, contents: &FileContents) -> Result<()> {
        let dir = self.file.parent().unwrap_or_else(|| Path::new("."));
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
        let body = toml::to_string(contents)
            .map_err(|e| Error::Internal(format!("cannot encode credentials: {e}")))?;
        let text = format!(
            "# imx credentials: API tokens by server or context. Written by `imx login`.\n\
             # Keep it private (mode 0600); `imx logout` removes entries.\n{body}"
        );
        let tmp = self.file.with_extension("toml.tmp");
        let _ = std::fs::remove_file(&tmp);
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(|e| Error::io(format!("creating {}", tmp.display()), e))?;
        f.write_all(text.as_bytes())
            .and_then(|()| f.sync_all())
            .map_err(|e| Error::io(format!("writing {}", tmp.display()), e))?;
        std::fs::rename(&tmp, &self.file)
            .map_err(|e| Error::io(format!("replacing {}", self.file.display()), e))?;
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn mock() -> Arc<CredentialStore> {
        keyring_core::mock::Store::new().unwrap()
    }

    const URL: &str = "https://imx.example:8443";

    #[test]
    fn keyring_first_and_nothing_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("imx/credentials.toml");
        let creds = Credentials::new(Some(mock()), file.clone(), false);
        let saved = creds.save(URL, &Secret::new("imx_secret1")).unwrap();
        assert_eq!(saved.location, Location::Keyring);
        assert!(saved.warning.is_none());
        assert!(!file.exists());
        let (t, at) = creds.load(URL).unwrap().unwrap();
        assert_eq!((t.expose(), at), ("imx_secret1", Location::Keyring));
        assert!(creds.load("https://other").unwrap().is_none());
        assert_eq!(creds.remove(URL).unwrap(), vec![Location::Keyring]);
        assert!(creds.load(URL).unwrap().is_none());
    }

    #[test]
    fn without_a_keyring_falls_back_to_a_0600_file_with_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("imx/credentials.toml");
        let creds = Credentials::new(None, file.clone(), true);
        let saved = creds.save(URL, &Secret::new("imx_secret2")).unwrap();
        assert_eq!(saved.location, Location::File(file.clone()));
        assert!(saved.warning.unwrap().contains("no OS keyring"));
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let dir_mode = std::fs::metadata(file.parent().unwrap())
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(dir_mode, 0o700);
        creds.save("ctx2", &Secret::new("imx_secret3")).unwrap();
        assert_eq!(creds.load(URL).unwrap().unwrap().0.expose(), "imx_secret2");
        assert_eq!(
            creds.load("ctx2").unwrap().unwrap().0.expose(),
            "imx_secret3"
        );
        assert_eq!(
            creds.remove(URL).unwrap(),
            vec![Location::File(file.clone())]
        );
        assert!(creds.load(URL).unwrap().is_none());
        assert!(file.exists(), "ctx2 is still there");
        creds.remove("ctx2").unwrap();
        assert!(!file.exists(), "an empty file is removed");
    }

    #[test]
    fn no_insecure_storage_refuses_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("credentials.toml");
        let creds = Credentials::new(None, file.clone(), false);
        let err = creds.save(URL, &Secret::new("imx_secret4")).unwrap_err();
        assert!(err.to_string().contains("--no-insecure-storage"), "{err}");
        assert!(!err.to_string().contains("imx_secret4"));
        assert!(!file.exists());
    }

    #[test]
    fn a_file_others_can_read_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("credentials.toml");
        let creds = Credentials::new(None, file.clone(), true);
        creds.save(URL, &Secret::new("imx_secret5")).unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = creds.load(URL).unwrap_err();
        assert!(err.to_string().contains("other users can read"), "{err}");
        assert_eq!(err.hint().unwrap(), format!("chmod 600 {}", file.display()));
    }

    #[test]
    fn env_token_wins() {
        let dir = tempfile::tempdir().unwrap();
        let creds = Credentials::new(Some(mock()), dir.path().join("c.toml"), true)
            .with_env_token(Some(Secret::new("imx_fromenv")));
        creds.save(URL, &Secret::new("imx_stored")).unwrap();
        let (t, at) = creds.load(URL).unwrap().unwrap();
        assert_eq!((t.expose(), at), ("imx_fromenv", Location::Env));
    }

    #[test]
    fn a_failing_keyring_falls_back_to_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        let store = mock();
        // The mock fails the next call on an entry when told to; make the keyring refuse.
        let entry = Entry::new_in_store(&store, SERVICE, URL).unwrap();
        let cred: &keyring_core::mock::Cred = entry.as_any().downcast_ref().unwrap();
        cred.set_error(keyring_core::Error::NoStorageAccess(Box::new(
            std::io::Error::other("locked collection"),
        )));
        let creds = Credentials::new(Some(store), file.clone(), true);
        let saved = creds.save(URL, &Secret::new("imx_secret6")).unwrap();
        assert_eq!(saved.location, Location::File(file.clone()));
        assert!(saved.warning.unwrap().contains("locked collection"));
        let (t, at) = creds.load(URL).unwrap().unwrap();
        assert_eq!((t.expose(), at), ("imx_secret6", Location::File(file)));
    }
}

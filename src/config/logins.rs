//! Several logins per server (like `gh auth`): which users this client has logged in as on each
//! server, and which of them is active. No secrets here — the tokens themselves live in
//! [`credentials`](super::credentials) under [`Logins::key`] — so the file,
//! `$XDG_CONFIG_HOME/imx/logins.toml`, is plain TOML (mode 0600 all the same).
//!
//! A token stored by an older imx under the bare server URL still works: it is the login used
//! when this file names none for the server.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The logins file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Logins {
    /// By server key (`scheme://host[:port]`).
    #[serde(default)]
    pub servers: BTreeMap<String, ServerLogins>,
}

/// The logins of one server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerLogins {
    /// The login commands use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<String>,
    /// Every login kept for the server (user names, or `token:NAME` for a token that belongs
    /// to no user).
    #[serde(default)]
    pub users: Vec<String>,
}

/// `$XDG_CONFIG_HOME/imx/logins.toml`.
pub fn logins_path() -> PathBuf {
    super::config_dir().join("logins.toml")
}

impl Logins {
    /// The credential key of `user`'s token for `server`.
    pub fn key(server: &str, user: &str) -> String {
        format!("{user}@{server}")
    }

    /// Read the file; a missing file has no logins.
    pub fn load(path: &Path) -> Result<Logins> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Logins::default()),
            Err(e) => return Err(Error::io(format!("cannot read {}", path.display()), e)),
        };
        toml::from_str(&text).map_err(|e| {
            Error::invalid_with_hint(
                format!("{}: {}", path.display(), e.to_string().trim_end()),
                "remove the file and log in again",
            )
        })
    }

    /// Write the file atomically (temp file + rename), mode 0600.
    pub fn save(&self, path: &Path) -> Result<()> {
        let text = toml::to_string_pretty(self)
            .map_err(|e| Error::Internal(format!("cannot encode the logins: {e}")))?;
        super::write_private(path, &text)
    }

    /// The active login of `server`, if this file names one.
    pub fn active(&self, server: &str) -> Option<&str> {
        self.servers.get(server)?.active.as_deref()
    }

    /// The logins kept for `server`.
    pub fn users(&self, server: &str) -> &[String] {
        self.servers.get(server).map_or(&[], |s| s.users.as_slice())
    }

    /// Record a login of `user` on `server` and make it the active one.
    pub fn add(&mut self, server: &str, user: &str) {
        let s = self.servers.entry(server.to_string()).or_default();
        if !s.users.iter().any(|u| u == user) {
            s.users.push(user.to_string());
            s.users.sort();
        }
        s.active = Some(user.to_string());
    }

    /// Forget `user`'s login on `server`; if it was active, another one (if any) becomes
    /// active, and is returned.
    pub fn remove(&mut self, server: &str, user: &str) -> Option<String> {
        let s = self.servers.get_mut(server)?;
        s.users.retain(|u| u != user);
        if s.active.as_deref() == Some(user) {
            s.active = s.users.first().cloned();
        }
        let next = s.active.clone();
        if s.users.is_empty() {
            self.servers.remove(server);
        }
        next
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const S: &str = "https://imx.example:8443";

    #[test]
    fn add_switch_remove_and_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("imx/logins.toml");
        let mut l = Logins::default();
        assert_eq!(l.active(S), None);
        l.add(S, "alice");
        l.add(S, "bob");
        assert_eq!(l.active(S), Some("bob"));
        assert_eq!(l.users(S), ["alice", "bob"]);
        l.save(&path).unwrap();
        assert_eq!(Logins::load(&path).unwrap(), l);
        assert_eq!(l.remove(S, "bob").as_deref(), Some("alice"));
        assert_eq!(l.remove(S, "alice"), None);
        assert!(l.servers.is_empty());
        assert_eq!(Logins::key(S, "bob"), format!("bob@{S}"));
    }
}

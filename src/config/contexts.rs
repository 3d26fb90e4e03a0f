//! Contexts (like kubeconfig): named local stores and remote servers in
//! `$XDG_CONFIG_HOME/imx/config.toml` (usually `~/.config/imx/config.toml`), and which one is
//! current. Written atomically (temp file + rename), readable by its owner only.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The config file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The context used when none is named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<String>,
    #[serde(default)]
    pub contexts: BTreeMap<String, ContextEntry>,
}

/// Where one context points: a local store or a server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContextEntry {
    /// A local store file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<PathBuf>,
    /// A server URL (or a cluster's replicas, comma-separated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// A PostgreSQL database (`postgres://…`) that commands open directly, as they open a
    /// local store file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    /// A CA certificate (PEM) to trust for this server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca: Option<PathBuf>,
    /// Allow a plain `http://` server that is not on this machine (tokens and passwords cross
    /// the network in clear; every command warns).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub insecure: bool,
}

/// What a context resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Local {
        store: PathBuf,
    },
    Remote {
        server: String,
        ca: Option<PathBuf>,
        /// Plain `http://` beyond loopback is allowed (see [`ContextEntry::insecure`]).
        insecure: bool,
    },
    /// A PostgreSQL database, opened by this process (as a local store is).
    Database {
        url: String,
    },
}

impl ContextEntry {
    pub fn target(&self) -> Result<Target> {
        match (&self.store, &self.server, &self.database) {
            (Some(store), None, None) => Ok(Target::Local {
                store: store.clone(),
            }),
            (None, Some(server), None) => Ok(Target::Remote {
                server: server.clone(),
                ca: self.ca.clone(),
                insecure: self.insecure,
            }),
            (None, None, Some(url)) => Ok(Target::Database { url: url.clone() }),
            _ => Err(Error::invalid(
                "a context names one of a store, a server or a database, not several or none",
            )),
        }
    }
}

/// `$XDG_CONFIG_HOME/imx/config.toml`.
pub fn config_path() -> PathBuf {
    super::config_dir().join("config.toml")
}

impl Config {
    /// Read the config; a missing file is an empty config.
    pub fn load(path: &Path) -> Result<Config> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
            Err(e) => return Err(Error::io(format!("cannot read {}", path.display()), e)),
        };
        toml::from_str(&text).map_err(|e| {
            Error::invalid_with_hint(
                format!("{}: {}", path.display(), e.to_string().trim_end()),
                "fix the file, or remove it and add contexts again with `imx context add`",
            )
        })
    }

    /// Write the config atomically, mode 0600.
    pub fn save(&self, path: &Path) -> Result<()> {
        let text = toml::to_string_pretty(self)
            .map_err(|e| Error::Internal(format!("cannot encode the config: {e}")))?;
        super::write_private(path, &text)
    }

    /// The named context, or not found with a suggestion.
    pub fn get(&self, name: &str) -> Result<&ContextEntry> {
        self.contexts.get(name).ok_or_else(|| {
            let names: Vec<&str> = self.contexts.keys().map(String::as_str).collect();
            match crate::suggest::nearest(name, &names) {
                Some(n) => Error::NotFoundHint {
                    message: format!("context {name:?} not found"),
                    hint: format!("did you mean {n:?}?"),
                },
                None => Error::NotFoundHint {
                    message: format!("context {name:?} not found"),
                    hint: "list them with `imx context list`".into(),
                },
            }
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("imx/config.toml");
        let mut cfg = Config::default();
        cfg.contexts.insert(
            "prod".into(),
            ContextEntry {
                store: None,
                server: Some("https://imx.example:7443".into()),
                database: None,
                ca: None,
                insecure: false,
            },
        );
        cfg.current = Some("prod".into());
        cfg.save(&path).unwrap();
        assert_eq!(Config::load(&path).unwrap(), cfg);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(cfg.get("prd").unwrap_err().hint().unwrap().contains("prod"));
    }

    #[test]
    fn insecure_is_written_only_when_set_and_reaches_the_target() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let entry = |insecure| ContextEntry {
            store: None,
            server: Some("http://192.0.2.1:7443".into()),
            database: None,
            ca: None,
            insecure,
        };
        let mut cfg = Config::default();
        cfg.contexts.insert("safe".into(), entry(false));
        cfg.save(&path).unwrap();
        assert!(!std::fs::read_to_string(&path).unwrap().contains("insecure"));
        cfg.contexts.insert("lab".into(), entry(true));
        cfg.save(&path).unwrap();
        assert!(
            std::fs::read_to_string(&path)
                .unwrap()
                .contains("insecure = true")
        );
        let loaded = Config::load(&path).unwrap();
        assert_eq!(loaded, cfg);
        assert!(matches!(
            loaded.get("lab").unwrap().target().unwrap(),
            Target::Remote { insecure: true, .. }
        ));
        assert!(matches!(
            loaded.get("safe").unwrap().target().unwrap(),
            Target::Remote {
                insecure: false,
                ..
            }
        ));
    }

    #[test]
    fn a_missing_file_is_empty_and_a_bad_one_names_itself() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        assert_eq!(Config::load(&path).unwrap(), Config::default());
        std::fs::write(&path, "curent = 'x'\n").unwrap();
        let e = Config::load(&path).unwrap_err();
        assert!(e.to_string().contains("config.toml"), "{e}");
    }
}

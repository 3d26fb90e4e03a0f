//! Paths and defaults: where the local store lives, who the OS user is, contexts
//! ([`contexts`]) and client credentials ([`credentials`]: OS keyring, 0600 file fallback,
//! `IMX_TOKEN`) and the logins kept per server ([`logins`]).

pub mod contexts;
pub mod credentials;
pub mod logins;

use std::path::PathBuf;

/// imx's config folder: `$XDG_CONFIG_HOME/imx` (usually `~/.config/imx`).
pub fn config_dir() -> PathBuf {
    dirs::config_dir()
        .or_else(|| dirs::home_dir().map(|h| h.join(".config")))
        .unwrap_or_else(|| PathBuf::from("."))
        .join("imx")
}

/// The default local store: `$IMX_STORE`, else `$XDG_DATA_HOME/imx/imx.db`
/// (usually `~/.local/share/imx/imx.db`).
pub fn default_store_path() -> PathBuf {
    if let Some(p) = std::env::var_os("IMX_STORE").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let base = dirs::data_dir()
        .or_else(|| dirs::home_dir().map(|h| h.join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("imx").join("imx.db")
}

/// The name of the OS user running this process.
pub fn os_user() -> String {
    let uid = nix::unistd::Uid::current();
    if let Ok(Some(user)) = nix::unistd::User::from_uid(uid) {
        return user.name;
    }
    std::env::var("USER")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| format!("uid{uid}"))
}

/// This machine's host name.
pub fn hostname() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_else(|| "localhost".into())
}

/// Write `text` to `path` atomically (a 0600 temp file renamed over it), creating the folder.
pub(crate) fn write_private(path: &std::path::Path, text: &str) -> crate::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| crate::Error::io(format!("cannot create {}", dir.display()), e))?;
    }
    let tmp = path.with_extension("toml.tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| crate::Error::io(format!("cannot write {}", tmp.display()), e))?;
    f.write_all(text.as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|e| crate::Error::io(format!("cannot write {}", tmp.display()), e))?;
    std::fs::rename(&tmp, path)
        .map_err(|e| crate::Error::io(format!("cannot replace {}", path.display()), e))
}

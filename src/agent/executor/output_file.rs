//! The `$IMX_OUTPUT` file: a fresh private temp file a `run` step may write `key=value` lines
//! to; after the step exits its lines become the step's outputs. When steps run as another user
//! the file is theirs, so it is read with care: never through a symbolic link, only if it is a
//! regular file owned by that user (a step cannot make the agent read a file it may not).

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// A temp file that is removed when dropped.
pub(crate) struct OutputFile {
    path: PathBuf,
    /// The user the step runs as, when it is not the agent's.
    owner: Option<u32>,
}

impl OutputFile {
    /// Create a new empty file (mode 0600) in the system temp directory, named `<prefix><ulid>`
    /// and owned by `owner` (uid, gid) when given.
    pub(crate) fn create(prefix: &str, owner: Option<(u32, u32)>) -> std::io::Result<Self> {
        let path = std::env::temp_dir().join(format!("{prefix}{}", crate::model::new_id()));
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)?;
        let this = OutputFile {
            path,
            owner: owner.map(|(uid, _)| uid),
        };
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::fchown(&file, Some(uid), Some(gid))?;
        }
        Ok(this)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Read and parse what the step wrote. Returns the outputs and one warning per bad line.
    pub(crate) async fn read(&self) -> (BTreeMap<String, String>, Vec<String>) {
        let path = self.path.clone();
        let owner = self.owner;
        let read = tokio::task::spawn_blocking(move || read_safely(&path, owner))
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())));
        match read {
            Ok(bytes) => parse_outputs(&String::from_utf8_lossy(&bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (BTreeMap::new(), Vec::new()),
            Err(e) => (
                BTreeMap::new(),
                vec![format!("cannot read $IMX_OUTPUT: {e}")],
            ),
        }
    }
}

/// Read `path` unless it is a symbolic link, not a regular file (a FIFO would block), or, with
/// `owner`, owned by someone else.
fn read_safely(path: &Path, owner: Option<u32>) -> std::io::Result<Vec<u8>> {
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(libc::ELOOP) {
                std::io::Error::other("it was replaced by a symbolic link; ignored")
            } else {
                e
            }
        })?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::other("it is not a regular file; ignored"));
    }
    if let Some(uid) = owner
        && meta.uid() != uid
    {
        return Err(std::io::Error::other(
            "it is owned by another user than the step's; ignored",
        ));
    }
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

impl Drop for OutputFile {
    fn drop(&mut self) {
        // Best effort: the step may have removed it already.
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Parse `key=value` lines: blank lines are ignored, the last value of a key wins, a line
/// without `=` or with an empty key is reported.
pub(crate) fn parse_outputs(text: &str) -> (BTreeMap<String, String>, Vec<String>) {
    let mut outputs = BTreeMap::new();
    let mut warnings = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.trim().is_empty() {
            continue;
        }
        match line.split_once('=') {
            Some((key, value)) if !key.trim().is_empty() => {
                outputs.insert(key.trim().to_string(), value.to_string());
            }
            _ => warnings.push(format!(
                "$IMX_OUTPUT line {}: expected key=value, got {line:?}",
                n + 1
            )),
        }
    }
    (outputs, warnings)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_key_values_last_wins() {
        let (out, warnings) = parse_outputs("a=1\n\n  \nb = x=y\r\na=2\nnonsense\n=v\n");
        assert_eq!(out.get("a").map(String::as_str), Some("2"));
        assert_eq!(out.get("b").map(String::as_str), Some(" x=y"));
        assert_eq!(out.len(), 2);
        assert_eq!(warnings.len(), 2, "{warnings:?}");
    }

    #[tokio::test]
    async fn file_is_private_and_removed_on_drop() {
        use std::os::unix::fs::PermissionsExt;
        let f = OutputFile::create("imx-output-test.", None).unwrap();
        let path = f.path().to_path_buf();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        std::fs::write(&path, "k=v\n").unwrap();
        assert_eq!(f.read().await.0.get("k").map(String::as_str), Some("v"));
        drop(f);
        assert!(!path.exists());
    }

    #[tokio::test]
    async fn links_and_fifos_are_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("secret");
        std::fs::write(&secret, "password=hunter2\n").unwrap();
        let f = OutputFile::create("imx-output-test.", None).unwrap();
        std::fs::remove_file(f.path()).unwrap();
        std::os::unix::fs::symlink(&secret, f.path()).unwrap();
        let (out, warnings) = f.read().await;
        assert!(out.is_empty(), "{out:?}");
        assert!(warnings[0].contains("symbolic link"), "{warnings:?}");

        std::fs::remove_file(f.path()).unwrap();
        nix::unistd::mkfifo(f.path(), nix::sys::stat::Mode::S_IRWXU).unwrap();
        let (out, warnings) = f.read().await;
        assert!(out.is_empty());
        assert!(warnings[0].contains("not a regular file"), "{warnings:?}");
    }
}

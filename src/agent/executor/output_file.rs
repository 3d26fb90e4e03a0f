//! The `$IMX_OUTPUT` file: a fresh private temp file a `run` step may write `key=value` lines
//! to; after the step exits its lines become the step's outputs.

use std::collections::BTreeMap;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// A temp file that is removed when dropped.
pub(crate) struct OutputFile {
    path: PathBuf,
}

impl OutputFile {
    /// Create a new empty file (mode 0600) in the system temp directory.
    pub(crate) fn create() -> std::io::Result<Self> {
        let path = std::env::temp_dir().join(format!("imx-output-{}", crate::model::new_id()));
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)?;
        Ok(OutputFile { path })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Read and parse what the step wrote. Returns the outputs and one warning per bad line.
    pub(crate) async fn read(&self) -> (BTreeMap<String, String>, Vec<String>) {
        match tokio::fs::read(&self.path).await {
            Ok(bytes) => parse_outputs(&String::from_utf8_lossy(&bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (BTreeMap::new(), Vec::new()),
            Err(e) => (
                BTreeMap::new(),
                vec![format!("cannot read $IMX_OUTPUT: {e}")],
            ),
        }
    }
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
        let f = OutputFile::create().unwrap();
        let path = f.path().to_path_buf();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        std::fs::write(&path, "k=v\n").unwrap();
        assert_eq!(f.read().await.0.get("k").map(String::as_str), Some("v"));
        drop(f);
        assert!(!path.exists());
    }
}

//! The agent's side of artifacts: finding a step's files by its `artifacts:` globs in its
//! working directory (a folder matched takes every file under it; nothing outside the folder,
//! even through a symlink, is ever taken), reading one as a stream, and writing a downloaded
//! input into the next step's working directory.

use std::path::{Path, PathBuf};

use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;

use super::ByteStream;

/// Bytes read from a file at a time when uploading it.
const READ_CHUNK: usize = 1024 * 1024;

/// A file to upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Relative to the working directory, `/`-separated: the artifact's path.
    pub path: String,
    pub file: PathBuf,
    pub size: u64,
}

/// The files `patterns` match in `dir`, each once, by path. A pattern that matches nothing, a
/// match outside `dir` (through `..` or a symlink) or a path that is not UTF-8 is an error that
/// says which.
pub fn collect(dir: &Path, patterns: &[String]) -> Result<Vec<Found>, String> {
    let root = dir
        .canonicalize()
        .map_err(|e| format!("cannot read the working directory {}: {e}", dir.display()))?;
    let options = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: false,
    };
    let mut out: std::collections::BTreeMap<String, Found> = Default::default();
    for pattern in patterns {
        let full = format!(
            "{}/{pattern}",
            glob::Pattern::escape(&root.to_string_lossy())
        );
        let matches = glob::glob_with(&full, options)
            .map_err(|e| format!("artifacts: {pattern:?} is not a valid glob: {}", e.msg))?;
        let mut matched = false;
        for m in matches {
            let m = m.map_err(|e| format!("artifacts: {pattern:?}: {e}"))?;
            matched = true;
            take(&root, &m, &mut out)?;
        }
        if !matched {
            return Err(format!(
                "artifacts: {pattern:?} matched no file in the working directory"
            ));
        }
    }
    Ok(out.into_values().collect())
}

/// Add `path` (a file, or every file under a folder) to `out`.
fn take(
    root: &Path,
    path: &Path,
    out: &mut std::collections::BTreeMap<String, Found>,
) -> Result<(), String> {
    let real = path
        .canonicalize()
        .map_err(|e| format!("artifacts: cannot read {}: {e}", path.display()))?;
    let rel = path.strip_prefix(root).unwrap_or(path);
    if !real.starts_with(root) {
        return Err(format!(
            "artifacts: {} leads outside the working directory",
            rel.display()
        ));
    }
    let meta = std::fs::metadata(&real)
        .map_err(|e| format!("artifacts: cannot read {}: {e}", rel.display()))?;
    if meta.is_dir() {
        let entries = std::fs::read_dir(path)
            .map_err(|e| format!("artifacts: cannot read {}: {e}", rel.display()))?;
        for entry in entries {
            let entry =
                entry.map_err(|e| format!("artifacts: cannot read {}: {e}", rel.display()))?;
            take(root, &entry.path(), out)?;
        }
        return Ok(());
    }
    if !meta.is_file() {
        return Ok(()); // sockets, fifos: not files to keep
    }
    let Some(name) = rel.to_str() else {
        return Err(format!("artifacts: {} is not a UTF-8 path", rel.display()));
    };
    crate::model::check_artifact_path(name).map_err(|e| format!("artifacts: {e}"))?;
    out.insert(
        name.to_string(),
        Found {
            path: name.to_string(),
            file: real,
            size: meta.len(),
        },
    );
    Ok(())
}

/// `file`'s bytes as a stream (read a MiB at a time).
pub async fn read(file: &Path) -> std::io::Result<ByteStream> {
    let f = tokio::fs::File::open(file).await?;
    Ok(Box::pin(tokio_util::io::ReaderStream::with_capacity(
        f, READ_CHUNK,
    )))
}

/// Write `body` to `path` (relative, checked) under `dir`, making folders as needed; never
/// outside `dir`, even through a symlink already there. Returns the bytes written and their
/// SHA-256 (lowercase hex).
pub async fn write(dir: &Path, path: &str, mut body: ByteStream) -> Result<(u64, String), String> {
    use sha2::Digest;
    crate::model::check_artifact_path(path)?;
    let root = dir
        .canonicalize()
        .map_err(|e| format!("cannot read the working directory {}: {e}", dir.display()))?;
    let target = root.join(path);
    if let Some(parent) = target.parent() {
        tokio::fs::create_dir_all(parent)
            .await
            .map_err(|e| format!("cannot make the folder for {path}: {e}"))?;
        let real = parent
            .canonicalize()
            .map_err(|e| format!("cannot make the folder for {path}: {e}"))?;
        if !real.starts_with(&root) {
            return Err(format!("{path} would be outside the working directory"));
        }
    }
    if tokio::fs::symlink_metadata(&target)
        .await
        .is_ok_and(|m| m.file_type().is_symlink())
    {
        return Err(format!("{path} is a symlink in the working directory"));
    }
    let mut f = tokio::fs::File::create(&target)
        .await
        .map_err(|e| format!("cannot write {path}: {e}"))?;
    let mut n = 0u64;
    let mut hasher = sha2::Sha256::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| format!("downloading {path}: {e}"))?;
        n += chunk.len() as u64;
        hasher.update(&chunk);
        f.write_all(&chunk)
            .await
            .map_err(|e| format!("cannot write {path}: {e}"))?;
    }
    f.flush()
        .await
        .map_err(|e| format!("cannot write {path}: {e}"))?;
    Ok((n, hex::encode(hasher.finalize())))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn paths(found: &[Found]) -> Vec<&str> {
        found.iter().map(|f| f.path.as_str()).collect()
    }

    #[test]
    fn globs_folders_and_no_escape() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("dist/sub")).unwrap();
        std::fs::write(d.join("dist/a.tar"), b"a").unwrap();
        std::fs::write(d.join("dist/sub/b.txt"), b"bb").unwrap();
        std::fs::write(d.join("report.txt"), b"r").unwrap();
        let found = collect(d, &["dist/*.tar".into(), "report.txt".into()]).unwrap();
        assert_eq!(paths(&found), ["dist/a.tar", "report.txt"]);
        let found = collect(d, &["dist".into()]).unwrap();
        assert_eq!(paths(&found), ["dist/a.tar", "dist/sub/b.txt"]);
        assert_eq!(found[1].size, 2);

        let err = collect(d, &["*.zip".into()]).unwrap_err();
        assert!(err.contains("\"*.zip\" matched no file"), "{err}");

        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), b"s").unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret"), d.join("link")).unwrap();
        let err = collect(d, &["link".into()]).unwrap_err();
        assert!(err.contains("outside the working directory"), "{err}");
    }

    #[tokio::test]
    async fn writes_stay_inside() {
        let dir = tempfile::tempdir().unwrap();
        let body: ByteStream = Box::pin(futures_util::stream::iter([Ok(
            bytes::Bytes::from_static(b"xyz"),
        )]));
        let (n, sha) = write(dir.path(), "a/b/c.txt", body).await.unwrap();
        assert_eq!(n, 3);
        assert_eq!(
            sha,
            hex::encode(<sha2::Sha256 as sha2::Digest>::digest(b"xyz"))
        );
        assert_eq!(std::fs::read(dir.path().join("a/b/c.txt")).unwrap(), b"xyz");
        let empty: ByteStream = Box::pin(futures_util::stream::empty());
        assert!(write(dir.path(), "../x", empty).await.is_err());
    }
}

//! Where artifact bytes are kept: an [`ArtifactStorage`] over any `object_store` — a local
//! folder (the default: beside a SQLite store) or S3-compatible object storage
//! (`s3://bucket/prefix`, its endpoint and credentials from the `AWS_*` environment variables
//! `object_store` reads). Uploads stream through a multipart upload in [`PART_BYTES`] parts,
//! hashed and counted on the way; one over its limit is aborted and leaves nothing.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures_util::StreamExt;
use object_store::path::Path as Key;
use object_store::{ObjectStore, WriteMultipart};
use sha2::{Digest, Sha256};

use super::ByteStream;
use crate::{Error, Result};

/// The size of one part of a multipart upload (S3 wants at least 5 MiB but the last).
pub const PART_BYTES: usize = 8 * 1024 * 1024;
/// The pieces a file of the local folder is read in when downloaded.
const READ_BYTES: usize = 1024 * 1024;

/// Parts in flight at once per upload: memory is at most this many parts.
const PARTS_IN_FLIGHT: usize = 4;

/// What an upload stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub size: u64,
    /// Lowercase hex.
    pub sha256: String,
}

/// Why an upload stopped: the limit (with the bytes allowed), or an error.
#[derive(Debug)]
pub enum PutError {
    /// More than the limit arrived; nothing was kept.
    TooLarge,
    Failed(Error),
}

/// An artifact storage: a folder or an object store bucket (and prefix).
#[derive(Clone)]
pub struct ArtifactStorage {
    store: Arc<dyn ObjectStore>,
    /// `/srv/imx/store.artifacts` or `s3://bucket/prefix`, for people.
    location: String,
}

impl std::fmt::Debug for ArtifactStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArtifactStorage")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

/// The default folder of a SQLite store's artifacts: `<store file>.artifacts` beside it.
pub fn beside(store: &Path) -> PathBuf {
    let mut name = store.file_name().unwrap_or_default().to_os_string();
    name.push(".artifacts");
    store.with_file_name(name)
}

impl ArtifactStorage {
    /// A folder (created, mode 0700, if missing).
    pub fn folder(dir: &Path) -> Result<Self> {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
        let fs = object_store::local::LocalFileSystem::new_with_prefix(dir)
            .map_err(|e| Error::invalid(format!("artifact folder {}: {e}", dir.display())))?;
        Ok(ArtifactStorage {
            store: Arc::new(fs),
            location: dir.display().to_string(),
        })
    }

    /// `s3://bucket/prefix` (S3-compatible object storage; endpoint, region and credentials
    /// from `AWS_*`), or a folder path (absolute, or `file://`).
    pub fn open(url: &str) -> Result<Self> {
        if let Some(dir) = url.strip_prefix("file://") {
            return Self::folder(Path::new(dir));
        }
        if !url.contains("://") {
            return Self::folder(Path::new(url));
        }
        let Some(rest) = url.strip_prefix("s3://") else {
            return Err(Error::invalid_with_hint(
                format!("artifact storage {url:?}: only s3:// URLs and folders are supported"),
                "give s3://bucket/prefix (endpoint and credentials in AWS_* variables) or a folder",
            ));
        };
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(Error::invalid(format!(
                "artifact storage {url:?}: no bucket"
            )));
        }
        let s3 = object_store::aws::AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .build()
            .map_err(|e| Error::invalid(format!("artifact storage {url}: {e}")))?;
        let prefix = prefix.trim_matches('/');
        let store: Arc<dyn ObjectStore> = if prefix.is_empty() {
            Arc::new(s3)
        } else {
            Arc::new(object_store::prefix::PrefixStore::new(s3, prefix))
        };
        Ok(ArtifactStorage {
            store,
            location: url.to_string(),
        })
    }

    /// Where it is, for people.
    pub fn location(&self) -> &str {
        &self.location
    }

    fn failed(&self, what: &str, e: impl std::fmt::Display) -> Error {
        Error::Internal(format!("artifact storage {}: {what}: {e}", self.location))
    }

    /// Store `body` under `key`, hashing and counting it; more than `limit` bytes aborts the
    /// upload ([`PutError::TooLarge`]) and keeps nothing.
    pub async fn put(
        &self,
        key: &str,
        mut body: ByteStream,
        limit: u64,
    ) -> std::result::Result<Stored, PutError> {
        let key = Key::from(key);
        let upload = self
            .store
            .put_multipart(&key)
            .await
            .map_err(|e| PutError::Failed(self.failed("starting an upload", e)))?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
        let mut hasher = Sha256::new();
        let mut size: u64 = 0;
        let outcome: std::result::Result<(), PutError> = async {
            while let Some(chunk) = body.next().await {
                let chunk = chunk
                    .map_err(|e| PutError::Failed(Error::io("reading the artifact's body", e)))?;
                size += chunk.len() as u64;
                if size > limit {
                    return Err(PutError::TooLarge);
                }
                hasher.update(&chunk);
                writer
                    .wait_for_capacity(PARTS_IN_FLIGHT)
                    .await
                    .map_err(|e| PutError::Failed(self.failed("uploading", e)))?;
                writer.write(&chunk);
            }
            Ok(())
        }
        .await;
        match outcome {
            Ok(()) => {
                writer
                    .finish()
                    .await
                    .map_err(|e| PutError::Failed(self.failed("finishing an upload", e)))?;
                Ok(Stored {
                    size,
                    sha256: hex::encode(hasher.finalize()),
                })
            }
            Err(e) => {
                let _ = writer.abort().await;
                Err(e)
            }
        }
    }

    /// The bytes under `key`, streamed.
    pub async fn get(&self, key: &str) -> Result<ByteStream> {
        let got = self.store.get(&Key::from(key)).await.map_err(|e| match e {
            object_store::Error::NotFound { .. } => Error::NotFoundHint {
                message: format!(
                    "the artifact's bytes are missing from {} (key {key})",
                    self.location
                ),
                hint: "the artifact storage was changed or cleaned outside imx".into(),
            },
            e => self.failed("reading", e),
        })?;
        Ok(match got.payload {
            // A file of the local folder: read in 1 MiB pieces. The store's own stream reads
            // 8 KiB at a time, each on a blocking thread of its own (under 150 MB/s).
            object_store::GetResultPayload::File(file, _) => {
                Box::pin(tokio_util::io::ReaderStream::with_capacity(
                    tokio::fs::File::from_std(file),
                    READ_BYTES,
                ))
            }
            object_store::GetResultPayload::Stream(s) => {
                Box::pin(s.map(|r| r.map_err(std::io::Error::other)))
            }
        })
    }

    /// Remove the bytes under `key` (already gone is fine).
    pub async fn delete(&self, key: &str) -> Result<()> {
        match self.store.delete(&Key::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.failed("deleting", e)),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn body(parts: Vec<&'static [u8]>) -> ByteStream {
        Box::pin(futures_util::stream::iter(
            parts.into_iter().map(|p| Ok(Bytes::from_static(p))),
        ))
    }

    async fn read_all(mut s: ByteStream) -> Vec<u8> {
        let mut out = Vec::new();
        while let Some(c) = s.next().await {
            out.extend_from_slice(&c.unwrap());
        }
        out
    }

    #[tokio::test]
    async fn a_folder_round_trips_hashes_and_enforces_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let s = ArtifactStorage::folder(&dir.path().join("a")).unwrap();
        let stored = s
            .put("run/1", body(vec![b"hello ", b"world"]), 100)
            .await
            .unwrap();
        assert_eq!(stored.size, 11);
        assert_eq!(stored.sha256, hex::encode(Sha256::digest(b"hello world")));
        assert_eq!(
            read_all(s.get("run/1").await.unwrap()).await,
            b"hello world"
        );

        let over = s.put("run/2", body(vec![b"12345", b"678"]), 7).await;
        assert!(matches!(over, Err(PutError::TooLarge)));
        let missing = s.get("run/2").await.err().map(|e| e.kind());
        assert_eq!(missing, Some(crate::error::ErrorKind::NotFound));

        s.delete("run/1").await.unwrap();
        s.delete("run/1").await.unwrap();
        assert!(s.get("run/1").await.is_err());
    }

    #[test]
    fn the_default_folder_is_beside_the_store() {
        assert_eq!(
            beside(Path::new("/srv/imx/store.db")),
            PathBuf::from("/srv/imx/store.db.artifacts")
        );
    }
}

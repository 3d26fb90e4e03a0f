//! The local control plane: this process opens the store and runs the engine's transitions.

use std::path::{Path, PathBuf};

use crate::Result;

/// Options for opening a local store.
#[derive(Debug, Clone)]
pub struct LocalOptions {
    /// Lease length granted with each claim (`IMX_LEASE`, default 30s).
    pub lease_ms: u64,
    /// Create the store if it does not exist.
    pub create: bool,
}

impl Default for LocalOptions {
    fn default() -> Self {
        LocalOptions {
            lease_ms: 30_000,
            create: true,
        }
    }
}

/// A control plane over a local SQLite store.
pub struct LocalControlPlane {
    path: PathBuf,
    created: bool,
}

impl LocalControlPlane {
    /// Open (and, with `create`, initialise) the store at `path`.
    pub fn open(path: &Path, _opts: LocalOptions) -> Result<Self> {
        Ok(LocalControlPlane {
            path: path.to_path_buf(),
            created: false,
        })
    }

    /// Whether `open` created a new store.
    pub fn created(&self) -> bool {
        self.created
    }

    /// Where the store is.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

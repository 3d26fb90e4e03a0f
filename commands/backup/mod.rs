//! `imx backup ...`: create, list, show, verify, restore and prune backups of the store, download
//! them from a server, and make keys (files or OS keyring entries) for encrypted ones. With
//! `--server`, create, list, show, verify and download go through the server's API (backups
//! named by id, kept in the server's folder); restore and prune run only where the store is.

mod bar;
mod create;
mod download;
mod key;
mod keygen;
mod list;
mod location;
mod prune;
mod restore;
mod show;
mod verify;

use clap::Subcommand;

use super::context::Context;
use super::error::CliError;

/// The backup commands.
#[derive(Debug, Subcommand)]
pub enum BackupCommand {
    /// Take a consistent backup of the store (while agents keep working).
    Create(create::CreateArgs),
    /// List backups, newest first.
    List(list::ListArgs),
    /// Show a backup's manifest: counts per table, schema version, checksum, encryption.
    Show(show::ShowArgs),
    /// Prove a backup restores: checksum, decrypt, decompress, integrity, audit chain, counts.
    Verify(verify::VerifyArgs),
    /// Download a backup from a server and check its SHA-256.
    Download(download::DownloadArgs),
    /// Replace the store (or restore elsewhere) with a backup, atomically (on the store's machine).
    Restore(restore::RestoreArgs),
    /// Remove backups a retention policy does not keep (on the store's machine).
    Prune(prune::PruneArgs),
    /// Make a new random key for encrypted backups: a 0600 key file, the OS keyring, or both.
    Keygen(keygen::KeygenArgs),
    /// Show or set the store's backup location (for every replica and host).
    Location(location::LocationArgs),
}

pub async fn run(ctx: &Context, cmd: BackupCommand) -> Result<(), CliError> {
    match cmd {
        BackupCommand::Create(args) => create::run(ctx, args).await,
        BackupCommand::List(args) => list::run(ctx, args).await,
        BackupCommand::Show(args) => show::run(ctx, args).await,
        BackupCommand::Verify(args) => verify::run(ctx, args).await,
        BackupCommand::Download(args) => download::run(ctx, args).await,
        BackupCommand::Restore(args) => restore::run(ctx, args).await,
        BackupCommand::Prune(args) => prune::run(ctx, args).await,
        BackupCommand::Keygen(args) => keygen::run(ctx, args),
        BackupCommand::Location(args) => location::run(ctx, args).await,
    }
}

/// Bytes for people: `512 B`, `1.5 KiB`, `3.2 MiB`, `1.1 GiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

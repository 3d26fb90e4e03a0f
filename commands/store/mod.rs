//! `imx store ...`: operations on whole stores, whichever kind (a SQLite file or a PostgreSQL
//! database): copying one into another (moving up to a cluster's database and back).

mod copy;

use clap::Subcommand;

use super::context::Context;
use super::error::CliError;

/// The store commands.
#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Copy every row of one store into another (SQLite file or postgres:// URL, either way),
    /// then check the counts and the audit chain on the target.
    ///
    /// Each of --from and --to is a SQLite store file or a PostgreSQL database
    /// (postgres://user@host/db). The source is read from one consistent
    /// snapshot (agents and servers may keep using it, but what they do after the copy starts is
    /// not in the copy); the target is written in one transaction, so it holds all of the copy or
    /// nothing. Then the rows per table are checked against the source and the target's audit
    /// chain is verified.
    ///
    /// The copy is the same store, moved: it keeps the store id and the audit chain (checkpoints
    /// signed for the source verify on it). A missing target is created (a new SQLite file, or the
    /// schema in an empty database). A target that holds data is refused (exit 5) unless --force,
    /// which replaces everything in it. Stop the servers and agents of the source before moving
    /// for good, so nothing is written to it after the copy.
    Copy(copy::CopyArgs),
}

pub async fn run(ctx: &Context, cmd: StoreCommand) -> Result<(), CliError> {
    match cmd {
        StoreCommand::Copy(args) => copy::run(ctx, args).await,
    }
}

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
    Copy(copy::CopyArgs),
}

pub async fn run(ctx: &Context, cmd: StoreCommand) -> Result<(), CliError> {
    match cmd {
        StoreCommand::Copy(args) => copy::run(ctx, args).await,
    }
}

//! `imx backup show`.

use std::path::PathBuf;

use super::super::context::Context;
use super::super::error::CliError;

/// Show a backup's manifest: id, time, versions, counts per table, checksum, encryption.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  imx backup show 01J5Z3\n  imx backup show ./imx-backup-01J5Z3K8.imxb -o json"
)]
pub struct ShowArgs {
    /// Backup id (any unique prefix) or file path.
    backup: String,

    /// The backup folder ids are looked up in [default: backups/ beside the store]
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

pub async fn run(ctx: &Context, args: ShowArgs) -> Result<(), CliError> {
    let plane = ctx.plane()?;
    let info = plane
        .show_backup(&ctx.principal(), args.dir, &args.backup)
        .await?;
    ctx.out().detail(&info)
}

//! `imx backup keygen`.

use std::path::PathBuf;

use super::super::context::Context;
use super::super::error::CliError;

/// Write a new random 256-bit key for `backup create --encrypt --key-file` (mode 0600).
/// Keep it away from the backups: whoever has both can read them.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  imx backup keygen --out ~/.config/imx/backup.key\n  imx backup create --encrypt --key-file ~/.config/imx/backup.key"
)]
pub struct KeygenArgs {
    /// Where to write the key (refuses to overwrite).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

pub fn run(ctx: &Context, args: KeygenArgs) -> Result<(), CliError> {
    imx::backup::crypto::keygen(&args.out)?;
    ctx.out().status(format!(
        "Wrote a new backup key to {} (mode 0600).",
        args.out.display()
    ));
    ctx.out().hint(
        "store a copy somewhere safe: backups encrypted with it cannot be restored without it",
    );
    Ok(())
}

//! `imx backup download`.

use std::path::PathBuf;

use super::super::context::Context;
use super::super::error::CliError;
use super::bytes;

/// Download a backup from a server (needs --server or a server context). The file is written
/// beside its final name, then checked — its manifest must be the one the server lists and its
/// payload must match the manifest's SHA-256 — and only then renamed into place; a damaged or
/// interrupted download leaves nothing behind. Prints the file's path.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  imx --server https://imx.example.com:7443 backup download 01J5Z3
  imx --server https://imx.example.com:7443 backup download 01J5Z3 --out /mnt/offsite/
  imx --server https://imx.example.com:7443 backup download 01J5Z3 --out latest.imxb
  imx backup verify latest.imxb                 # proves the downloaded file restores")]
pub struct DownloadArgs {
    /// Backup id (any unique prefix), as `imx backup list` shows it.
    backup: String,

    /// A file, or an existing folder (or one ending in /) to put imx-backup-ID.imxb in
    /// [default: imx-backup-ID.imxb in the current folder]
    #[arg(long, value_name = "FILE|DIR")]
    out: Option<PathBuf>,
}

pub async fn run(ctx: &Context, args: DownloadArgs) -> Result<(), CliError> {
    let (server, ca) = ctx.server("backup download")?;
    let token = super::super::context::stored_login(&server)?.map(|l| l.token);
    let remote = ctx.remote(&server, ca.as_deref(), token.as_ref())?;
    let who = ctx.principal();
    // The id may be a prefix: ask for the full one to name the file.
    let listed = imx::control::ControlPlane::show_backup(&remote, &who, None, &args.backup).await?;
    let id = &listed.manifest.id;
    let dest = imx::backup::create::target(args.out.as_deref(), std::path::Path::new("."), id);
    if dest.exists() {
        return Err(
            CliError::usage(format!("{} already exists", dest.display()))
                .with_hint("pass --out with another file or folder"),
        );
    }
    let info = remote.download_backup(id, &dest).await?;
    ctx.out().status(format!(
        "Downloaded backup {} ({}); its SHA-256 matches the manifest.",
        info.manifest.id,
        bytes(info.size)
    ));
    ctx.out().line(&info.path.display().to_string())
}

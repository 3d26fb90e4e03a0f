//! `imx backup location`.

use std::path::PathBuf;

use imx::control::BackupLocation;

use super::super::context::Context;
use super::super::error::CliError;
use super::super::output::{Cells, Detail};

/// Show or set the store's backup location: the folder every replica and host uses when no
/// --dir is given, before its own default (imx server --backup-dir, then backups/ beside a
/// SQLite store). On PostgreSQL, where replicas have no folder beside the store, set it once
/// for the whole cluster (a shared mount); setting it is audited (store.configure) and needs an
/// admin. Works on the store (--store, or a context with a database) or through a server
/// (--server), where "Used here" is where that server puts backups and DIR is a folder on it.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  imx backup location
  imx backup location /mnt/backups/imx
  imx backup location --unset
  imx backup location -o json")]
pub struct LocationArgs {
    /// Set the store's backup location to this absolute folder.
    #[arg(value_name = "DIR", conflicts_with = "unset")]
    dir: Option<PathBuf>,
    /// Unset it: each host uses its own default again.
    #[arg(long)]
    unset: bool,
}

pub async fn run(ctx: &Context, args: LocationArgs) -> Result<(), CliError> {
    let plane = ctx.plane()?;
    let who = ctx.principal();
    let location = if args.unset {
        let l = plane.set_backup_location(&who, None).await?;
        ctx.out().status("Unset the store's backup location.");
        l
    } else if let Some(dir) = args.dir {
        // Through a server the folder is the server's: it must be given whole.
        let remote = matches!(ctx.target()?, imx::config::contexts::Target::Remote { .. });
        let dir = if dir.is_absolute() || remote {
            dir
        } else {
            std::path::absolute(&dir)
                .map_err(|e| CliError::other(format!("{}: {e}", dir.display())))?
        };
        let l = plane.set_backup_location(&who, Some(dir)).await?;
        if let Some(set) = &l.setting {
            ctx.out().status(format!(
                "Set the store's backup location to {}.",
                set.display()
            ));
        }
        l
    } else {
        plane.backup_location(&who).await?
    };
    ctx.out().detail(&Shown(location))
}

#[derive(serde::Serialize)]
#[serde(transparent)]
struct Shown(BackupLocation);

impl Detail for Shown {
    fn name(&self) -> String {
        self.0
            .effective
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    }

    fn fields(&self, _cx: &Cells) -> Vec<(&'static str, String)> {
        let setting = match &self.0.setting {
            Some(p) => p.display().to_string(),
            None => "(not set: each host uses its own default)".into(),
        };
        let used = match (&self.0.effective, self.0.source.as_deref()) {
            (Some(p), Some(source)) => {
                let why = match source {
                    "setting" => "the store's backup location",
                    "server" => "imx server --backup-dir",
                    _ => "beside the store",
                };
                format!("{} ({why})", p.display())
            }
            _ => "(none: give --dir, or set a location)".into(),
        };
        vec![("Setting", setting), ("Used here", used)]
    }
}

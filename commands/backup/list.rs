//! `imx backup list`.

use std::path::PathBuf;

use imx::backup::BackupInfo;

use super::super::context::Context;
use super::super::error::CliError;
use super::super::output::{Cells, Row};
use super::bytes;

/// List the backups in the backup folder, newest first. Backups in progress, and the files and
/// folders of backups and restores that were killed (incomplete, with their size), are listed on
/// stderr; the next `backup create` (or `backup restore`) there removes the incomplete ones.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  imx backup list\n  imx backup list --dir /mnt/backups -o wide\n  imx backup list -o json\n  imx --server https://imx.example.com:7443 backup list   # the server's --backup-dir"
)]
pub struct ListArgs {
    /// The backup folder [default: backups/ beside the store]
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

pub async fn run(ctx: &Context, args: ListArgs) -> Result<(), CliError> {
    let plane = ctx.plane()?;
    let cat = plane.list_backups(&ctx.principal(), args.dir).await?;
    for bad in &cat.unreadable {
        ctx.out()
            .warn(format!("{}: {}", bad.path.display(), bad.problem));
    }
    for left in &cat.incomplete {
        let what = if left.live {
            "in progress".to_string()
        } else {
            format!(
                "incomplete: left by an interrupted run; the next `{}` there removes it",
                left.kind.command()
            )
        };
        ctx.out().warn(format!(
            "{} ({}): {what}",
            left.path.display(),
            bytes(left.size)
        ));
    }
    if cat.backups.is_empty() && !ctx.out().is_machine() {
        ctx.out().status("No backups yet.");
        ctx.out().hint("take one with: imx backup create");
        return Ok(());
    }
    ctx.out().list(&cat.backups)
}

impl Row for BackupInfo {
    fn headers(cx: &Cells) -> Vec<&'static str> {
        let mut h = vec![
            "ID",
            "CREATED",
            "SIZE",
            "FORMAT",
            "ENCRYPTED",
            "ROWS",
            "NOTE",
        ];
        if cx.wide || cx.machine {
            h.extend(["SCHEMA", "AUDIT HEAD", "SHA-256", "FILE"]);
        }
        h
    }

    fn cells(&self, cx: &Cells) -> Vec<String> {
        let m = &self.manifest;
        let mut c = vec![
            cx.id(&m.id),
            cx.time(Some(m.created_at)),
            if cx.machine {
                self.size.to_string()
            } else {
                bytes(self.size)
            },
            m.format.to_string(),
            if m.encryption.is_some() { "yes" } else { "no" }.into(),
            m.total_rows().to_string(),
            cx.opt(m.note.as_deref()),
        ];
        if cx.wide || cx.machine {
            c.push(m.schema_version.to_string());
            c.push(m.audit_head.seq.to_string());
            c.push(m.payload_sha256.clone());
            c.push(self.path.display().to_string());
        }
        c
    }

    fn name(&self) -> String {
        self.manifest.id.clone()
    }

    fn id(&self) -> Option<&str> {
        Some(&self.manifest.id)
    }
}

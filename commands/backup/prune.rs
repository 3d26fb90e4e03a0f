//! `imx backup prune`.

use std::path::PathBuf;

use imx::backup::RetentionPolicy;
use imx::backup::retention::Decision;

use super::super::context::Context;
use super::super::error::CliError;
use super::super::output::{Cells, Row};
use super::bytes;

/// Remove the backups a retention policy does not keep: the newest --keep-last, then the newest
/// backup of each of the last N hours, days, ISO weeks, months and years that have one (UTC).
/// Runs only on the store's machine, never through --server (a server prunes its own scheduled
/// backups with `imx server --backup-every ... --keep-*`).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  imx backup prune --keep-last 4 --keep-daily 30 --keep-monthly 12 --keep-yearly 1 --dry-run
  imx backup prune --keep-daily 7 --yes")]
pub struct PruneArgs {
    #[arg(long, value_name = "N", default_value_t = 0)]
    keep_last: u32,
    #[arg(long, value_name = "N", default_value_t = 0)]
    keep_hourly: u32,
    #[arg(long, value_name = "N", default_value_t = 0)]
    keep_daily: u32,
    #[arg(long, value_name = "N", default_value_t = 0)]
    keep_weekly: u32,
    #[arg(long, value_name = "N", default_value_t = 0)]
    keep_monthly: u32,
    #[arg(long, value_name = "N", default_value_t = 0)]
    keep_yearly: u32,

    /// Show what would be removed; remove nothing.
    #[arg(long)]
    dry_run: bool,

    /// The backup folder [default: backups/ beside the store]
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

pub async fn run(ctx: &Context, args: PruneArgs) -> Result<(), CliError> {
    let policy = RetentionPolicy {
        keep_last: args.keep_last,
        keep_hourly: args.keep_hourly,
        keep_daily: args.keep_daily,
        keep_weekly: args.keep_weekly,
        keep_monthly: args.keep_monthly,
        keep_yearly: args.keep_yearly,
    };
    let plane = ctx.plane()?;
    let who = ctx.principal();
    let plan = plane
        .prune_backups(&who, args.dir.clone(), policy, true)
        .await?;
    let report = if args.dry_run || plan.removed == 0 {
        plan
    } else {
        ctx.confirm(&format!(
            "remove {} ({})",
            super::super::output::count(plan.removed as u64, "backup"),
            bytes(plan.freed_bytes)
        ))?;
        plane.prune_backups(&who, args.dir, policy, false).await?
    };
    ctx.out().list(&report.decisions)?;
    ctx.out().status(format!(
        "{} {}, {}; kept {}.",
        if report.dry_run {
            "Would remove"
        } else {
            "Removed"
        },
        super::super::output::count(report.removed as u64, "backup"),
        bytes(report.freed_bytes),
        report.decisions.iter().filter(|d| d.keep).count()
    ));
    Ok(())
}

impl Row for Decision {
    fn headers(cx: &Cells) -> Vec<&'static str> {
        let mut h = vec!["ID", "CREATED", "SIZE", "ACTION", "WHY"];
        if cx.wide || cx.machine {
            h.push("FILE");
        }
        h
    }

    fn cells(&self, cx: &Cells) -> Vec<String> {
        let mut c = vec![
            cx.id(&self.id),
            cx.time(Some(self.created_at)),
            if cx.machine {
                self.size.to_string()
            } else {
                bytes(self.size)
            },
            if self.keep { "keep" } else { "remove" }.into(),
            self.reasons.join(","),
        ];
        if cx.wide || cx.machine {
            c.push(self.path.display().to_string());
        }
        c
    }

    fn name(&self) -> String {
        self.id.clone()
    }
}

//! `imx artifact prune --keep PERIOD`.

use std::time::Duration;

use imx::audit::rfc3339;
use imx::model::{ArtifactPrune, ArtifactPruneReport};

use super::super::context::Context;
use super::super::error::CliError;
use super::super::output::{Cells, Detail, count};
use super::super::parse;
use super::size;

/// Delete the artifacts stored longer ago than --keep: their bytes from the artifact storage,
/// then their records. Runs and their other records stay (`imx run prune` deletes old runs,
/// and their artifacts with them; a server does both on its own with --retain). Audited as
/// artifact.prune (one record with the counts); needs an admin.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  imx artifact prune --keep 30d --dry-run
  imx artifact prune --keep 90d --yes")]
pub struct PruneArgs {
    /// Keep the artifacts stored within this period (e.g. 30d, 12h); delete the older ones.
    #[arg(long, value_name = "PERIOD", value_parser = parse::duration)]
    keep: Duration,

    /// Count what would go; delete nothing.
    #[arg(long)]
    dry_run: bool,
}

pub async fn run(ctx: &Context, args: PruneArgs) -> Result<(), CliError> {
    if args.keep.is_zero() {
        return Err(CliError::usage("--keep must be longer than 0s").with_hint("e.g. --keep 30d"));
    }
    let older_than_ms = u64::try_from(args.keep.as_millis()).unwrap_or(u64::MAX);
    let plane = ctx.plane()?;
    let who = ctx.principal();
    let plan = plane
        .prune_artifacts(
            &who,
            ArtifactPrune {
                older_than_ms,
                dry_run: true,
            },
        )
        .await?;
    let what = format!(
        "{} ({}) stored before {}",
        count(plan.artifacts, "artifact"),
        size(plan.bytes),
        rfc3339(plan.cutoff)
    );
    if args.dry_run || plan.artifacts == 0 {
        ctx.out().status(if plan.artifacts == 0 {
            format!(
                "No artifacts stored before {}; nothing to prune.",
                rfc3339(plan.cutoff)
            )
        } else {
            format!("Would delete {what}.")
        });
        return ctx.out().result(&Shown(plan));
    }
    ctx.confirm(&format!("delete {what}"))?;
    let done = plane
        .prune_artifacts(
            &who,
            ArtifactPrune {
                older_than_ms,
                dry_run: false,
            },
        )
        .await?;
    ctx.out().status(format!(
        "Deleted {} ({}) stored before {}.",
        count(done.artifacts, "artifact"),
        size(done.bytes),
        rfc3339(done.cutoff)
    ));
    ctx.out().result(&Shown(done))
}

#[derive(serde::Serialize)]
#[serde(transparent)]
struct Shown(ArtifactPruneReport);

impl Detail for Shown {
    fn name(&self) -> String {
        self.0.artifacts.to_string()
    }

    fn fields(&self, _cx: &Cells) -> Vec<(&'static str, String)> {
        vec![
            ("Stored before", rfc3339(self.0.cutoff)),
            ("Artifacts", self.0.artifacts.to_string()),
            ("Bytes", self.0.bytes.to_string()),
        ]
    }
}

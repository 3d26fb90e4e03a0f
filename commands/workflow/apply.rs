//! `imx workflow apply -f FILE|DIR [--dry-run]`.

use std::path::PathBuf;

use imx::control::{ApplyAction, ApplyOutcome};

use super::super::context::Context;
use super::super::error::CliError;
use super::super::output::{Cells, Row};

/// Create or update workflows from files or folders. An unchanged file keeps its version.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  imx workflow apply -f deploy.yaml
  imx workflow apply -f examples/workflows/
  imx workflow apply -f deploy.yaml --dry-run
  cat deploy.yaml | imx workflow apply -f -")]
pub struct ApplyArgs {
    /// A workflow file, or a folder of *.yaml/*.yml/*.json files; `-` reads stdin. Repeatable.
    #[arg(short = 'f', long = "file", required = true, value_name = "FILE|DIR")]
    pub files: Vec<PathBuf>,

    /// Validate and show what would change, without changing anything.
    #[arg(long)]
    pub dry_run: bool,
}

pub async fn run(ctx: &Context, args: ApplyArgs) -> Result<(), CliError> {
    let specs = super::load_specs(ctx, &args.files)?;
    let plane = ctx.plane()?;
    let who = ctx.principal();
    let mut outcomes = Vec::with_capacity(specs.len());
    for (_file, spec) in specs {
        outcomes.push(plane.apply_workflow(&who, spec, args.dry_run).await?);
    }
    ctx.out()
        .list(&outcomes.iter().map(Outcome).collect::<Vec<_>>())?;
    let changed = outcomes
        .iter()
        .filter(|o| o.action != ApplyAction::Unchanged)
        .count();
    if args.dry_run {
        ctx.out().status(format!(
            "Dry run: {changed} of {} would change; nothing was changed.",
            super::super::output::count(outcomes.len() as u64, "workflow")
        ));
    } else {
        ctx.out().status(format!(
            "Applied {} ({changed} changed).",
            super::super::output::count(outcomes.len() as u64, "workflow")
        ));
    }
    Ok(())
}

#[derive(serde::Serialize)]
#[serde(transparent)]
struct Outcome<'a>(&'a ApplyOutcome);

impl Row for Outcome<'_> {
    fn headers(_cx: &Cells) -> Vec<&'static str> {
        vec!["WORKFLOW", "VERSION", "ACTION"]
    }

    fn cells(&self, _cx: &Cells) -> Vec<String> {
        let action = match self.0.action {
            ApplyAction::Created => "created",
            ApplyAction::Updated => "updated",
            ApplyAction::Unchanged => "unchanged",
        };
        vec![
            self.0.name.clone(),
            self.0.version.to_string(),
            action.into(),
        ]
    }

    fn name(&self) -> String {
        self.0.name.clone()
    }
}

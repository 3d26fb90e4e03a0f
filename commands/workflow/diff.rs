//! `imx workflow diff NAME [--from N] [--to M]`: what changed between two versions.

use super::super::context::Context;
use super::super::error::CliError;
use super::source;

/// Show what changed between two versions of a workflow, as a unified diff of the files they
/// were applied from (coloured on a terminal). By default the previous version against the
/// latest. Versions applied before imx kept files are compared as their parsed specs.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  imx workflow diff deploy
  imx workflow diff deploy --from 1 --to 2
  imx workflow diff deploy --from 2")]
pub struct DiffArgs {
    /// The workflow's name.
    pub name: String,

    /// The older version (default: the one before --to).
    #[arg(long, value_name = "N")]
    pub from: Option<u32>,

    /// The newer version (default: the latest).
    #[arg(long, value_name = "M")]
    pub to: Option<u32>,
}

pub async fn run(ctx: &Context, args: DiffArgs) -> Result<(), CliError> {
    let plane = ctx.plane()?;
    let who = ctx.principal();
    let to = plane.get_workflow(&who, &args.name, args.to).await?;
    let from_version = match args.from {
        Some(v) => v,
        None if to.version > 1 => to.version - 1,
        None => {
            return Err(CliError::usage(format!(
                "workflow {} has only version {}: nothing to compare it with",
                to.name, to.version
            )));
        }
    };
    let from = plane
        .get_workflow(&who, &args.name, Some(from_version))
        .await?;
    let (old, new) = (source::of(&from)?, source::of(&to)?);
    for (wf, text) in [(&from, &old), (&to, &new)] {
        if !text.kept {
            ctx.out().warn(source::no_source_note(wf));
        }
    }
    let diff = source::unified(
        &format!("{}@{}", from.name, from.version),
        &old.text,
        &format!("{}@{}", to.name, to.version),
        &new.text,
        ctx.out().style().color,
    );
    if diff.is_empty() {
        ctx.out().status(format!(
            "Versions {} and {} of {} are the same.",
            from.version, to.version, to.name
        ));
        return Ok(());
    }
    ctx.out().data(&diff)
}

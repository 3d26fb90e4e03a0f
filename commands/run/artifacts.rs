//! `imx run artifacts RUN`.

use super::super::context::Context;
use super::super::error::CliError;

/// List a run's artifacts: the files its steps left (`artifacts:` in the workflow), by step then
/// path, with size, SHA-256 and when each was stored. `imx artifact get RUN PATH` downloads one.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  imx run artifacts 01HZX4
  imx run artifacts 01HZX4 -o json")]
pub struct ArtifactsArgs {
    /// Run id (any unique prefix).
    id: String,
}

pub async fn run(ctx: &Context, args: ArtifactsArgs) -> Result<(), CliError> {
    let plane = ctx.plane()?;
    let artifacts = plane.list_artifacts(&ctx.principal(), &args.id).await?;
    if artifacts.is_empty() && !ctx.out().is_machine() {
        ctx.out()
            .status(format!("Run {} has no artifacts.", args.id));
        ctx.out()
            .hint("a step keeps files with `artifacts: [PATH or GLOB]` (imx help workflow)");
        return Ok(());
    }
    ctx.out().list(&artifacts)
}

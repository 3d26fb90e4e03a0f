//! `imx secret delete NAME [--workflow W]`.

use super::super::context::Context;
use super::super::error::CliError;

/// Delete a secret (the global one, or --workflow's own). Steps that use it fail from then on,
/// saying it is not set.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  imx secret delete DEPLOY_TOKEN\n  imx secret delete DB_PASSWORD --workflow nightly-etl"
)]
pub struct DeleteArgs {
    /// The secret's name.
    pub name: String,

    /// The workflow it belongs to (the global secret when absent).
    #[arg(long, short = 'w')]
    pub workflow: Option<String>,
}

pub async fn run(ctx: &Context, args: DeleteArgs) -> Result<(), CliError> {
    let plane = ctx.plane()?;
    plane
        .delete_secret(&ctx.principal(), &args.name, args.workflow.as_deref())
        .await?;
    let label = match &args.workflow {
        Some(w) => format!("{w}/{}", args.name),
        None => args.name.clone(),
    };
    ctx.out().status(format!("Deleted secret {label}."));
    Ok(())
}

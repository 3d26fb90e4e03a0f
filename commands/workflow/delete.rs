//! `imx workflow delete NAME`.

use super::super::context::Context;
use super::super::error::CliError;

/// Delete a workflow and all its versions. Past runs keep their history.
/// Asks first on a terminal; elsewhere needs --yes.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  imx workflow delete deploy\n  imx workflow delete deploy --yes"
)]
pub struct DeleteArgs {
    /// The workflow's name.
    #[arg(add = clap_complete::ArgValueCandidates::new(crate::commands::candidates::workflows))]
    pub name: String,
}

pub async fn run(ctx: &Context, args: DeleteArgs) -> Result<(), CliError> {
    let plane = ctx.plane()?;
    let who = ctx.principal();
    // Not found is reported before asking anything.
    let current = plane.get_workflow(&who, &args.name, None).await?;
    ctx.confirm(&format!(
        "delete workflow {} and all its versions (latest: v{})",
        current.name, current.version
    ))?;
    let deleted = plane.delete_workflow(&who, &args.name).await?;
    ctx.out()
        .status(format!("Deleted workflow {}.", deleted.name));
    ctx.out().result(&deleted)
}

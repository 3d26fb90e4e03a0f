//! `imx trigger rotate NAME [--secret-stdin]`.

use super::super::context::Context;
use super::super::error::CliError;
use super::super::password;

/// Give a webhook trigger a new signing secret, printed once (or read from stdin with
/// --secret-stdin). Calls signed with the old secret are refused from then on.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  imx trigger rotate release-hook\n  pass show hooks/new | imx trigger rotate release-hook --secret-stdin"
)]
pub struct RotateArgs {
    /// The webhook trigger's name.
    #[arg(add = clap_complete::ArgValueCandidates::new(crate::commands::candidates::triggers))]
    pub name: String,

    /// Read the new secret from the first line of stdin instead of making one.
    #[arg(long)]
    pub secret_stdin: bool,
}

pub async fn run(ctx: &Context, args: RotateArgs) -> Result<(), CliError> {
    let secret = if args.secret_stdin {
        password::read_stdin(&["--secret-stdin"])?.pop()
    } else {
        None
    };
    let plane = ctx.plane()?;
    let created = plane
        .rotate_trigger_secret(&ctx.principal(), &args.name, secret)
        .await?;
    ctx.out().status(format!(
        "Trigger {} has a new secret.",
        created.trigger.name
    ));
    super::print_created(ctx, &plane, &created)
}

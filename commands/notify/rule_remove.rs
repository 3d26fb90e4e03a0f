//! `imx notify rule remove ID`.

use super::super::context::Context;
use super::super::error::CliError;

/// Remove a rule by id or unique id prefix.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  imx notify rule remove 01JB9R")]
pub struct RemoveArgs {
    /// The rule's id (any unique prefix).
    pub id: String,
}

pub async fn run(ctx: &Context, args: RemoveArgs) -> Result<(), CliError> {
    let removed = ctx
        .plane()?
        .notify_rule_remove(&ctx.principal(), &args.id)
        .await?;
    ctx.out().status(format!(
        "Removed rule {}.",
        imx::model::short_id(&removed.id)
    ));
    ctx.out().result(&removed)
}

//! `imx notify rule list`.

use super::super::context::Context;
use super::super::error::CliError;

/// List rules: what they fire on, for which workflow, to which channel, and where they came
/// from (SOURCE: `command` for `imx notify rule add`, `workflow` for a workflow file's
/// `notify:`, replaced when that file is applied).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  imx notify rule list\n  imx notify rule list -o json")]
pub struct ListArgs {}

pub async fn run(ctx: &Context, _args: ListArgs) -> Result<(), CliError> {
    let rules = ctx.plane()?.notify_rules(&ctx.principal()).await?;
    if rules.is_empty() && !ctx.out().is_machine() {
        ctx.out().status("No rules yet.");
        ctx.out()
            .hint("add one with: imx notify rule add --on failed --channel NAME");
        return Ok(());
    }
    ctx.out().list(&rules)
}

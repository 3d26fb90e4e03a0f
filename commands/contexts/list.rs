//! `imx context list`.

use imx::config::contexts::{Config, config_path};

use super::super::context::Context;
use super::super::error::CliError;
use super::ContextRow;

/// List contexts; `*` marks the current one.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  imx context list\n  imx context list -o name")]
pub struct ListArgs {}

pub fn run(ctx: &Context, _args: ListArgs) -> Result<(), CliError> {
    let config = Config::load(&config_path())?;
    if config.contexts.is_empty() && !ctx.out().is_machine() {
        ctx.out()
            .status("No contexts yet: commands use the default local store.");
        ctx.out()
            .hint("imx context add NAME --server URL  (or --store PATH)");
        return Ok(());
    }
    let rows: Vec<ContextRow> = config
        .contexts
        .iter()
        .map(|(name, entry)| {
            ContextRow::new(
                name.clone(),
                config.current.as_deref() == Some(name),
                entry.clone(),
            )
        })
        .collect();
    ctx.out().list(&rows)
}

//! `imx context remove NAME`.

use imx::config::contexts::{Config, config_path};

use super::super::context::Context;
use super::super::error::CliError;

/// Remove a context (the server or store itself is untouched).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  imx context remove old-prod")]
pub struct RemoveArgs {
    /// The context's name.
    #[arg(add = clap_complete::ArgValueCandidates::new(crate::commands::candidates::contexts))]
    pub name: String,
}

pub fn run(ctx: &Context, args: RemoveArgs) -> Result<(), CliError> {
    let path = config_path();
    let mut config = Config::load(&path)?;
    config.get(&args.name)?;
    config.contexts.remove(&args.name);
    let was_current = config.current.as_deref() == Some(args.name.as_str());
    if was_current {
        config.current = None;
    }
    config.save(&path)?;
    ctx.out().status(format!("Removed context {}.", args.name));
    if was_current {
        ctx.out()
            .hint("it was the current context; commands now use the default local store");
    }
    Ok(())
}

//! `imx context use NAME`.

use imx::config::contexts::{Config, config_path};

use super::super::context::Context;
use super::super::error::CliError;

/// Make a context the current one (commands use it unless --context, --server or --store say
/// otherwise).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  imx context use prod\n  imx --context laptop run list")]
pub struct UseArgs {
    /// The context's name.
    #[arg(add = clap_complete::ArgValueCandidates::new(crate::commands::candidates::contexts))]
    pub name: String,
}

pub fn run(ctx: &Context, args: UseArgs) -> Result<(), CliError> {
    let path = config_path();
    let mut config = Config::load(&path)?;
    config.get(&args.name)?;
    config.current = Some(args.name.clone());
    config.save(&path)?;
    ctx.out()
        .status(format!("Switched to context {}.", args.name));
    Ok(())
}

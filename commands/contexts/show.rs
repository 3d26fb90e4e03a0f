//! `imx context show [NAME]`.

use imx::config::contexts::{Config, config_path};

use super::super::context::Context;
use super::super::error::CliError;
use super::ContextRow;

/// Show a context: the current one, or NAME.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  imx context show\n  imx context show prod -o json")]
pub struct ShowArgs {
    /// The context's name [default: the current one].
    #[arg(add = clap_complete::ArgValueCandidates::new(crate::commands::candidates::contexts))]
    pub name: Option<String>,
}

pub fn run(ctx: &Context, args: ShowArgs) -> Result<(), CliError> {
    let config = Config::load(&config_path())?;
    let Some(name) = args.name.or_else(|| config.current.clone()) else {
        ctx.out()
            .status("No current context: commands use the default local store.");
        return Ok(());
    };
    let entry = config.get(&name)?.clone();
    let row = ContextRow::new(
        name.clone(),
        config.current.as_deref() == Some(name.as_str()),
        entry,
    );
    ctx.out().list(std::slice::from_ref(&row))
}

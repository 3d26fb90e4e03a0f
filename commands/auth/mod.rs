//! `imx auth ...`: where you are and who you act as (`status`), and which of several logins
//! to a server commands use (`switch`). `imx login` / `imx logout` add and remove logins.

pub mod status;
mod switch;

use super::context::Context;
use super::error::CliError;

/// The `auth` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum AuthCommand {
    /// Show the context, server or store, user, role, token expiry and where the token is kept.
    Status(status::StatusArgs),
    /// Make another login to the same server the active one.
    Switch(switch::SwitchArgs),
}

pub async fn run(ctx: &Context, cmd: AuthCommand) -> Result<(), CliError> {
    match cmd {
        AuthCommand::Status(args) => status::run(ctx, args).await,
        AuthCommand::Switch(args) => switch::run(ctx, args),
    }
}

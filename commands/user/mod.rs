//! `imx user ...`: create, list, show, change, disable, enable and delete users; set passwords;
//! clear login lockouts.

mod create;
mod delete;
mod list;
mod passwd;
mod show;
mod state;
mod unlock;
mod update;

use clap::Subcommand;

use super::context::Context;
use super::error::CliError;

pub use create::parse_role;

/// The user commands.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user (optionally with a password for `imx login`).
    Create(create::CreateArgs),
    /// List users.
    List(list::ListArgs),
    /// Show one user.
    Show(show::ShowArgs),
    /// Change a user's role.
    Update(update::UpdateArgs),
    /// Disable a user: their logins and tokens stop working.
    Disable(state::StateArgs),
    /// Enable a disabled user again.
    Enable(state::StateArgs),
    /// Delete a user and revoke their tokens.
    Delete(delete::DeleteArgs),
    /// Set a user's password (prompted without echo, or --password-stdin); your own needs
    /// your current password.
    Passwd(passwd::PasswdArgs),
    /// Clear a user's login lockouts, from every source (admins).
    Unlock(unlock::UnlockArgs),
}

pub async fn run(ctx: &Context, cmd: UserCommand) -> Result<(), CliError> {
    match cmd {
        UserCommand::Create(args) => create::run(ctx, args).await,
        UserCommand::List(args) => list::run(ctx, args).await,
        UserCommand::Show(args) => show::run(ctx, args).await,
        UserCommand::Update(args) => update::run(ctx, args).await,
        UserCommand::Disable(args) => state::run(ctx, args, true).await,
        UserCommand::Enable(args) => state::run(ctx, args, false).await,
        UserCommand::Delete(args) => delete::run(ctx, args).await,
        UserCommand::Passwd(args) => passwd::run(ctx, args).await,
        UserCommand::Unlock(args) => unlock::run(ctx, args).await,
    }
}

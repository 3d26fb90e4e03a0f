//! `imx completions SHELL`: shell completion scripts, generated from the clap definition.

use clap::CommandFactory;
use clap_complete::Shell;

use super::Cli;
use super::context::Context;
use super::error::CliError;

/// Print a completion script for SHELL to stdout.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  imx completions bash > ~/.local/share/bash-completion/completions/imx
  imx completions zsh > ~/.zfunc/_imx
  imx completions fish > ~/.config/fish/completions/imx.fish")]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: Shell,
}

pub fn run(ctx: &Context, args: CompletionsArgs) -> Result<(), CliError> {
    let script = generate(args.shell);
    ctx.out().data(&String::from_utf8_lossy(&script))
}

/// The completion script for one shell.
pub fn generate(shell: Shell) -> Vec<u8> {
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "imx", &mut buf);
    buf
}

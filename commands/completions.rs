//! `imx completions SHELL`: the shell's completion script. The script asks `imx` itself at each
//! TAB (`IMX_COMPLETE=SHELL imx -- WORDS...`, answered in [`super::candidates`]), so it
//! completes commands and flags as well as run ids, workflow, agent and context names, step ids
//! and flag values from the control plane the line would act on.

use clap_complete::Shell;
use clap_complete::env::{Bash, Elvish, EnvCompleter, Fish, Powershell, Zsh};

use super::candidates::VAR;
use super::context::Context;
use super::error::CliError;

/// Print a completion script for SHELL to stdout.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "The script runs `imx` (from PATH) at each TAB, so besides commands and flags it completes
run ids, workflow, agent and context names, a run's step ids and flag values, from the
control plane the line would act on (local or remote; nothing if it does not answer within a
second). Every shell listed completes this way; bash, zsh and fish are the ones tested.

Examples:
  imx completions bash > ~/.local/share/bash-completion/completions/imx
  imx completions zsh > ~/.zfunc/_imx
  imx completions fish > ~/.config/fish/completions/imx.fish"
)]
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
    let mut buf = Vec::new();
    let completer: &dyn EnvCompleter = match shell {
        Shell::Bash => &Bash,
        Shell::Zsh => &Zsh,
        Shell::Fish => &Fish,
        Shell::Elvish => &Elvish,
        _ => &Powershell,
    };
    // Writing to a Vec cannot fail.
    let _ = completer.write_registration(VAR, "imx", "imx", "imx", &mut buf);
    if shell == Shell::Zsh {
        return zsh_autoload(buf);
    }
    buf
}

/// clap's zsh script registers its function with `compdef` when sourced. Installed as `_imx`
/// in `$fpath`, it is instead autoloaded on the first TAB: then it must also complete that TAB
/// (as zsh's own completion files do), or the first TAB offers nothing.
fn zsh_autoload(script: Vec<u8>) -> Vec<u8> {
    let text = String::from_utf8_lossy(&script);
    let register = "compdef _clap_dynamic_completer_imx imx";
    let Some(at) = text.rfind(register) else {
        return script;
    };
    let mut out = text[..at].to_string();
    out.push_str(
        "if [ \"${funcstack[1]}\" = \"_imx\" ]; then\n    \
         _clap_dynamic_completer_imx \"$@\"\nelse\n    \
         compdef _clap_dynamic_completer_imx imx\nfi",
    );
    out.push_str(&text[at + register.len()..]);
    out.into_bytes()
}

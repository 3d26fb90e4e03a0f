//! `imx help [COMMAND...|TOPIC]`: help for a command, or a help topic such as `exit-codes`.

use clap::CommandFactory;

use super::Cli;
use super::context::Context;
use super::error::{CliError, exit_codes_text};

/// Topics beyond the commands' own help.
const TOPICS: &[(&str, &str)] = &[("exit-codes", "what each exit code of imx means")];

/// Show help for a command (`imx help run list`) or a topic (`imx help exit-codes`).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Topics:\n  exit-codes   what each exit code of imx means\n\n\
Examples:\n  imx help exit-codes\n  imx help run list"
)]
pub struct HelpArgs {
    /// A command path (e.g. `run list`) or a topic (`exit-codes`).
    #[arg(value_name = "COMMAND|TOPIC")]
    pub topic: Vec<String>,
}

pub fn run(ctx: &Context, args: HelpArgs) -> Result<(), CliError> {
    if args.topic.first().map(String::as_str) == Some("exit-codes") {
        return ctx.out().data(&exit_codes_text());
    }
    let mut cmd = Cli::command();
    cmd.build();
    let mut current = &mut cmd;
    for word in &args.topic {
        let names: Vec<String> = current
            .get_subcommands()
            .map(|s| s.get_name().to_string())
            .collect();
        match current.find_subcommand_mut(word) {
            Some(sub) => current = sub,
            None => {
                let topics = TOPICS
                    .iter()
                    .map(|(t, _)| *t)
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(CliError::usage(format!(
                    "no command or help topic {word:?} (commands: {}; topics: {topics})",
                    names.join(", ")
                ))
                .with_hint("imx --help lists every command"));
            }
        }
    }
    let mut help = current.render_long_help().to_string();
    if !help.ends_with('\n') {
        help.push('\n');
    }
    ctx.out().data(&help)
}

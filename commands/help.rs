//! `imx help [COMMAND...|TOPIC]`: help for a command, or a help topic such as `exit-codes`.

use clap::CommandFactory;

use super::Cli;
use super::context::Context;
use super::error::{CliError, exit_codes_text};

/// Topics beyond the commands' own help.
const TOPICS: &[(&str, &str)] = &[
    ("exit-codes", "what each exit code of imx means"),
    (
        "templates",
        "{{ ... }} in workflow files: values, shell quoting, | raw, IMX_* variables",
    ),
    (
        "output",
        "the -o formats, and the JSON conventions scripts rely on",
    ),
    (
        "workflow",
        "the workflow file format: every field, with an example",
    ),
    (
        "environment",
        "every IMX_* variable imx reads, and those each step gets",
    ),
    (
        "contexts",
        "contexts, logins, and the files where they are kept",
    ),
    (
        "secrets",
        "secrets: storing, scopes, permissions, {{ secrets.NAME }}, masking, rekey",
    ),
];

/// `imx help templates`.
pub const TEMPLATES: &str = r#"Templates in workflow files

A step's `run`, `env` values, `workdir` and `http` url, headers, body and json strings may use
{{ ... }} (minijinja, strict: an unknown variable is an error, checked by `workflow validate`):

  {{ params.NAME }}                the run's params
  {{ steps.ID.outputs.KEY }}       outputs of a step upstream of this one (its needs, theirs, ...)
  {{ steps.unit-tests.outputs.x }} ids with - work as written (or steps["unit-tests"])
  {{ run.id }}  {{ workflow.name }}  {{ workflow.version }}
  {{ matrix.NAME }}                in an instance of a `matrix:` step: its value of NAME
  {{ item }}  {{ item.KEY }}       in an instance of a `foreach:` step: its item of the list

Values are written as `imx run show` shows them: strings as they are, everything else as JSON
(true, false, 1, 1.0, [1,"a"]).

In `run:`, each value is quoted for the shell where it stands, so that no value (an upstream
output, a param) can ever run commands:

  echo {{ v }}             outside quotes: one word, 'single-quoted'
  echo "v={{ v }}"         inside "...": $ ` " \ escaped, the text of the string
  echo 'v={{ v }}'         inside '...': each ' closed, escaped and reopened
  cat <<EOF ... EOF        in a here-document: $ ` \ escaped (as is with <<'EOF'); a value
                           that would end the here-document early is an error
  $(( {{ n }} + 1 ))       inside $(( )): integers only
  # {{ v }}                in a comment: newlines become spaces

Refused when validating (no quoting is reliable there): a value inside backquotes `...` (use
$(...)), inside ${...} (assign it to a variable first), or right after a backslash. A value
passed on to another shell (ssh host "...", sh -c "...", eval) is quoted only for the step's
own shell: pass such values through the environment instead.

{{ x | raw }} inserts a value unquoted (string filters after it, such as upper or trim, keep it
so; `~` with other text makes it an ordinary, quoted value again); `workflow validate` and
`apply` warn, with file:line:col, wherever it is used. `| safe` and `| escape` do not exist.

Every step also gets the params and its upstream outputs as environment variables, so scripts
need no interpolation at all:

  IMX_PARAM_<NAME>        e.g. IMX_PARAM_DRY_RUN for param dry_run
  IMX_OUT_<STEP>_<KEY>    e.g. IMX_OUT_UNIT_TESTS_PASSED for output passed of step unit-tests

Names are upper-cased, every character but a letter or digit becomes _. When two names collide
the first (params, then steps by id, then keys, sorted) keeps it; values over 64 KiB, with a NUL
byte, or past 1 MiB in all are not exported; the step's own `env:` wins. Each value left out is
named in the step's log.
"#;

/// Show help for a command (`imx help run list`) or a topic (`imx help exit-codes`).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Topics:\n  exit-codes   what each exit code of imx means\n  \
templates    {{ ... }} in workflow files: values, shell quoting, | raw, IMX_* variables\n  \
output       the -o formats, and the JSON conventions scripts rely on\n  \
workflow     the workflow file format: every field, with an example\n  \
environment  every IMX_* variable imx reads, and those each step gets\n  \
contexts     contexts, logins, and the files where they are kept\n  \
secrets      secrets: storing, scopes, permissions, {{ secrets.NAME }}, masking, rekey\n\n\
Examples:\n  imx help exit-codes\n  imx help templates\n  imx help output\n  imx help workflow\n  \
imx help environment\n  imx help contexts\n  imx help secrets\n  imx help run list"
)]
pub struct HelpArgs {
    /// A command path (e.g. `run list`) or a topic (`exit-codes`, `templates`, `output`,
    /// `workflow`, `environment`, `contexts`, `secrets`).
    #[arg(value_name = "COMMAND|TOPIC")]
    pub topic: Vec<String>,
}

pub fn run(ctx: &Context, args: HelpArgs) -> Result<(), CliError> {
    match args.topic.first().map(String::as_str) {
        Some("exit-codes") => return ctx.out().data(&exit_codes_text()),
        Some("templates") => return ctx.out().data(TEMPLATES),
        Some("output") => return ctx.out().data(super::output::OUTPUT_HELP),
        Some("workflow") if args.topic.len() == 1 => {
            return ctx.out().data(super::help_topics::WORKFLOW);
        }
        Some("environment") => return ctx.out().data(&super::help_topics::environment_text()),
        Some("contexts") => return ctx.out().data(&super::help_topics::contexts_text()),
        Some("secrets") if args.topic.len() == 1 => {
            return ctx.out().data(super::help_topics::SECRETS);
        }
        _ => {}
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
    if args.topic.is_empty() {
        help.push_str("\nHelp topics (imx help TOPIC):\n");
        for (topic, what) in TOPICS {
            help.push_str(&format!("  {topic:<12} {what}\n"));
        }
    }
    ctx.out().data(&help)
}

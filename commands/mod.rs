//! The `imx` command line: clap definitions, dispatch, and the exit-code edge.
//!
//! Layout: one file per leaf command (`commands/<group>/<verb>.rs`: an `Args` struct and one
//! `run` function); each group's `mod.rs` dispatches with a `match`. Everything the user sees goes
//! through [`output::Printer`]; every failure is a [`error::CliError`] whose exit code is chosen
//! in `error.rs`. The engine is reached only through `imx::...`.

mod agent;
mod artifact;
mod audit;
mod auth;
mod backup;
mod candidates;
mod completions;
mod context;
mod contexts;
mod dashboard;
mod demo;
mod error;
mod help;
mod help_topics;
mod init;
mod login;
mod logout;
mod man;
mod notify;
mod output;
mod parse;
mod password;
mod run;
mod schedule;
mod secret;
mod server;
mod status;
mod store;
mod token;
mod trigger;
mod user;
mod whoami;
mod workflow;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};
use clap_complete::ArgValueCandidates;

use context::Context;
use error::{CliError, Exit};
use output::{Format, Printer};

const EXAMPLES: &str = "\
Examples:
  imx init                                    # create the local store
  imx workflow apply -f examples/workflows/   # apply every workflow in a folder
  imx agent run --labels os=linux &           # start a worker
  imx workflow run flaky --wait               # start a run and follow it
  imx run list --status failed --since 1h     # recent failures
  imx run logs 01HZX -f                       # follow a run's output
  imx user create carol --role operator       # add a user (then: imx token create --user carol)
  imx backup create && imx backup verify 01J  # back up the store and prove it restores
  imx audit verify                            # check the audit trail's hash chain
  imx help exit-codes                         # what each exit code means";

/// imx — the control plane of the Infinity Matrix: agents, workflows and runs from one binary.
#[derive(Debug, Parser)]
#[command(
    name = "imx",
    version,
    about = "imx — the control plane of the Infinity Matrix: agents, workflows and runs",
    long_about = "imx manages agents (worker processes), workflows (DAGs of steps) and their runs \
                  against a local embedded store (the default: nothing to install or start).",
    after_help = EXAMPLES,
    after_long_help = long_after_help(),
    arg_required_else_help = true,
    disable_help_subcommand = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub globals: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Flags accepted by every command. They are listed under their own heading, after each
/// command's own flags.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// The local store (a SQLite file) [default: ~/.local/share/imx/imx.db]
    #[arg(
        long,
        global = true,
        env = "IMX_STORE",
        hide_env_values = true,
        value_name = "PATH"
    )]
    pub store: Option<PathBuf>,

    /// A remote control plane: an `imx server` URL (token from IMX_TOKEN or `imx login`); a
    /// cluster's replicas as URL1,URL2 (a request that cannot reach one moves to the next).
    #[arg(long, global = true, env = "IMX_SERVER", value_name = "URL")]
    pub server: Option<String>,

    /// Allow a plain http:// server that is not on this machine: tokens and passwords cross the
    /// network in clear (a warning each time). Loopback needs no flag.
    #[arg(long, global = true)]
    pub insecure: bool,

    /// Use a named context (see `imx context list`) instead of the current one.
    #[arg(long, global = true, env = "IMX_CONTEXT", value_name = "NAME",
          add = ArgValueCandidates::new(candidates::contexts))]
    pub context: Option<String>,

    /// Output format for data on stdout; `template=TEXT` picks fields (see `imx help output`).
    #[arg(
        short,
        long,
        global = true,
        value_parser = output::FormatParser,
        default_value = "table",
        value_name = "FORMAT"
    )]
    pub output: Format,

    /// Print only data and errors: no status lines, hints or progress.
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// Say more (repeat for even more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// No colour (also when NO_COLOR is set or output is not a terminal).
    #[arg(long, global = true)]
    pub no_color: bool,

    /// Answer yes to confirmation prompts (needed for destructive commands in scripts).
    #[arg(short = 'y', long, global = true)]
    pub yes: bool,
}

/// The command groups.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the local store (idempotent).
    Init(init::InitArgs),
    /// Show the control plane's state: agents, runs and steps by state.
    Status(status::StatusArgs),
    /// Apply, inspect, validate, delete and run workflows.
    #[command(
        subcommand,
        after_help = "Examples:\n  imx workflow apply -f deploy.yaml\n  imx workflow list\n  imx workflow diff deploy\n  imx workflow run deploy --wait"
    )]
    Workflow(workflow::WorkflowCommand),
    /// List, inspect, follow, cancel and retry runs.
    #[command(
        subcommand,
        after_help = "Examples:\n  imx run list --status failed --since 1h\n  imx run list -o name"
    )]
    Run(run::RunCommand),
    /// Run workflows by themselves: cron or every, time zones, catch-up and overlap policies.
    #[command(
        subcommand,
        after_help = "Examples:\n  imx schedule create nightly-build --workflow deploy --cron '0 3 * * *' --timezone Europe/Berlin\n  imx schedule list\n  imx schedule show nightly"
    )]
    Schedule(schedule::ScheduleCommand),
    /// Run a worker, and list, drain, resume or remove agents.
    #[command(
        subcommand,
        after_help = "Examples:\n  imx agent list\n  imx agent show build-01\n  imx agent drain build-01"
    )]
    Agent(agent::AgentCommand),
    /// Create, list, change, disable and delete users; set passwords.
    #[command(
        subcommand,
        after_help = "Examples:\n  imx user list\n  imx user show alice\n  imx user create carol --role operator"
    )]
    User(user::UserCommand),
    /// Create, list and revoke API tokens.
    #[command(
        subcommand,
        after_help = "Examples:\n  imx token list\n  imx token create --user alice"
    )]
    Token(token::TokenCommand),
    /// Start runs from signed webhooks or when other runs end.
    #[command(
        subcommand,
        after_help = "Examples:\n  imx trigger create release-hook --workflow deploy\n  imx trigger create deploy-after-build --workflow deploy --after build\n  imx trigger list"
    )]
    Trigger(trigger::TriggerCommand),
    /// Workflow secrets: {{ secrets.NAME }} in env, http headers and bodies, and run.
    #[command(
        subcommand,
        after_help = "Examples:\n  pass show deploy/token | imx secret set DEPLOY_TOKEN\n  imx secret list\n  imx secret delete DEPLOY_TOKEN"
    )]
    Secret(secret::SecretCommand),
    /// Step artifacts: download one, prune old ones (`imx run artifacts RUN` lists a run's).
    #[command(
        subcommand,
        after_help = "Examples:\n  imx run artifacts 01HZX4\n  imx artifact get 01HZX4 dist/app-1.4.2.tar.gz\n  imx artifact prune --keep 30d --dry-run"
    )]
    Artifact(artifact::ArtifactCommand),
    /// Notifications: channels (webhook, Slack, email), rules, deliveries.
    #[command(
        subcommand,
        after_help = "Examples:\n  pass show ops | imx notify channel add ops --webhook https://hooks.example/imx --secret-stdin\n  imx notify rule add --on failed --channel ops\n  imx notify deliveries"
    )]
    Notify(notify::NotifyCommand),
    /// Log in to a control plane and keep the token (OS keyring, or a 0600 file).
    Login(login::LoginArgs),
    /// Revoke and forget the token kept for a control plane.
    Logout(logout::LogoutArgs),
    /// Show who you act as, and where (the same as `imx auth status`).
    Whoami(whoami::WhoamiArgs),
    /// Show your login (context, server, user, role, token expiry) and switch between logins.
    #[command(subcommand, after_help = "Examples:\n  imx auth status")]
    Auth(auth::AuthCommand),
    /// Name local stores and remote servers, and switch between them.
    #[command(
        subcommand,
        name = "context",
        after_help = "Examples:\n  imx context list\n  imx context show\n  imx context use prod"
    )]
    Context(contexts::ContextCommand),
    /// Serve this store's control plane over HTTP for remote CLIs and agents.
    Server(Box<server::ServerArgs>),
    /// Watch agents, runs, workflows and the audit trail live in the terminal.
    Dashboard(dashboard::DashboardArgs),
    /// Take, list, verify, restore and prune backups of the store.
    #[command(
        subcommand,
        after_help = "Examples:\n  imx backup create\n  imx backup list"
    )]
    Backup(backup::BackupCommand),
    /// Copy a whole store into another: SQLite to PostgreSQL and back.
    #[command(
        subcommand,
        after_help = "Examples:\n  imx store copy --from ~/.local/share/imx/imx.db --to /tmp/imx-copy.db"
    )]
    Store(store::StoreCommand),
    /// Read, verify, checkpoint, report on, export and prune the audit trail.
    #[command(
        subcommand,
        after_help = "Examples:\n  imx audit list --action workflow.apply\n  imx audit verify"
    )]
    Audit(audit::AuditCommand),
    /// Print shell completions to stdout.
    Completions(completions::CompletionsArgs),
    /// Generate man pages.
    Man(man::ManArgs),
    /// Show help for a command, or a help topic (exit-codes, templates, output, workflow,
    /// environment, contexts).
    Help(help::HelpArgs),
    /// Try imx in one command: a store, agents, example workflows and their runs.
    Demo(demo::DemoArgs),
}

fn long_after_help() -> String {
    format!(
        "{EXAMPLES}\n\n{}\n{}",
        error::exit_codes_text(),
        output::OUTPUT_HELP
    )
}

/// Parse the command line, run the command, print any error once, exit with its code.
pub fn main() -> ExitCode {
    candidates::complete_if_asked();
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let no_color = args.iter().any(|a| a == "--no-color")
        || std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let mut cmd = Cli::command();
    if no_color {
        cmd = cmd.color(clap::ColorChoice::Never);
    }
    let cli = match cmd
        .try_get_matches_from(args)
        .and_then(|m| <Cli as clap::FromArgMatches>::from_arg_matches(&m))
    {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return ExitCode::from(u8::try_from(err.exit_code()).unwrap_or(Exit::Usage.code()));
        }
    };
    let printer = Printer::new(
        cli.globals.output,
        cli.globals.quiet,
        cli.globals.verbose,
        cli.globals.no_color,
    );
    let ctx = Context::new(cli.globals.clone(), printer);
    let result = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(dispatch(&ctx, cli.command)),
        Err(e) => Err(CliError::other(format!(
            "cannot start the async runtime: {e}"
        ))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            ctx.out().error(&err);
            ExitCode::from(err.exit.code())
        }
    }
}

async fn dispatch(ctx: &Context, command: Command) -> Result<(), CliError> {
    match command {
        Command::Init(args) => init::run(ctx, args).await,
        Command::Status(args) => status::run(ctx, args).await,
        Command::Workflow(cmd) => workflow::run(ctx, cmd).await,
        Command::Run(cmd) => run::run(ctx, cmd).await,
        Command::Agent(cmd) => agent::run(ctx, cmd).await,
        Command::Schedule(cmd) => schedule::run(ctx, cmd).await,
        Command::User(cmd) => user::run(ctx, cmd).await,
        Command::Token(cmd) => token::run(ctx, cmd).await,
        Command::Trigger(cmd) => trigger::run(ctx, cmd).await,
        Command::Secret(cmd) => secret::run(ctx, cmd).await,
        Command::Artifact(cmd) => artifact::run(ctx, cmd).await,
        Command::Notify(cmd) => notify::run(ctx, cmd).await,
        Command::Login(args) => login::run(ctx, args).await,
        Command::Logout(args) => logout::run(ctx, args).await,
        Command::Whoami(args) => whoami::run(ctx, args).await,
        Command::Auth(cmd) => auth::run(ctx, cmd).await,
        Command::Context(cmd) => contexts::run(ctx, cmd),
        Command::Server(args) => server::run(ctx, *args).await,
        Command::Dashboard(args) => dashboard::run(ctx, args).await,
        Command::Backup(cmd) => backup::run(ctx, cmd).await,
        Command::Store(cmd) => store::run(ctx, cmd).await,
        Command::Audit(cmd) => audit::run(ctx, cmd).await,
        Command::Completions(args) => completions::run(ctx, args),
        Command::Man(args) => man::run(ctx, args),
        Command::Help(args) => help::run(ctx, args),
        Command::Demo(args) => demo::run(ctx, args).await,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}

//! Dynamic shell completion: what `imx ... <TAB>` offers beyond the command's own words — run
//! ids, workflow, agent and context names, the step ids of the run named on the line, and enum
//! values — read from the control plane the line would act on (the same `--context`,
//! `--server`, `--store` and environment resolution as the command itself).
//!
//! The scripts `imx completions SHELL` prints call `IMX_COMPLETE=SHELL imx -- WORDS...` at
//! each TAB; [`complete_if_asked`] answers that and exits before anything else runs. A
//! completion never hangs the shell or writes to the terminal: the control plane is asked with
//! a deadline ([`DEADLINE`]), stderr goes to /dev/null, and any error means no candidates.

use std::ffi::OsString;
use std::future::Future;
use std::sync::OnceLock;
use std::time::Duration;

use clap::{CommandFactory, FromArgMatches};
use clap_complete::engine::CompletionCandidate;

use imx::auth::Principal;
use imx::control::Plane;

use super::context::Context;
use super::output::{Format, Printer};
use super::{Cli, GlobalArgs};

/// The environment variable that turns a run of `imx` into a completion request.
pub const VAR: &str = "IMX_COMPLETE";

/// The longest a completion waits for the control plane before offering nothing.
const DEADLINE: Duration = Duration::from_secs(1);

/// How many recent runs are offered for a run id.
const RECENT_RUNS: u32 = 200;

/// The words of the line being completed, before the one under the cursor.
static LINE: OnceLock<Vec<OsString>> = OnceLock::new();

/// Answer a completion request (when [`VAR`] is set) and exit; otherwise return at once.
pub fn complete_if_asked() {
    if std::env::var_os(VAR).is_none_or(|v| v.is_empty() || v == "0") {
        return;
    }
    silence_stderr();
    let args: Vec<OsString> = std::env::args_os().collect();
    let _ = LINE.set(words_before_cursor(&args));
    let cwd = std::env::current_dir().ok();
    let _ = clap_complete::CompleteEnv::with_factory(Cli::command)
        .var(VAR)
        .bin("imx")
        .completer("imx")
        .try_complete(args, cwd.as_deref());
    std::process::exit(0);
}

/// Errors of a completion must not reach the terminal the user is typing in.
fn silence_stderr() {
    if let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") {
        let _ = nix::unistd::dup2_stderr(null);
    }
}

/// The line's words (after `--`, starting with `imx`) before the one being completed: bash and
/// zsh say which word that is (`_CLAP_COMPLETE_INDEX`); fish and the others complete the last.
fn words_before_cursor(args: &[OsString]) -> Vec<OsString> {
    let Some(dash) = args.iter().position(|a| a == "--") else {
        return Vec::new();
    };
    let words = &args[dash + 1..];
    let index = std::env::var("_CLAP_COMPLETE_INDEX")
        .ok()
        .and_then(|i| i.parse::<usize>().ok())
        .unwrap_or(words.len().saturating_sub(1));
    words[..index.min(words.len())].to_vec()
}

/// The line parsed as far as it goes: the matches of the innermost subcommand named.
fn line_matches() -> Option<clap::ArgMatches> {
    let words = LINE.get()?;
    let mut matches = Cli::command()
        .ignore_errors(true)
        .try_get_matches_from(words)
        .ok()?;
    while let Some((_, sub)) = matches.subcommand() {
        matches = sub.clone();
    }
    Some(matches)
}

/// A value of the innermost subcommand's argument `id` on the line.
fn line_value(id: &str) -> Option<String> {
    line_matches()?
        .try_get_one::<String>(id)
        .ok()
        .flatten()
        .cloned()
}

/// Ask the control plane the line would act on, within [`DEADLINE`]; `None` on any error.
fn ask<T, F, Fut>(question: F) -> Option<T>
where
    T: Send + 'static,
    F: FnOnce(Plane, Principal) -> Fut + Send + 'static,
    Fut: Future<Output = imx::Result<T>>,
{
    let globals = line_matches()
        .and_then(|m| GlobalArgs::from_arg_matches(&m).ok())
        .or_else(|| {
            let m = Cli::command()
                .ignore_errors(true)
                .try_get_matches_from(["imx"])
                .ok()?;
            GlobalArgs::from_arg_matches(&m).ok()
        })?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let answer = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .ok()
            .and_then(|rt| {
                rt.block_on(async move {
                    let ctx = Context::new(globals, Printer::new(Format::Table, true, 0, true));
                    let plane = ctx.plane().ok()?;
                    question(plane, ctx.principal()).await.ok()
                })
            });
        let _ = tx.send(answer);
    });
    rx.recv_timeout(DEADLINE).ok().flatten()
}

fn candidate(value: impl Into<OsString>, help: String) -> CompletionCandidate {
    CompletionCandidate::new(value).help(Some(help.into()))
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Recent run ids, newest first; help: workflow, status and age.
pub fn runs() -> Vec<CompletionCandidate> {
    let filter = imx::model::RunFilter {
        limit: Some(RECENT_RUNS),
        ..Default::default()
    };
    let Some(page) = ask(move |plane, who| async move { plane.list_runs(&who, filter).await })
    else {
        return Vec::new();
    };
    let now = now_ms();
    page.items
        .into_iter()
        .map(|r| {
            let help = format!(
                "{} {} {}",
                r.workflow,
                r.status.as_str(),
                super::output::ago(now, r.created_at)
            );
            candidate(r.id, help)
        })
        .collect()
}

/// Workflow names; help: the description, else the version.
pub fn workflows() -> Vec<CompletionCandidate> {
    let Some(list) = ask(|plane, who| async move { plane.list_workflows(&who).await }) else {
        return Vec::new();
    };
    list.into_iter()
        .map(|w| {
            let help = w
                .description
                .filter(|d| !d.trim().is_empty())
                .unwrap_or_else(|| format!("version {}", w.version));
            candidate(w.name, help)
        })
        .collect()
}

/// Trigger names; help: the workflow each starts.
pub fn triggers() -> Vec<CompletionCandidate> {
    let Some(list) = ask(|plane, who| async move { plane.list_triggers(&who).await }) else {
        return Vec::new();
    };
    list.into_iter()
        .map(|t| candidate(t.name, format!("{} → {}", t.kind, t.workflow)))
        .collect()
}

/// Agent names; help: the state.
pub fn agents() -> Vec<CompletionCandidate> {
    let Some(list) = ask(|plane, who| async move { plane.list_agents(&who).await }) else {
        return Vec::new();
    };
    list.into_iter()
        .map(|a| candidate(a.name, a.state.as_str().to_string()))
        .collect()
}

/// The step ids of the run named on the line (`imx run logs RUN --step <TAB>`); help: status.
pub fn steps() -> Vec<CompletionCandidate> {
    let Some(id) = line_value("id") else {
        return Vec::new();
    };
    let Some(run) = ask(move |plane, who| async move { plane.get_run(&who, &id).await }) else {
        return Vec::new();
    };
    run.steps
        .into_iter()
        .map(|s| candidate(s.step_id, s.status.as_str().to_string()))
        .collect()
}

/// Context names from the config file; help: where each points.
pub fn contexts() -> Vec<CompletionCandidate> {
    use imx::config::contexts::{Config, config_path};
    let Ok(config) = Config::load(&config_path()) else {
        return Vec::new();
    };
    config
        .contexts
        .into_iter()
        .map(|(name, entry)| {
            let place = match (&entry.server, &entry.store) {
                (Some(server), _) => server.clone(),
                (None, Some(store)) => store.display().to_string(),
                (None, None) => String::new(),
            };
            let help = if config.current.as_deref() == Some(name.as_str()) {
                format!("{place} (current)")
            } else {
                place
            };
            candidate(name, help)
        })
        .collect()
}

/// Run states, for `--status`.
pub fn run_statuses() -> Vec<CompletionCandidate> {
    imx::model::RunStatus::ALL
        .iter()
        .map(|s| s.as_str())
        .chain(["waiting"])
        .map(CompletionCandidate::new)
        .collect()
}

/// Agent states, for `agent list --status`.
pub fn agent_states() -> Vec<CompletionCandidate> {
    imx::model::AgentState::ALL
        .iter()
        .map(|s| CompletionCandidate::new(s.as_str()))
        .collect()
}

/// Roles, for `--role`.
pub fn roles() -> Vec<CompletionCandidate> {
    imx::auth::Role::ALL
        .iter()
        .map(|r| CompletionCandidate::new(r.as_str()))
        .collect()
}

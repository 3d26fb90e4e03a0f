//! What starting a run takes from the command line, shared by `imx workflow run` and
//! `imx run rerun`: params (`-p`, `--params-file`), labels (`-l`), the run's timeout and the
//! wait flags; and what both print once the run has started (its id, its queue place, agents
//! missing for its steps) and how they follow it with `--wait`.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;

use imx::control::Plane;
use imx::model::{Run, WaitReason};

use super::super::context::Context;
use super::super::error::CliError;
use super::super::output::Format;
use super::super::parse;
use super::super::run::follow;

/// Params and labels of a new run.
#[derive(Debug, Clone, clap::Args)]
pub struct InputArgs {
    /// A parameter, KEY=VALUE (repeatable); typed and checked against the workflow's params.
    /// Wins over the same key in --params-file.
    #[arg(short = 'p', long = "param", value_name = "KEY=VALUE", value_parser = parse::key_value)]
    pub params: Vec<(String, String)>,

    /// Params from a YAML or JSON file: a mapping of param names to values, typed as -p
    /// values are (`-` reads stdin). Quote text that looks like a number (`version: "1.10"`).
    #[arg(long, value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    pub params_file: Option<PathBuf>,

    /// A label, KEY=VALUE (repeatable), to find the run by (`imx run list -l KEY=VALUE`). Keys:
    /// letters, digits, '.', '_', '-', '/' (at most 63); values: no spaces or commas (at most
    /// 128); at most 32 labels.
    #[arg(short = 'l', long = "label", value_name = "KEY=VALUE", value_parser = parse::label)]
    pub labels: Vec<(String, String)>,
}

/// The run's timeout and how long to wait for it.
#[derive(Debug, Clone, clap::Args)]
pub struct WaitArgs {
    /// Follow the run until it ends, with live progress; exit with its outcome.
    #[arg(short, long)]
    pub wait: bool,

    /// The run's deadline (overrides the workflow's timeout): when it passes, the run is timed
    /// out and its steps are stopped, e.g. 30s, 10m, 1h.
    #[arg(long, value_name = "DURATION", value_parser = parse::duration)]
    pub timeout: Option<Duration>,

    /// Follow the run (implies --wait), but give up waiting after this long: exit 13, and the
    /// run goes on.
    #[arg(long, value_name = "DURATION", value_parser = parse::duration)]
    pub wait_timeout: Option<Duration>,
}

impl InputArgs {
    /// The labels given, each key once.
    pub fn labels(&self) -> Result<BTreeMap<String, String>, CliError> {
        label_map(&self.labels)
    }

    /// The params given: the params file's, then each -p (which wins). The file is checked
    /// against `workflow` at `version` (none: the latest), so its mistakes are reported with
    /// its name and line.
    pub async fn params(
        &self,
        ctx: &Context,
        plane: &Plane,
        workflow: &str,
        version: Option<u32>,
    ) -> Result<BTreeMap<String, String>, CliError> {
        let mut given = BTreeMap::new();
        for (k, v) in &self.params {
            if given.insert(k.clone(), v.clone()).is_some() {
                return Err(CliError::usage(format!("parameter {k:?} is given twice")));
            }
        }
        let Some(path) = &self.params_file else {
            return Ok(given);
        };
        let (name, source) = read_params_file(path)?;
        let file = imx::spec::parse_params_file(&name, &source)?;
        let wf = plane
            .get_workflow(&ctx.principal(), workflow, version)
            .await?;
        let overridden: Vec<&str> = given.keys().map(String::as_str).collect();
        file.check(&wf.spec, &overridden)?;
        let mut params = file.values();
        params.extend(given);
        Ok(params)
    }
}

/// A params file's name for messages and its text (`-`: stdin). A file that cannot be read is
/// the caller's input: exit 2.
fn read_params_file(path: &std::path::Path) -> Result<(String, String), CliError> {
    if path == std::path::Path::new("-") {
        let mut source = String::new();
        std::io::stdin()
            .read_to_string(&mut source)
            .map_err(|e| CliError::usage(format!("cannot read params from stdin: {e}")))?;
        return Ok(("<stdin>".into(), source));
    }
    let name = path.display().to_string();
    let source = std::fs::read_to_string(path)
        .map_err(|e| CliError::usage(format!("params file {name}: cannot read it: {e}")))?;
    Ok((name, source))
}

/// Print a started run (its id; `-o json`: the run) and what keeps it waiting; with --wait,
/// follow it and exit with its outcome. `what` says what happened ("Started").
pub async fn started(
    ctx: &Context,
    plane: &Plane,
    run: &Run,
    wait: &WaitArgs,
    what: &str,
) -> Result<(), CliError> {
    let waiting = wait.wait || wait.wait_timeout.is_some();
    match ctx.out().format() {
        Format::Table | Format::Wide | Format::Name => ctx.out().line(&run.id)?,
        _ if !waiting => ctx.out().detail(run)?,
        _ => {}
    }
    let of = match &run.rerun_of {
        Some(old) => format!(" (a rerun of {})", imx::model::short_id(old)),
        None => String::new(),
    };
    ctx.out().status(format!(
        "{what} run {} of {} v{}{of}.",
        imx::model::short_id(&run.id),
        run.workflow,
        run.workflow_version
    ));
    let short = |id: &str| imx::model::short_id(id).to_string();
    if let Some(queue) = crate::commands::run::list::queue_text(run, &short) {
        ctx.out().status(format!("Queued: {queue}."));
    } else if run.status.is_terminal()
        && let Some(err) = &run.error
    {
        ctx.out().status(format!("Run {}: {err}", run.status));
    }
    warn_unplaceable(ctx, plane, &run.id).await?;
    if !waiting {
        ctx.out().hint(format!(
            "follow it with: imx run watch {}",
            imx::model::short_id(&run.id)
        ));
        return Ok(());
    }
    let detail = follow::follow(ctx, plane, &run.id, wait.wait_timeout).await?;
    if ctx.out().is_machine() && ctx.out().format() != Format::Name {
        ctx.out().detail(&detail)?;
    }
    follow::outcome(ctx, plane, &detail).await
}

/// Warn when a step of the new run cannot start because no online agent could take it (none
/// online, or none with its labels): otherwise it would wait silently until the run times out.
/// The control plane says why (`RunDetail::waiting`); busy agents and backoffs are no warning.
/// An advice, not an error: `-q` (only data and errors) silences it.
async fn warn_unplaceable(ctx: &Context, plane: &Plane, id: &str) -> Result<(), CliError> {
    if ctx.out().quiet() {
        return Ok(());
    }
    let detail = plane.get_run(&ctx.principal(), id).await?;
    for w in &detail.waiting {
        if matches!(w.reason, WaitReason::NoAgent | WaitReason::NoMatch) {
            ctx.out()
                .warn(format!("step {} cannot start: {}", w.step_id, w.message));
        }
    }
    Ok(())
}

/// Labels given as repeated `-l KEY=VALUE` (each checked by [`parse::label`]): each key once,
/// at most `model::labels::MAX_LABELS`. Shared by every command that takes `-l` for runs it
/// starts (`workflow run`, `run rerun`, `schedule create`, `trigger create`).
pub fn label_map(pairs: &[(String, String)]) -> Result<BTreeMap<String, String>, CliError> {
    let mut out = BTreeMap::new();
    for (k, v) in pairs {
        if out.insert(k.clone(), v.clone()).is_some() {
            return Err(CliError::usage(format!("label {k:?} is given twice")));
        }
    }
    if out.len() > imx::model::labels::MAX_LABELS {
        return Err(CliError::usage(format!(
            "a run may have at most {} labels; got {}",
            imx::model::labels::MAX_LABELS,
            out.len()
        )));
    }
    Ok(out)
}

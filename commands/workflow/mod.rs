//! `imx workflow ...`: apply, list, show, diff, validate, delete and run workflows.

mod apply;
mod delete;
mod diff;
mod list;
mod run;
pub mod run_input;
mod show;
mod snippet;
mod source;
mod validate;

use std::io::Read;
use std::path::{Path, PathBuf};

use clap::Subcommand;
use imx::model::WorkflowSpec;

use super::context::Context;
use super::error::CliError;

/// The workflow commands.
#[derive(Debug, Subcommand)]
pub enum WorkflowCommand {
    /// Create or update workflows from files (a new version when a file changed).
    Apply(apply::ApplyArgs),
    /// List workflows (latest versions).
    List(list::ListArgs),
    /// Show a workflow: its params and steps.
    Show(show::ShowArgs),
    /// Show what changed between two versions (a unified diff of their files).
    Diff(diff::DiffArgs),
    /// Check workflow files without a store; reports every problem as file:line:col.
    Validate(validate::ValidateArgs),
    /// Delete a workflow and all its versions (past runs keep their history).
    Delete(delete::DeleteArgs),
    /// Start a run of a workflow, optionally waiting for it to end.
    Run(run::RunArgs),
}

pub async fn run(ctx: &Context, cmd: WorkflowCommand) -> Result<(), CliError> {
    match cmd {
        WorkflowCommand::Apply(args) => apply::run(ctx, args).await,
        WorkflowCommand::List(args) => list::run(ctx, args).await,
        WorkflowCommand::Show(args) => show::run(ctx, args).await,
        WorkflowCommand::Diff(args) => diff::run(ctx, args).await,
        WorkflowCommand::Validate(args) => validate::run(ctx, args),
        WorkflowCommand::Delete(args) => delete::run(ctx, args).await,
        WorkflowCommand::Run(args) => run::run(ctx, args).await,
    }
}

/// Parse and validate workflow files and folders (`-` reads stdin). Every file is read; all
/// problems are reported together (exit 2); warnings about valid files (`| raw` in a template)
/// are printed on stderr.
pub fn load_specs(
    ctx: &Context,
    paths: &[PathBuf],
) -> Result<Vec<(String, WorkflowSpec)>, CliError> {
    let mut specs = Vec::new();
    let mut problems: Vec<CliError> = Vec::new();
    let mut warnings = Vec::new();
    for path in paths {
        match load_one(path) {
            Ok((found, w)) => {
                specs.extend(found);
                warnings.extend(w);
            }
            Err(e) => problems.push(e),
        }
    }
    for w in &warnings {
        ctx.out().warn(w);
    }
    if problems.len() == 1 {
        // A lone problem keeps its hint ("did you mean ...?") on its own line.
        return Err(problems.remove(0));
    }
    if !problems.is_empty() {
        let lines: Vec<String> = problems
            .into_iter()
            .map(|e| match e.hint {
                Some(h) => format!("{} ({h})", e.message),
                None => e.message,
            })
            .collect();
        return Err(CliError::usage(lines.join("\n")));
    }
    if specs.is_empty() {
        return Err(CliError::usage(format!(
            "no workflow files (*.yaml, *.yml, *.json) in {}",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok(specs)
}

type Loaded = (Vec<(String, WorkflowSpec)>, Vec<String>);

fn load_one(path: &Path) -> Result<Loaded, CliError> {
    if path == Path::new("-") {
        let mut source = String::new();
        std::io::stdin()
            .read_to_string(&mut source)
            .map_err(|e| CliError::usage(format!("cannot read stdin: {e}")))?;
        let (spec, warnings) =
            imx::spec::parse_str_with_warnings(&source, "<stdin>").map_err(|e| {
                let mut err = CliError::from(e);
                err.message =
                    snippet::annotate(&err.message, &|f| (f == "<stdin>").then(|| source.clone()));
                err
            })?;
        return Ok((vec![("-".into(), spec)], warnings));
    }
    if !path.exists() {
        return Err(CliError::usage(format!(
            "{}: no such file or directory",
            path.display()
        )));
    }
    let (loaded, warnings) = imx::spec::load_path_with_warnings(path).map_err(|e| {
        // Unreadable files are the caller's input too: report them as invalid input.
        let mut err = CliError::from(e);
        if err.exit == super::error::Exit::Error {
            err.exit = super::error::Exit::Usage;
        }
        err.message = snippet::annotate(&err.message, &|f| std::fs::read_to_string(f).ok());
        err
    })?;
    let specs = loaded
        .into_iter()
        .map(|(p, spec)| (p.display().to_string(), spec))
        .collect();
    Ok((specs, warnings))
}

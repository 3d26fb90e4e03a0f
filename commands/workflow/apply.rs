//! `imx workflow apply -f FILE|DIR [--dry-run]`.

use std::path::PathBuf;

use imx::control::{ApplyAction, ApplyOutcome};

use imx::control::Plane;
use imx::model::WorkflowSpec;

use super::super::context::Context;
use super::super::error::CliError;
use super::super::output::{Cells, Row};
use super::source;

/// Create or update workflows from files or folders. An unchanged file keeps its version; each
/// new version keeps the file it was applied from (`imx workflow show NAME -o yaml`).
/// `--dry-run` validates, says of each workflow whether it is unchanged or new, shows the diff
/// against the stored latest version of each one that would change, and changes nothing.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  imx workflow apply -f deploy.yaml
  imx workflow apply -f examples/workflows/
  imx workflow apply -f deploy.yaml --dry-run
  cat deploy.yaml | imx workflow apply -f -")]
pub struct ApplyArgs {
    /// A workflow file, or a folder of *.yaml/*.yml/*.json files; `-` reads stdin. Repeatable.
    #[arg(short = 'f', long = "file", required = true, value_name = "FILE|DIR")]
    pub files: Vec<PathBuf>,

    /// Validate and show what would change (a diff per changed workflow), changing nothing.
    #[arg(long)]
    pub dry_run: bool,
}

pub async fn run(ctx: &Context, args: ApplyArgs) -> Result<(), CliError> {
    let specs = super::load_specs(ctx, &args.files)?;
    let plane = ctx.plane()?;
    let who = ctx.principal();
    let mut outcomes = Vec::with_capacity(specs.len());
    let mut diffs = Vec::new();
    for (file, spec) in specs {
        let new = args.dry_run.then(|| spec.clone());
        let outcome = plane
            .apply_workflow(&who, spec, args.dry_run)
            .await
            .map_err(|e| in_file(e.into(), &file))?;
        if let Some(new) = new.filter(|_| !ctx.out().is_machine()) {
            diffs.push(dry_run_report(ctx, &plane, &outcome, &file, &new).await?);
        }
        outcomes.push(outcome);
    }
    if !diffs.is_empty() {
        ctx.out().data(&diffs.concat())?;
    } else {
        ctx.out()
            .list(&outcomes.iter().map(Outcome).collect::<Vec<_>>())?;
    }
    let changed = outcomes
        .iter()
        .filter(|o| o.action != ApplyAction::Unchanged)
        .count();
    if args.dry_run {
        ctx.out().status(format!(
            "Dry run: {changed} of {} would change; nothing was changed.",
            super::super::output::count(outcomes.len() as u64, "workflow")
        ));
    } else {
        ctx.out().status(format!(
            "Applied {} ({changed} changed).",
            super::super::output::count(outcomes.len() as u64, "workflow")
        ));
    }
    Ok(())
}

/// An invalid file found so when applied (a `notify:` channel that does not exist) names the
/// file: `FILE:LINE:COL: …` when the plane said where in it, else `FILE: …`.
fn in_file(mut e: CliError, file: &str) -> CliError {
    if e.exit == super::super::error::Exit::Usage {
        let file = if file == "-" { "<stdin>" } else { file };
        let positioned = e
            .message
            .split(':')
            .take(2)
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()));
        e.message = if positioned {
            format!("{file}:{}", e.message)
        } else {
            format!("{file}: {}", e.message)
        };
    }
    e
}

/// What a dry run tells people about one workflow: unchanged, new, or the diff from the stored
/// latest version to the file.
async fn dry_run_report(
    ctx: &Context,
    plane: &Plane,
    outcome: &ApplyOutcome,
    file: &str,
    new: &WorkflowSpec,
) -> Result<String, CliError> {
    let name = &outcome.name;
    match outcome.action {
        ApplyAction::Unchanged => Ok(format!("{name}: unchanged (version {})\n", outcome.version)),
        ApplyAction::Created => Ok(format!(
            "{name}: new (would be version {})\n",
            outcome.version
        )),
        ApplyAction::Updated => {
            let stored = plane.get_workflow(&ctx.principal(), name, None).await?;
            let old = source::of(&stored)?;
            // A stored version without its file is compared as parsed specs, both sides.
            let new = match (&new.source, old.kept) {
                (Some(text), true) => text.clone(),
                _ => {
                    ctx.out().warn(source::no_source_note(&stored));
                    source::spec_yaml(new)?
                }
            };
            let diff = source::unified(
                &format!("{name}@{}", stored.version),
                &old.text,
                if file == "-" { "<stdin>" } else { file },
                &new,
                ctx.out().style().color,
            );
            Ok(format!(
                "{name}: updated (version {} would become {})\n{diff}",
                stored.version, outcome.version
            ))
        }
    }
}

#[derive(serde::Serialize)]
#[serde(transparent)]
struct Outcome<'a>(&'a ApplyOutcome);

impl Row for Outcome<'_> {
    fn headers(_cx: &Cells) -> Vec<&'static str> {
        vec!["WORKFLOW", "VERSION", "ACTION"]
    }

    fn cells(&self, _cx: &Cells) -> Vec<String> {
        let action = match self.0.action {
            ApplyAction::Created => "created",
            ApplyAction::Updated => "updated",
            ApplyAction::Unchanged => "unchanged",
        };
        vec![
            self.0.name.clone(),
            self.0.version.to_string(),
            action.into(),
        ]
    }

    fn name(&self) -> String {
        self.0.name.clone()
    }
}

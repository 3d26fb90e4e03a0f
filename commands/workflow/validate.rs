//! `imx workflow validate -f FILE`: check files without a store.

use std::path::PathBuf;

use imx::model::WorkflowSpec;

use super::super::context::Context;
use super::super::error::CliError;
use super::super::output::{Cells, Row};

/// Check workflow files (no store needed). Every problem is reported as file:line:col (exit 2).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  imx workflow validate -f deploy.yaml
  imx workflow validate -f examples/workflows/")]
pub struct ValidateArgs {
    /// A workflow file, or a folder of them; `-` reads stdin. Repeatable.
    #[arg(short = 'f', long = "file", required = true, value_name = "FILE|DIR")]
    pub files: Vec<PathBuf>,
}

pub fn run(ctx: &Context, args: ValidateArgs) -> Result<(), CliError> {
    let mut specs = super::load_specs(ctx, &args.files)?;
    for (_, spec) in &mut specs {
        spec.source = None; // the file itself is not echoed back
    }
    let rows: Vec<Valid> = specs
        .iter()
        .map(|(file, spec)| Valid { file, spec })
        .collect();
    ctx.out().list(&rows)?;
    ctx.out().status(match rows.len() {
        1 => "1 workflow file is valid.".to_string(),
        n => format!("{n} workflow files are valid."),
    });
    Ok(())
}

#[derive(serde::Serialize)]
struct Valid<'a> {
    file: &'a str,
    #[serde(flatten)]
    spec: &'a WorkflowSpec,
}

impl Row for Valid<'_> {
    fn headers(_cx: &Cells) -> Vec<&'static str> {
        vec!["FILE", "WORKFLOW", "STEPS", "PARAMS"]
    }

    fn cells(&self, _cx: &Cells) -> Vec<String> {
        vec![
            self.file.to_string(),
            self.spec.name.clone(),
            self.spec.steps.len().to_string(),
            self.spec.params.len().to_string(),
        ]
    }

    fn name(&self) -> String {
        self.spec.name.clone()
    }
}

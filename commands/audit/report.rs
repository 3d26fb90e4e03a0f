//! `imx audit report`.

use std::path::PathBuf;

use imx::audit::Window;
use imx::audit::render::{ReportFormat, render};

use super::super::context::Context;
use super::super::error::CliError;
use super::filters::time;

/// An auditor's report over a period: activity by actor and action, auth failures and lockouts,
/// privilege changes, run outcomes, agent churn, backup/restore history, activity over time, and
/// the chain's verification result with the head hash. HTML is one self-contained file (inline
/// SVG charts, no network).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  imx audit report --since 30d
  imx audit report --since 2024-01-01 --until 2024-04-01 --format html --out q1-audit.html
  imx audit report --format json | jq .verification")]
pub struct ReportArgs {
    /// Start of the period: a duration ago (30d), RFC 3339, or a date.
    #[arg(long, value_name = "WHEN", value_parser = time)]
    since: Option<i64>,
    /// End of the period (exclusive).
    #[arg(long, value_name = "WHEN", value_parser = time)]
    until: Option<i64>,
    /// Report format.
    #[arg(long, value_enum, default_value_t = FormatArg::Table)]
    format: FormatArg,
    /// Write the report to this file instead of stdout.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    Table,
    Json,
    Csv,
    Markdown,
    Html,
}

pub async fn run(ctx: &Context, args: ReportArgs) -> Result<(), CliError> {
    let plane = ctx.plane()?;
    let report = plane
        .audit_report(
            &ctx.principal(),
            Window {
                since: args.since,
                until: args.until,
            },
        )
        .await?;
    let format = match args.format {
        FormatArg::Table => ReportFormat::Table,
        FormatArg::Json => ReportFormat::Json,
        FormatArg::Csv => ReportFormat::Csv,
        FormatArg::Markdown => ReportFormat::Markdown,
        FormatArg::Html => ReportFormat::Html,
    };
    let text = render(&report, format)?;
    match &args.out {
        Some(path) => {
            std::fs::write(path, text)
                .map_err(|e| CliError::other(format!("cannot write {}: {e}", path.display())))?;
            ctx.out().status(format!(
                "Wrote the audit report ({} records) to {}",
                report.records,
                path.display()
            ));
        }
        None => ctx.out().data(&text)?,
    }
    if let Some(p) = &report.verification.problem {
        ctx.out().warn(format!(
            "the audit chain does not verify (first bad record {}): {}",
            p.seq, p.message
        ));
    }
    Ok(())
}

//! `imx audit export`.

use std::io::Write;
use std::path::PathBuf;

use super::super::context::Context;
use super::super::error::CliError;
use super::filters::FilterArgs;

/// Export audit records as JSON lines (one record per line, with its hashes) for a SIEM.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  imx audit export --format jsonl > audit.jsonl
  imx audit export --since 24h --out /var/log/imx-audit.jsonl")]
pub struct ExportArgs {
    /// Export format.
    #[arg(long, value_enum, default_value_t = FormatArg::Jsonl)]
    format: FormatArg,

    /// Write to this file instead of stdout.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,

    #[command(flatten)]
    filters: FilterArgs,
}

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    Jsonl,
}

pub async fn run(ctx: &Context, args: ExportArgs) -> Result<(), CliError> {
    let FormatArg::Jsonl = args.format;
    let plane = ctx.plane()?;
    let who = ctx.principal();
    let mut sink: Box<dyn Write> = match &args.out {
        Some(p) => Box::new(std::io::BufWriter::new(std::fs::File::create(p).map_err(
            |e| CliError::other(format!("cannot write {}: {e}", p.display())),
        )?)),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let mut filter = args.filters.filter();
    filter.limit = 10_000;
    let mut total = 0u64;
    loop {
        let page = plane.audit_list(&who, filter.clone()).await?;
        let Some(last) = page.last() else { break };
        filter.after_seq = Some(last.seq);
        for r in &page {
            serde_json::to_writer(&mut sink, r).map_err(|e| CliError::other(e.to_string()))?;
            sink.write_all(b"\n")?;
        }
        total += page.len() as u64;
    }
    sink.flush()?;
    drop(sink);
    if let Some(p) = &args.out {
        ctx.out()
            .status(format!("Exported {total} audit records to {}", p.display()));
    }
    Ok(())
}

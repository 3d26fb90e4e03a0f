//! `imx audit verify`.

use std::path::PathBuf;

use super::super::context::Context;
use super::super::error::{CliError, Exit};
use super::super::output::Format;

/// Recompute the hash chain and check it against the archive boundary and every signed
/// checkpoint. Exit 0 when it verifies; otherwise exit 1 naming the first bad record — edited,
/// deleted, reordered, inserted and (with checkpoints) truncated records are all detected.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  imx audit verify
  imx audit verify -o json
  imx audit verify --archive ~/.local/share/imx/audit-archive/audit-*.jsonl")]
pub struct VerifyArgs {
    /// Verify an archive written by `audit prune` instead of the store.
    #[arg(long, value_name = "FILE")]
    archive: Option<PathBuf>,
}

pub async fn run(ctx: &Context, args: VerifyArgs) -> Result<(), CliError> {
    if let Some(path) = args.archive {
        let (header, result) = imx::audit::prune::verify_archive(&path)?;
        return match result {
            Ok(()) => {
                ctx.out().status(format!(
                    "Archive OK: {} records, seq {}..{}, boundary hash {}",
                    header.records,
                    header.base.seq + 1,
                    header.boundary.seq,
                    header.boundary.hash
                ));
                Ok(())
            }
            Err(seq) => Err(CliError::new(
                Exit::Error,
                format!(
                    "the archive {} does not verify: first bad record {seq}",
                    path.display()
                ),
            )),
        };
    }
    let plane = ctx.plane()?;
    let report = plane.audit_verify(&ctx.principal()).await?;
    if matches!(ctx.out().format(), Format::Json | Format::Yaml) {
        let mut s =
            serde_json::to_string_pretty(&report).map_err(|e| CliError::other(e.to_string()))?;
        s.push('\n');
        ctx.out().data(&s)?;
    }
    for note in &report.notes {
        ctx.out().warn(note);
    }
    match &report.problem {
        None => {
            let from = report.first_seq.unwrap_or(report.base.seq + 1);
            let mut msg = format!(
                "Audit chain OK: {} records (seq {from}..{}), head {}",
                report.records, report.head_seq, report.head_hash
            );
            if report.base.seq > 0 {
                msg.push_str(&format!("; starts after archived record {}", report.base.seq));
            }
            msg.push_str(&match report.checkpoints {
                1 => "; 1 signed checkpoint holds".to_string(),
                n => format!("; {n} signed checkpoints hold"),
            });
            ctx.out().status(msg);
            if report.checkpoints == 0 {
                ctx.out().hint("truncation is only detectable after `imx audit checkpoint`");
            }
            Ok(())
        }
        Some(p) if p.kind == imx::audit::ProblemKind::InterruptedCheckpoint => Err(CliError::new(
            Exit::Error,
            format!("audit chain broken at seq {}: {}", p.seq, p.message),
        )
        .with_hint("nothing in the store was lost: run `imx audit checkpoint --repair`")),
        Some(p) => Err(CliError::new(
            Exit::Error,
            format!("audit chain broken at seq {}: {}", p.seq, p.message),
        )
        .with_hint("compare with a backup (imx backup verify) and the archive; the chain before this record verified")),
    }
}

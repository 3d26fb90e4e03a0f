//! `imx audit checkpoint`.

use imx::control::CheckpointOutcome;

use super::super::context::Context;
use super::super::error::CliError;

/// Sign the chain head with the audit key (ed25519, kept outside the store: by default
/// ~/.config/imx/audit-key, created 0600 on first use) and append it to the checkpoint log beside
/// the key. `audit verify` then detects records deleted from the end of the chain. Run it
/// periodically (cron) and keep the key and log off the store's machine if you can.
///
/// On PostgreSQL (cluster mode) the log is kept in the database, so a checkpoint taken on any
/// replica or host is verified on every other; the key is a secret each of them is given
/// (IMX_AUDIT_KEY, or the same key file), never stored in the database. The first checkpoint
/// records the key's public half, and a host with another key (or none) is refused.
///
/// The record is committed before its signature is written to the log, so an interrupted
/// checkpoint leaves at worst an unsigned checkpoint record (`audit verify` notes it). Older imx
/// versions wrote the log first and could leave a signature for a record that was never
/// committed; `--repair` withdraws such entries.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  imx audit checkpoint
  imx audit checkpoint -o json
  imx audit checkpoint --repair")]
pub struct CheckpointArgs {
    /// Withdraw checkpoint-log entries that sign a record the store never committed (left by an
    /// interrupted checkpoint of an older imx), then take a checkpoint. Only entries proven to be
    /// such are withdrawn: the signed hash must follow from the record the store holds before
    /// it, so every record the entry covered is still there. Any other damage is refused and
    /// nothing is changed. The repair is audited (audit.checkpoint.repair).
    #[arg(long)]
    repair: bool,
}

pub async fn run(ctx: &Context, args: CheckpointArgs) -> Result<(), CliError> {
    let plane = ctx.plane()?;
    if args.repair {
        let out = plane.audit_repair(&ctx.principal()).await?;
        if out.withdrawn.is_empty() {
            ctx.out()
                .status("Nothing to repair: the checkpoint log matches the chain.");
        }
        for w in &out.withdrawn {
            ctx.out().status(format!(
                "Withdrew the checkpoint-log entry for {}: the store never committed it \
                 (every record before it matches the signature).",
                w.describe()
            ));
        }
        report(ctx, &out.checkpoint);
        return print_json(ctx, &out);
    }
    let out = plane.audit_checkpoint(&ctx.principal()).await?;
    report(ctx, &out);
    print_json(ctx, &out)
}

fn report(ctx: &Context, out: &CheckpointOutcome) {
    if out.key_created {
        ctx.out().status(format!(
            "Created the audit key {} (mode 0600); public key {}",
            out.key_path.display(),
            out.checkpoint.public_key
        ));
    }
    ctx.out().status(format!(
        "Checkpoint: record {} hash {} signed into {}",
        out.checkpoint.seq,
        out.checkpoint.hash,
        out.log_path.display()
    ));
}

fn print_json(ctx: &Context, out: &impl serde::Serialize) -> Result<(), CliError> {
    if ctx.out().is_machine() {
        let mut s =
            serde_json::to_string_pretty(out).map_err(|e| CliError::other(e.to_string()))?;
        s.push('\n');
        ctx.out().data(&s)?;
    }
    Ok(())
}

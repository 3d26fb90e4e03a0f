//! `imx audit checkpoint`.

use super::super::context::Context;
use super::super::error::CliError;

/// Sign the chain head with the audit key (ed25519, kept outside the store: by default
/// ~/.config/imx/audit-key, created 0600 on first use) and append it to the checkpoint log beside
/// the key. `audit verify` then detects records deleted from the end of the chain. Run it
/// periodically (cron) and keep the key and log off the store's machine if you can.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  imx audit checkpoint\n  imx audit checkpoint -o json")]
pub struct CheckpointArgs {}

pub async fn run(ctx: &Context, _args: CheckpointArgs) -> Result<(), CliError> {
    let plane = ctx.plane()?;
    let out = plane.audit_checkpoint(&ctx.principal()).await?;
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
    if ctx.out().is_machine() {
        let mut s =
            serde_json::to_string_pretty(&out).map_err(|e| CliError::other(e.to_string()))?;
        s.push('\n');
        ctx.out().data(&s)?;
    }
    Ok(())
}

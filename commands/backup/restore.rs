//! `imx backup restore`.

use std::path::PathBuf;

use imx::control::RestoreRequest;

use super::super::context::Context;
use super::super::error::CliError;
use super::super::output::duration;
use super::bar::Bar;
use super::key::KeyArgs;

/// Restore a backup: it is verified in full into a temp file beside the target, then swapped in
/// with one atomic rename. Refuses a store that another process has open or that holds data
/// unless --force; refuses a backup from a newer imx. The replaced store is kept beside it as
/// `<store>.pre-restore-<time>`. Runs only on the store's machine (an admin there), never
/// through --server: fetch a server's backup with `imx backup download` first.
///
/// Restored with --to somewhere else, the store is a copy: it gets a new store id (its audit
/// chain still verifies) and the current store's checkpoint log is left alone. A restore that
/// was killed leaves a `.imx-restore-*` folder beside the target; the next restore into that
/// folder removes it (`backup list` shows those beside the store until then).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  imx backup restore 01J5Z3 --force                 # replace this store (stop agents first)
  imx backup restore 01J5Z3 --to /tmp/inspect.db    # restore somewhere else to look at it
  imx backup restore backup.imxb --key-file backup.key --to new.db")]
pub struct RestoreArgs {
    /// Backup id (any unique prefix) or file path.
    backup: String,

    /// Restore into this store file instead of the current store.
    #[arg(long, value_name = "PATH")]
    to: Option<PathBuf>,

    /// Replace a store that holds data or that another process has open.
    #[arg(long)]
    force: bool,

    /// The backup folder ids are looked up in [default: backups/ beside the store]
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,

    #[command(flatten)]
    key: KeyArgs,

    /// Check the restored store with SQLite's full integrity_check instead of quick_check.
    #[arg(long)]
    full_integrity: bool,
}

pub async fn run(ctx: &Context, args: RestoreArgs) -> Result<(), CliError> {
    let key = args.key.source()?;
    let plane = ctx.plane()?;
    let bar = Bar::new(ctx.out());
    let req = RestoreRequest {
        backup: args.backup,
        dir: args.dir,
        to: args.to,
        force: args.force,
        key,
        integrity: super::verify::integrity(args.full_integrity),
    };
    let report = plane.restore_backup(&ctx.principal(), req, &bar).await?;
    bar.finish();
    if let Some(pid) = report.live_pid {
        ctx.out().warn(format!(
            "process {pid} had the store open: restart it so it sees the restored store"
        ));
    }
    ctx.out().status(format!(
        "Restored backup {} into {} ({} rows, audit head seq {}) in {}.",
        report.verify.id,
        report.target.display(),
        report.verify.tables.iter().map(|t| t.found).sum::<u64>(),
        report.verify.audit.head_seq,
        duration(report.duration_ms)
    ));
    if let Some(copy) = &report.copy {
        ctx.out().status(format!(
            "The restored store is a copy with a new identity (store id {}; the backup's store \
             is {}): it has its own audit trail from here, and this store's checkpoints do not \
             apply to it.",
            copy.store_id, copy.copy_of
        ));
    }
    for note in &report.verify.notes {
        ctx.out().warn(note);
    }
    if let Some(prev) = &report.previous {
        ctx.out().hint(format!(
            "the previous store is kept as {} (remove it when you no longer need it)",
            prev.display()
        ));
    }
    if ctx.out().is_machine() {
        ctx.out().detail(&report.verify)
    } else {
        Ok(())
    }
}

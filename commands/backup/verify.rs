//! `imx backup verify`.

use std::path::PathBuf;

use imx::backup::VerifyReport;

use super::super::context::Context;
use super::super::error::CliError;
use super::super::output::{Cells, Detail, duration};
use super::bar::Bar;
use super::bytes;
use super::key::KeyArgs;

/// Prove a backup restores: check the SHA-256, decrypt, decompress into a temporary store, run
/// SQLite's integrity check, verify the audit chain and compare row counts with the manifest.
/// Exits 0 only if every check passes. With --server the server verifies a backup of its own
/// folder, named by id (encrypted ones with --passphrase-stdin).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  imx backup verify 01J5Z3
  imx backup verify /mnt/backups/imx-backup-01J5Z3K8.imxb --key-file ~/.config/imx/backup.key
  imx backup verify 01J5Z3 -o json
  imx --server https://imx.example.com:7443 backup verify 01J5Z3")]
pub struct VerifyArgs {
    /// Backup id (any unique prefix) or file path.
    backup: String,

    /// The backup folder ids are looked up in [default: backups/ beside the store]
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,

    #[command(flatten)]
    key: KeyArgs,

    /// Run SQLite's full integrity_check (also every index entry against its table; about twice
    /// the time) instead of quick_check.
    #[arg(long)]
    full_integrity: bool,
}

pub async fn run(ctx: &Context, args: VerifyArgs) -> Result<(), CliError> {
    let key = args.key.source()?;
    let plane = ctx.plane()?;
    let bar = Bar::new(ctx.out());
    let report = plane
        .verify_backup(
            &ctx.principal(),
            args.dir,
            &args.backup,
            key,
            integrity(args.full_integrity),
            &bar,
        )
        .await?;
    bar.finish();
    for note in &report.notes {
        ctx.out().warn(note);
    }
    ctx.out().status(format!(
        "Backup {} verifies: checksum, {}integrity, audit chain ({} records) and counts of {} tables ok ({}).",
        report.id,
        if report.encrypted { "decryption, " } else { "" },
        report.audit.records,
        report.tables.len(),
        duration(report.duration_ms)
    ));
    if ctx.out().is_machine() {
        ctx.out().detail(&report)
    } else {
        Ok(())
    }
}

/// `--full-integrity` as the library's level.
pub fn integrity(full: bool) -> imx::backup::Integrity {
    if full {
        imx::backup::Integrity::Full
    } else {
        imx::backup::Integrity::Quick
    }
}

impl Detail for VerifyReport {
    fn name(&self) -> String {
        self.id.clone()
    }

    fn fields(&self, _cx: &Cells) -> Vec<(&'static str, String)> {
        vec![
            ("ID", self.id.clone()),
            ("File", self.path.display().to_string()),
            ("Format", self.format.to_string()),
            (
                "Encrypted",
                if self.encrypted { "yes" } else { "no" }.into(),
            ),
            ("SHA-256", self.payload_sha256.clone()),
            ("Integrity", self.integrity.clone()),
            ("Schema", self.schema_version.to_string()),
            (
                "Audit chain",
                format!(
                    "ok, {} records, head seq {} {}",
                    self.audit.records, self.audit.head_seq, self.audit.head_hash
                ),
            ),
            ("Restored size", bytes(self.restored_bytes)),
            ("Took", duration(self.duration_ms)),
        ]
    }

    fn table(&self, _cx: &Cells) -> Option<(Vec<&'static str>, Vec<Vec<String>>)> {
        Some((
            vec!["TABLE", "MANIFEST", "RESTORED"],
            self.tables
                .iter()
                .map(|t| vec![t.table.clone(), t.expected.to_string(), t.found.to_string()])
                .collect(),
        ))
    }
}

//! `imx backup create`.

use std::path::PathBuf;

use imx::backup::{BackupFormat, BackupInfo, CreateOptions};

use super::super::context::Context;
use super::super::error::CliError;
use super::super::output::{Cells, Detail, duration};
use super::bar::Bar;
use super::bytes;
use super::key::KeyArgs;

/// Take a consistent backup of the store while agents keep working: an SQLite online-backup
/// snapshot (or, with --format logical, a JSONL export any store kind can import), zstd-compressed,
/// SHA-256 checksummed, optionally encrypted (AES-256-GCM), with a manifest — one file.
/// With --server the server takes it into its own backup folder: --out is refused there and
/// encryption takes --passphrase-stdin only (key files stay on the machine that has them).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  imx backup create                                    # into backups/ beside the store
  imx backup create --out /mnt/backups/ --note 'before upgrade'
  imx backup create --encrypt --key-file ~/.config/imx/backup.key
  imx backup create --encrypt --keyring                # the key kept by backup keygen --keyring
  echo \"$PASS\" | imx backup create --encrypt --passphrase-stdin
  imx backup create --format logical --out export.imxb # for moving to another store kind
  imx backup create -o name                            # print only the new backup's id
  imx --server https://imx.example.com:7443 backup create --note nightly")]
pub struct CreateArgs {
    /// A folder (existing, or ending in /) or a file to write [default: backups/ beside the store]
    #[arg(long, value_name = "DIR|FILE")]
    out: Option<PathBuf>,

    /// Encrypt the backup (needs --key-file, --keyring or --passphrase-stdin).
    #[arg(long)]
    encrypt: bool,

    #[command(flatten)]
    key: KeyArgs,

    /// A note stored in the manifest (e.g. why the backup was taken).
    #[arg(long, value_name = "TEXT")]
    note: Option<String>,

    /// sqlite: page snapshot (fast). logical: JSONL of every table (portable) [default: sqlite
    /// on a SQLite store, logical on PostgreSQL]
    #[arg(long, value_enum)]
    format: Option<FormatArg>,

    /// zstd compression level (1 fast .. 19 small).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(i32).range(1..=19))]
    level: i32,
}

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    Sqlite,
    Logical,
}

pub async fn run(ctx: &Context, args: CreateArgs) -> Result<(), CliError> {
    if args.encrypt && !args.key.given() {
        return Err(CliError::usage("--encrypt needs a key")
            .with_hint("pass --key-file FILE (make one with: imx backup keygen --out FILE), --keyring [NAME] (imx backup keygen --keyring) or --passphrase-stdin"));
    }
    if !args.encrypt && args.key.given() {
        return Err(CliError::usage("a key was given without --encrypt")
            .with_hint("add --encrypt to encrypt the backup"));
    }
    let key = if args.encrypt {
        args.key.source()?
    } else {
        None
    };
    let opts = CreateOptions {
        out: args.out,
        format: args.format.map(|f| match f {
            FormatArg::Sqlite => BackupFormat::Sqlite,
            FormatArg::Logical => BackupFormat::Logical,
        }),
        key,
        note: args.note,
        level: args.level,
        ..CreateOptions::default()
    };
    let plane = ctx.plane()?;
    let bar = Bar::new(ctx.out());
    let info = plane.create_backup(&ctx.principal(), opts, &bar).await?;
    bar.finish();
    ctx.out().status(format!(
        "Created backup {} ({}, {} rows) in {}: {}",
        info.manifest.id,
        bytes(info.size),
        info.manifest.total_rows(),
        duration(info.duration_ms.unwrap_or(0)),
        info.path.display()
    ));
    if ctx.out().is_machine() {
        ctx.out().detail(&info)
    } else {
        ctx.out().line(&info.manifest.id)
    }
}

impl Detail for BackupInfo {
    fn name(&self) -> String {
        self.manifest.id.clone()
    }

    fn fields(&self, cx: &Cells) -> Vec<(&'static str, String)> {
        let m = &self.manifest;
        let enc = match &m.encryption {
            None => "none".to_string(),
            Some(e) => format!(
                "{} ({}, check {})",
                e.algorithm,
                match (e.key, &e.keyring) {
                    (imx::backup::manifest::KeyKind::File, Some(entry)) =>
                        format!("key from keyring entry {entry:?}"),
                    (imx::backup::manifest::KeyKind::File, None) => "file key".into(),
                    (imx::backup::manifest::KeyKind::Passphrase, _) => "passphrase key".into(),
                },
                e.key_check
            ),
        };
        let mut f = vec![
            ("ID", m.id.clone()),
            ("File", self.path.display().to_string()),
            ("Created", cx.time(Some(m.created_at))),
            ("Created by", m.created_by.clone()),
            ("Format", m.format.to_string()),
            (
                "Size",
                format!(
                    "{} (snapshot {})",
                    bytes(self.size),
                    bytes(m.snapshot_bytes)
                ),
            ),
            ("imx version", m.imx_version.clone()),
            ("Schema", m.schema_version.to_string()),
            ("Store", format!("{} ({})", m.store_id, m.source)),
            ("SHA-256", m.payload_sha256.clone()),
            ("Encryption", enc),
            (
                "Audit head",
                format!("seq {} {}", m.audit_head.seq, m.audit_head.hash),
            ),
            ("Note", cx.opt(m.note.as_deref())),
        ];
        if let Some(ms) = self.duration_ms {
            f.push(("Took", duration(ms)));
        }
        f
    }

    fn table(&self, _cx: &Cells) -> Option<(Vec<&'static str>, Vec<Vec<String>>)> {
        Some((
            vec!["TABLE", "ROWS"],
            self.manifest
                .tables
                .iter()
                .map(|(t, n)| vec![t.clone(), n.to_string()])
                .collect(),
        ))
    }
}

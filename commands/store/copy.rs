//! `imx store copy`.

use std::sync::Arc;

use imx::store::api::Backend;
use imx::store::copy::{CopyProgress, CopyReport};

use super::super::context::Context;
use super::super::error::CliError;
use super::super::output::{Cells, Detail, duration};

/// `imx store copy` (what it does: the `Copy` command's help in `mod.rs`).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  imx store copy --from ~/.local/share/imx/imx.db --to postgres://imx@db.example/imx
  imx store copy --from postgres://imx@db.example/imx --to /srv/imx/imx.db --force
  imx store copy --from ~/.local/share/imx/imx.db --to /tmp/imx-copy.db   # a copy to look at

Exit codes: 0 copied and checked; 5 the target holds data (pass --force); 6 the source does not
exist; the others as in `imx help exit-codes`. A failed copy leaves the target as it was
(one it created stays empty).")]
pub struct CopyArgs {
    /// The store to copy: a SQLite store file or a postgres:// URL.
    #[arg(long, value_name = "PATH|URL")]
    from: String,

    /// The store to copy into: a SQLite store file or a postgres:// URL (created if missing).
    #[arg(long, value_name = "PATH|URL")]
    to: String,

    /// Replace everything in a target that already holds data.
    #[arg(long)]
    force: bool,
}

/// Open the store `spec` names: a postgres:// URL or a SQLite file (`create`: make it if
/// missing).
fn open(spec: &str, create: bool) -> Result<Arc<dyn Backend>, CliError> {
    if imx::store::postgres::is_postgres_url(spec) {
        return Ok(Arc::new(imx::store::postgres::PgStore::open(spec, create)?));
    }
    let path = std::path::Path::new(spec);
    if create && let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| CliError::other(format!("cannot create {}: {e}", dir.display())))?;
    }
    Ok(Arc::new(imx::store::Store::open(path, create)?))
}

/// The same SQLite file named two ways.
fn same_file(a: &str, b: &str) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

pub async fn run(ctx: &Context, args: CopyArgs) -> Result<(), CliError> {
    if same_file(&args.from, &args.to) {
        return Err(CliError::usage(format!(
            "{} is both the source and the target of the copy",
            args.from
        )));
    }
    let from = open(&args.from, false)?;
    let to = open(&args.to, true)?;
    let out = ctx.out();
    // Said once the copy starts (after the target was found empty), so a refusal is only the
    // error.
    let mut started = false;
    let mut current = String::new();
    let mut total = 0u64;
    let report = imx::store::copy::copy(&*from, &*to, args.force, &mut |p| match p {
        CopyProgress::Table { table, rows } => {
            if !started {
                started = true;
                out.status(format!(
                    "Copying {} into {}…",
                    from.location(),
                    to.location()
                ));
            }
            current = table.to_string();
            total = rows;
            out.status(format!("  {table}: {rows} rows"));
        }
        CopyProgress::Rows { done } if done < total && done % 100_000 == 0 => {
            out.status(format!("  {current}: {done} of {total} rows"));
        }
        CopyProgress::Rows { .. } => {}
        CopyProgress::Checking => out.status("Checking the counts and the audit chain…"),
    })?;
    ctx.out().status(format!(
        "Copied {} rows in {} tables into {} in {}; counts match and the audit chain verifies \
         ({} records, head seq {}).",
        report.rows(),
        report.tables.len(),
        report.to,
        duration(report.duration_ms),
        report.audit.records,
        report.audit.head_seq
    ));
    if report.replaced {
        ctx.out().warn(format!(
            "what {} held before was replaced (--force)",
            report.to
        ));
    }
    if ctx.out().is_machine() {
        ctx.out().detail(&View(report))
    } else {
        Ok(())
    }
}

/// A copy's report, for `-o json|yaml`.
#[derive(serde::Serialize)]
#[serde(transparent)]
struct View(CopyReport);

impl Detail for View {
    fn name(&self) -> String {
        self.0.to.clone()
    }

    fn fields(&self, _cx: &Cells) -> Vec<(&'static str, String)> {
        vec![
            ("From", self.0.from.clone()),
            ("To", self.0.to.clone()),
            ("Rows", self.0.rows().to_string()),
            (
                "Audit chain",
                format!(
                    "ok, {} records, head seq {}",
                    self.0.audit.records, self.0.audit.head_seq
                ),
            ),
            ("Took", duration(self.0.duration_ms)),
        ]
    }

    fn table(&self, _cx: &Cells) -> Option<(Vec<&'static str>, Vec<Vec<String>>)> {
        Some((
            vec!["TABLE", "ROWS"],
            self.0
                .tables
                .iter()
                .map(|(t, n)| vec![t.clone(), n.to_string()])
                .collect(),
        ))
    }
}

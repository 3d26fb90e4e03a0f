//! `imx man [--out DIR]`: man pages generated from the clap definition, one per command and
//! subcommand (`imx.1`, `imx-run-list.1`, ...).

use std::path::PathBuf;

use clap::CommandFactory;

use super::Cli;
use super::context::Context;
use super::error::CliError;

/// Write every man page to DIR, or print the top page (imx.1) to stdout.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  imx man | man -l -
  imx man --out man/")]
pub struct ManArgs {
    /// Write all pages into this directory (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

pub fn run(ctx: &Context, args: ManArgs) -> Result<(), CliError> {
    let pages = pages()?;
    match args.out {
        None => {
            let top = pages
                .into_iter()
                .find(|(name, _)| name == "imx.1")
                .map(|(_, page)| page)
                .unwrap_or_default();
            ctx.out().data(&String::from_utf8_lossy(&top))
        }
        Some(dir) => {
            std::fs::create_dir_all(&dir)
                .map_err(|e| CliError::other(format!("cannot create {}: {e}", dir.display())))?;
            for (name, page) in &pages {
                let path = dir.join(name);
                std::fs::write(&path, page).map_err(|e| {
                    CliError::other(format!("cannot write {}: {e}", path.display()))
                })?;
            }
            ctx.out().status(format!(
                "Wrote {} man pages to {}",
                pages.len(),
                dir.display()
            ));
            Ok(())
        }
    }
}

/// Every page as (file name, contents), in a stable order.
pub fn pages() -> Result<Vec<(String, Vec<u8>)>, CliError> {
    fn walk(cmd: &clap::Command, out: &mut Vec<(String, Vec<u8>)>) -> std::io::Result<()> {
        let man = clap_mangen::Man::new(cmd.clone());
        let mut buf = Vec::new();
        man.render(&mut buf)?;
        out.push((man.get_filename(), buf));
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            walk(sub, out)?;
        }
        Ok(())
    }
    let mut cmd = Cli::command();
    cmd.build();
    let mut out = Vec::new();
    walk(&cmd, &mut out).map_err(|e| CliError::other(format!("cannot render man pages: {e}")))?;
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

//! `imx artifact ...` (issue 13): the files steps left as artifacts — download one (`get`),
//! delete old ones (`prune`). `imx run artifacts RUN` lists a run's.

mod get;
mod prune;

use clap::Subcommand;
use imx::model::Artifact;

use super::context::Context;
use super::error::CliError;
use super::output::{Cells, Row};

/// The artifact commands.
#[derive(Debug, Subcommand)]
pub enum ArtifactCommand {
    /// Download one artifact of a run (by path or id) to a file or stdout.
    Get(get::GetArgs),
    /// Delete artifacts stored longer ago than a period (bytes and records; audited).
    Prune(prune::PruneArgs),
}

pub async fn run(ctx: &Context, cmd: ArtifactCommand) -> Result<(), CliError> {
    match cmd {
        ArtifactCommand::Get(args) => get::run(ctx, args).await,
        ArtifactCommand::Prune(args) => prune::run(ctx, args).await,
    }
}

/// A size for people: `12.4 MiB`, `812 B`.
pub fn size(bytes: u64) -> String {
    imx::engine::limits::human_size(bytes)
}

impl Row for Artifact {
    fn headers(cx: &Cells) -> Vec<&'static str> {
        let mut h = vec!["STEP", "PATH", "SIZE", "SHA256", "CREATED"];
        if cx.wide || cx.machine {
            h.extend(["ID", "ATTEMPT"]);
        }
        h
    }

    fn cells(&self, cx: &Cells) -> Vec<String> {
        let mut c = vec![
            self.step_id.clone(),
            self.path.clone(),
            if cx.machine {
                self.size.to_string()
            } else {
                size(self.size)
            },
            self.sha256.clone(),
            cx.time(Some(self.created_at)),
        ];
        if cx.wide || cx.machine {
            c.push(self.id.clone());
            c.push(self.attempt.to_string());
        }
        c
    }

    fn name(&self) -> String {
        self.path.clone()
    }
}

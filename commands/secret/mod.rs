//! `imx secret ...` (issue 13): workflow secrets, used as `{{ secrets.NAME }}` in `env:`,
//! `http` headers and bodies and `run:`. Set (from stdin or a file, never an argument), rotated,
//! listed (names, never values), deleted, and sealed under a new store key (`rekey`).

mod delete;
mod list;
mod rekey;
mod set;

use clap::Subcommand;
use imx::model::SecretInfo;

use super::context::Context;
use super::error::CliError;
use super::output::{Cells, Detail, Row};

/// The secret commands.
#[derive(Debug, Subcommand)]
pub enum SecretCommand {
    /// Set a secret (create or replace it); the value is read from stdin or --from-file.
    Set(set::SetArgs),
    /// Give an existing secret a new value (same name; steps claimed from now on get it).
    Rotate(set::RotateArgs),
    /// List secrets: names, scopes, who changed them when (never values).
    List(list::ListArgs),
    /// Delete a secret.
    Delete(delete::DeleteArgs),
    /// Seal every secret the store keeps under a new store key.
    Rekey(rekey::RekeyArgs),
}

pub async fn run(ctx: &Context, cmd: SecretCommand) -> Result<(), CliError> {
    match cmd {
        SecretCommand::Set(args) => set::run(ctx, args).await,
        SecretCommand::Rotate(args) => set::rotate(ctx, args).await,
        SecretCommand::List(args) => list::run(ctx, args).await,
        SecretCommand::Delete(args) => delete::run(ctx, args).await,
        SecretCommand::Rekey(args) => rekey::run(ctx, args).await,
    }
}

/// `NAME` or `WORKFLOW/NAME`, as messages name a secret.
fn label(s: &SecretInfo) -> String {
    match &s.workflow {
        Some(w) => format!("{w}/{}", s.name),
        None => s.name.clone(),
    }
}

fn scope(s: &SecretInfo) -> String {
    match &s.workflow {
        Some(w) => format!("workflow {w}"),
        None => "global".into(),
    }
}

impl Row for SecretInfo {
    fn headers(cx: &Cells) -> Vec<&'static str> {
        let mut h = vec!["NAME", "SCOPE", "VERSION", "UPDATED", "UPDATED BY"];
        if cx.wide || cx.machine {
            h.extend(["CREATED", "CREATED BY"]);
        }
        h
    }

    fn cells(&self, cx: &Cells) -> Vec<String> {
        let mut c = vec![
            self.name.clone(),
            scope(self),
            self.version.to_string(),
            cx.time(Some(self.updated_at)),
            self.updated_by.clone(),
        ];
        if cx.wide || cx.machine {
            c.push(cx.time(Some(self.created_at)));
            c.push(self.created_by.clone());
        }
        c
    }

    fn name(&self) -> String {
        label(self)
    }
}

impl Detail for SecretInfo {
    fn name(&self) -> String {
        label(self)
    }

    fn fields(&self, cx: &Cells) -> Vec<(&'static str, String)> {
        vec![
            ("Name", self.name.clone()),
            ("Scope", scope(self)),
            ("Version", self.version.to_string()),
            ("Updated", cx.time(Some(self.updated_at))),
            ("Updated by", self.updated_by.clone()),
            ("Created", cx.time(Some(self.created_at))),
            ("Created by", self.created_by.clone()),
        ]
    }
}

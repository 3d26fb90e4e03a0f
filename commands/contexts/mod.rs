//! `imx context ...`: named local stores and remote servers (like kubeconfig contexts), kept in
//! `~/.config/imx/config.toml`.

mod add;
mod list;
mod remove;
mod show;
mod r#use;

use serde::Serialize;

use super::context::Context;
use super::error::CliError;
use super::output::{Cells, Row};
use imx::config::contexts::{ContextEntry, Target};

/// The `context` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum ContextCommand {
    /// Add (or replace) a context naming a server or a local store.
    Add(add::AddArgs),
    /// Make a context the current one.
    Use(r#use::UseArgs),
    /// List contexts; the current one is marked.
    List(list::ListArgs),
    /// Show a context (the current one by default).
    Show(show::ShowArgs),
    /// Remove a context.
    Remove(remove::RemoveArgs),
}

pub fn run(ctx: &Context, cmd: ContextCommand) -> Result<(), CliError> {
    match cmd {
        ContextCommand::Add(args) => add::run(ctx, args),
        ContextCommand::Use(args) => r#use::run(ctx, args),
        ContextCommand::List(args) => list::run(ctx, args),
        ContextCommand::Show(args) => show::run(ctx, args),
        ContextCommand::Remove(args) => remove::run(ctx, args),
    }
}

/// One context as listed and shown.
#[derive(Debug, Serialize)]
pub struct ContextRow {
    pub name: String,
    pub current: bool,
    #[serde(flatten)]
    pub entry: ContextEntry,
}

impl ContextRow {
    /// The row of context `name`; a database URL is shown without its password.
    pub fn new(name: String, current: bool, mut entry: ContextEntry) -> Self {
        if let Some(url) = &entry.database
            && let Ok(c) = imx::store::postgres::PgConfig::parse(url)
        {
            entry.database = Some(c.display().to_string());
        }
        ContextRow {
            name,
            current,
            entry,
        }
    }

    fn target(&self) -> String {
        match self.entry.target() {
            Ok(Target::Local { store }) => format!("local {}", store.display()),
            Ok(Target::Remote {
                server,
                insecure: true,
                ..
            }) => format!("{server} (insecure)"),
            Ok(Target::Remote { server, .. }) => server,
            Ok(Target::Database { url }) => imx::store::postgres::PgConfig::parse(&url)
                .map_or_else(
                    |_| "database ?".into(),
                    |c| format!("database {}", c.display()),
                ),
            Err(_) => "?".into(),
        }
    }
}

impl Row for ContextRow {
    fn headers(_: &Cells) -> Vec<&'static str> {
        vec!["CURRENT", "NAME", "TARGET", "CA"]
    }

    fn cells(&self, cx: &Cells) -> Vec<String> {
        vec![
            if self.current { "*" } else { "" }.to_string(),
            self.name.clone(),
            self.target(),
            cx.opt(self.entry.ca.as_ref().map(|p| p.display().to_string())),
        ]
    }

    fn name(&self) -> String {
        self.name.clone()
    }
}

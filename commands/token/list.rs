//! `imx token list`, and how a token is shown.

use imx::model::Token;

use super::super::context::Context;
use super::super::error::CliError;
use super::super::output::{Cells, Detail, Row};

/// List tokens: name, who it acts as, the last four characters of the secret, state, expiry.
/// Secrets are never shown (only their hashes are stored).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  imx token list\n  imx token list -o wide")]
pub struct ListArgs {}

pub async fn run(ctx: &Context, _args: ListArgs) -> Result<(), CliError> {
    let plane = ctx.plane()?;
    let tokens = plane.list_tokens(&ctx.principal()).await?;
    if tokens.is_empty() && !ctx.out().is_machine() {
        ctx.out().status("No tokens yet.");
        ctx.out()
            .hint("create one with: imx token create --user NAME (or --role ROLE)");
        return Ok(());
    }
    ctx.out().list(&tokens)
}

fn subject(t: &Token) -> String {
    match &t.user {
        Some(u) => format!("user:{u}"),
        None => "-".into(),
    }
}

impl Row for Token {
    fn headers(cx: &Cells) -> Vec<&'static str> {
        let mut h = vec![
            "NAME",
            "USER",
            "ROLE",
            "SECRET",
            "STATE",
            "EXPIRES",
            "LAST USED",
        ];
        if cx.wide || cx.machine {
            h.extend(["ID", "CREATED", "CREATED BY"]);
        }
        h
    }

    fn cells(&self, cx: &Cells) -> Vec<String> {
        let mut c = vec![
            self.name.clone(),
            subject(self),
            self.role.to_string(),
            format!("imx_…{}", self.last4),
            self.state.to_string(),
            match self.expires_at {
                Some(t) => cx.time(Some(t)),
                None => "never".into(),
            },
            cx.time(self.last_used_at),
        ];
        if cx.wide || cx.machine {
            c.push(cx.id(&self.id));
            c.push(cx.time(Some(self.created_at)));
            c.push(self.created_by.clone());
        }
        c
    }

    fn name(&self) -> String {
        self.name.clone()
    }
}

impl Detail for Token {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn fields(&self, cx: &Cells) -> Vec<(&'static str, String)> {
        vec![
            ("Name", self.name.clone()),
            ("ID", self.id.clone()),
            ("User", subject(self)),
            ("Role", self.role.to_string()),
            ("Secret", format!("imx_…{}", self.last4)),
            ("State", self.state.to_string()),
            (
                "Expires",
                self.expires_at
                    .map_or_else(|| "never".into(), |t| cx.time(Some(t))),
            ),
            ("Created", cx.time(Some(self.created_at))),
            ("Created by", self.created_by.clone()),
            ("Last used", cx.time(self.last_used_at)),
        ]
    }
}

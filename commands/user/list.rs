//! `imx user list`, and how a user is shown (also by `show`).

use imx::model::User;

use super::super::context::Context;
use super::super::error::CliError;
use super::super::output::{Cells, Detail, Row};

/// List users with their role and state.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  imx user list\n  imx user list -o json")]
pub struct ListArgs {}

pub async fn run(ctx: &Context, _args: ListArgs) -> Result<(), CliError> {
    let plane = ctx.plane()?;
    let users = plane.list_users(&ctx.principal()).await?;
    if users.is_empty() && !ctx.out().is_machine() {
        ctx.out().status("No users yet.");
        ctx.out()
            .hint("create one with: imx user create NAME --role operator");
        return Ok(());
    }
    ctx.out().list(&users)
}

/// `active`, `disabled` or `locked`.
fn state(u: &User) -> &'static str {
    if u.disabled {
        "disabled"
    } else if u.locked_until.is_some() {
        "locked"
    } else {
        "active"
    }
}

impl Row for User {
    fn headers(_cx: &Cells) -> Vec<&'static str> {
        vec!["NAME", "ROLE", "STATE", "PASSWORD", "CREATED", "UPDATED"]
    }

    fn cells(&self, cx: &Cells) -> Vec<String> {
        vec![
            self.name.clone(),
            self.role.to_string(),
            state(self).to_string(),
            if self.has_password { "set" } else { "-" }.to_string(),
            cx.time(Some(self.created_at)),
            cx.time(Some(self.updated_at)),
        ]
    }

    fn name(&self) -> String {
        self.name.clone()
    }
}

impl Detail for User {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn fields(&self, cx: &Cells) -> Vec<(&'static str, String)> {
        let mut f = vec![
            ("Name", self.name.clone()),
            ("Role", self.role.to_string()),
            ("State", state(self).to_string()),
            (
                "Password",
                if self.has_password {
                    "set"
                } else {
                    "none (tokens only)"
                }
                .to_string(),
            ),
            ("Created", cx.time(Some(self.created_at))),
            ("Updated", cx.time(Some(self.updated_at))),
        ];
        if let Some(until) = self.locked_until {
            f.push(("Locked until", cx.time(Some(until))));
        }
        f
    }
}

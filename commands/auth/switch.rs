//! `imx auth switch [USER]`: choose which login to a server commands use.

use imx::config::logins::{Logins, logins_path};

use super::super::context::Context;
use super::super::error::CliError;

/// Make another login to this server the active one. `imx login --user bob` keeps alice's
/// login and makes bob's active; `imx auth switch alice` goes back. Without USER, and with
/// exactly two logins, switches to the other one.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  imx auth switch admin --server https://imx.example.com:8443
  imx --context prod auth switch admin")]
pub struct SwitchArgs {
    /// The login (user name) to use.
    pub user: Option<String>,
}

pub fn run(ctx: &Context, args: SwitchArgs) -> Result<(), CliError> {
    let (server, _) = ctx.server("auth switch")?;
    let path = logins_path();
    let mut logins = Logins::load(&path)?;
    let users = logins.users(&server).to_vec();
    let active = logins.active(&server).map(str::to_string);
    let user = match args.user {
        Some(u) => u,
        None => {
            let others: Vec<&String> = users
                .iter()
                .filter(|u| Some(*u) != active.as_ref())
                .collect();
            match others.as_slice() {
                [one] => (*one).clone(),
                [] => {
                    return Err(CliError::usage(format!(
                        "there is no other login to {server} to switch to"
                    ))
                    .with_hint(format!(
                        "add one with `imx login --server {server} --user NAME`"
                    )));
                }
                many => {
                    let names: Vec<&str> = many.iter().map(|s| s.as_str()).collect();
                    return Err(CliError::usage(format!(
                        "{} logins to {server}: say which one ({})",
                        users.len(),
                        names.join(", ")
                    )));
                }
            }
        }
    };
    if !users.contains(&user) {
        let names: Vec<&str> = users.iter().map(String::as_str).collect();
        let hint = match imx::suggest::nearest(&user, &names) {
            Some(n) => format!("did you mean {n:?}?"),
            None => format!("log in as {user} first: imx login --server {server} --user {user}"),
        };
        return Err(CliError::new(
            super::super::error::Exit::NotFound,
            format!("no login as {user:?} to {server}"),
        )
        .with_hint(hint));
    }
    logins.add(&server, &user);
    logins.save(&path)?;
    ctx.out().status(format!("Switched to {user} on {server}."));
    Ok(())
}

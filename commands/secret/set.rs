//! `imx secret set NAME` and `imx secret rotate NAME`: the value from stdin or `--from-file`,
//! never from an argument (it would be in the shell's history and the process list).

use std::io::{IsTerminal, Read};
use std::path::PathBuf;

use imx::auth::Secret;
use imx::model::SecretValue;

use super::super::context::Context;
use super::super::error::CliError;

/// Set a secret: create it, or replace its value. The value is read from stdin (all of it, one
/// trailing newline dropped; asked for without echo on a terminal) or from --from-file (as it
/// is, one trailing newline dropped). Scoped to --workflow, or global; a workflow's own secret
/// wins over a global one of the same name. Steps use it as {{ secrets.NAME }}.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  pass show deploy/token | imx secret set DEPLOY_TOKEN\n  imx secret set DB_PASSWORD --workflow nightly-etl --from-file ./db-password\n  imx secret list"
)]
pub struct SetArgs {
    /// The secret's name: a letter or _, then letters, digits and _.
    pub name: String,

    /// Scope it to this workflow (global when absent).
    #[arg(long, short = 'w')]
    pub workflow: Option<String>,

    /// Read the value from this file instead of stdin.
    #[arg(long, value_name = "FILE")]
    pub from_file: Option<PathBuf>,
}

/// Give an existing secret a new value: the same name, its version one more. Steps claimed
/// from now on get the new value. The value is read as by `imx secret set`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  pass show deploy/new-token | imx secret rotate DEPLOY_TOKEN\n  imx secret rotate DB_PASSWORD --workflow nightly-etl --from-file ./db-password"
)]
pub struct RotateArgs {
    #[command(flatten)]
    pub set: SetArgs,
}

/// The value, without one trailing newline.
fn read_value(from_file: Option<&PathBuf>) -> Result<Secret, CliError> {
    let mut raw = match from_file {
        Some(path) => std::fs::read(path)
            .map_err(|e| CliError::other(format!("cannot read {}: {e}", path.display())))?,
        None if std::io::stdin().is_terminal() => {
            let s = rpassword::prompt_password("Value (not shown): ")
                .map_err(|e| CliError::other(format!("cannot read the value: {e}")))?;
            s.into_bytes()
        }
        None => {
            let mut buf = Vec::new();
            std::io::stdin()
                .read_to_end(&mut buf)
                .map_err(|e| CliError::other(format!("cannot read the value from stdin: {e}")))?;
            buf
        }
    };
    if raw.last() == Some(&b'\n') {
        raw.pop();
        if raw.last() == Some(&b'\r') {
            raw.pop();
        }
    }
    let text = String::from_utf8(raw).map_err(|e| {
        let mut bytes = e.into_bytes();
        zeroize::Zeroize::zeroize(&mut bytes);
        CliError::usage("the secret's value is not UTF-8 text")
            .with_hint("encode binary values, e.g. base64 FILE | imx secret set NAME")
    })?;
    if text.is_empty() {
        return Err(CliError::usage("the secret's value is empty")
            .with_hint("pipe it in: printf %s \"$VALUE\" | imx secret set NAME"));
    }
    Ok(Secret::new(text))
}

async fn put(ctx: &Context, args: SetArgs, rotate: bool) -> Result<(), CliError> {
    let value = read_value(args.from_file.as_ref())?;
    let short = value.expose().len() < imx::agent::mask::MIN_LEN;
    let plane = ctx.plane()?;
    let req = SecretValue {
        value,
        workflow: args.workflow,
        rotate,
    };
    let info = plane.set_secret(&ctx.principal(), &args.name, req).await?;
    let verb = if rotate { "Rotated" } else { "Set" };
    ctx.out().status(format!(
        "{verb} secret {} (version {}).",
        super::label(&info),
        info.version
    ));
    if short {
        ctx.out().warn(format!(
            "the value is shorter than {} characters: it is not masked in step logs",
            imx::agent::mask::MIN_LEN
        ));
    }
    ctx.out().result(&info)
}

pub async fn run(ctx: &Context, args: SetArgs) -> Result<(), CliError> {
    put(ctx, args, false).await
}

pub async fn rotate(ctx: &Context, args: RotateArgs) -> Result<(), CliError> {
    put(ctx, args.set, true).await
}

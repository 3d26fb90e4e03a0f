//! `imx context add NAME --server URL [--ca FILE] [--insecure] | --store PATH|postgres://…`.

use std::path::PathBuf;

use imx::config::contexts::{Config, ContextEntry, config_path};

use super::super::context::Context;
use super::super::error::CliError;

/// Add a context (replacing one of the same name). The first context added becomes current;
/// later ones do not, unless --use says so (the current context is named either way). With
/// the global --insecure, a plain http:// server beyond loopback is accepted and the context
/// keeps `insecure = true` (every command then warns).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  imx context add prod --server https://imx.example:7443 --ca prod-ca.pem
  imx context add laptop --store ~/.local/share/imx/imx.db
  imx context add cluster-db --store postgres://imx@db.example/imx   # a cluster's database
  imx context add lab --server http://10.0.0.5:7443 --insecure   # plain HTTP on a trusted network
  imx context add staging --server https://staging.example:7443 --use   # add and switch
  imx context use prod")]
pub struct AddArgs {
    /// The context's name. Its target is the global `--server URL` or `--store PATH` given with
    /// this command (or IMX_SERVER / IMX_STORE); a `--store postgres://...` URL names a cluster's
    /// database, which commands then open directly.
    pub name: String,
    /// A CA certificate (PEM) to trust for the server.
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// Also make it the current context.
    #[arg(long = "use")]
    pub use_it: bool,
}

pub fn run(ctx: &Context, args: AddArgs) -> Result<(), CliError> {
    if args.name.trim().is_empty() {
        return Err(CliError::usage("a context needs a name"));
    }
    let database = ctx
        .globals
        .store
        .as_ref()
        .and_then(|s| s.to_str())
        .filter(|s| imx::store::postgres::is_postgres_url(s))
        .map(String::from);
    if let Some(url) = &database {
        // Fail now on a URL that can never work.
        imx::store::postgres::PgConfig::parse(url)?;
    }
    let (url, store) = match (&ctx.globals.server, &ctx.globals.store) {
        (Some(url), None) => (Some(url.clone()), None),
        (None, Some(_)) if database.is_some() => (None, None),
        (None, Some(store)) => (
            None,
            Some(std::path::absolute(store).unwrap_or(store.clone())),
        ),
        _ => {
            return Err(CliError::usage(
                "give the context's target: --server URL or --store PATH",
            ));
        }
    };
    let insecure = ctx.globals.insecure;
    if let Some(url) = &url {
        // Fail now, not at first use, on a URL that can never work (or is refused).
        imx::control::remote::RemoteControlPlane::with_transport(url, None, None, insecure)?;
    } else if args.ca.is_some() {
        return Err(CliError::usage("--ca only applies to a --server context"));
    }
    // Kept only where it changes something: plain HTTP beyond loopback.
    let insecure = insecure
        && url.as_deref().is_some_and(|list| {
            list.split(',').any(|u| {
                reqwest::Url::parse(u.trim())
                    .is_ok_and(|u| imx::control::remote::plain_http_beyond_loopback(&u))
            })
        });
    let ca = match &args.ca {
        Some(p) => Some(std::fs::canonicalize(p).map_err(|e| {
            CliError::usage(format!("cannot read the CA file {}: {e}", p.display()))
        })?),
        None => None,
    };
    let path = config_path();
    let mut config = Config::load(&path)?;
    let replaced = config
        .contexts
        .insert(
            args.name.clone(),
            ContextEntry {
                store,
                server: url,
                database,
                ca,
                insecure,
            },
        )
        .is_some();
    let before = config.current.clone();
    let switch = before.is_none() || args.use_it;
    if switch {
        config.current = Some(args.name.clone());
    }
    config.save(&path)?;
    let verb = if replaced { "Replaced" } else { "Added" };
    ctx.out().status(format!("{verb} context {}.", args.name));
    match before {
        _ if !switch => {}
        Some(b) if b == args.name => {}
        _ => {
            ctx.out()
                .status(format!("{} is now the current context.", args.name));
            return Ok(());
        }
    }
    if let Some(current) = config.current.as_ref().filter(|c| **c != args.name) {
        ctx.out().status(format!(
            "The current context is still {current}: commands do not use {} yet.",
            args.name
        ));
        ctx.out().hint(format!(
            "switch with `imx context use {}` (or add with --use)",
            args.name
        ));
    }
    Ok(())
}

//! `imx secret rekey [--new-key-file FILE]`: every sealed value the store keeps (workflow
//! secrets, webhook triggers' secrets, notification channels' secrets) sealed again under a new
//! store key, in one transaction, and the store's check value replaced.

use std::path::PathBuf;

use imx::auth::Secret;
use imx::keys::StoreKey;
use imx::model::Rekeyed;

use super::super::context::Context;
use super::super::error::CliError;
use super::super::output::{Cells, Detail};

/// Seal every secret the store keeps under a new store key. On a local store the new key is
/// made now and replaces the old one where it is kept (the OS keyring, else the 0600 key file);
/// with IMX_STORE_KEY, or against a server, give it with --new-key-file (64 hex digits, e.g.
/// from `openssl rand -hex 32`) — then restart every server replica with the new key
/// (--store-key-file or IMX_STORE_KEY): one still holding the old key cannot open secrets.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  imx secret rekey\n  openssl rand -hex 32 > new.key && chmod 600 new.key && imx secret rekey --new-key-file new.key"
)]
pub struct RekeyArgs {
    /// The new store key: a file holding 64 hex digits (made for you on a local store).
    #[arg(long, value_name = "FILE")]
    pub new_key_file: Option<PathBuf>,
}

fn read_key(path: &PathBuf) -> Result<StoreKey, CliError> {
    let text = zeroize::Zeroizing::new(
        std::fs::read_to_string(path)
            .map_err(|e| CliError::other(format!("cannot read {}: {e}", path.display())))?,
    );
    StoreKey::from_hex(&text).ok_or_else(|| {
        CliError::usage(format!(
            "{} does not hold a store key (64 hex digits)",
            path.display()
        ))
        .with_hint("make one with: openssl rand -hex 32")
    })
}

pub async fn run(ctx: &Context, args: RekeyArgs) -> Result<(), CliError> {
    let new = args.new_key_file.as_ref().map(read_key).transpose()?;
    let done = match ctx.local_plane()? {
        Some(local) => local.rekey_local(&ctx.principal(), new)?,
        None => {
            let Some(new) = new else {
                return Err(CliError::usage(
                    "a server's store key is given to it: pass the new one with --new-key-file FILE",
                )
                .with_hint("make one with: openssl rand -hex 32 > new.key; chmod 600 new.key"));
            };
            let plane = ctx.plane()?;
            let hex = Secret::new(new.to_hex().as_str());
            let done = plane.rekey(&ctx.principal(), &hex).await?;
            ctx.out().hint(
                "restart every replica of the server with the new key (--store-key-file or \
                 IMX_STORE_KEY)",
            );
            done
        }
    };
    ctx.out().status(format!(
        "Sealed {} secret(s), {} trigger secret(s) and {} channel secret(s) under the new store key.",
        done.secrets, done.triggers, done.channels
    ));
    ctx.out().result(&done)
}

impl Detail for Rekeyed {
    fn name(&self) -> String {
        self.check.clone()
    }

    fn fields(&self, _: &Cells) -> Vec<(&'static str, String)> {
        vec![
            ("Secrets", self.secrets.to_string()),
            ("Trigger secrets", self.triggers.to_string()),
            ("Channel secrets", self.channels.to_string()),
            ("Key check", self.check.clone()),
        ]
    }
}

//! `imx backup keygen`.

use std::path::PathBuf;

use imx::backup::crypto::{self, SecretKey};
use imx::backup::keyring::{BackupKeyring, DEFAULT_ENTRY};

use super::super::context::Context;
use super::super::error::CliError;

/// Make a new random 256-bit key for encrypted backups: in a key file (mode 0600) for
/// `--key-file`, in the OS keyring for `--keyring`, or both at once (the same key: the file is
/// then a copy to keep somewhere safe). Never replaces an existing key, and never prints it.
/// Keep it away from the backups: whoever has both can read them.
#[derive(Debug, clap::Args)]
#[command(
    group(clap::ArgGroup::new("where").args(["out", "keyring"]).required(true).multiple(true)),
    after_help = "Examples:
  imx backup keygen --out ~/.config/imx/backup.key
  imx backup create --encrypt --key-file ~/.config/imx/backup.key
  imx backup keygen --keyring                  # the OS keyring entry \"default\"
  imx backup create --encrypt --keyring
  imx backup keygen --keyring nightly --out /mnt/safe/nightly.key"
)]
pub struct KeygenArgs {
    /// Write the key to this file (refuses to overwrite).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,

    /// Keep the key in the OS keyring entry NAME [default: default] (refuses to replace one).
    #[arg(
        long,
        value_name = "NAME",
        num_args = 0..=1,
        default_missing_value = DEFAULT_ENTRY
    )]
    keyring: Option<String>,
}

pub fn run(ctx: &Context, args: KeygenArgs) -> Result<(), CliError> {
    // Refuse an existing file before anything is stored, so a failure leaves nothing behind.
    if let Some(out) = args.out.as_ref().filter(|p| p.exists()) {
        return Err(imx::Error::Conflict(format!(
            "{} already exists; not overwriting a key",
            out.display()
        ))
        .into());
    }
    let key = SecretKey::generate();
    if let Some(name) = &args.keyring {
        BackupKeyring::system().store(name, &key)?;
        ctx.out().status(format!(
            "Stored a new backup key in the OS keyring as {name:?} (key check {}).",
            key.check()
        ));
    }
    if let Some(out) = &args.out {
        crypto::write_key_file(out, &key)?;
        ctx.out().status(format!(
            "Wrote {} backup key to {} (mode 0600).",
            if args.keyring.is_some() {
                "a copy of the"
            } else {
                "a new"
            },
            out.display()
        ));
    }
    ctx.out().hint(if args.out.is_some() {
        "keep the key file somewhere safe, apart from the backups: backups encrypted with it cannot be restored without it"
    } else {
        "the key is only in this machine's keyring: add --out FILE next time for a copy to keep safe, or backups encrypted with it die with the keyring"
    });
    Ok(())
}

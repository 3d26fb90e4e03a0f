//! The key flags shared by `create`, `verify` and `restore`: a key file, an OS keyring entry, or
//! a passphrase on stdin.

use std::io::BufRead;
use std::path::PathBuf;

use imx::backup::KeySource;
use imx::backup::keyring::{BackupKeyring, DEFAULT_ENTRY};

use super::super::error::CliError;

/// Where the encryption key comes from.
#[derive(Debug, Clone, clap::Args)]
pub struct KeyArgs {
    /// Key file (64 hex digits; make one with `imx backup keygen --out FILE`).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["passphrase_stdin", "keyring"])]
    pub key_file: Option<PathBuf>,

    /// Read the passphrase from the first line of standard input.
    #[arg(long, conflicts_with = "keyring")]
    pub passphrase_stdin: bool,

    /// Take the key from the OS keyring entry NAME [default: default] (make one with
    /// `imx backup keygen --keyring`).
    #[arg(
        long,
        value_name = "NAME",
        num_args = 0..=1,
        default_missing_value = DEFAULT_ENTRY
    )]
    pub keyring: Option<String>,
}

impl KeyArgs {
    /// The key source the flags name, if any (reads stdin for `--passphrase-stdin`, the OS
    /// keyring for `--keyring`).
    pub fn source(&self) -> Result<Option<KeySource>, CliError> {
        if let Some(p) = &self.key_file {
            return Ok(Some(KeySource::File(p.clone())));
        }
        if let Some(name) = &self.keyring {
            return Ok(Some(BackupKeyring::system().load(name)?));
        }
        if self.passphrase_stdin {
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line).map_err(|e| {
                CliError::usage(format!("cannot read the passphrase from stdin: {e}"))
            })?;
            let pass = line.trim_end_matches(['\n', '\r']).to_string();
            if pass.is_empty() {
                return Err(CliError::usage("the passphrase on stdin is empty"));
            }
            return Ok(Some(KeySource::Passphrase(pass)));
        }
        Ok(None)
    }

    /// Whether any key flag was given.
    pub fn given(&self) -> bool {
        self.key_file.is_some() || self.passphrase_stdin || self.keyring.is_some()
    }
}

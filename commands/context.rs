//! What every command gets: the global flags, the printer, the acting principal and (opened on
//! first use) the control plane.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use imx::auth::Principal;
use imx::control::{LocalControlPlane, LocalOptions, Plane};

use super::GlobalArgs;
use super::error::{CliError, Exit};
use super::output::Printer;
use super::parse;

/// The command's environment.
pub struct Context {
    pub globals: GlobalArgs,
    out: Printer,
    plane: OnceLock<Plane>,
}

impl Context {
    pub fn new(globals: GlobalArgs, out: Printer) -> Self {
        Context {
            globals,
            out,
            plane: OnceLock::new(),
        }
    }

    /// The printer: all output goes through it.
    pub fn out(&self) -> &Printer {
        &self.out
    }

    /// Who is acting: the owner of the local store.
    pub fn principal(&self) -> Principal {
        Principal::local_owner()
    }

    /// `--store`, `IMX_STORE`, or the default path.
    pub fn store_path(&self) -> PathBuf {
        self.globals
            .store
            .clone()
            .unwrap_or_else(imx::config::default_store_path)
    }

    /// Options for opening the local store (`IMX_LEASE` overrides the lease length).
    pub fn local_options(&self, create: bool) -> Result<LocalOptions, CliError> {
        let mut opts = LocalOptions {
            create,
            ..LocalOptions::default()
        };
        if let Some(lease) = std::env::var("IMX_LEASE").ok().filter(|v| !v.is_empty()) {
            let d = parse::duration(&lease)
                .map_err(|e| CliError::usage(format!("IMX_LEASE={lease}: {e}")))?;
            opts.lease_ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        }
        Ok(opts)
    }

    /// Open the local store, creating it on first use (and saying so on stderr).
    pub fn open_local(&self) -> Result<(LocalControlPlane, bool), CliError> {
        let path = self.store_path();
        let plane = LocalControlPlane::open(&path, self.local_options(true)?)?;
        let created = plane.created();
        Ok((plane, created))
    }

    /// The control plane, opened on first use.
    pub fn plane(&self) -> Result<Plane, CliError> {
        if let Some(plane) = self.plane.get() {
            return Ok(plane.clone());
        }
        let (local, created) = self.open_local()?;
        if created {
            self.out
                .status(format!("Created a new store at {}", local.path().display()));
        }
        let plane = into_plane(local)?;
        let _ = self.plane.set(plane.clone());
        Ok(plane)
    }

    /// Ask before a destructive action: `--yes` proceeds; a terminal is asked; anything else is
    /// refused (exit 2), so scripts never hang on a prompt.
    pub fn confirm(&self, question: &str) -> Result<(), CliError> {
        if self.globals.yes {
            return Ok(());
        }
        if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
            return Err(
                CliError::usage(format!("refusing to {question} without confirmation"))
                    .with_hint("pass --yes to confirm when not running in a terminal"),
            );
        }
        let term = console::Term::stderr();
        term.write_str(&format!("{}? [y/N] ", capitalize(question)))?;
        let answer = term.read_line()?;
        if matches!(answer.trim().to_lowercase().as_str(), "y" | "yes") {
            Ok(())
        } else {
            Err(CliError::new(Exit::Error, "aborted; nothing was changed"))
        }
    }
}

impl Context {
    /// The control plane behind a server URL, as a concrete local plane. Until the HTTP client
    /// lands, a "server" is reachable only through its store: `--store PATH` (or `IMX_STORE`)
    /// names it, and this process opens it as the server would.
    pub fn server_local(&self, server: &str) -> Result<LocalControlPlane, CliError> {
        match &self.globals.store {
            Some(path) => Ok(LocalControlPlane::open(path, self.local_options(false)?)?),
            None => Err(CliError::new(
                Exit::Unavailable,
                format!("cannot reach {server}: this imx reaches control planes through their store only"),
            )
            .with_hint("give the server's store with --store PATH")),
        }
    }

    /// [`Context::server_local`] as a shared [`Plane`].
    pub fn server_plane(&self, server: &str) -> Result<Plane, CliError> {
        into_plane(self.server_local(server)?)
    }
}

/// A server URL as the key credentials are stored under: `scheme://host[:port][/path]`
/// without a trailing slash.
pub fn server_key(url: &str) -> Result<String, CliError> {
    let parsed = reqwest::Url::parse(url.trim()).map_err(|e| {
        CliError::usage(format!("invalid server URL {url:?}: {e}"))
            .with_hint("e.g. https://imx.example.com:8443")
    })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(CliError::usage(format!(
            "invalid server URL {url:?}: expected http(s)://HOST[:PORT]"
        )));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(CliError::usage(
            "the server URL must not contain a user name or password; use imx login",
        ));
    }
    Ok(parsed.as_str().trim_end_matches('/').to_string())
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Turn the local control plane into a shared [`Plane`].
fn into_plane(local: LocalControlPlane) -> Result<Plane, CliError> {
    Ok(Arc::new(local))
}

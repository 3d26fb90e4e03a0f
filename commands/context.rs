//! What every command gets: the global flags, the printer, the acting principal and (opened on
//! first use) the control plane.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use imx::auth::Principal;
use imx::config::contexts::{Config, Target, config_path};
use imx::control::remote::RemoteControlPlane;
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
    /// A token given on the command line (`imx agent run --token`): wins over `IMX_TOKEN` and
    /// anything stored.
    token: OnceLock<imx::auth::Secret>,
    /// A database given to the command itself (`imx server --database`, `imx init
    /// --database`): wins over every other target.
    database: OnceLock<String>,
    /// Connections in a PostgreSQL store's pool (`imx server --pool-size`).
    pool_size: OnceLock<usize>,
    /// Start a PostgreSQL store's wake-ups as soon as it opens, listening or not (`imx
    /// server`, `--no-listen`); else they start when something first waits.
    wake_at_once: OnceLock<bool>,
}

impl Context {
    pub fn new(globals: GlobalArgs, out: Printer) -> Self {
        Context {
            globals,
            out,
            plane: OnceLock::new(),
            token: OnceLock::new(),
            database: OnceLock::new(),
            pool_size: OnceLock::new(),
            wake_at_once: OnceLock::new(),
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

    /// Act on this PostgreSQL database (a command's own `--database`, or IMX_DATABASE_URL),
    /// before the control plane is first opened: it wins over `--store`/`IMX_STORE` and
    /// contexts, as a command's own flag does over the global ones.
    pub fn use_database(&self, url: &str) {
        let _ = self.database.set(url.to_string());
    }

    /// Keep at most `n` connections to a PostgreSQL store (before it is first opened).
    pub fn use_pool_size(&self, n: usize) {
        let _ = self.pool_size.set(n);
    }

    /// Hear of other replicas' changes from the moment a PostgreSQL store opens (a server):
    /// by LISTEN, or with `listen` false (`--no-listen`) by polling.
    pub fn wake_at_once(&self, listen: bool) {
        let _ = self.wake_at_once.set(listen);
    }

    /// Where commands act: a command's `--database`, else `--server`, else `--store`/
    /// `IMX_STORE` (a file, or a `postgres://` URL), else `--context`/`IMX_CONTEXT`, else the
    /// current context, else the default local store.
    pub fn target(&self) -> Result<Target, CliError> {
        if let Some(url) = self.database.get() {
            return Ok(Target::Database { url: url.clone() });
        }
        match (&self.globals.server, &self.globals.store) {
            (Some(_), Some(_)) => {
                return Err(CliError::usage(
                    "--server and --store name two different control planes; give one",
                ));
            }
            (Some(server), None) => {
                return Ok(Target::Remote {
                    server: server.clone(),
                    ca: None,
                    insecure: self.globals.insecure,
                });
            }
            (None, Some(store)) => {
                return Ok(match store.to_str() {
                    Some(url) if imx::store::postgres::is_postgres_url(url) => Target::Database {
                        url: url.to_string(),
                    },
                    _ => Target::Local {
                        store: store.clone(),
                    },
                });
            }
            (None, None) => {}
        }
        let config = Config::load(&config_path())?;
        match self.globals.context.as_ref().or(config.current.as_ref()) {
            Some(name) => Ok(config.get(name)?.target()?),
            None => Ok(Target::Local {
                store: imx::config::default_store_path(),
            }),
        }
    }

    /// The name of the context commands act through, if any (none when `--server` or
    /// `--store` says where to go).
    pub fn context_name(&self) -> Result<Option<String>, CliError> {
        if self.globals.server.is_some()
            || self.globals.store.is_some()
            || self.database.get().is_some()
        {
            return Ok(None);
        }
        let config = Config::load(&config_path())?;
        Ok(self.globals.context.clone().or(config.current))
    }

    /// The local store commands act on; an error when the target is a server.
    pub fn store_path(&self) -> Result<PathBuf, CliError> {
        match self.target()? {
            Target::Local { store } => Ok(store),
            Target::Remote { server, .. } => Err(CliError::usage(format!(
                "this command works on a local store, but the target is the server {server}"
            ))
            .with_hint("pass --store PATH, or switch with `imx context use`")),
            Target::Database { .. } => Err(CliError::usage(
                "this command works on a SQLite store file, but the target is a PostgreSQL \
                 database",
            )
            .with_hint("pass --store PATH, or switch with `imx context use`")),
        }
    }

    /// Options for opening the local store: the settings of the control plane this process
    /// becomes (the server's, or a local agent's). `IMX_LEASE` sets the lease length agents are
    /// granted (they learn it when they register), `IMX_MAX_OUTPUT` the limit on one step's
    /// outputs, `IMX_MAX_LOG` the cap on one step attempt's log. Reading agent state needs none
    /// of them: each agent's lease is recorded with it.
    pub fn local_options(&self, create: bool) -> Result<LocalOptions, CliError> {
        let mut opts = LocalOptions {
            create,
            ..LocalOptions::default()
        };
        if let Some(lease) = setting("IMX_LEASE") {
            let d = parse::duration(&lease)
                .map_err(|e| CliError::usage(format!("IMX_LEASE={lease}: {e}")))?;
            opts.lease_ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        }
        if let Some(max) = setting("IMX_MAX_OUTPUT") {
            opts.limits.max_output_bytes = parse::size(&max)
                .map_err(|e| CliError::usage(format!("IMX_MAX_OUTPUT={max}: {e}")))?;
        }
        if let Some(max) = setting("IMX_MAX_LOG") {
            opts.limits.max_log_bytes = parse::size(&max)
                .map_err(|e| CliError::usage(format!("IMX_MAX_LOG={max}: {e}")))?;
        }
        Ok(opts)
    }

    /// Open the local store; with `create` (only `init` and `demo`), create it if it is missing
    /// and say whether this call did. Without, a missing store is an error (exit 6) and nothing
    /// is created: a typo in `--store` never becomes a new, empty store.
    pub fn open_local(&self, create: bool) -> Result<(LocalControlPlane, bool), CliError> {
        let opts = self.local_options(create)?;
        let mut plane = match self.target()? {
            Target::Database { url } => {
                let mut config = imx::store::postgres::PgConfig::parse(&url)?;
                if let Some(n) = self.pool_size.get() {
                    config = config.with_pool_size(*n);
                }
                let mut store = imx::store::postgres::PgStore::open_with(config, create)?;
                if let Some(lease) = maintenance_lease_from_env()? {
                    store = store.with_maintenance_lease(lease);
                }
                let listen = self.wake_at_once.get().copied().unwrap_or(true) && !no_listen_env();
                store.configure_wakeups(imx::store::postgres::wakeup::WakeOptions {
                    listen,
                    ..Default::default()
                });
                if self.wake_at_once.get().is_some() {
                    store.start_wakeups();
                }
                LocalControlPlane::with_backend(Arc::new(store), opts)
            }
            _ => LocalControlPlane::open(&self.store_path()?, opts)?,
        };
        if let Some(ttl) = max_token_ttl_from_env()? {
            plane = plane.with_max_token_ttl(ttl);
        }
        if let Some(key) = std::env::var("IMX_AUDIT_KEY")
            .ok()
            .filter(|v| !v.is_empty())
        {
            plane = plane.with_audit_key(imx::audit::AuditKey::from_hex(&key, "IMX_AUDIT_KEY")?);
        }
        if let Some(source) = imx::keys::StoreKeySource::from_env()? {
            plane = plane.with_store_key(source);
        }
        if let Some(url) = setting("IMX_ARTIFACTS") {
            plane = plane.with_artifact_storage(imx::artifacts::ArtifactStorage::open(&url)?);
        }
        plane = plane.with_artifact_limits(artifact_limits_from_env()?);
        let created = plane.created();
        Ok((plane, created))
    }

    /// The control plane, creating a local store if there is none and saying so on stderr
    /// (`imx demo`).
    pub fn plane_creating(&self) -> Result<Plane, CliError> {
        if let (None, Target::Local { .. } | Target::Database { .. }) =
            (self.plane.get(), self.target()?)
        {
            let (local, created) = self.open_local(true)?;
            if created {
                self.out
                    .status(format!("Created a new store at {}", local.location()));
            }
            let _ = self.plane.set(Arc::new(local));
        }
        self.plane()
    }

    /// Use this token for the server (before the control plane is first opened).
    pub fn use_token(&self, token: imx::auth::Secret) {
        let _ = self.token.set(token);
    }

    /// The local control plane, when the target is a store rather than a server: opened here
    /// and then also what [`plane`](Self::plane) gives. For what runs inside this process
    /// (`imx agent run` fires schedules on a local store). `None` for a server, or when the
    /// control plane was already opened.
    pub fn local_plane(&self) -> Result<Option<Arc<LocalControlPlane>>, CliError> {
        if self.plane.get().is_some()
            || !matches!(
                self.target()?,
                Target::Local { .. } | Target::Database { .. }
            )
        {
            return Ok(None);
        }
        let local = Arc::new(self.open_local(false)?.0);
        let _ = self.plane.set(local.clone());
        Ok(Some(local))
    }

    /// The control plane, opened on first use: the local store, or a server client.
    pub fn plane(&self) -> Result<Plane, CliError> {
        if let Some(plane) = self.plane.get() {
            return Ok(plane.clone());
        }
        let plane: Plane = match self.target()? {
            Target::Local { .. } | Target::Database { .. } => Arc::new(self.open_local(false)?.0),
            Target::Remote { server, ca, .. } => {
                let key = server_key(&server)?;
                // A token flag wins, then IMX_TOKEN; else what `imx login` stored (keyring, or
                // the 0600 file).
                let token = match self.token.get() {
                    Some(token) => Some(token.clone()),
                    None => stored_login(&key)?.map(|l| l.token),
                };
                Arc::new(self.remote(&key, ca.as_deref(), token.as_ref())?)
            }
        };
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
    /// The server this command targets, as the key its credentials are stored under; an error
    /// when the target is a local store.
    pub fn server(&self, what: &str) -> Result<(String, Option<PathBuf>), CliError> {
        match self.target()? {
            Target::Remote { server, ca, .. } => Ok((server_key(&server)?, ca)),
            Target::Local { store } => Err(CliError::usage(format!(
                "{what} is for servers; on the local store {} you act as its owner",
                store.display()
            ))
            .with_hint("pass --server URL, or switch with `imx context use`")),
            Target::Database { .. } => Err(CliError::usage(format!(
                "{what} is for servers; on a database opened directly you act as its owner"
            ))
            .with_hint("pass --server URL, or switch with `imx context use`")),
        }
    }

    /// A client for `server` with an explicit token (or none: login is unauthenticated). Plain
    /// `http://` beyond loopback is refused (exit 2) unless `--insecure` or the context's
    /// `insecure = true` allows it, and then each command warns.
    pub fn remote(
        &self,
        server: &str,
        ca: Option<&std::path::Path>,
        token: Option<&imx::auth::Secret>,
    ) -> Result<RemoteControlPlane, CliError> {
        let ca_pem = match ca {
            Some(path) => Some(std::fs::read(path).map_err(|e| {
                CliError::usage(format!("cannot read the CA file {}: {e}", path.display()))
            })?),
            None => None,
        };
        let insecure = self.globals.insecure
            || matches!(self.target(), Ok(Target::Remote { insecure: true, .. }));
        let plane = RemoteControlPlane::with_transport(
            server,
            token.map(|t| t.expose().to_string()),
            ca_pem.as_deref(),
            insecure,
        )?;
        let plane = if self.out.verbosity() > 0 {
            plane.with_tracer(super::output::trace::tracer(self.out.clone()))
        } else {
            plane
        };
        let plane = if plane.replicated() {
            let out = self.out.clone();
            plane.with_move_hook(std::sync::Arc::new(move |from, to, why| {
                out.warn(format!("cannot reach {from} ({why}); moving to {to}"));
            }))
        } else {
            plane
        };
        for url in server
            .split(',')
            .filter_map(|u| reqwest::Url::parse(u.trim()).ok())
        {
            if !imx::control::remote::plain_http_beyond_loopback(&url) {
                continue;
            }
            self.out.warn(format!(
                "sending credentials over plain HTTP to {} (insecure): anyone on the network \
                 between here and the server can read them",
                url.host_str().unwrap_or_default()
            ));
        }
        Ok(plane)
    }
}

/// A token kept for a server, where it is kept, and the login (user) it belongs to.
pub struct StoredLogin {
    pub token: imx::auth::Secret,
    pub location: imx::config::credentials::Location,
    /// The login's name in `logins.toml`; `None` for `IMX_TOKEN` and a token an older imx
    /// stored under the bare server URL.
    pub login: Option<String>,
}

/// The token for server `key`: `IMX_TOKEN`, else the active login's (see
/// [`imx::config::logins`]), else one stored under the bare URL by an older imx.
pub fn stored_login(key: &str) -> Result<Option<StoredLogin>, CliError> {
    use imx::config::credentials::{Credentials, Location};
    use imx::config::logins::{Logins, logins_path};
    let creds = Credentials::system(true);
    let logins = Logins::load(&logins_path())?;
    if let Some(user) = logins.active(key)
        && let Some((token, location)) = creds.load(&Logins::key(key, user))?
    {
        let login = (location != Location::Env).then(|| user.to_string());
        return Ok(Some(StoredLogin {
            token,
            location,
            login,
        }));
    }
    Ok(creds.load(key)?.map(|(token, location)| StoredLogin {
        token,
        location,
        login: None,
    }))
}

/// A server URL as the key credentials are stored under: `scheme://host[:port][/path]`
/// without a trailing slash; for a cluster's replicas (`URL1,URL2`), each so, comma-separated.
pub fn server_key(list: &str) -> Result<String, CliError> {
    let keys = list
        .split(',')
        .filter(|u| !u.trim().is_empty())
        .map(one_server_key)
        .collect::<Result<Vec<_>, _>>()?;
    if keys.is_empty() {
        return Err(CliError::usage(format!("{list:?} names no server"))
            .with_hint("e.g. https://imx.example.com:8443 (several: separated by commas)"));
    }
    Ok(keys.join(","))
}

fn one_server_key(url: &str) -> Result<String, CliError> {
    let trimmed = url.trim();
    if !trimmed.contains("://") {
        return Err(CliError::usage(format!(
            "the server URL {url:?} has no scheme: imx needs to know whether to use HTTPS \
             (https://) or plain HTTP (http://)"
        ))
        .with_hint(format!(
            "write https://{trimmed} (or http://{trimmed} for a server on this machine without TLS)"
        )));
    }
    let parsed = reqwest::Url::parse(trimmed).map_err(|e| {
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

/// A control-plane setting from the environment; unset and empty are the same.
/// `IMX_ARTIFACT_MAX_STEP` and `IMX_ARTIFACT_MAX_RUN`: how much one step and one run may
/// upload as artifacts (sizes like 5GiB) [default: 5 GiB and 20 GiB].
fn artifact_limits_from_env() -> Result<imx::artifacts::ArtifactLimits, CliError> {
    let mut limits = imx::artifacts::ArtifactLimits::default();
    for (name, slot) in [
        ("IMX_ARTIFACT_MAX_STEP", &mut limits.max_step_bytes),
        ("IMX_ARTIFACT_MAX_RUN", &mut limits.max_run_bytes),
    ] {
        if let Some(v) = setting(name) {
            *slot = parse::size(&v).map_err(|e| CliError::usage(format!("{name}={v}: {e}")))?;
        }
    }
    Ok(limits)
}

fn setting(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// `IMX_NO_LISTEN` set (and not 0, false, no or off): a PostgreSQL store polls instead of
/// LISTENing (PgBouncer in transaction pooling mode), as `imx server --no-listen`.
fn no_listen_env() -> bool {
    setting("IMX_NO_LISTEN").is_some_and(|v| {
        !matches!(
            v.to_ascii_lowercase().as_str(),
            "0" | "false" | "no" | "off"
        )
    })
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// `IMX_MAX_TOKEN_TTL`: the longest a token made through a local store may live (default 90
/// days; `imx server --max-token-ttl` wins over it for the server).
/// IMX_MAINTENANCE_LEASE: the maintenance lease of a PostgreSQL store (default 10s).
fn maintenance_lease_from_env() -> Result<Option<std::time::Duration>, CliError> {
    let Some(v) = std::env::var("IMX_MAINTENANCE_LEASE")
        .ok()
        .filter(|v| !v.is_empty())
    else {
        return Ok(None);
    };
    match parse::duration(&v) {
        Ok(d) if d >= std::time::Duration::from_millis(100) => Ok(Some(d)),
        Ok(_) => Err(CliError::usage(
            "IMX_MAINTENANCE_LEASE must be at least 100ms",
        )),
        Err(e) => Err(CliError::usage(format!("IMX_MAINTENANCE_LEASE={v}: {e}"))),
    }
}

fn max_token_ttl_from_env() -> Result<Option<std::time::Duration>, CliError> {
    let Some(v) = std::env::var("IMX_MAX_TOKEN_TTL")
        .ok()
        .filter(|v| !v.is_empty())
    else {
        return Ok(None);
    };
    match parse::duration(&v) {
        Ok(d) if !d.is_zero() => Ok(Some(d)),
        Ok(_) => Err(CliError::usage("IMX_MAX_TOKEN_TTL must be longer than 0s")),
        Err(e) => Err(CliError::usage(format!("IMX_MAX_TOKEN_TTL={v}: {e}"))),
    }
}

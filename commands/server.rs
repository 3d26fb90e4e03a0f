//! `imx server`: serve the local store's control plane over HTTP (`/api/v1`) so operators and
//! agents on other machines use it with the same commands (`--server URL`, contexts), and
//! optionally take scheduled backups (`--backup-every`, `--backup-dir`, `--keep-*`) and delete
//! finished runs past a retention period (`--retain`) on tasks that stop with the server, and
//! delivers notifications (issue 12).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use imx::auth::{Principal, Role};
use imx::server::{AppState, ConnLimits, Limits, ServeOptions};

use super::context::Context;
use super::error::{CliError, Exit};

/// Serve this store's control plane over HTTP, or HTTPS (TLS 1.3 only) with --tls-cert and
/// --tls-key. Plain HTTP is only allowed on a loopback address unless --insecure-listen is given;
/// the store needs an admin (`imx init --admin NAME`). SIGTERM/SIGINT stop accepting, finish in-flight requests and drain
/// the embedded agents. The URL it serves is printed on stdout.
///
/// From the environment: IMX_LEASE is the lease length granted to agents (default 30s; they
/// learn it when they register and heartbeat at a third of it), IMX_MAX_OUTPUT the most a step's
/// outputs may total (default 1MiB; a step over it fails), IMX_MAX_LOG the most output one step
/// attempt keeps (default 64MiB; the rest is cut, with one line saying how much),
/// IMX_MAINTENANCE_LEASE the maintenance lease of replicas on PostgreSQL (default 10s: one
/// replica at a time reaps expired leases and times runs out; when it dies or stalls another
/// takes over within the lease; `imx_maintenance_leader` on /metrics is 1 on the leader).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  imx --store /srv/imx/imx.db init --admin alice
  imx --store /srv/imx/imx.db server --listen 127.0.0.1:7443 --agents 2 --agents-user nobody
  imx --server http://127.0.0.1:7443 run list        # with IMX_TOKEN or after imx login
  imx server --listen 0.0.0.0:7443 --tls-cert cert.pem --tls-key key.pem
  imx context add prod --server https://imx.example.com:7443 --ca ca.pem
  imx server --listen 127.0.0.1:7443 --log-format json --log-dir /var/log/imx --rate-limit 1000
  imx server --listen 127.0.0.1:7443 --backup-every 15m --backup-dir /var/backups --keep-daily 7
  imx server --listen 127.0.0.1:7443 --default-run-timeout 2h   # runs without timeout: 2h
  imx server --listen 127.0.0.1:7443 --retain 30d   # delete runs that ended over 30 days ago
  IMX_DATABASE_URL=postgres://imx@db.example/imx imx server --listen 0.0.0.0:7443 --insecure-listen   # a cluster replica
  imx --server http://127.0.0.1:7443 backup list      # the server's backups")]
pub struct ServerArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:7443", value_name = "ADDR")]
    pub listen: SocketAddr,

    /// Serve a PostgreSQL database (cluster mode: any number of replicas share it) instead of
    /// a SQLite store; create its schema first with `imx init --database URL --admin NAME`.
    /// Prefer the environment variable: a URL with a password on the command line is visible
    /// to other users in the process list.
    #[arg(
        long,
        env = "IMX_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub database: Option<String>,

    /// Connections this replica keeps to the database at most [default: 16, or the URL's
    /// pool_max_size].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1000), requires = "database")]
    pub pool_size: Option<u16>,

    /// Do not LISTEN for other replicas' changes (for PgBouncer in transaction pooling mode,
    /// where LISTEN does not work): this replica then polls the database every 250 ms, so a
    /// step made ready through another replica reaches an agent here within about 250 ms
    /// rather than at once; revoked tokens and user changes still apply within a second. Also
    /// IMX_NO_LISTEN=1.
    #[arg(long, requires = "database")]
    pub no_listen: bool,

    /// Run this many agents inside the server process (the one-command dev setup; production
    /// agents are separate `imx agent run` processes). Their steps run in private temp
    /// directories with a clean environment.
    #[arg(long, default_value_t = 0, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=64))]
    pub agents: u32,

    /// Run the embedded agents' steps as this user (name or uid), with no supplementary
    /// groups; required when the server runs as root.
    #[arg(long, value_name = "USER")]
    pub agents_user: Option<String>,

    /// Pass this variable of the server's environment to the embedded agents' steps
    /// (repeatable, or NAME,NAME); IMX_* names are refused.
    #[arg(long, value_name = "NAME", value_delimiter = ',', value_parser = super::parse::pass_env_name)]
    pub agents_pass_env: Vec<String>,

    /// PEM certificate chain (leaf first) to serve HTTPS with; needs --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Allow plain HTTP on a non-loopback address (behind a TLS-terminating proxy).
    #[arg(long)]
    pub insecure_listen: bool,

    /// Requests per second allowed per token (bursts of twice that); 0 for no limit.
    #[arg(long, default_value_t = Limits::default().per_token, value_name = "N")]
    pub rate_limit: u32,

    /// Requests per second allowed per IP address for requests without a token; 0 for no limit.
    #[arg(long, default_value_t = Limits::default().per_ip, value_name = "N")]
    pub ip_rate_limit: u32,

    /// Requests per second allowed per IP address to /healthz, /readyz and /metrics; 0 for no
    /// limit (e.g. when a load balancer's probes all come from one address).
    #[arg(long, default_value_t = Limits::default().ops_per_ip, value_name = "N")]
    pub ops_rate_limit: u32,

    #[command(flatten)]
    pub guard: GuardArgs,

    /// Request log format: one line per request (method, route, status, latency, principal).
    #[arg(long, value_enum, default_value_t = LogFormat::Text, value_name = "FORMAT")]
    pub log_format: LogFormat,

    /// Write the request log to daily rolling files DIR/imx-server.log.YYYY-MM-DD instead of
    /// stderr.
    #[arg(long, value_name = "DIR")]
    pub log_dir: Option<PathBuf>,

    /// Delete finished runs that ended longer ago than this (e.g. 30d), with their steps,
    /// events and log lines (and schedules' tick records as old whose run is gone), checking every quarter of it (at most every 10 minutes); each
    /// pass that deletes anything is audited as `run.prune` by `server:retention`. Replicas on
    /// PostgreSQL prune once: only the one leading maintenance does [default: keep every run]
    #[arg(long, value_name = "PERIOD", env = "IMX_RETAIN", value_parser = super::parse::duration)]
    pub retain: Option<std::time::Duration>,

    /// Take a backup this often (e.g. 15m, 1h), timed from the newest backup in the folder so
    /// restarts do not reset the clock; each is audited as `backup.create` by `server:backup`.
    /// Replicas on PostgreSQL back up once: only the one leading maintenance does.
    #[arg(long, value_name = "DURATION", value_parser = super::parse::duration)]
    pub backup_every: Option<std::time::Duration>,

    /// The server's backup folder: scheduled backups and `imx --server URL backup create` go
    /// here, and remote `backup list|show|verify|download` look here
    /// unless the store has a backup location (`imx backup location DIR`, which wins)
    /// [default: backups/ beside the store]
    #[arg(long, value_name = "DIR")]
    pub backup_dir: Option<PathBuf>,

    /// Where step artifacts are kept: s3://bucket/prefix (S3-compatible object storage; the
    /// endpoint, region and credentials come from AWS_ENDPOINT_URL, AWS_REGION,
    /// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_ALLOW_HTTP=true for plain http) or a
    /// folder. Every replica of a cluster needs the same one [default: IMX_ARTIFACTS; for a
    /// SQLite store, the folder STORE.artifacts beside it]
    #[arg(long, value_name = "URL|DIR")]
    pub artifacts: Option<String>,

    /// The longest a token may live (default 90d, or IMX_MAX_TOKEN_TTL): longer lifetimes
    /// are refused, tokens made without one get this, `imx login` tokens live 30d or this.
    #[arg(long, value_name = "DURATION", value_parser = super::parse::duration)]
    pub max_token_ttl: Option<std::time::Duration>,

    /// The run timeout of runs started through this server whose workflow sets no `timeout:`
    /// (and that are started without --timeout) [default: the store's default, set with
    /// `imx init --default-run-timeout`, else 24h]
    #[arg(long, value_name = "DURATION", value_parser = super::parse::duration)]
    pub default_run_timeout: Option<std::time::Duration>,

    /// The store key that seals secrets kept in the store (notification channels' secrets,
    /// webhook triggers'): a file holding 64 hex digits (e.g. from `openssl rand -hex 32`),
    /// mode 0600. Every replica of a store needs the same key; IMX_STORE_KEY gives the key
    /// itself [default: IMX_STORE_KEY; for a SQLite store, the OS keyring's key for the store]
    #[arg(long, value_name = "FILE")]
    pub store_key_file: Option<PathBuf>,

    #[command(flatten)]
    pub retention: RetentionArgs,
}

/// What one client may hold or try: logins, connections, and how long it may keep the server
/// waiting.
#[derive(Debug, Clone, clap::Args)]
pub struct GuardArgs {
    /// Login attempts per minute allowed per IP address (a burst may spend ten seconds' worth
    /// at once); 0 for no limit.
    #[arg(long, default_value_t = Limits::default().login_per_ip, value_name = "N")]
    pub login_rate_limit: u32,

    /// Login attempts per minute allowed to the whole server, from all addresses together; 0
    /// for no limit.
    #[arg(long, default_value_t = Limits::default().login_global, value_name = "N")]
    pub login_global_rate_limit: u32,

    /// Open connections allowed at once; more are answered 503 and closed
    /// [default: the open-file limit less a quarter (at least 64 kept), at most 10000]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: Option<u32>,

    /// Close a connection whose request head is not complete this long after its first byte.
    #[arg(long, default_value = "10s", value_name = "DURATION", value_parser = super::parse::duration)]
    pub header_timeout: std::time::Duration,

    /// Close a kept-alive connection that sends no new request for this long.
    #[arg(long, default_value = "75s", value_name = "DURATION", value_parser = super::parse::duration)]
    pub idle_timeout: std::time::Duration,

    /// Close a connection whose client has read nothing of a response (or event stream) for this
    /// long; a slow client that keeps reading is never cut off.
    #[arg(long, default_value = "60s", value_name = "DURATION", value_parser = super::parse::duration)]
    pub write_timeout: std::time::Duration,

    /// End each event stream (/api/v1/events/stream) after this long; clients resume where they
    /// left off (Last-Event-ID) [default: streams last as long as their clients]
    #[arg(long, value_name = "DURATION", value_parser = super::parse::duration)]
    pub stream_lifetime: Option<std::time::Duration>,

    /// The longest an agent's claim or an events long poll (wait_ms) is held, at most 30s
    /// (lower it below a proxy's timeout).
    #[arg(long, default_value = "30s", value_name = "DURATION", value_parser = super::parse::duration)]
    pub long_poll: std::time::Duration,
}

impl GuardArgs {
    /// The connection limits, after checking them; the open-file limit read from the process.
    fn connections(&self, open_files: Option<u64>) -> Result<ConnLimits, CliError> {
        for (flag, d) in [
            ("--header-timeout", self.header_timeout),
            ("--idle-timeout", self.idle_timeout),
            ("--write-timeout", self.write_timeout),
            (
                "--stream-lifetime",
                self.stream_lifetime.unwrap_or(std::time::Duration::MAX),
            ),
            ("--long-poll", self.long_poll),
        ] {
            if d.is_zero() {
                return Err(CliError::usage(format!("{flag} must be longer than 0s")));
            }
        }
        if self.long_poll > imx::server::MAX_WAIT {
            return Err(CliError::usage(format!(
                "--long-poll is at most {}s",
                imx::server::MAX_WAIT.as_secs()
            )));
        }
        Ok(ConnLimits {
            max_connections: match self.max_connections {
                Some(n) => usize::try_from(n).unwrap_or(usize::MAX),
                None => imx::server::conn::default_max_connections(open_files),
            },
            header_timeout: self.header_timeout,
            idle_timeout: self.idle_timeout,
            write_timeout: self.write_timeout,
        })
    }
}

/// What scheduled backups keep: after each one, the newest --keep-last, then the newest backup
/// of each of the last N hours, days, ISO weeks, months and years (UTC). None given: keep all.
#[derive(Debug, Clone, clap::Args)]
pub struct RetentionArgs {
    /// Keep the newest N backups of the backup folder.
    #[arg(long, value_name = "N", default_value_t = 0, requires = "backup_every")]
    pub keep_last: u32,
    /// Keep one backup for each of the last N hours.
    #[arg(long, value_name = "N", default_value_t = 0, requires = "backup_every")]
    pub keep_hourly: u32,
    /// Keep one backup for each of the last N days.
    #[arg(long, value_name = "N", default_value_t = 0, requires = "backup_every")]
    pub keep_daily: u32,
    /// Keep one backup for each of the last N weeks.
    #[arg(long, value_name = "N", default_value_t = 0, requires = "backup_every")]
    pub keep_weekly: u32,
    /// Keep one backup for each of the last N months.
    #[arg(long, value_name = "N", default_value_t = 0, requires = "backup_every")]
    pub keep_monthly: u32,
    /// Keep one backup for each of the last N years.
    #[arg(long, value_name = "N", default_value_t = 0, requires = "backup_every")]
    pub keep_yearly: u32,
}

impl RetentionArgs {
    /// The policy, or none when no --keep-* flag was given (keep everything).
    fn policy(&self) -> Option<imx::backup::RetentionPolicy> {
        let p = imx::backup::RetentionPolicy {
            keep_last: self.keep_last,
            keep_hourly: self.keep_hourly,
            keep_daily: self.keep_daily,
            keep_weekly: self.keep_weekly,
            keep_monthly: self.keep_monthly,
            keep_yearly: self.keep_yearly,
        };
        (!p.is_empty()).then_some(p)
    }
}

/// How request log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Send `tracing` events (INFO and above) to stderr or daily files, written by a background
/// thread (`imx::server::log::batched`: the request lines a batch at a time); the guard writes
/// what is left when dropped.
fn init_logging(
    format: LogFormat,
    dir: Option<&std::path::Path>,
) -> Result<imx::server::log::LogFlusher, CliError> {
    let cannot = |e: std::io::Error| CliError::other(format!("cannot start the log's writer: {e}"));
    // Through a writer thread either way: a request never waits for the output (a slow pipe
    // or terminal), and its line costs no system call on the request path.
    let (writer, guard) = match dir {
        Some(dir) => {
            let files = tracing_appender::rolling::Builder::new()
                .rotation(tracing_appender::rolling::Rotation::DAILY)
                .filename_prefix("imx-server.log")
                .build(dir)
                .map_err(|e| CliError::other(format!("cannot log to {}: {e}", dir.display())))?;
            imx::server::log::batched(files).map_err(cannot)?
        }
        None => imx::server::log::batched(std::io::stderr()).map_err(cannot)?,
    };
    let builder = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_writer(writer)
        .with_ansi(false);
    // Another subscriber (a test harness) already set is not an error.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
    Ok(guard)
}

pub async fn run(ctx: &Context, args: ServerArgs) -> Result<(), CliError> {
    if let Some(url) = &args.database {
        ctx.use_database(url);
    }
    if let Some(n) = args.pool_size {
        ctx.use_pool_size(usize::from(n));
    }
    // A replica hears of other replicas' changes from the start (its token cache too).
    ctx.wake_at_once(!args.no_listen);
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(imx::server::tls::load_config(cert, key)?),
        _ => None,
    };
    if tls.is_none() && !args.listen.ip().is_loopback() && !args.insecure_listen {
        return Err(CliError::usage(format!(
            "refusing to serve plain HTTP on {}: only loopback addresses are allowed without TLS",
            args.listen
        ))
        .with_hint(
            "give --tls-cert FILE --tls-key FILE, or --insecure-listen behind a TLS proxy",
        ));
    }
    if args.default_run_timeout.is_some_and(|d| d.is_zero()) {
        return Err(
            CliError::usage("--default-run-timeout must be longer than 0s")
                .with_hint("e.g. --default-run-timeout 2h"),
        );
    }
    let open_files = imx::server::conn::open_file_limit();
    let connections = args.guard.connections(open_files)?;
    if args.backup_every.is_some_and(|d| d.is_zero()) {
        return Err(CliError::usage("--backup-every must be longer than 0s")
            .with_hint("e.g. --backup-every 15m"));
    }
    if args.retain.is_some_and(|d| d.is_zero()) {
        return Err(
            CliError::usage("--retain must be longer than 0s").with_hint("e.g. --retain 30d")
        );
    }
    if args.max_token_ttl.is_some_and(|d| d.is_zero()) {
        return Err(CliError::usage("--max-token-ttl must be longer than 0s")
            .with_hint("e.g. --max-token-ttl 30d"));
    }
    let embedded = super::agent::steps::embedded(
        ctx.out(),
        args.agents,
        args.agents_user.as_deref(),
        &args.agents_pass_env,
    )?;
    let _log_guard = init_logging(args.log_format, args.log_dir.as_deref())?;
    let (local, _) = ctx.open_local(false)?;
    if !local.has_admin()? {
        return Err(CliError::new(
            Exit::Error,
            format!(
                "the store at {} has no admin user, so nobody could manage this server",
                local.location()
            ),
        )
        .with_hint(format!(
            "create one first: imx --store {} init --admin NAME",
            local.location()
        )));
    }
    if let Some(path) = local.path() {
        super::agent::steps::warn_if_store_readable(ctx.out(), &embedded, path);
    }
    let local = match &args.backup_dir {
        Some(dir) => local.with_backup_dir(dir.clone()),
        None => local,
    };
    let local = match args.max_token_ttl {
        Some(ttl) => local.with_max_token_ttl(ttl),
        None => local,
    };
    let local = match &args.artifacts {
        Some(url) => local.with_artifact_storage(imx::artifacts::ArtifactStorage::open(url)?),
        None => local,
    };
    let local = match args.default_run_timeout {
        Some(d) => local.with_default_run_timeout(u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        None => local,
    };
    let local = match &args.store_key_file {
        Some(path) => local.with_store_key(imx::keys::StoreKeySource::from_file(path)?),
        None => local,
    };
    let local = Arc::new(local);
    let listener = imx::server::conn::bind(args.listen)
        .map_err(|e| CliError::other(format!("cannot listen on {}: {e}", args.listen)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| CliError::other(format!("cannot listen on {}: {e}", args.listen)))?;
    let url = format!("{}://{addr}", if tls.is_some() { "https" } else { "http" });

    let (stop_agents, agents_stop) = tokio::sync::watch::channel(false);
    let mut agents = Vec::new();
    let agent_events = super::agent::steps::embedded_events(ctx.out().clone());
    for i in 1..=args.agents {
        let name = format!("{}-embedded-{i}", imx::config::hostname());
        let who = Principal {
            name: format!("agent:{name}"),
            role: Role::Agent,
            source: "local".into(),
        };
        let mut config = imx::agent::AgentConfig::new(name);
        config.launch = embedded.clone();
        config.on_event = Some(agent_events.clone());
        agents.push(tokio::spawn(imx::agent::run(
            local.clone(),
            who,
            config,
            agents_stop.clone(),
        )));
    }

    // On PostgreSQL the maintenance leader reaps on a timer, requests or not (SQLite stores
    // are reaped as requests come, as before).
    let maintenance = imx::control::ControlPlane::maintenance_leader(local.as_ref())
        .is_some()
        .then(|| {
            let plane = local.clone();
            let mut stop = agents_stop.clone();
            tokio::spawn(async move {
                loop {
                    let p = plane.clone();
                    if let Ok(Err(e)) = tokio::task::spawn_blocking(move || p.maintain_now()).await
                    {
                        tracing::debug!(error = %e, "maintenance failed");
                    }
                    tokio::select! {
                        _ = stop.changed() => break,
                        () = tokio::time::sleep(MAINTAIN_EVERY) => {}
                    }
                }
            })
        });

    // Schedules fire from here: on PostgreSQL on the maintenance leader only, on SQLite on
    // the holder of the scheduler lease (see `imx::control::run_scheduler`).
    let scheduler = {
        tokio::spawn(imx::control::run_scheduler(
            local.clone(),
            Arc::new(imx::schedule::SystemClock),
            agents_stop.clone(),
            |pass| {
                if let Err(e) = pass {
                    tracing::warn!(error = %e, "a scheduler pass failed");
                }
            },
        ))
    };
    // Notifications (issue 12): the outbox is delivered by the process leading maintenance
    // (every replica runs the loop; on PostgreSQL only the leader's passes do anything).
    let notifications = tokio::spawn(imx::control::deliver_notifications(
        local.clone(),
        agents_stop.clone(),
        |e| tracing::warn!(error = %e, "notification delivery failed"),
    ));

    let backups = match args.backup_every {
        Some(every) => Some((every, local.backup_dir(None)?)),
        None => None,
    };
    let backups = backups.map(|(every, dir)| {
        let schedule = imx::control::BackupSchedule {
            every,
            create: imx::backup::CreateOptions {
                out: Some(dir.clone()),
                note: Some("scheduled".into()),
                ..imx::backup::CreateOptions::default()
            },
            retention: args.retention.policy(),
        };
        ctx.out().status(format!(
            "Backing up every {} into {}{}",
            humantime::format_duration(every),
            dir.display(),
            if schedule.retention.is_some() {
                " (pruned after each backup)"
            } else {
                ""
            }
        ));
        let plane = local.clone();
        let stop = agents_stop.clone();
        tokio::spawn(async move {
            let who = Principal {
                name: "server:backup".into(),
                role: Role::Admin,
                source: "local".into(),
            };
            imx::backup::schedule::run(plane.as_ref(), &who, &schedule, stop, |e| {
                tracing::error!(error = %e, "scheduled backup failed");
            })
            .await;
        })
    });

    let retention = args.retain.map(|keep| {
        ctx.out().status(format!(
            "Deleting finished runs older than {} (checking every {})",
            humantime::format_duration(keep),
            humantime::format_duration(imx::control::retain_every(keep))
        ));
        let who = Principal {
            name: "server:retention".into(),
            role: Role::Admin,
            source: "local".into(),
        };
        tokio::spawn(imx::control::retain(
            local.clone(),
            who,
            keep,
            agents_stop.clone(),
            |pass| match pass {
                Ok(Some(r)) if r.runs + r.log_lines + r.events + r.ticks + r.notifications > 0 => {
                    tracing::info!(
                        runs = r.runs,
                        steps = r.steps,
                        log_lines = r.log_lines,
                        events = r.events,
                        ticks = r.ticks,
                        notifications = r.notifications,
                        "pruned finished runs"
                    )
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "pruning finished runs failed"),
            },
        ))
    });

    let state = AppState {
        plane: local.clone(),
        auth: local.clone(),
    };
    ctx.out().status(format!(
        "Serving {} at {url}{}; Ctrl-C to stop.",
        local.location(),
        if args.agents > 0 {
            format!(
                " with {}",
                super::output::count(args.agents, "embedded agent")
            )
        } else {
            String::new()
        }
    ));
    report_limits(ctx, &args, &connections, open_files, tls.is_some());
    ctx.out().line(&url)?;
    let options = ServeOptions {
        tls,
        limits: Limits {
            per_token: args.rate_limit,
            per_ip: args.ip_rate_limit,
            login_per_ip: args.guard.login_rate_limit,
            login_global: args.guard.login_global_rate_limit,
            ops_per_ip: args.ops_rate_limit,
        },
        connections,
        stream_lifetime: args.guard.stream_lifetime,
        long_poll: Some(args.guard.long_poll),
        max_token_ttl: Some(local.max_token_ttl()),
    };
    imx::server::serve_with(listener, state, options, shutdown_signal()).await?;
    ctx.out()
        .status("Stopped accepting requests; draining embedded agents.");
    let _ = stop_agents.send(true);
    for agent in agents {
        let _ = agent.await;
    }
    if let Some(task) = backups {
        // A backup in progress finishes; the loop then sees the stop.
        let _ = task.await;
    }
    let _ = notifications.await;
    if let Some(task) = maintenance {
        let _ = task.await;
    }
    // A pass in progress finishes; the loop then sees the stop.
    let _ = scheduler.await;
    if let Some(task) = retention {
        // A batch in progress finishes; the loop then sees the stop.
        let _ = task.await;
    }
    ctx.out().status("Server stopped.");
    Ok(())
}

/// How often a replica on PostgreSQL looks for maintenance to do (when it leads).
const MAINTAIN_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

/// Say at start what the server holds to: its connection cap against the open-file limit (a
/// warning when the cap leaves too few descriptors), and a warning when it serves plain HTTP
/// beyond loopback.
fn report_limits(
    ctx: &Context,
    args: &ServerArgs,
    connections: &ConnLimits,
    open_files: Option<u64>,
    tls: bool,
) {
    let max = connections.max_connections;
    match open_files {
        Some(limit) => {
            ctx.out().status(format!(
                "Accepting at most {max} connections at once (open-file limit {limit})."
            ));
            let room = limit.saturating_sub(imx::server::conn::reserved_descriptors(limit));
            if u64::try_from(max).unwrap_or(u64::MAX) > room {
                ctx.out().warn(format!(
                    "--max-connections {max} leaves too few of the {limit} open files for the \
                     store and logs; lower it, or raise the limit (ulimit -n)"
                ));
            }
        }
        None => ctx.out().status(format!(
            "Accepting at most {max} connections at once (no open-file limit)."
        )),
    }
    if !tls && !args.listen.ip().is_loopback() {
        ctx.out().warn(format!(
            "--insecure-listen: serving plain HTTP on {}; tokens and passwords cross the \
             network in clear unless a TLS proxy is in front",
            args.listen
        ));
    }
}

/// Resolves on SIGTERM or SIGINT.
async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        // Without signal handlers the server runs until killed.
        std::future::pending::<()>().await;
        return;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}

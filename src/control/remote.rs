//! The remote control plane: every [`ControlPlane`] method as a call to an `imx server`'s
//! `/api/v1` (see `server::routes`), with the caller's bearer token. Errors come back as the same
//! library errors the local plane returns; an unreachable server is [`Error::Unreachable`].
//! [`wait_for_change`](ControlPlane::wait_for_change) follows the server's event stream (see
//! `follow`), so followers (`run logs -f`, `run watch`, agents, the dashboard) wake as soon as
//! something happens, new log lines included.

mod artifacts;
mod follow;
mod servers;

use servers::Servers;
use std::sync::Arc;

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use reqwest::{Method, RequestBuilder, StatusCode, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::CheckpointOutcome;
use super::wire::{
    ApplyQuery, ClaimAfter, ClaimBody, CompleteBody, CompleteReply, EventsQuery, LeasesBody,
    LoginBody, LogsBody, LogsQuery, PasswordBody, RetryBody, RunsQuery, VersionQuery,
};
use super::wire::{AuditReportBody, BackupCreateBody, BackupVerifyBody, backup_id};
use super::wire::{AuditTailBody, RecentQuery, RemoveQuery};
use super::{
    AgentQuery, ApplyOutcome, AuditFilter, ControlPlane, HeartbeatReply, Overview, RerunRun,
    RunQuery, StartRun, StatusReport, WorkflowOutcomes,
};
use crate::audit::{AuditReport, ChainReport, Window};
use crate::auth::{Principal, Secret};
use crate::backup::catalog::Catalog;
use crate::backup::{BackupInfo, CreateOptions, Integrity, KeySource, Progress, VerifyReport};
use crate::model::AuditRecord;
use crate::model::{
    Agent, AgentRegistration, Event, IssuedToken, LeaseRef, LogLine, NewToken, NewUser, Page,
    PasswordChange, Run, RunDetail, RunFilter, StepResult, StepTask, Token, User, UserUpdate,
    Workflow, WorkflowSpec, WorkflowSummary,
};
use crate::server::error::ErrorBody;
use crate::{Error, Result};
use std::path::{Path, PathBuf};

/// Extra time a long poll may take on the wire beyond what it asked the server to wait.
const POLL_SLACK: Duration = Duration::from_secs(10);

/// How long an idle connection stays in the client's pool.
const POOL_IDLE: Duration = Duration::from_secs(30);

/// Whether `url` is plain `http://` to a host that is not loopback: anything but 127.0.0.0/8,
/// `::1` (or an IPv4-mapped loopback address) and `localhost`. Names are not resolved.
pub fn plain_http_beyond_loopback(url: &Url) -> bool {
    if url.scheme() != "http" {
        return false;
    }
    let Some(host) = url.host_str() else {
        return true;
    };
    // An IPv6 host is written in brackets.
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(ip)) => !ip.is_loopback(),
        Ok(std::net::IpAddr::V6(ip)) => {
            !(ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()))
        }
        Err(_) => !host.trim_end_matches('.').eq_ignore_ascii_case("localhost"),
    }
}

/// A control plane behind an `imx server`.
pub struct RemoteControlPlane {
    /// The server, or the replicas of a cluster (one in use at a time).
    servers: Arc<Servers>,
    client: reqwest::Client,
    token: Option<String>,
    /// The newest event seen, for `wait_for_change`'s long poll (-1: not known yet).
    last_event: AtomicI64,
    /// The event stream that wakes `wait_for_change`.
    follower: follow::Follower,
    /// Told about every request (`imx -v`), if set.
    tracer: Option<Tracer>,
    /// Told when a replica cannot be reached and the plane moves to the next, if set.
    on_move: Option<MoveHook>,
    /// Whether the server takes a time range (`since`) on the dashboard's runs and audit tail (a
    /// server that predates it refuses the field; the dashboard then cuts what it returns, as
    /// before).
    ranges: AtomicBool,
    /// Whether the server takes log lines' capture times (a server that predates them refuses
    /// the field; lines then go without, and it stamps them on receipt).
    log_times: AtomicBool,
    /// Whether the server takes a claim with results (`claim` in the complete body; a server
    /// that predates it refuses the field: results and claim then go apart).
    claim_after: AtomicBool,
}

/// Whether the server refused a request body for a field it does not know (a server older than
/// the field): the request can go again without it.
fn refused_field(e: &Error, field: &str) -> bool {
    e.kind() == crate::error::ErrorKind::Invalid
        && e.to_string().contains(&format!("unknown field `{field}`"))
}

/// Called with the replica that could not be reached, the one moved to, and why.
pub type MoveHook = std::sync::Arc<dyn Fn(&Url, &Url, &str) + Send + Sync>;

/// One request the client made and how it went, for tracing (`imx -v`). The library prints
/// nothing itself: the caller decides what to show (and must not show the Authorization
/// header's secret).
pub struct Trace<'a> {
    pub method: &'a Method,
    pub url: &'a Url,
    pub request_headers: &'a reqwest::header::HeaderMap,
    /// The response's status and headers, or `None` when no response came.
    pub response: Option<(StatusCode, &'a reqwest::header::HeaderMap)>,
    pub elapsed: Duration,
}

/// What [`RemoteControlPlane::with_tracer`] calls for each request.
pub type Tracer = std::sync::Arc<dyn Fn(&Trace<'_>) + Send + Sync>;

impl RemoteControlPlane {
    /// A client for the server at `url` (e.g. `https://imx.example:7443`), authenticating with
    /// `token`. `ca_pem` adds a trusted certificate authority (for self-signed servers). Plain
    /// `http://` is refused unless the host is loopback (see [`RemoteControlPlane::with_transport`]).
    pub fn new(url: &str, token: Option<String>, ca_pem: Option<&[u8]>) -> Result<Self> {
        Self::with_transport(url, token, ca_pem, false)
    }

    /// [`RemoteControlPlane::new`], and with `insecure` plain `http://` to any host: tokens and
    /// passwords then cross the network in clear (the caller warns). Without it, `http://` to a
    /// host that is not loopback ([`plain_http_beyond_loopback`]) is refused before any
    /// connection is made.
    pub fn with_transport(
        url: &str,
        token: Option<String>,
        ca_pem: Option<&[u8]>,
        insecure: bool,
    ) -> Result<Self> {
        let servers = Arc::new(Servers::parse(url, insecure)?);
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("imx/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            // The API never redirects: following one could carry the token elsewhere, or to
            // plain HTTP on the same host and port.
            .redirect(reqwest::redirect::Policy::none())
            // Below the server's idle timeout (`server::conn::IDLE_TIMEOUT`), so a pooled
            // connection is dropped here before the server closes it.
            .pool_idle_timeout(POOL_IDLE);
        if let Some(pem) = ca_pem {
            let cert = reqwest::Certificate::from_pem(pem)
                .map_err(|e| Error::invalid(format!("the CA certificate is not valid PEM: {e}")))?;
            builder = builder.add_root_certificate(cert);
        }
        let client = builder
            .build()
            .map_err(|e| Error::Internal(format!("cannot build the HTTP client: {e}")))?;
        Ok(RemoteControlPlane {
            servers,
            client,
            token,
            last_event: AtomicI64::new(-1),
            follower: follow::Follower::new(),
            tracer: None,
            on_move: None,
            ranges: AtomicBool::new(true),
            log_times: AtomicBool::new(true),
            claim_after: AtomicBool::new(true),
        })
    }

    /// Call `tracer` after each request (method, URL, status, time, headers).
    pub fn with_tracer(mut self, tracer: Tracer) -> Self {
        self.tracer = Some(tracer);
        self
    }

    /// Call `hook` when a replica cannot be reached and the plane moves on (several servers).
    pub fn with_move_hook(mut self, hook: MoveHook) -> Self {
        self.on_move = Some(hook);
        self
    }

    /// Whether this plane was given several servers (a cluster's replicas).
    pub fn replicated(&self) -> bool {
        self.servers.len() > 1
    }

    /// The server in use.
    fn base(&self) -> &Url {
        self.servers.current()
    }

    /// `base` + `/api/v1/` + segments, each segment escaped.
    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base().clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(["api", "v1"]).extend(segments);
        }
        url
    }

    fn request(&self, method: Method, segments: &[&str]) -> RequestBuilder {
        let req = self.client.request(method, self.url(segments));
        match &self.token {
            Some(t) => req.bearer_auth(t),
            None => req,
        }
    }

    /// Send one request and trace it (`imx -v`).
    async fn execute(&self, req: reqwest::Request) -> reqwest::Result<reqwest::Response> {
        let traced = self.tracer.as_ref().map(|_| {
            (
                req.method().clone(),
                req.url().clone(),
                req.headers().clone(),
            )
        });
        let started = std::time::Instant::now();
        let sent = self.client.execute(req).await;
        if let (Some(tracer), Some((method, url, headers))) = (&self.tracer, &traced) {
            tracer(&Trace {
                method,
                url,
                request_headers: headers,
                response: sent.as_ref().ok().map(|r| (r.status(), r.headers())),
                elapsed: started.elapsed(),
            });
        }
        sent
    }

    async fn send_raw(&self, req: RequestBuilder) -> Result<reqwest::Response> {
        let mut req = req.build().map_err(|e| self.unreachable(&e))?;
        // A server that refuses the connection never saw the request: it goes to the next
        // replica at once. Any other failure to get an answer moves later requests on, but is
        // not repeated here (the server may have acted on it); callers retry as they do today.
        let mut moves = self.servers.len().saturating_sub(1);
        let resp = loop {
            let base = self.base().clone();
            let again = if moves > 0 { req.try_clone() } else { None };
            match self.execute(req).await {
                Ok(resp) => break resp,
                Err(e) if self.servers.len() > 1 => {
                    let next = self.servers.failed(&base).clone();
                    if let Some(hook) = &self.on_move
                        && next != base
                    {
                        hook(&base, &next, &innermost(&e));
                    }
                    match again {
                        Some(mut r) if e.is_connect() => {
                            if let Some(url) = Servers::rebase(r.url(), &base, &next) {
                                *r.url_mut() = url;
                            }
                            req = r;
                            moves -= 1;
                        }
                        _ => return Err(self.unreachable_at(&base, &e)),
                    }
                }
                Err(e) => return Err(self.unreachable_at(&base, &e)),
            }
        };
        if resp.status().is_success() {
            return Ok(resp);
        }
        let status = resp.status();
        let body = resp.bytes().await.unwrap_or_default();
        Err(match serde_json::from_slice::<ErrorBody>(&body) {
            Ok(b) => b.into_error(),
            Err(_) => Error::Remote {
                kind: kind_of_status(status),
                message: format!("the server at {} answered {status}", self.base()),
            },
        })
    }

    async fn send<T: DeserializeOwned>(&self, req: RequestBuilder) -> Result<T> {
        let resp = self.send_raw(req).await?;
        resp.json::<T>().await.map_err(|e| {
            Error::Internal(format!(
                "the server at {} sent a response imx cannot read: {e}",
                self.base()
            ))
        })
    }

    async fn get<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        query: &impl Serialize,
    ) -> Result<T> {
        self.send(self.request(Method::GET, segments).query(query))
            .await
    }

    async fn post<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        body: &impl Serialize,
    ) -> Result<T> {
        self.send(self.request(Method::POST, segments).json(body))
            .await
    }

    async fn post_empty(&self, segments: &[&str], body: &impl Serialize) -> Result<()> {
        self.send_raw(self.request(Method::POST, segments).json(body))
            .await
            .map(|_| ())
    }

    /// Who the server takes this client's token to be, and when that token expires.
    pub async fn whoami_token(&self) -> Result<super::wire::WhoAmI> {
        self.get(&["whoami"], &NO_QUERY).await
    }

    /// Download backup `id` from the server into `dest` and check it: the file's manifest must
    /// be the one the server lists for `id`, and its payload must hash to the manifest's SHA-256.
    /// The bytes go to `dest.part` first; `dest` appears only when they check out.
    pub async fn download_backup(&self, id: &str, dest: &Path) -> Result<BackupInfo> {
        use tokio::io::AsyncWriteExt;
        let id = backup_id(id)?;
        let listed: BackupInfo = self.get(&["backups", id], &NO_QUERY).await?;
        let id = listed.manifest.id.as_str();
        let part = partial_path(dest);
        let write_err = |e| Error::io(format!("writing {}", part.display()), e);
        let fetch = async {
            let mut resp = self
                .send_raw(self.request(Method::GET, &["backups", id, "file"]))
                .await?;
            let mut file = tokio::fs::File::create(&part).await.map_err(write_err)?;
            let mut size = 0u64;
            while let Some(chunk) = resp.chunk().await.map_err(|e| self.unreachable(&e))? {
                file.write_all(&chunk).await.map_err(write_err)?;
                size += chunk.len() as u64;
            }
            file.sync_all().await.map_err(write_err)?;
            drop(file);
            let check = part.clone();
            let opened =
                tokio::task::spawn_blocking(move || crate::backup::verify::checksum(&check))
                    .await
                    .map_err(|e| Error::Internal(format!("checking the download: {e}")))??;
            if opened.manifest != listed.manifest {
                return Err(Error::CorruptBackup {
                    path: dest.to_path_buf(),
                    reason: format!(
                        "the downloaded file's manifest is not the one the server lists for {id}"
                    ),
                });
            }
            Ok(size)
        };
        match fetch.await {
            Ok(size) => {
                tokio::fs::rename(&part, dest)
                    .await
                    .map_err(|e| Error::io(format!("writing {}", dest.display()), e))?;
                Ok(BackupInfo {
                    path: dest.to_path_buf(),
                    size,
                    manifest: listed.manifest,
                    duration_ms: None,
                })
            }
            Err(e) => {
                let _ = tokio::fs::remove_file(&part).await;
                Err(e)
            }
        }
    }

    /// Wait for the next event with a long poll (`GET /events?wait_ms=`), for servers without
    /// the event stream. Log lines are not events, so this wakes only at state changes.
    async fn long_poll(&self, timeout: Duration) {
        let mut after = self.last_event.load(Ordering::Relaxed);
        if after < 0 {
            // Learn where the feed is, then wait from there.
            let q = EventsQuery {
                after: -1,
                limit: Some(1),
                wait_ms: None,
            };
            match self.get::<Vec<Event>>(&["events"], &q).await {
                Ok(newest) => after = newest.last().map_or(0, |e| e.id),
                Err(_) => {
                    tokio::time::sleep(timeout).await;
                    return;
                }
            }
        }
        let q = EventsQuery {
            after,
            limit: Some(1_000),
            wait_ms: Some(u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX)),
        };
        let req = self
            .request(Method::GET, &["events"])
            .query(&q)
            .timeout(timeout + POLL_SLACK);
        match self.send::<Vec<Event>>(req).await {
            Ok(events) => {
                let newest = events.last().map_or(after, |e| e.id);
                self.last_event.store(newest, Ordering::Relaxed);
            }
            // The server is away: don't spin; the caller will read again and report the error.
            Err(_) => tokio::time::sleep(timeout.min(Duration::from_secs(1))).await,
        }
    }

    fn unreachable(&self, e: &reqwest::Error) -> Error {
        self.unreachable_at(self.base(), e)
    }

    /// How failing to reach the server at `base` reads.
    fn unreachable_at(&self, base: &Url, e: &reqwest::Error) -> Error {
        let mut reason = innermost(e);
        if e.is_timeout() {
            reason = format!("no answer in time ({reason})");
        }
        if base.scheme() == "https" && plain_http_answer(&reason) {
            reason = format!(
                "the server answered in plain HTTP, not HTTPS ({reason}): it serves no TLS \
                 (started without --tls-cert/--tls-key). Use http://{} — plain HTTP is \
                 accepted for loopback only, else with --insecure — or give the server a \
                 certificate",
                base.host_str()
                    .map(|h| match base.port() {
                        Some(p) => format!("{h}:{p}"),
                        None => h.to_string(),
                    })
                    .unwrap_or_default()
            );
        } else if base.scheme() == "http" && e.is_request() && !e.is_connect() {
            reason = format!("{reason} (if the server serves HTTPS, use https:// in the URL)");
        }
        Error::Unreachable {
            url: base.to_string(),
            reason,
        }
    }
}

/// The innermost cause of `e`: it says it best ("Connection refused", "certificate unknown").
fn innermost(e: &reqwest::Error) -> String {
    let mut reason = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        reason = s.to_string();
        source = s.source();
    }
    reason
}

/// Whether a TLS error says the other side spoke plain HTTP (rustls reads "HTTP/1.1 ..." as a
/// record of an unknown content type).
fn plain_http_answer(reason: &str) -> bool {
    [
        "InvalidContentType",
        "corrupt message",
        "wrong version number",
    ]
    .iter()
    .any(|s| reason.contains(s))
}

fn kind_of_status(status: StatusCode) -> crate::error::ErrorKind {
    use crate::error::ErrorKind;
    match status {
        StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => ErrorKind::Invalid,
        StatusCode::NOT_FOUND => ErrorKind::NotFound,
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => ErrorKind::Forbidden,
        StatusCode::CONFLICT => ErrorKind::Conflict,
        StatusCode::SERVICE_UNAVAILABLE | StatusCode::BAD_GATEWAY | StatusCode::GATEWAY_TIMEOUT => {
            ErrorKind::Unavailable
        }
        _ => ErrorKind::Internal,
    }
}

const NO_QUERY: &[(&str, &str)] = &[];

/// `dest` with `.part` appended to its file name.
fn partial_path(dest: &Path) -> PathBuf {
    let mut name = dest.file_name().unwrap_or_default().to_os_string();
    name.push(".part");
    dest.with_file_name(name)
}

/// Folders and paths are the server's business: refuse them rather than ignore them.
fn no_path(what: &str, given: Option<&Path>) -> Result<()> {
    match given {
        None => Ok(()),
        Some(p) => Err(Error::invalid_with_hint(
            format!(
                "{what} {} cannot be used with a server: it keeps backups in its own folder",
                p.display()
            ),
            "leave it out (the server uses its --backup-dir), or run the command on the server's machine",
        )),
    }
}

/// The error of an operation that only an admin on the store's machine may run.
fn local_only(what: &str) -> Error {
    Error::invalid_with_hint(
        format!("`imx {what}` is not available through a server"),
        format!("run it on the server's machine against its store: imx --store PATH {what} ..."),
    )
}

/// A key for the server to use: only a passphrase can travel (key files stay where they are).
fn remote_key(key: Option<KeySource>) -> Result<Option<crate::auth::Secret>> {
    match key {
        None => Ok(None),
        Some(KeySource::Passphrase(p)) => Ok(Some(crate::auth::Secret::new(p))),
        Some(_) => Err(Error::invalid_with_hint(
            "a key file or keyring entry cannot be sent to a server",
            "use --passphrase-stdin, or run the command on the server's machine",
        )),
    }
}

#[async_trait]
impl ControlPlane for RemoteControlPlane {
    fn location(&self) -> String {
        format!("remote {}", self.base())
    }

    async fn status(&self, _: &Principal) -> Result<StatusReport> {
        let mut report: StatusReport = self.get(&["status"], &NO_QUERY).await?;
        // The server reports its own store; the caller's view is this server.
        report.mode = "remote".into();
        report.location = self.base().as_str().trim_end_matches('/').to_string();
        Ok(report)
    }

    async fn apply_workflow(
        &self,
        _: &Principal,
        spec: WorkflowSpec,
        dry_run: bool,
    ) -> Result<ApplyOutcome> {
        self.send(
            self.request(Method::POST, &["workflows"])
                .query(&ApplyQuery { dry_run })
                .json(&spec),
        )
        .await
    }

    async fn list_workflows(&self, _: &Principal) -> Result<Vec<WorkflowSummary>> {
        self.get(&["workflows"], &NO_QUERY).await
    }

    async fn get_workflow(
        &self,
        _: &Principal,
        name: &str,
        version: Option<u32>,
    ) -> Result<Workflow> {
        self.get(&["workflows", name], &VersionQuery { version })
            .await
    }

    async fn delete_workflow(&self, _: &Principal, name: &str) -> Result<Workflow> {
        self.send(self.request(Method::DELETE, &["workflows", name]))
            .await
    }

    async fn start_run(&self, _: &Principal, req: StartRun) -> Result<Run> {
        self.post(&["runs"], &req).await
    }

    async fn list_runs(&self, _: &Principal, f: RunFilter) -> Result<Page<Run>> {
        let q = RunsQuery {
            workflow: f.workflow,
            status: f.status,
            since: f.since,
            schedule: f.schedule,
            waiting: f.waiting,
            label: (!f.labels.is_empty()).then(|| crate::model::labels::selector_text(&f.labels)),
            limit: f.limit,
            cursor: f.cursor,
        };
        self.get(&["runs"], &q).await
    }

    async fn get_run(&self, _: &Principal, id: &str) -> Result<RunDetail> {
        self.get(&["runs", id], &NO_QUERY).await
    }

    async fn decide_approval(
        &self,
        _: &Principal,
        id: &str,
        step: &str,
        decision: crate::model::ApprovalDecision,
        comment: Option<String>,
    ) -> Result<Run> {
        let verb = match decision {
            crate::model::ApprovalDecision::Approved => "approve",
            crate::model::ApprovalDecision::Rejected => "reject",
        };
        let body = super::wire::ApprovalBody { comment };
        self.post(&["runs", id, "steps", step, verb], &body).await
    }

    async fn cancel_run(&self, _: &Principal, id: &str) -> Result<Run> {
        self.post(&["runs", id, "cancel"], &serde_json::json!({}))
            .await
    }

    async fn rerun_run(&self, _: &Principal, id: &str, req: RerunRun) -> Result<Run> {
        self.post(&["runs", id, "rerun"], &req).await
    }

    async fn retry_run(&self, _: &Principal, id: &str, from: Option<&str>) -> Result<Run> {
        let body = RetryBody {
            from: from.map(str::to_string),
        };
        self.post(&["runs", id, "retry"], &body).await
    }

    async fn run_logs(
        &self,
        _: &Principal,
        run_id: &str,
        step: Option<&str>,
        after: i64,
        limit: u32,
    ) -> Result<Vec<LogLine>> {
        let q = LogsQuery {
            step: step.map(str::to_string),
            after,
            limit: Some(limit),
            ..LogsQuery::default()
        };
        self.get(&["runs", run_id, "logs"], &q).await
    }

    async fn run_logs_before(
        &self,
        _: &Principal,
        run_id: &str,
        step: Option<&str>,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<LogLine>> {
        let q = LogsQuery {
            step: step.map(str::to_string),
            before,
            tail: before.is_none(),
            limit: Some(limit),
            ..LogsQuery::default()
        };
        self.get(&["runs", run_id, "logs"], &q).await
    }

    async fn events(&self, _: &Principal, after: i64, limit: u32) -> Result<Vec<Event>> {
        let q = EventsQuery {
            after,
            limit: Some(limit),
            wait_ms: None,
        };
        self.get(&["events"], &q).await
    }

    async fn wait_for_change(&self, timeout: Duration) {
        if !self.follower.unsupported() {
            let target = || follow::Target {
                client: self.client.clone(),
                servers: self.servers.clone(),
                token: self.token.clone(),
            };
            return self.follower.wait(target, timeout).await;
        }
        self.long_poll(timeout).await;
    }

    async fn list_agents(&self, _: &Principal) -> Result<Vec<Agent>> {
        self.get(&["agents"], &NO_QUERY).await
    }

    async fn get_agent(&self, _: &Principal, name_or_id: &str) -> Result<Agent> {
        self.get(&["agents", name_or_id], &NO_QUERY).await
    }

    async fn drain_agent(&self, _: &Principal, name_or_id: &str) -> Result<Agent> {
        self.post(&["agents", name_or_id, "drain"], &serde_json::json!({}))
            .await
    }

    async fn resume_agent(&self, _: &Principal, name_or_id: &str) -> Result<Agent> {
        self.post(&["agents", name_or_id, "resume"], &serde_json::json!({}))
            .await
    }

    async fn remove_agent(&self, _: &Principal, name_or_id: &str, force: bool) -> Result<Agent> {
        self.send(
            self.request(Method::DELETE, &["agents", name_or_id])
                .query(&RemoveQuery { force }),
        )
        .await
    }

    async fn register_agent(&self, _: &Principal, reg: AgentRegistration) -> Result<Agent> {
        self.post(&["agents"], &reg).await
    }

    async fn claim(
        &self,
        _: &Principal,
        agent_id: &str,
        max: u32,
        wait: Duration,
    ) -> Result<Vec<StepTask>> {
        let body = ClaimBody {
            max,
            wait_ms: u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
        };
        let req = self
            .request(Method::POST, &["agents", agent_id, "claim"])
            .json(&body)
            .timeout(wait + POLL_SLACK);
        self.send(req).await
    }

    async fn start_step(&self, _: &Principal, lease: &LeaseRef) -> Result<()> {
        self.post_empty(&["leases", "start"], lease).await
    }

    async fn heartbeat(
        &self,
        _: &Principal,
        agent_id: &str,
        leases: &[LeaseRef],
    ) -> Result<HeartbeatReply> {
        let body = LeasesBody {
            leases: leases.to_vec(),
        };
        self.post(&["agents", agent_id, "heartbeat"], &body).await
    }

    async fn check_leases(
        &self,
        _: &Principal,
        agent_id: &str,
        leases: &[LeaseRef],
    ) -> Result<HeartbeatReply> {
        let body = LeasesBody {
            leases: leases.to_vec(),
        };
        self.post(&["agents", agent_id, "check"], &body).await
    }

    async fn append_logs(
        &self,
        _: &Principal,
        lease: &LeaseRef,
        lines: &[crate::model::CapturedLine],
    ) -> Result<()> {
        let mut body = LogsBody::new(lease, lines);
        if !self.log_times.load(Ordering::Relaxed) {
            body.times = None;
        }
        match self.post_empty(&["leases", "logs"], &body).await {
            // A server that predates capture times: send them without, from now on.
            Err(e) if body.times.is_some() && refused_field(&e, "times") => {
                self.log_times.store(false, Ordering::Relaxed);
                body.times = None;
                self.post_empty(&["leases", "logs"], &body).await
            }
            other => other,
        }
    }

    async fn complete_steps(
        &self,
        _: &Principal,
        results: &[(LeaseRef, StepResult)],
    ) -> Result<Vec<bool>> {
        let body = CompleteBody {
            results: results.to_vec(),
            claim: None,
        };
        self.post(&["leases", "complete"], &body).await
    }

    async fn complete_and_claim(
        &self,
        who: &Principal,
        agent_id: &str,
        results: &[(LeaseRef, StepResult)],
        max: u32,
    ) -> Result<(Vec<bool>, Vec<StepTask>)> {
        if self.claim_after.load(Ordering::Relaxed) {
            let body = CompleteBody {
                results: results.to_vec(),
                claim: Some(ClaimAfter {
                    agent_id: agent_id.to_string(),
                    max,
                }),
            };
            match self.post(&["leases", "complete"], &body).await {
                Ok(CompleteReply::Claimed(c)) => return Ok((c.accepted, c.tasks)),
                // Recorded, but the claim was not made: make it apart.
                Ok(CompleteReply::Accepted(accepted)) => {
                    return Ok((
                        accepted,
                        self.claim(who, agent_id, max, Duration::ZERO).await?,
                    ));
                }
                // A server that predates it: results and claims go apart from now on.
                Err(e) if refused_field(&e, "claim") => {
                    self.claim_after.store(false, Ordering::Relaxed);
                }
                Err(e) => return Err(e),
            }
        }
        super::complete_then_claim(self, who, agent_id, results, max).await
    }

    async fn deregister_agent(&self, _: &Principal, agent_id: &str) -> Result<()> {
        self.post_empty(&["agents", agent_id, "deregister"], &serde_json::json!({}))
            .await
    }

    async fn create_user(&self, _: &Principal, user: NewUser) -> Result<User> {
        self.post(&["users"], &user).await
    }

    async fn list_users(&self, _: &Principal) -> Result<Vec<User>> {
        self.get(&["users"], &NO_QUERY).await
    }

    async fn get_user(&self, _: &Principal, name: &str) -> Result<User> {
        self.get(&["users", name], &NO_QUERY).await
    }

    async fn update_user(&self, _: &Principal, name: &str, change: UserUpdate) -> Result<User> {
        self.send(self.request(Method::PATCH, &["users", name]).json(&change))
            .await
    }

    async fn delete_user(&self, _: &Principal, name: &str) -> Result<User> {
        self.send(self.request(Method::DELETE, &["users", name]))
            .await
    }

    async fn set_password(
        &self,
        _: &Principal,
        name: &str,
        change: PasswordChange,
    ) -> Result<User> {
        // The session kept is this client's bearer token, which the server reads itself.
        let body = PasswordBody {
            password: change.password,
            current_password: change.current,
        };
        self.send(
            self.request(Method::PUT, &["users", name, "password"])
                .json(&body),
        )
        .await
    }

    async fn unlock_user(&self, _: &Principal, name: &str) -> Result<User> {
        self.send(self.request(Method::POST, &["users", name, "unlock"]))
            .await
    }

    async fn create_token(&self, _: &Principal, req: NewToken) -> Result<IssuedToken> {
        self.post(&["tokens"], &req).await
    }

    async fn list_tokens(&self, _: &Principal) -> Result<Vec<Token>> {
        self.get(&["tokens"], &NO_QUERY).await
    }

    async fn revoke_token(&self, _: &Principal, name_or_id: &str) -> Result<Token> {
        self.send(self.request(Method::DELETE, &["tokens", name_or_id]))
            .await
    }

    async fn notify_channel_add(
        &self,
        _: &Principal,
        channel: crate::notify::NewChannel,
    ) -> Result<crate::notify::Channel> {
        self.post(&["notify", "channels"], &channel).await
    }

    async fn notify_channels(&self, _: &Principal) -> Result<Vec<crate::notify::Channel>> {
        self.get(&["notify", "channels"], &NO_QUERY).await
    }

    async fn notify_channel_remove(
        &self,
        _: &Principal,
        name: &str,
    ) -> Result<crate::notify::Channel> {
        self.send(self.request(Method::DELETE, &["notify", "channels", name]))
            .await
    }

    async fn notify_channel_test(
        &self,
        _: &Principal,
        name: &str,
    ) -> Result<crate::notify::Delivery> {
        self.send(self.request(Method::POST, &["notify", "channels", name, "test"]))
            .await
    }

    async fn notify_rule_add(
        &self,
        _: &Principal,
        rule: crate::notify::NewRule,
    ) -> Result<crate::notify::Rule> {
        self.post(&["notify", "rules"], &rule).await
    }

    async fn notify_rules(&self, _: &Principal) -> Result<Vec<crate::notify::Rule>> {
        self.get(&["notify", "rules"], &NO_QUERY).await
    }

    async fn notify_rule_remove(&self, _: &Principal, id: &str) -> Result<crate::notify::Rule> {
        self.send(self.request(Method::DELETE, &["notify", "rules", id]))
            .await
    }

    async fn notify_deliveries(
        &self,
        _: &Principal,
        limit: u32,
    ) -> Result<Vec<crate::notify::Delivery>> {
        self.get(&["notify", "deliveries"], &[("limit", limit)])
            .await
    }

    async fn login(&self, user: &str, password: &Secret, _source: &str) -> Result<IssuedToken> {
        let body = LoginBody {
            user: user.to_string(),
            password: password.clone(),
        };
        // Login is unauthenticated: no bearer token goes with it.
        self.send(self.client.post(self.url(&["login"])).json(&body))
            .await
    }

    async fn logout(&self, token: &Secret, _source: &str) -> Result<()> {
        self.send_raw(
            self.client
                .post(self.url(&["logout"]))
                .bearer_auth(token.expose()),
        )
        .await
        .map(|_| ())
    }

    async fn whoami(&self, _: &Principal) -> Result<Principal> {
        self.get(&["whoami"], &NO_QUERY).await
    }

    async fn overview(&self, _: &Principal) -> Result<Overview> {
        self.get(&["dashboard", "overview"], &NO_QUERY).await
    }

    async fn dashboard_runs(&self, _: &Principal, query: RunQuery) -> Result<Page<Run>> {
        // Without the range, oldest first starts at its first possible id (the dashboard cuts
        // the rest), as clients did before servers took it.
        let without = |mut q: RunQuery| {
            if let (Some(t), super::RunSort::Oldest, None) = (q.since, q.sort, &q.cursor) {
                q.cursor = Some(super::run_id_floor(t));
            }
            q.since = None;
            q
        };
        let query = if self.ranges.load(Ordering::Relaxed) {
            query
        } else {
            without(query)
        };
        match self.post(&["dashboard", "runs"], &query).await {
            Err(e) if query.since.is_some() && refused_field(&e, "since") => {
                self.ranges.store(false, Ordering::Relaxed);
                self.post(&["dashboard", "runs"], &without(query)).await
            }
            other => other,
        }
    }

    async fn dashboard_agents(&self, _: &Principal, query: AgentQuery) -> Result<Page<Agent>> {
        self.post(&["dashboard", "agents"], &query).await
    }

    async fn agent_steps(
        &self,
        _: &Principal,
        name_or_id: &str,
        limit: u32,
    ) -> Result<Vec<crate::model::AgentStep>> {
        let q = super::wire::AgentStepsQuery { limit: Some(limit) };
        self.get(&["agents", name_or_id, "steps"], &q).await
    }

    async fn dashboard_workflows(
        &self,
        _: &Principal,
        recent: u32,
    ) -> Result<Vec<WorkflowOutcomes>> {
        self.get(&["dashboard", "workflows"], &RecentQuery { recent })
            .await
    }

    async fn audit_tail(
        &self,
        _: &Principal,
        filter: AuditFilter,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<crate::model::AuditRecord>> {
        let mut body = AuditTailBody {
            filter,
            before,
            limit,
        };
        if !self.ranges.load(Ordering::Relaxed) {
            body.filter.since = None;
        }
        match self.post(&["audit", "tail"], &body).await {
            Err(e) if body.filter.since.is_some() && refused_field(&e, "since") => {
                self.ranges.store(false, Ordering::Relaxed);
                body.filter.since = None;
                self.post(&["audit", "tail"], &body).await
            }
            other => other,
        }
    }

    async fn create_backup(
        &self,
        _: &Principal,
        opts: CreateOptions,
        _progress: &dyn Progress,
    ) -> Result<BackupInfo> {
        no_path("--out", opts.out.as_deref())?;
        let body = BackupCreateBody {
            format: opts.format,
            passphrase: remote_key(opts.key)?,
            note: opts.note,
            level: Some(opts.level),
        };
        self.post(&["backups"], &body).await
    }

    async fn list_backups(&self, _: &Principal, dir: Option<PathBuf>) -> Result<Catalog> {
        no_path("--dir", dir.as_deref())?;
        self.get(&["backups"], &NO_QUERY).await
    }

    async fn show_backup(
        &self,
        _: &Principal,
        dir: Option<PathBuf>,
        what: &str,
    ) -> Result<BackupInfo> {
        no_path("--dir", dir.as_deref())?;
        self.get(&["backups", backup_id(what)?], &NO_QUERY).await
    }

    async fn verify_backup(
        &self,
        _: &Principal,
        dir: Option<PathBuf>,
        what: &str,
        key: Option<KeySource>,
        integrity: Integrity,
        _progress: &dyn Progress,
    ) -> Result<VerifyReport> {
        no_path("--dir", dir.as_deref())?;
        let body = BackupVerifyBody {
            passphrase: remote_key(key)?,
            integrity,
        };
        self.post(&["backups", backup_id(what)?, "verify"], &body)
            .await
    }

    async fn audit_list(
        &self,
        _: &Principal,
        filter: crate::audit::AuditFilter,
    ) -> Result<Vec<AuditRecord>> {
        // The server returns at most a page; oldest-first reads page on with `after_seq`.
        let want = filter.limit;
        let mut filter = filter;
        let mut all: Vec<AuditRecord> = Vec::new();
        loop {
            if want > 0 {
                filter.limit = want - u32::try_from(all.len()).unwrap_or(u32::MAX).min(want);
            }
            let page: Vec<AuditRecord> = self.post(&["audit", "records"], &filter).await?;
            let full = page.len() as u64 >= u64::from(crate::server::AUDIT_PAGE);
            let last = page.last().map(|r| r.seq);
            all.extend(page);
            let done = filter.newest || !full || (want > 0 && all.len() as u64 >= u64::from(want));
            match last {
                Some(seq) if !done => filter.after_seq = Some(seq),
                _ => return Ok(all),
            }
        }
    }

    async fn audit_get(&self, _: &Principal, seq: i64) -> Result<AuditRecord> {
        self.get(&["audit", "records", &seq.to_string()], &NO_QUERY)
            .await
    }

    async fn audit_verify(&self, _: &Principal) -> Result<ChainReport> {
        self.get(&["audit", "verify"], &NO_QUERY).await
    }

    async fn audit_checkpoint(&self, _: &Principal) -> Result<CheckpointOutcome> {
        self.post(&["audit", "checkpoint"], &serde_json::json!({}))
            .await
    }

    async fn audit_repair(&self, _: &Principal) -> Result<super::RepairOutcome> {
        self.post(&["audit", "checkpoint", "repair"], &serde_json::json!({}))
            .await
    }

    async fn audit_report(&self, _: &Principal, window: Window) -> Result<AuditReport> {
        let mut report: AuditReport = self
            .post(&["audit", "report"], &AuditReportBody { window })
            .await?;
        // Non-admins are not shown the server's store path: the report is about this server.
        if report.location == super::local::HIDDEN {
            report.location = self.location();
        }
        Ok(report)
    }

    async fn restore_backup(
        &self,
        _: &Principal,
        _: super::RestoreRequest,
        _: &dyn Progress,
    ) -> Result<crate::backup::RestoreReport> {
        Err(local_only("backup restore"))
    }

    async fn backup_location(&self, _who: &Principal) -> Result<super::BackupLocation> {
        self.get(&["settings", "backup-location"], &NO_QUERY).await
    }

    async fn set_backup_location(
        &self,
        _who: &Principal,
        dir: Option<PathBuf>,
    ) -> Result<super::BackupLocation> {
        let dir = match dir {
            Some(d) => Some(
                d.to_str()
                    .map(str::to_string)
                    .ok_or_else(|| Error::invalid(format!("{}: not valid UTF-8", d.display())))?,
            ),
            None => None,
        };
        let body = super::wire::BackupLocationBody { dir };
        self.send(
            self.request(Method::PUT, &["settings", "backup-location"])
                .json(&body),
        )
        .await
    }

    async fn prune_backups(
        &self,
        _: &Principal,
        _: Option<PathBuf>,
        _: crate::backup::RetentionPolicy,
        _: bool,
    ) -> Result<crate::backup::PruneReport> {
        Err(local_only("backup prune"))
    }

    async fn create_schedule(
        &self,
        _: &Principal,
        spec: crate::schedule::ScheduleSpec,
    ) -> Result<crate::model::ScheduleInfo> {
        self.post(&["schedules"], &spec).await
    }

    async fn list_schedules(&self, _: &Principal) -> Result<Vec<crate::model::ScheduleInfo>> {
        self.get(&["schedules"], &NO_QUERY).await
    }

    async fn get_schedule(&self, _: &Principal, name: &str) -> Result<super::ScheduleDetail> {
        self.get(&["schedules", name], &NO_QUERY).await
    }

    async fn pause_schedule(
        &self,
        _: &Principal,
        name: &str,
        note: Option<String>,
    ) -> Result<crate::model::ScheduleInfo> {
        let body = super::schedules::PauseBody { note };
        self.post(&["schedules", name, "pause"], &body).await
    }

    async fn resume_schedule(
        &self,
        _: &Principal,
        name: &str,
    ) -> Result<crate::model::ScheduleInfo> {
        self.post(&["schedules", name, "resume"], &serde_json::json!({}))
            .await
    }

    async fn delete_schedule(
        &self,
        _: &Principal,
        name: &str,
    ) -> Result<crate::model::ScheduleInfo> {
        self.send(self.request(Method::DELETE, &["schedules", name]))
            .await
    }

    async fn trigger_schedule(&self, _: &Principal, name: &str) -> Result<Run> {
        self.post(&["schedules", name, "trigger"], &serde_json::json!({}))
            .await
    }

    async fn backfill_schedule(
        &self,
        _: &Principal,
        name: &str,
        req: super::Backfill,
    ) -> Result<super::BackfillReport> {
        self.post(&["schedules", name, "backfill"], &req).await
    }

    async fn missed_ticks(
        &self,
        _: &Principal,
        name: &str,
        since: i64,
    ) -> Result<Vec<super::MissedTick>> {
        let q = super::schedules::MissedQuery { since };
        self.get(&["schedules", name, "missed"], &q).await
    }

    async fn set_secret(
        &self,
        _: &Principal,
        name: &str,
        req: crate::model::SecretValue,
    ) -> Result<crate::model::SecretInfo> {
        self.send(self.request(Method::PUT, &["secrets", name]).json(&req))
            .await
    }

    async fn list_secrets(
        &self,
        _: &Principal,
        workflow: Option<&str>,
    ) -> Result<Vec<crate::model::SecretInfo>> {
        let q = super::wire::SecretScope {
            workflow: workflow.map(str::to_string),
        };
        self.get(&["secrets"], &q).await
    }

    async fn delete_secret(&self, _: &Principal, name: &str, workflow: Option<&str>) -> Result<()> {
        let q = super::wire::SecretScope {
            workflow: workflow.map(str::to_string),
        };
        self.send_raw(self.request(Method::DELETE, &["secrets", name]).query(&q))
            .await
            .map(|_| ())
    }

    async fn rekey(&self, _: &Principal, new_key: &Secret) -> Result<crate::model::Rekeyed> {
        let body = super::wire::RekeyBody {
            new_key: new_key.clone(),
        };
        self.post(&["store", "rekey"], &body).await
    }

    async fn create_trigger(
        &self,
        _: &Principal,
        req: crate::model::NewTrigger,
    ) -> Result<crate::model::CreatedTrigger> {
        self.post(&["triggers"], &req).await
    }

    async fn list_triggers(&self, _: &Principal) -> Result<Vec<crate::model::Trigger>> {
        self.get(&["triggers"], &NO_QUERY).await
    }

    async fn get_trigger(&self, _: &Principal, name: &str) -> Result<crate::model::Trigger> {
        self.get(&["triggers", name], &NO_QUERY).await
    }

    async fn delete_trigger(&self, _: &Principal, name: &str) -> Result<crate::model::Trigger> {
        self.send(self.request(Method::DELETE, &["triggers", name]))
            .await
    }

    async fn rotate_trigger_secret(
        &self,
        _: &Principal,
        name: &str,
        secret: Option<Secret>,
    ) -> Result<crate::model::CreatedTrigger> {
        let body = super::wire::RotateSecret { secret };
        self.post(&["triggers", name, "rotate"], &body).await
    }

    async fn prune_runs(
        &self,
        _: &Principal,
        req: super::RunPrune,
        _: &(dyn for<'r> Fn(&'r super::RunPruneReport) + Send + Sync),
    ) -> Result<super::RunPruneReport> {
        self.post(&["runs", "prune"], &req).await
    }

    async fn audit_prune(
        &self,
        _: &Principal,
        _: Duration,
        _: Option<PathBuf>,
        _: bool,
    ) -> Result<crate::audit::prune::PruneOutcome> {
        Err(local_only("audit prune"))
    }

    async fn upload_artifact(
        &self,
        _: &Principal,
        lease: &LeaseRef,
        path: &str,
        body: crate::artifacts::ByteStream,
    ) -> Result<crate::model::Artifact> {
        self.remote_upload_artifact(lease, path, body).await
    }

    async fn list_artifacts(
        &self,
        _: &Principal,
        run: &str,
    ) -> Result<Vec<crate::model::Artifact>> {
        self.remote_list_artifacts(run).await
    }

    async fn download_artifact(
        &self,
        _: &Principal,
        run: &str,
        what: &str,
    ) -> Result<(crate::model::Artifact, crate::artifacts::ByteStream)> {
        self.remote_download_artifact(run, what).await
    }

    async fn lease_artifacts(
        &self,
        _: &Principal,
        lease: &LeaseRef,
    ) -> Result<Vec<crate::model::Artifact>> {
        self.remote_lease_artifacts(lease).await
    }

    async fn download_lease_artifact(
        &self,
        _: &Principal,
        lease: &LeaseRef,
        id: &str,
    ) -> Result<crate::artifacts::ByteStream> {
        self.remote_download_lease_artifact(lease, id).await
    }

    async fn prune_artifacts(
        &self,
        _: &Principal,
        req: crate::model::ArtifactPrune,
    ) -> Result<crate::model::ArtifactPruneReport> {
        self.remote_prune_artifacts(req).await
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod transport_tests {
    use super::*;

    #[test]
    fn plain_http_is_for_loopback_only_unless_insecure() {
        for (url, beyond) in [
            ("http://127.0.0.1:7443", false),
            ("http://127.9.8.7:7443", false),
            ("http://[::1]:7443", false),
            ("http://[::ffff:127.0.0.1]:7443", false),
            ("http://localhost:7443", false),
            ("http://LOCALHOST.:7443", false),
            ("http://192.0.2.1:7443", true),
            ("http://[2001:db8::1]:7443", true),
            ("http://imx.example:7443", true),
            ("http://localhost.example:7443", true),
            ("https://192.0.2.1:7443", false),
            ("https://imx.example", false),
        ] {
            let parsed = Url::parse(url).unwrap();
            assert_eq!(plain_http_beyond_loopback(&parsed), beyond, "{url}");
        }
        let refused = RemoteControlPlane::new("http://192.0.2.1:7443", None, None)
            .err()
            .unwrap();
        assert_eq!(refused.kind(), crate::error::ErrorKind::Invalid);
        assert!(refused.to_string().contains("plain HTTP"), "{refused}");
        assert!(refused.hint().unwrap().contains("--insecure"));
        assert!(
            RemoteControlPlane::with_transport("http://192.0.2.1:7443", None, None, true).is_ok()
        );
        assert!(RemoteControlPlane::new("http://localhost:7443", None, None).is_ok());
    }

    #[tokio::test]
    async fn a_redirect_is_not_followed_so_the_token_stays_where_it_was_sent() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let elsewhere = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let redirector = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let target = format!("http://{}/api/v1/status", elsewhere.local_addr().unwrap());
        let url = format!("http://{}", redirector.local_addr().unwrap());
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = redirector.accept().await {
                let mut buf = [0u8; 4096];
                let _ = conn.read(&mut buf).await;
                let answer = format!(
                    "HTTP/1.1 307 Temporary Redirect\r\nlocation: {target}\r\ncontent-length: 0\r\n\r\n"
                );
                let _ = conn.write_all(answer.as_bytes()).await;
            }
        });
        // Whoever connects to the other address sees the token; the connection is then dropped.
        let followed = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let seen = followed.clone();
        tokio::spawn(async move {
            if elsewhere.accept().await.is_ok() {
                seen.store(true, Ordering::SeqCst);
            }
        });
        let remote = RemoteControlPlane::new(&url, Some("imx_secret".into()), None).unwrap();
        let answer = tokio::time::timeout(
            Duration::from_secs(30),
            remote.status(&Principal::local_owner()),
        )
        .await
        .expect("an answer in time");
        assert!(
            !followed.load(Ordering::SeqCst),
            "the client followed the redirect"
        );
        let err = answer.unwrap_err();
        assert!(err.to_string().contains("307"), "{err}");
    }

    /// Log lines sent to a server that predates capture times (its body has no `times` and
    /// refuses unknown fields) still arrive: once refused, they go without times.
    #[tokio::test]
    async fn log_lines_reach_a_server_that_predates_capture_times() {
        use std::sync::Mutex;

        use axum::extract::State;
        use axum::http::StatusCode;

        use crate::model::{CapturedLine, LogStream};
        use crate::server::json::Json;

        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct OldLogsBody {
            lease: LeaseRef,
            lines: Vec<(LogStream, String)>,
        }
        type Got = Arc<Mutex<Vec<String>>>;
        async fn old(State(got): State<Got>, Json(b): Json<OldLogsBody>) -> StatusCode {
            let mut got = got.lock().unwrap();
            got.extend(b.lines.into_iter().map(|(_, l)| l));
            StatusCode::NO_CONTENT
        }
        let got: Got = Arc::default();
        // The route as such a server serves it: its error bodies as the server makes them.
        let app = axum::Router::new()
            .route("/api/v1/leases/logs", axum::routing::post(old))
            .layer(axum::middleware::from_fn(crate::server::error::json_errors))
            .with_state(got.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        let remote = RemoteControlPlane::new(&url, None, None).unwrap();
        let lease = LeaseRef {
            run_id: "r".into(),
            step_id: "s".into(),
            attempt: 1,
            agent_id: "a".into(),
        };
        let who = Principal::local_owner();
        for text in ["one", "two"] {
            let line = CapturedLine::at(LogStream::Stdout, text, 1_700_000_000_000);
            remote.append_logs(&who, &lease, &[line]).await.unwrap();
        }
        assert_eq!(*got.lock().unwrap(), ["one", "two"]);
        assert!(
            !remote.log_times.load(Ordering::Relaxed),
            "asked once, then without"
        );
    }

    /// Results sent with a claim to a server that predates it (its complete body has no
    /// `claim` and refuses unknown fields) are still recorded: once refused, results and claims
    /// go apart.
    #[tokio::test]
    async fn results_with_a_claim_reach_a_server_that_predates_it() {
        use std::sync::Mutex;

        use axum::extract::State;

        use crate::server::json::Json;

        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct OldCompleteBody {
            results: Vec<(LeaseRef, StepResult)>,
        }
        type Got = Arc<Mutex<(Vec<String>, u32)>>;
        async fn complete(
            State(got): State<Got>,
            Json(b): Json<OldCompleteBody>,
        ) -> Json<Vec<bool>> {
            let mut got = got.lock().unwrap();
            got.0
                .extend(b.results.iter().map(|(l, _)| l.step_id.clone()));
            Json(vec![true; b.results.len()])
        }
        async fn claim(State(got): State<Got>) -> Json<Vec<StepTask>> {
            got.lock().unwrap().1 += 1;
            Json(Vec::new())
        }
        let got: Got = Arc::default();
        let app = axum::Router::new()
            .route("/api/v1/leases/complete", axum::routing::post(complete))
            .route("/api/v1/agents/{id}/claim", axum::routing::post(claim))
            .layer(axum::middleware::from_fn(crate::server::error::json_errors))
            .with_state(got.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        let remote = RemoteControlPlane::new(&url, None, None).unwrap();
        let who = Principal::local_owner();
        for step in ["one", "two"] {
            let lease = LeaseRef {
                run_id: "r".into(),
                step_id: step.into(),
                attempt: 1,
                agent_id: "a".into(),
            };
            let ok = StepResult::ok(std::collections::BTreeMap::new());
            let (accepted, tasks) = remote
                .complete_and_claim(&who, "a", &[(lease, ok)], 1)
                .await
                .unwrap();
            assert_eq!((accepted, tasks.len()), (vec![true], 0));
        }
        assert_eq!(*got.lock().unwrap(), (vec!["one".into(), "two".into()], 2));
        assert!(
            !remote.claim_after.load(Ordering::Relaxed),
            "asked once, then apart"
        );
    }

    /// A time range sent to a server that predates it (its bodies have no `since` and refuse
    /// unknown fields) still reads: once refused, runs and audit records are asked for without
    /// it (oldest first from the range's first possible run id), and the dashboard cuts them.
    #[tokio::test]
    async fn a_time_range_reaches_a_server_that_predates_it() {
        use std::sync::Mutex;

        use axum::extract::State;

        use crate::control::RunSort;
        use crate::server::json::Json;

        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct OldRunQuery {
            status: Option<String>,
            workflow: Option<String>,
            text: Option<String>,
            sort: RunSort,
            cursor: Option<String>,
            limit: u32,
        }
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct OldFilter {
            text: Option<String>,
            outcome: Option<String>,
        }
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct OldTail {
            filter: OldFilter,
            before: Option<i64>,
            limit: u32,
        }
        type Got = Arc<Mutex<Vec<Option<String>>>>;
        async fn runs(State(got): State<Got>, Json(q): Json<OldRunQuery>) -> Json<Page<Run>> {
            got.lock().unwrap().push(q.cursor);
            Json(Page {
                items: Vec::new(),
                next_cursor: None,
            })
        }
        async fn tail(Json(_): Json<OldTail>) -> Json<Vec<crate::model::AuditRecord>> {
            Json(Vec::new())
        }
        let got: Got = Arc::default();
        let app = axum::Router::new()
            .route("/api/v1/dashboard/runs", axum::routing::post(runs))
            .route("/api/v1/audit/tail", axum::routing::post(tail))
            .layer(axum::middleware::from_fn(crate::server::error::json_errors))
            .with_state(got.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        let remote = RemoteControlPlane::new(&url, None, None).unwrap();
        let who = Principal::local_owner();
        let since = 1_700_000_000_000;
        let q = RunQuery {
            sort: RunSort::Oldest,
            since: Some(since),
            limit: 10,
            ..RunQuery::default()
        };
        remote.dashboard_runs(&who, q.clone()).await.unwrap();
        remote.dashboard_runs(&who, q).await.unwrap();
        let floor = Some(super::super::run_id_floor(since));
        assert_eq!(*got.lock().unwrap(), [floor.clone(), floor]);
        let filter = AuditFilter {
            since: Some(since),
            ..AuditFilter::default()
        };
        remote.audit_tail(&who, filter, None, 10).await.unwrap();
    }
}

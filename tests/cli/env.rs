//! [`TestEnv`]: a hermetic environment for running the real `imx` binary — a temp HOME and store,
//! a cleared environment, a fixed terminal width and no colour. Reuse it in every CLI test.
//!
//! A `TestEnv` has a [`Mode`]: [`TestEnv::new`] runs every command on the local store;
//! [`TestEnv::remote`] runs them against a real `imx server` on 127.0.0.1:0 serving that store
//! (`--server URL`, `IMX_TOKEN`, no `IMX_STORE`; agents get an agent-role token). The server is
//! started on first use, so [`TestEnv::with_var`] variables (e.g. `IMX_LEASE`) reach it too.
//! [`both_modes!`](crate::both_modes) turns one test body into a test per mode.

#![allow(dead_code)] // helpers shared by test modules; not every module uses every one

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use tempfile::TempDir;

/// Where a [`TestEnv`]'s commands go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Straight to the store file (`IMX_STORE`).
    Local,
    /// Through an `imx server` on 127.0.0.1:0 serving the store.
    Remote,
}

/// The server of a remote [`TestEnv`], with its tokens.
struct Server {
    /// Declared first: killed before anything else of the env goes away.
    _process: Background,
    url: String,
    admin_token: String,
    agent_token: String,
}

/// A temp HOME with a store path inside it.
pub struct TestEnv {
    /// Dropped (killed) before `dir` is removed, and before `database`.
    server: OnceLock<Server>,
    /// The PostgreSQL database the server serves instead of the store file (see
    /// [`TestEnv::on_postgres`]).
    database: Option<crate::postgres::testdb::TestDb>,
    mode: Mode,
    dir: TempDir,
    /// Extra environment variables for every command (see [`TestEnv::with_var`]).
    vars: Vec<(String, String)>,
    /// Extra arguments for `imx server` (see [`TestEnv::with_server_args`]).
    server_args: Vec<String>,
    /// Whether the store is created before the first command (as `imx init` would). Only
    /// `init` and `demo` create a store; see [`TestEnv::bare`] for an environment without one.
    init_store: bool,
    store_ready: OnceLock<()>,
}

/// For test bodies `fn NAME(env: TestEnv)` in this module, generate `local::NAME`,
/// `remote::NAME` and `on_postgres::NAME` tests that call the body with a [`TestEnv::new`], a
/// [`TestEnv::remote`] and a [`TestEnv::on_postgres`] (a server over a fresh PostgreSQL
/// database; skipped, saying so, without PostgreSQL): the same test in every mode. Once per
/// module. A test that cannot apply to PostgreSQL is listed after `not_on_postgres:` with the
/// reason; its `on_postgres::NAME` says it skipped and why:
///
/// ```ignore
/// fn run_show_works(env: TestEnv) { /* ... */ }
/// fn backup_copies_the_file(env: TestEnv) { /* ... */ }
/// both_modes!(run_show_works; not_on_postgres: backup_copies_the_file = "SQLite file backup");
/// ```
#[macro_export]
macro_rules! both_modes {
    (
        $($name:ident),* $(,)?
        $(; not_on_postgres: $($skip:ident = $why:literal),* $(,)?)?
    ) => {
        mod local {
            $(
                #[test]
                fn $name() {
                    super::$name($crate::env::TestEnv::new());
                }
            )*
            $($(
                #[test]
                fn $skip() {
                    super::$skip($crate::env::TestEnv::new());
                }
            )*)?
        }
        mod remote {
            $(
                #[test]
                fn $name() {
                    super::$name($crate::env::TestEnv::remote());
                }
            )*
            $($(
                #[test]
                fn $skip() {
                    super::$skip($crate::env::TestEnv::remote());
                }
            )*)?
        }
        mod on_postgres {
            $(
                #[test]
                fn $name() {
                    if let Some(env) = $crate::env::TestEnv::on_postgres() {
                        super::$name(env);
                    }
                }
            )*
            $($(
                #[test]
                fn $skip() {
                    $crate::postgres::testdb::skip($why);
                }
            )*)?
        }
    };
}

/// What a command did: exit code, stdout, stderr.
#[derive(Debug)]
pub struct Outcome {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl TestEnv {
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("imx-test-")
            .tempdir()
            .unwrap_or_else(|e| panic!("cannot create a temp dir: {e}"));
        TestEnv {
            server: OnceLock::new(),
            database: None,
            mode: Mode::Local,
            dir,
            vars: Vec::new(),
            server_args: Vec::new(),
            init_store: true,
            store_ready: OnceLock::new(),
        }
    }

    /// A local environment whose store does not exist yet: commands other than `init` and
    /// `demo` refuse it (exit 6). For tests about creating the store, or that need none.
    pub fn bare() -> Self {
        TestEnv {
            init_store: false,
            ..TestEnv::new()
        }
    }

    /// An environment whose commands go through a real `imx server` (started on first use).
    pub fn remote() -> Self {
        TestEnv {
            mode: Mode::Remote,
            ..TestEnv::new()
        }
    }

    /// A remote environment whose server serves a fresh PostgreSQL database (`imx init
    /// --database URL`, `imx server --database URL`) instead of the store file; `None`, after
    /// saying why, when there is no PostgreSQL. Commands the test runs on the store itself
    /// ([`local_cmd`](Self::local_cmd), [`store`](Self::store)) still see the file: a test that
    /// looks there is not about the server's database.
    pub fn on_postgres() -> Option<Self> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("runtime: {e}"));
        let database = rt.block_on(crate::postgres::testdb::TestDb::get())?;
        Some(TestEnv {
            database: Some(database),
            ..TestEnv::remote()
        })
    }

    /// The URL of the PostgreSQL database of an [`on_postgres`](Self::on_postgres)
    /// environment.
    pub fn database(&self) -> Option<String> {
        self.database.as_ref().map(|d| d.url())
    }

    /// Where this environment's commands go.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// What `imx status` reports as the location: the store path, or the server URL.
    pub fn location(&self) -> String {
        match self.mode {
            Mode::Local => self.store().display().to_string(),
            Mode::Remote => self.url().to_string(),
        }
    }

    /// The server URL of a remote environment (starting the server if need be).
    pub fn url(&self) -> &str {
        &self.server().url
    }

    /// The admin token of a remote environment (starting the server if need be).
    pub fn admin_token(&self) -> &str {
        &self.server().admin_token
    }

    /// The agent-role token a remote environment's agents run with (in their `IMX_TOKEN`).
    pub fn agent_token(&self) -> &str {
        &self.server().agent_token
    }

    /// The server, started on first use: `init --admin admin` on the store, then
    /// `imx server --listen 127.0.0.1:0`, then an agent-role token for agents.
    fn server(&self) -> &Server {
        assert_eq!(self.mode, Mode::Remote, "a local TestEnv has no server");
        self.server.get_or_init(|| {
            let database = self.database();
            let mut init = self.local_cmd(&[]);
            init.args(["init", "--admin", "admin"]);
            if let Some(url) = &database {
                init.args(["--database", url]);
            }
            let admin_token = stdout_of(init);
            let mut args = vec!["server", "--listen", "127.0.0.1:0"];
            // Backups go to `backups/` beside a SQLite store; a database needs a folder named.
            let backups = self.home().join("backups").display().to_string();
            if let Some(url) = &database {
                args.extend(["--database", url.as_str(), "--backup-dir", backups.as_str()]);
            }
            args.extend(self.server_args.iter().map(String::as_str));
            let process = self.spawn_with(self.local_cmd(&[]), args);
            let mut url = String::new();
            wait_until("the server to print its URL", SLOW, || {
                url = process.stdout().trim().to_string();
                url.starts_with("http://")
            });
            let mut create = self.local_cmd(&[]);
            create
                .env_remove("IMX_STORE")
                .env("IMX_TOKEN", &admin_token)
                .args(["--server", &url, "token", "create", "--name", "agents"])
                .args(["--role", "agent", "-q"]);
            let agent_token = stdout_of(create);
            Server {
                _process: process,
                url,
                admin_token,
                agent_token,
            }
        })
    }

    /// The same environment with `key=value` set for every command it runs.
    pub fn with_var(mut self, key: &str, value: &str) -> Self {
        self.vars.push((key.to_string(), value.to_string()));
        self
    }

    /// The same (remote) environment with these extra `imx server` arguments.
    pub fn with_server_args(mut self, args: &[&str]) -> Self {
        self.server_args
            .extend(args.iter().map(|a| (*a).to_string()));
        self
    }

    /// The temp HOME.
    pub fn home(&self) -> &Path {
        self.dir.path()
    }

    /// The store the commands use (`IMX_STORE`).
    pub fn store(&self) -> PathBuf {
        self.home().join("store").join("imx.db")
    }

    /// A file under HOME with these contents; returns its path.
    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.home().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("mkdir {parent:?}: {e}"));
        }
        std::fs::write(&path, contents).unwrap_or_else(|e| panic!("write {path:?}: {e}"));
        path
    }

    /// `imx` with a cleared environment: HOME, XDG dirs, IMX_STORE, COLUMNS=100, NO_COLOR=1
    /// (plus any [`TestEnv::with_var`] variables).
    pub fn cmd(&self) -> Command {
        Command::from_std(self.std_cmd_via(&[]))
    }

    /// [`TestEnv::cmd`] as a plain std command, for processes run in the background (agents,
    /// followers).
    pub fn std_cmd(&self) -> std::process::Command {
        self.std_cmd_via(&[])
    }

    /// Like [`cmd`](Self::cmd), but run through a wrapper such as
    /// `["setpriv", "--reuid=65534", ...]` (the wrapper's arguments come first).
    pub fn cmd_via(&self, wrapper: &[&str]) -> Command {
        Command::from_std(self.std_cmd_via(wrapper))
    }

    /// The same command as a [`std::process::Command`], e.g. to spawn a long-running process.
    pub fn std_cmd_via(&self, wrapper: &[&str]) -> std::process::Command {
        self.std_cmd_as(wrapper, false)
    }

    /// [`std_cmd_via`](Self::std_cmd_via); in remote mode with the agent token if `agent`, else
    /// the admin's.
    fn std_cmd_as(&self, wrapper: &[&str], agent: bool) -> std::process::Command {
        let mut cmd = self.local_cmd(wrapper);
        if self.mode == Mode::Remote {
            let server = self.server();
            let token = if agent {
                &server.agent_token
            } else {
                &server.admin_token
            };
            cmd.env_remove("IMX_STORE")
                .env("IMX_TOKEN", token)
                .args(["--server", &server.url]);
        }
        cmd
    }

    /// Create the store (what `imx init` does) unless this is a [`bare`](Self::bare)
    /// environment; once, before the first command.
    fn ensure_store(&self) {
        if !self.init_store {
            return;
        }
        self.store_ready.get_or_init(|| {
            let out = Command::from_std(self.base_cmd(&[]))
                .args(["init", "-q"])
                .timeout(Duration::from_secs(60))
                .output()
                .unwrap_or_else(|e| panic!("cannot run imx init: {e}"));
            assert!(
                out.status.success(),
                "imx init failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        });
    }

    /// The command on the local store, whatever the mode (e.g. to start the server itself).
    pub fn local_cmd(&self, wrapper: &[&str]) -> std::process::Command {
        self.ensure_store();
        self.base_cmd(wrapper)
    }

    /// `imx` in this environment, without creating the store first.
    fn base_cmd(&self, wrapper: &[&str]) -> std::process::Command {
        let bin = assert_cmd::cargo::cargo_bin!("imx");
        let mut cmd = match wrapper.split_first() {
            None => std::process::Command::new(bin),
            Some((program, args)) => {
                let mut c = std::process::Command::new(program);
                c.args(args).arg(bin);
                c
            }
        };
        self.hermetic(&mut cmd);
        cmd
    }

    /// Another program (e.g. a shell) in this environment: the same cleared environment, HOME
    /// and working directory as `imx` gets, with the store created first.
    pub fn program_cmd(&self, program: &Path) -> std::process::Command {
        self.ensure_store();
        let mut cmd = std::process::Command::new(program);
        self.hermetic(&mut cmd);
        cmd
    }

    /// Clear `cmd`'s environment and give it this environment's.
    fn hermetic(&self, cmd: &mut std::process::Command) {
        let home = self.home();
        cmd.env_clear()
            .current_dir(home)
            .env("HOME", home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_DATA_HOME", home.join(".local/share"))
            .env("IMX_STORE", self.store())
            .env("COLUMNS", "100")
            .env("NO_COLOR", "1")
            .env("TZ", "UTC")
            .env("LANG", "C.UTF-8");
        if let Some(path) = std::env::var_os("PATH") {
            cmd.env("PATH", path);
        }
        for (k, v) in &self.vars {
            cmd.env(k, v);
        }
    }

    /// Start `imx ARGS...` in the background, stdout and stderr captured to files; killed on drop.
    pub fn spawn<I, S>(&self, args: I) -> Background
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.spawn_with(self.std_cmd(), args)
    }

    /// Start `cmd ARGS...` in the background (see [`spawn`](Self::spawn)).
    pub fn spawn_with<I, S>(&self, mut cmd: std::process::Command, args: I) -> Background
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let n = SPAWNED.fetch_add(1, Ordering::Relaxed);
        let out = self.home().join(format!("bg-{n}.out"));
        let err = self.home().join(format!("bg-{n}.err"));
        let create =
            |p: &Path| std::fs::File::create(p).unwrap_or_else(|e| panic!("create {p:?}: {e}"));
        let child = cmd
            .args(args)
            .stdin(Stdio::null())
            .stdout(create(&out))
            .stderr(create(&err))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start imx: {e}"));
        Background {
            child,
            stdout: out,
            stderr: err,
        }
    }

    /// Start `imx agent run --name NAME --slots SLOTS [--labels ...]` in the background and wait
    /// until it has registered. Killed on drop.
    pub fn agent(&self, name: &str, slots: u32) -> Background {
        self.agent_with(name, slots, &[])
    }

    /// [`TestEnv::agent`] with extra arguments (e.g. `["--labels", "gpu=yes"]`).
    pub fn agent_with(&self, name: &str, slots: u32, extra: &[&str]) -> Background {
        self.start_agent(self.agent_cmd(), name, slots, extra)
    }

    /// Start `cmd agent run --name NAME --slots SLOTS EXTRA...` in the background and wait until
    /// it has registered. Killed on drop.
    pub fn start_agent(
        &self,
        cmd: std::process::Command,
        name: &str,
        slots: u32,
        extra: &[&str],
    ) -> Background {
        let slots = slots.to_string();
        let mut args = vec!["agent", "run", "--name", name, "--slots", &slots];
        args.extend_from_slice(extra);
        let mut agent = self.spawn_with(cmd, args);
        wait_until(&format!("agent {name} to register"), SLOW, || {
            if let Some(status) = agent.try_exit() {
                panic!("agent {name} exited early ({status}):\n{}", agent.stderr());
            }
            self.run(["agent", "show", name, "-o", "json"]).code == 0
        });
        agent
    }

    /// `imx` as an agent runs it: in remote mode with the agent token. For agents a test starts
    /// without waiting for them to register (see [`agent`](Self::agent)), or adjusts (e.g. its
    /// environment) before [`start_agent`](Self::start_agent).
    pub fn agent_cmd(&self) -> std::process::Command {
        self.std_cmd_as(&[], true)
    }

    /// Run `imx ARGS... -o json`, expect exit 0 and parse stdout.
    #[track_caller]
    pub fn json<I, S>(&self, args: I) -> serde_json::Value
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut all: Vec<std::ffi::OsString> =
            args.into_iter().map(|a| a.as_ref().to_owned()).collect();
        all.push("-o".into());
        all.push("json".into());
        let out = self.run(&all);
        out.expect_code(0);
        serde_json::from_str(&out.stdout)
            .unwrap_or_else(|e| panic!("{all:?}: not JSON ({e}):\n{}", out.stdout))
    }

    /// Run `imx ARGS... -o json` for a stream of records (`run logs`, `audit tail`), expect exit
    /// 0, and parse its lines: one JSON object each (NDJSON).
    #[track_caller]
    pub fn ndjson<I, S>(&self, args: I) -> Vec<serde_json::Value>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut all: Vec<std::ffi::OsString> =
            args.into_iter().map(|a| a.as_ref().to_owned()).collect();
        all.push("-o".into());
        all.push("json".into());
        let out = self.run(&all);
        out.expect_code(0);
        out.stdout
            .lines()
            .map(|l| {
                serde_json::from_str(l)
                    .unwrap_or_else(|e| panic!("{all:?}: not a JSON object per line ({e}): {l}"))
            })
            .collect()
    }

    /// Write a workflow file and apply it; panics unless apply succeeds.
    #[track_caller]
    pub fn apply(&self, file: &str, yaml: &str) {
        let path = self.write(file, yaml);
        self.run([
            OsStr::new("workflow"),
            "apply".as_ref(),
            "-f".as_ref(),
            path.as_os_str(),
        ])
        .expect_code(0);
    }

    /// Start a run of `workflow` with `-p` params; returns its full id.
    #[track_caller]
    pub fn start(&self, workflow: &str, params: &[&str]) -> String {
        let mut args = vec!["workflow", "run", workflow, "-q"];
        for p in params {
            args.extend(["-p", p]);
        }
        let out = self.run(args);
        out.expect_code(0);
        let id = out.stdout.trim().to_string();
        assert_eq!(id.len(), 26, "expected a run id, got {:?}", out.stdout);
        id
    }

    /// `imx run show ID -o json`.
    #[track_caller]
    pub fn show_run(&self, id: &str) -> serde_json::Value {
        self.json(["run", "show", id])
    }

    /// Wait (up to [`SLOW`]) for a run to end; returns its final `run show -o json`.
    #[track_caller]
    pub fn finish(&self, id: &str) -> serde_json::Value {
        // Generous: on a loaded machine a run of big steps can take many times its usual time.
        let output = self
            .cmd()
            .args(["run", "wait", id, "--wait-timeout", "90s", "-q"])
            .timeout(std::time::Duration::from_secs(120))
            .output()
            .unwrap_or_else(|e| panic!("cannot run imx: {e}"));
        let out = Outcome::of(&output);
        assert!(
            [0, 10, 11].contains(&out.code),
            "run {id} did not end: {out:?}"
        );
        self.show_run(id)
    }

    /// The step `step` of a `run show -o json` value.
    #[track_caller]
    pub fn step<'a>(run: &'a serde_json::Value, step: &str) -> &'a serde_json::Value {
        run["steps"]
            .as_array()
            .and_then(|s| s.iter().find(|s| s["step_id"] == step))
            .unwrap_or_else(|| panic!("no step {step} in {run:#}"))
    }

    /// Run `imx ARGS...` and capture what it did.
    pub fn run<I, S>(&self, args: I) -> Outcome
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.run_via(&[], args)
    }

    /// Run `WRAPPER... imx ARGS...` (see [`cmd_via`](Self::cmd_via)) and capture what it did.
    /// Run `imx ARGS...` without `IMX_STORE`, so the command picks its control plane from the
    /// contexts (or the default store under HOME).
    pub fn run_without_store<I, S>(&self, args: I) -> Outcome
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let output = self
            .cmd()
            .env_remove("IMX_STORE")
            .args(args)
            .timeout(std::time::Duration::from_secs(60))
            .output()
            .unwrap_or_else(|e| panic!("cannot run imx: {e}"));
        Outcome::of(&output)
    }

    /// Run `imx ARGS` with `stdin` and the OS keyring off (tests never touch a real one);
    /// with `--server` among the arguments, without `IMX_STORE` (the server owns the store and
    /// the client names only the server).
    pub fn run_stdin(&self, args: &[&str], stdin: &str) -> Outcome {
        let mut cmd = self.cmd();
        if args.contains(&"--server") {
            cmd.env_remove("IMX_STORE");
        }
        let output = cmd
            .env("IMX_KEYRING", "off")
            .args(args)
            .write_stdin(stdin)
            .timeout(std::time::Duration::from_secs(60))
            .output()
            .unwrap_or_else(|e| panic!("cannot run imx: {e}"));
        Outcome::of(&output)
    }

    pub fn run_via<I, S>(&self, wrapper: &[&str], args: I) -> Outcome
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let output = self
            .cmd_via(wrapper)
            .args(args)
            .timeout(std::time::Duration::from_secs(60))
            .output()
            .unwrap_or_else(|e| panic!("cannot run imx: {e}"));
        Outcome::of(&output)
    }
}

impl Outcome {
    /// What a finished command did.
    pub fn of(output: &std::process::Output) -> Outcome {
        Outcome {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Panic with everything the command printed unless it exited with `code`.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "expected exit {code}, got {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }

    /// Panic unless the command failed with `code` and printed one clean error: stderr starts
    /// with `error: `, holds exactly one `error:` line, no panic or backtrace; stdout is empty.
    #[track_caller]
    pub fn expect_error(&self, code: i32) -> &Self {
        self.expect_code(code);
        let err = &self.stderr;
        assert!(
            err.starts_with("error: "),
            "stderr must start with `error: `:\n{err}"
        );
        let errors = err.lines().filter(|l| l.starts_with("error:")).count();
        assert_eq!(errors, 1, "expected one error message:\n{err}");
        for bad in ["panicked", "backtrace", "RUST_BACKTRACE", "Error {", "Os {"] {
            assert!(!err.contains(bad), "stderr contains {bad:?}:\n{err}");
        }
        assert!(
            self.stdout.is_empty(),
            "stdout must be empty:\n{}",
            self.stdout
        );
        self
    }

    /// Panic unless stderr contains every one of `parts`.
    #[track_caller]
    pub fn expect_stderr(&self, parts: &[&str]) -> &Self {
        for part in parts {
            assert!(
                self.stderr.contains(part),
                "expected {part:?} in stderr:\n{}",
                self.stderr
            );
        }
        self
    }
}

/// Everything in the SQLite store at `path`, as text: the schema version, and every table's
/// schema and rows (in a fixed order), excluding nothing. Opened read-only; `<no store>` when the
/// file does not exist. Two equal snapshots mean the store did not change.
pub fn snapshot(path: &Path) -> String {
    use rusqlite::types::ValueRef;
    use rusqlite::{Connection, OpenFlags};
    use std::fmt::Write as _;

    if !path.exists() {
        return "<no store>".into();
    }
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap_or_else(|e| panic!("open {path:?} read-only: {e}"));
    let mut out = String::new();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap_or_else(|e| panic!("user_version of {path:?}: {e}"));
    writeln!(out, "user_version {version}").unwrap_or_default();
    let tables: Vec<(String, String)> = conn
        .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .and_then(|mut s| {
            s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()
        })
        .unwrap_or_else(|e| panic!("tables of {path:?}: {e}"));
    for (table, sql) in tables {
        writeln!(out, "table {table}: {sql}").unwrap_or_default();
        let n = conn
            .prepare(&format!("SELECT * FROM \"{table}\""))
            .unwrap_or_else(|e| panic!("select from {table}: {e}"))
            .column_count();
        let order = (1..=n)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM \"{table}\" ORDER BY {order}"))
            .unwrap_or_else(|e| panic!("select from {table}: {e}"));
        let mut rows = stmt
            .query([])
            .unwrap_or_else(|e| panic!("rows of {table}: {e}"));
        while let Some(row) = rows
            .next()
            .unwrap_or_else(|e| panic!("row of {table}: {e}"))
        {
            let cells: Vec<String> = (0..n)
                .map(|i| match row.get_ref(i) {
                    Ok(ValueRef::Null) => "NULL".to_string(),
                    Ok(ValueRef::Integer(v)) => v.to_string(),
                    Ok(ValueRef::Real(v)) => v.to_string(),
                    Ok(ValueRef::Text(t)) => format!("{:?}", String::from_utf8_lossy(t)),
                    Ok(ValueRef::Blob(b)) => format!("x'{}'", hex::encode(b)),
                    Err(e) => panic!("cell of {table}: {e}"),
                })
                .collect();
            writeln!(out, "  {}", cells.join(" | ")).unwrap_or_default();
        }
    }
    out
}

/// A time of `-o json` output or an API response (RFC 3339) as epoch milliseconds; `None` when
/// the value is not such a time (e.g. `null`).
pub fn millis(v: &serde_json::Value) -> Option<i64> {
    v.as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.timestamp_millis())
}

/// Run `cmd`, expect success, return its trimmed stdout.
#[track_caller]
fn stdout_of(cmd: std::process::Command) -> String {
    let out = Command::from_std(cmd)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap_or_else(|e| panic!("cannot run imx: {e}"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A deadline generous enough for slow, loaded machines; waits end as soon as they can.
pub const SLOW: Duration = Duration::from_secs(30);

static SPAWNED: AtomicUsize = AtomicUsize::new(0);

/// Poll `cond` every 20 ms until it holds; panic naming `what` after `timeout`.
#[track_caller]
pub fn wait_until(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// An `imx` process running in the background (an agent, a follower); killed on drop.
pub struct Background {
    child: Child,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl Background {
    pub fn pid(&self) -> i32 {
        i32::try_from(self.child.id()).unwrap_or(i32::MAX)
    }

    /// Send a signal (e.g. SIGTERM to drain an agent).
    pub fn signal(&self, signal: nix::sys::signal::Signal) {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.pid()), signal)
            .unwrap_or_else(|e| panic!("cannot signal {}: {e}", self.pid()));
    }

    /// The exit status, if it has exited.
    pub fn try_exit(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Wait up to `timeout` for the process to exit.
    #[track_caller]
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let mut status = None;
        wait_until("a background imx to exit", timeout, || {
            status = self.try_exit();
            status.is_some()
        });
        status.unwrap_or_else(|| unreachable!())
    }

    /// What it printed on stdout so far.
    pub fn stdout(&self) -> String {
        std::fs::read_to_string(&self.stdout).unwrap_or_default()
    }

    /// What it printed on stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether process `pid` is gone (or a zombie nobody has reaped yet).
pub fn process_gone(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        // The state is the first field after the parenthesised command name.
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z') || rest.starts_with('X')),
    }
}

//! Test databases (tests only; the CLI tests include this file too): a fresh database on a
//! shared PostgreSQL server, or a throwaway server of the test's own that it can kill and
//! restart.
//!
//! - [`TestDb::get`]: a fresh database `imx_test_<random>` on the shared server
//!   (`IMX_TEST_PG_URL`, default `postgres://127.0.0.1:5432/test`, trust), dropped afterwards;
//!   when no such server answers, a [`TempPostgres`] of its own.
//! - [`TempPostgres::start`]: `initdb` (once per machine and version, then copied) and `pg_ctl`
//!   from the machine's binaries (`PATH`, then `/usr/lib/postgresql/*/bin`), in a temp dir, on
//!   a free port, trust auth, fsync off (the machine does not crash; the server does). Commits
//!   stay synchronous: a crash-like stop ([`TempPostgres::stop_immediate`], `kill9`) must not
//!   lose a transaction the server acknowledged, or a test would blame imx for it. Run as root, the server runs as the `postgres` user
//!   (PostgreSQL refuses root). Stopped and removed on drop.
//!
//! Either returns `None` after printing why when there is no PostgreSQL: the test then passes
//! as skipped (`.ci/run` installs PostgreSQL, so CI runs them).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Where the shared server is when `IMX_TEST_PG_URL` does not say.
const SHARED_URL: &str = "postgres://127.0.0.1:5432/test?sslmode=disable";

/// Say that a test skipped and why.
pub fn skip(why: &str) {
    eprintln!("skipped: {why}");
}

/// A database for one test: on the shared server, or on a server of its own.
pub enum TestDb {
    Shared(SharedDb),
    Own(TempPostgres),
}

impl TestDb {
    /// A fresh, empty database, or `None` (with a message) when no PostgreSQL is available.
    pub async fn get() -> Option<TestDb> {
        match SharedDb::create().await {
            Ok(db) => return Some(TestDb::Shared(db)),
            Err(why) => eprintln!("no shared PostgreSQL ({why}); starting one"),
        }
        TempPostgres::start().map(TestDb::Own)
    }

    /// Its `postgres://` URL.
    pub fn url(&self) -> String {
        match self {
            TestDb::Shared(db) => db.url.clone(),
            TestDb::Own(pg) => pg.url("postgres"),
        }
    }
}

/// A database `imx_test_<random>` on the shared server, dropped (with its sessions) on drop.
pub struct SharedDb {
    admin: String,
    pub name: String,
    pub url: String,
}

fn shared_url() -> String {
    std::env::var("IMX_TEST_PG_URL").unwrap_or_else(|_| SHARED_URL.to_string())
}

fn with_user(url: &str) -> tokio_postgres::Config {
    let mut c: tokio_postgres::Config = url.parse().expect("IMX_TEST_PG_URL is a postgres URL");
    if c.get_user().is_none() {
        let user = nix::unistd::User::from_uid(nix::unistd::Uid::effective())
            .ok()
            .flatten()
            .map_or_else(|| "postgres".to_string(), |u| u.name);
        c.user(&user);
    }
    c.connect_timeout(Duration::from_secs(3));
    c
}

fn with_dbname(url: &str, db: &str) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let (head, _) = base
        .rsplit_once('/')
        .filter(|(h, _)| h.ends_with(|c: char| c != '/'))
        .unwrap_or((base, ""));
    let mut out = format!("{head}/{db}");
    if !query.is_empty() {
        out = format!("{out}?{query}");
    }
    out
}

async fn admin_client(url: &str) -> Result<tokio_postgres::Client, String> {
    let (client, conn) = with_user(url)
        .connect(tokio_postgres::NoTls)
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    tokio::spawn(conn);
    Ok(client)
}

impl SharedDb {
    /// Create a fresh database on the shared server.
    pub async fn create() -> Result<SharedDb, String> {
        let admin = shared_url();
        let client = admin_client(&admin).await?;
        let name = format!("imx_test_{:016x}", rand::random::<u64>());
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .map_err(|e| format!("CREATE DATABASE: {e}"))?;
        let mut url = with_dbname(&admin, &name);
        if with_user(&admin).get_user().is_some() && !url.contains('@') {
            let user = with_user(&admin)
                .get_user()
                .unwrap_or("postgres")
                .to_string();
            url = url.replacen("://", &format!("://{user}@"), 1);
        }
        Ok(SharedDb { admin, name, url })
    }
}

impl Drop for SharedDb {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        // Drop may run inside a runtime: the drop query gets a thread and runtime of its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                if let Ok(c) = admin_client(&admin).await {
                    let _ = c
                        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                }
            });
        })
        .join();
    }
}

/// A PostgreSQL server of the test's own, in a temp dir; stopped and removed on drop.
pub struct TempPostgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    /// Run as this (uid, gid) when the tests run as root.
    owner: Option<(u32, u32)>,
}

/// The directory of `pg_ctl`, `initdb` and `postgres`, if the machine has them.
pub fn pg_bin_dir() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p).find(|d| d.join("pg_ctl").is_file() && d.join("initdb").is_file())
    });
    if on_path.is_some() {
        return on_path;
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| {
            let e = e.ok()?;
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("pg_ctl").is_file().then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The user to run PostgreSQL as when we are root.
fn owner() -> Option<(u32, u32)> {
    if !nix::unistd::Uid::effective().is_root() {
        return None;
    }
    let u = nix::unistd::User::from_name("postgres").ok().flatten()?;
    Some((u.uid.as_raw(), u.gid.as_raw()))
}

fn chown_tree(path: &Path, (uid, gid): (u32, u32)) {
    let _ = Command::new("chown")
        .arg("-R")
        .arg(format!("{uid}:{gid}"))
        .arg(path)
        .status();
}

impl TempPostgres {
    /// Start a server, or `None` (with a message) when the machine has no PostgreSQL binaries.
    pub fn start() -> Option<TempPostgres> {
        let Some(bin) = pg_bin_dir() else {
            skip("no PostgreSQL binaries (pg_ctl, initdb) on PATH or in /usr/lib/postgresql");
            return None;
        };
        let owner = owner();
        if nix::unistd::Uid::effective().is_root() && owner.is_none() {
            skip("running as root and there is no `postgres` user to run PostgreSQL as");
            return None;
        }
        let template = template(&bin, owner)?;
        let dir = tempfile::Builder::new()
            .prefix("imx-pg-")
            .tempdir()
            .expect("temp dir");
        let data = dir.path().join("data");
        let copied = Command::new("cp")
            .arg("-a")
            .arg(&template)
            .arg(&data)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !copied {
            skip("could not copy the initdb template");
            return None;
        }
        if let Some(o) = owner {
            chown_tree(dir.path(), o);
        }
        let mut pg = TempPostgres {
            dir,
            bin,
            port: 0,
            owner,
        };
        for _ in 0..5 {
            pg.port = free_port();
            if pg.try_start() {
                return Some(pg);
            }
        }
        skip(&format!(
            "PostgreSQL did not start; its log:\n{}",
            std::fs::read_to_string(pg.log()).unwrap_or_default()
        ));
        None
    }

    /// Its port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL of database `db` as the superuser `imx`.
    pub fn url(&self, db: &str) -> String {
        format!(
            "postgres://imx@127.0.0.1:{}/{db}?sslmode=disable",
            self.port
        )
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn log(&self) -> PathBuf {
        self.dir.path().join("log")
    }

    fn pg_ctl(&self) -> Command {
        let mut c = Command::new(self.bin.join("pg_ctl"));
        c.current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some((uid, gid)) = self.owner {
            c.uid(uid).gid(gid);
        }
        c
    }

    fn try_start(&self) -> bool {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off \
             -c max_connections=200 -c shared_buffers=32MB",
            self.port,
            self.dir.path().display()
        );
        self.pg_ctl()
            .arg("start")
            .arg("-w")
            .arg("-t")
            .arg("60")
            .arg("-D")
            .arg(self.data())
            .arg("-l")
            .arg(self.log())
            .arg("-o")
            .arg(opts)
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    }

    /// Start it again after [`stop_immediate`](Self::stop_immediate) or [`kill9`](Self::kill9),
    /// on the same port.
    pub fn start_again(&self) {
        assert!(
            self.try_start(),
            "PostgreSQL did not start again; its log:\n{}",
            std::fs::read_to_string(self.log()).unwrap_or_default()
        );
    }

    /// Stop it as a crash would (no checkpoint; recovery at the next start).
    pub fn stop_immediate(&self) {
        let _ = self
            .pg_ctl()
            .args(["stop", "-w", "-m", "immediate", "-D"])
            .arg(self.data())
            .status();
    }

    /// A crash-like restart: stop immediately, start again.
    pub fn restart(&self) {
        self.stop_immediate();
        self.start_again();
    }

    /// The postmaster's pid, while it runs.
    pub fn pid(&self) -> Option<i32> {
        let text = std::fs::read_to_string(self.data().join("postmaster.pid")).ok()?;
        text.lines().next()?.trim().parse().ok()
    }

    /// SIGKILL the postmaster, and wait until its processes are gone (its backends notice
    /// their postmaster died and exit).
    pub fn kill9(&self) {
        let Some(pid) = self.pid() else { return };
        let children = children_of(pid);
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline
            && std::iter::once(pid)
                .chain(children.iter().copied())
                .any(|p| Path::new(&format!("/proc/{p}")).exists() && !is_zombie(p))
        {
            std::thread::sleep(Duration::from_millis(20));
        }
        // Where this process is a subreaper the dead postmaster stays a zombie of ours until
        // reaped, and a zombie's pid in postmaster.pid keeps the next start from starting.
        let _ = nix::sys::wait::waitpid(
            nix::unistd::Pid::from_raw(pid),
            Some(nix::sys::wait::WaitPidFlag::WNOHANG),
        );
        if is_zombie(pid) {
            let _ = std::fs::remove_file(self.data().join("postmaster.pid"));
            let socket_lock = format!(".s.PGSQL.{}.lock", self.port);
            let _ = std::fs::remove_file(self.dir.path().join(socket_lock));
        }
    }
}

impl Drop for TempPostgres {
    fn drop(&mut self) {
        self.stop_immediate();
        if let Some(pid) = self.pid()
            && Path::new(&format!("/proc/{pid}")).exists()
        {
            self.kill9();
        }
    }
}

fn stat_fields(pid: i32) -> Option<(char, i32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (comm) state ppid ..." — comm may hold spaces and parentheses.
    let after = &stat[stat.rfind(')')? + 2..];
    let mut it = after.split_whitespace();
    let state = it.next()?.chars().next()?;
    let ppid = it.next()?.parse().ok()?;
    Some((state, ppid))
}

fn is_zombie(pid: i32) -> bool {
    matches!(stat_fields(pid), Some(('Z', _)))
}

fn children_of(parent: i32) -> Vec<i32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|p| matches!(stat_fields(*p), Some((_, pp)) if pp == parent))
        .collect()
}

/// An initdb'd data directory for this PostgreSQL version and user, made once per machine:
/// initdb takes seconds, a copy a few milliseconds.
fn template(bin: &Path, owner: Option<(u32, u32)>) -> Option<PathBuf> {
    let version = Command::new(bin.join("postgres"))
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let tag: String = version
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '.')
        .collect();
    let uid = nix::unistd::Uid::effective().as_raw();
    let root = std::env::temp_dir().join(format!("imx-pg-template-{tag}-{uid}"));
    let ready = root.join("data");
    if ready.join("PG_VERSION").is_file() {
        return Some(ready);
    }
    let work = tempfile::Builder::new()
        .prefix("imx-pg-initdb-")
        .tempdir()
        .expect("temp dir");
    let data = work.path().join("data");
    if let Some(o) = owner {
        chown_tree(work.path(), o);
    }
    let mut c = Command::new(bin.join("initdb"));
    c.current_dir(work.path())
        .args([
            "-U",
            "imx",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
            "--locale=C",
            "-D",
        ])
        .arg(&data)
        .stdin(Stdio::null());
    if let Some((uid, gid)) = owner {
        c.uid(uid).gid(gid);
    }
    let out = c.output().ok()?;
    if !out.status.success() {
        skip(&format!(
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
        return None;
    }
    // Another test process may have made it meanwhile: then ours goes.
    let _ = std::fs::create_dir_all(&root);
    if std::fs::rename(&data, &ready).is_err() && !ready.join("PG_VERSION").is_file() {
        skip("could not keep the initdb template");
        return None;
    }
    Some(ready)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_gets_another_database_name() {
        assert_eq!(
            with_dbname("postgres://127.0.0.1:5432/test?sslmode=disable", "x"),
            "postgres://127.0.0.1:5432/x?sslmode=disable"
        );
        assert_eq!(with_dbname("postgres://u@h/test", "y"), "postgres://u@h/y");
    }
}

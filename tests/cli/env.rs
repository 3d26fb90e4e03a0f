//! [`TestEnv`]: a hermetic environment for running the real `imx` binary — a temp HOME and store,
//! a cleared environment, a fixed terminal width and no colour. Reuse it in every CLI test.

#![allow(dead_code)] // helpers shared by test modules; not every module uses every one

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use tempfile::TempDir;

/// A temp HOME with a store path inside it.
pub struct TestEnv {
    dir: TempDir,
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
        TestEnv { dir }
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

    /// `imx` with a cleared environment: HOME, XDG dirs, IMX_STORE, COLUMNS=100, NO_COLOR=1.
    pub fn cmd(&self) -> Command {
        self.cmd_via(&[])
    }

    /// Like [`cmd`](Self::cmd), but run through a wrapper such as
    /// `["setpriv", "--reuid=65534", ...]` (the wrapper's arguments come first).
    pub fn cmd_via(&self, wrapper: &[&str]) -> Command {
        Command::from_std(self.std_cmd_via(wrapper))
    }

    /// The same command as a [`std::process::Command`], e.g. to spawn a long-running process.
    pub fn std_cmd_via(&self, wrapper: &[&str]) -> std::process::Command {
        use std::process::Command;
        let bin = assert_cmd::cargo::cargo_bin!("imx");
        let mut cmd = match wrapper.split_first() {
            None => Command::new(bin),
            Some((program, args)) => {
                let mut c = Command::new(program);
                c.args(args).arg(bin);
                c
            }
        };
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
        cmd
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
        Outcome {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

impl Outcome {
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

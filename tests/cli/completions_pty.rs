//! Dynamic completions as a user meets them: an interactive bash (readline) and zsh (compinit,
//! the script autoloaded from `$fpath`) on a pseudo-terminal, keys typed, the screen read.
//! What [`crate::completions_dynamic`] checks candidate by candidate, this checks end to end:
//! TAB completes the word in place, a run's help text is listed, and a value that matches
//! nothing does not fall back to file names.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::completions_dynamic::{HELLO, path_with_imx, which};
use crate::env::{SLOW, TestEnv};

/// An interactive shell on a pseudo-terminal; killed on drop.
struct Pty {
    master: std::fs::File,
    child: Child,
    /// Everything the shell has written so far.
    seen: String,
}

impl Pty {
    fn spawn(env: &TestEnv, program: &Path, args: &[&str]) -> Pty {
        let size = nix::pty::Winsize {
            ws_row: 40,
            ws_col: 160,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        let pty = nix::pty::openpty(Some(&size), None).unwrap();
        let slave: OwnedFd = pty.slave;
        // setsid --ctty: a session of its own with the pty as its controlling terminal.
        let mut cmd = env.program_cmd(Path::new("setsid"));
        cmd.arg("--ctty")
            .arg(program)
            .args(args)
            .env("PATH", path_with_imx())
            .env("TERM", "dumb")
            .stdin(Stdio::from(slave.try_clone().unwrap()))
            .stdout(Stdio::from(slave.try_clone().unwrap()))
            .stderr(Stdio::from(slave));
        let child = cmd.spawn().unwrap();
        let master = std::fs::File::from(pty.master);
        let flags = nix::fcntl::fcntl(&master, nix::fcntl::FcntlArg::F_GETFL).unwrap();
        let flags = nix::fcntl::OFlag::from_bits_truncate(flags) | nix::fcntl::OFlag::O_NONBLOCK;
        nix::fcntl::fcntl(&master, nix::fcntl::FcntlArg::F_SETFL(flags)).unwrap();
        Pty {
            master,
            child,
            seen: String::new(),
        }
    }

    fn send(&mut self, keys: &str) {
        self.master.write_all(keys.as_bytes()).unwrap();
    }

    /// Read until `cond` holds for what was written since `from`; that text.
    #[track_caller]
    fn until(&mut self, what: &str, from: usize, cond: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + SLOW;
        let mut buf = [0u8; 4096];
        loop {
            match self.master.read(&mut buf) {
                Ok(n) if n > 0 => self.seen.push_str(&String::from_utf8_lossy(&buf[..n])),
                _ => std::thread::sleep(Duration::from_millis(20)),
            }
            let new = &self.seen[from.min(self.seen.len())..];
            if cond(new) {
                return new.to_string();
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; the shell wrote:\n{}",
                self.seen
            );
        }
    }

    /// Type a line, then wait for the command's marker output: everything typed before has
    /// been handled.
    #[track_caller]
    fn sync(&mut self, n: u32) -> usize {
        let from = self.seen.len();
        // The shell echoes the command; only its output has the sum.
        self.send(&format!("\x15echo sync-$(( {n} + 1000 ))\n"));
        let want = format!("sync-{}", n + 1000);
        self.until(&want, from, |s| s.contains(&want));
        self.seen.len()
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Shells are skipped, with the reason printed, when missing (`.ci/run` installs them).
fn shell(name: &str) -> Option<std::path::PathBuf> {
    if which("setsid").is_none() {
        eprintln!("skipped: setsid (util-linux) is not installed");
        return None;
    }
    let found = which(name);
    if found.is_none() {
        eprintln!("skipped: {name} is not installed (.ci/run installs it)");
    }
    found
}

fn env_with_runs() -> (TestEnv, String) {
    let env = TestEnv::new();
    env.apply("hello.yaml", HELLO);
    let run = env.start("hello", &[]);
    env.start("hello", &[]);
    env.write(
        "zz-file.txt",
        "a file the shell must not offer for --status\n",
    );
    (env, run)
}

/// Check one shell (the completion loaded): TAB completes a status and a run id in place; an
/// unknown status offers no file names.
fn check_tab(pty: &mut Pty, run: &str) {
    let from = pty.sync(1);
    pty.send("imx run list --status q\t");
    pty.until("--status q to complete to queued", from, |s| {
        s.contains("queued ")
    });

    let from = pty.sync(2);
    let prefix = &run[..run.len() - 2];
    pty.send(&format!("imx run show {prefix}\t"));
    pty.until("the run id to complete", from, |s| s.contains(run));

    let from = pty.sync(3);
    pty.send("imx run list --status zz\t\t");
    let end = pty.sync(4);
    let typed = &pty.seen[from..end];
    assert!(!typed.contains("zz-file"), "file names offered:\n{typed}");
}

#[test]
fn tab_in_an_interactive_bash() {
    let Some(bash) = shell("bash") else { return };
    let (env, run) = env_with_runs();
    let script = env.write("imx.bash", &env.run(["completions", "bash"]).stdout);
    let mut pty = Pty::spawn(&env, &bash, &["--norc", "--noprofile", "-i"]);
    pty.send(&format!("PS1='$ '; source {}\n", script.display()));
    check_tab(&mut pty, &run);
}

#[test]
fn tab_in_an_interactive_zsh_with_compinit() {
    let Some(zsh) = shell("zsh") else { return };
    let (env, run) = env_with_runs();
    let zfunc = env.home().join("zfunc");
    std::fs::create_dir_all(&zfunc).unwrap();
    std::fs::write(
        zfunc.join("_imx"),
        env.run(["completions", "zsh"]).stdout.as_bytes(),
    )
    .unwrap();
    let mut pty = Pty::spawn(&env, &zsh, &["-f", "-i"]);
    pty.send(&format!(
        "PS1='$ '; fpath=({} $fpath); autoload -Uz compinit; compinit -u -D\n",
        zfunc.display()
    ));
    check_tab(&mut pty, &run);

    // Listing: each run with its workflow, status and age.
    let from = pty.sync(5);
    pty.send("imx run cancel 0\t\t");
    pty.until("the run's help text", from, |s| s.contains("hello queued"));
}

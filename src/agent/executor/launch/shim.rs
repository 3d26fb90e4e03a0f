//! The step shim: `imx __step-shim [OPTIONS] -- PROGRAM ARGS...`, a hidden command of the `imx`
//! binary that an agent starts for each `run` step. It contains the step, then runs PROGRAM
//! (`/bin/sh -c ...`) as its child:
//!
//! 1. it joins the step's cgroup (`--cgroup DIR`: it writes its own pid to `cgroup.procs`, so
//!    everything the step starts is in it from the first instruction) or, without one, makes
//!    itself a child subreaper (`PR_SET_CHILD_SUBREAPER`: orphaned descendants, `setsid`
//!    daemons included, are reparented to it instead of init);
//! 2. it asks for SIGTERM when the agent dies (`PR_SET_PDEATHSIG`) and checks that the agent
//!    (`--parent PID`) did not die before it asked;
//! 3. it starts PROGRAM, as `--uid`/`--gid` with no supplementary groups when given (the shim
//!    itself keeps the agent's privileges, so the step cannot signal or trace it);
//! 4. on SIGTERM, SIGINT or SIGHUP (the agent stopping the step, or dying) it forwards SIGTERM
//!    to every process of the step and, after `--grace-ms`, kills them all; SIGUSR1 kills them
//!    all at once;
//! 5. when PROGRAM exits it kills whatever the step left running, then exits the way PROGRAM
//!    did (same exit code, or the same signal).
//!
//! Errors of the shim itself are printed on stderr (the step's log) as `imx: ...` and end it
//! with exit code 125 (127 when PROGRAM cannot be started).

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;
use signal_hook::consts::{SIGCHLD, SIGHUP, SIGINT, SIGTERM, SIGUSR1};
use signal_hook::iterator::Signals;

use super::{cgroup, procs};

/// The hidden subcommand of the `imx` binary that runs [`main`].
pub const SHIM_COMMAND: &str = "__step-shim";

/// Exit code for the shim's own failures.
const SHIM_FAILED: u8 = 125;
/// Exit code when PROGRAM cannot be started (as the shell uses it).
const CANNOT_START: u8 = 127;

/// What the agent asked for.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct ShimArgs {
    pub(crate) cgroup: Option<PathBuf>,
    pub(crate) parent: Option<i32>,
    pub(crate) grace: Duration,
    pub(crate) uid: Option<u32>,
    pub(crate) gid: Option<u32>,
    pub(crate) program: Vec<OsString>,
}

impl ShimArgs {
    /// The arguments after [`SHIM_COMMAND`].
    pub(crate) fn to_args(&self) -> Vec<OsString> {
        let mut out: Vec<OsString> = Vec::new();
        if let Some(dir) = &self.cgroup {
            out.push("--cgroup".into());
            out.push(dir.into());
        }
        if let Some(p) = self.parent {
            out.push("--parent".into());
            out.push(p.to_string().into());
        }
        out.push("--grace-ms".into());
        out.push(self.grace.as_millis().to_string().into());
        if let Some(uid) = self.uid {
            out.push("--uid".into());
            out.push(uid.to_string().into());
        }
        if let Some(gid) = self.gid {
            out.push("--gid".into());
            out.push(gid.to_string().into());
        }
        out.push("--".into());
        out.extend(self.program.iter().cloned());
        out
    }

    fn parse(args: impl IntoIterator<Item = OsString>) -> Result<ShimArgs, String> {
        let mut args = args.into_iter();
        let mut out = ShimArgs::default();
        while let Some(arg) = args.next() {
            let flag = arg.to_string_lossy().into_owned();
            if flag == "--" {
                out.program = args.collect();
                break;
            }
            let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
            let number = |v: &OsString| -> Result<u64, String> {
                v.to_string_lossy()
                    .parse()
                    .map_err(|_| format!("{flag}: not a number: {v:?}"))
            };
            let small = |n: u64| u32::try_from(n).map_err(|_| format!("{flag}: too large"));
            match flag.as_str() {
                "--cgroup" => out.cgroup = Some(PathBuf::from(value)),
                "--parent" => {
                    out.parent = Some(
                        i32::try_from(number(&value)?).map_err(|_| format!("{flag}: too large"))?,
                    );
                }
                "--grace-ms" => out.grace = Duration::from_millis(number(&value)?),
                "--uid" => out.uid = Some(small(number(&value)?)?),
                "--gid" => out.gid = Some(small(number(&value)?)?),
                _ => return Err(format!("unknown option {flag}")),
            }
        }
        if out.program.is_empty() {
            return Err("no program to run (expected -- PROGRAM ARGS...)".into());
        }
        Ok(out)
    }
}

/// Run the shim with the arguments that follow [`SHIM_COMMAND`]; returns PROGRAM's exit code
/// (or ends by PROGRAM's signal).
pub fn main(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let args = match ShimArgs::parse(args) {
        Ok(a) => a,
        Err(e) => return fail(SHIM_FAILED, &format!("step shim: {e}")),
    };
    let me = Pid::this();
    let contained = match &args.cgroup {
        Some(dir) => cgroup::join(dir, std::process::id())
            .map(|()| Contained::Cgroup(dir.clone()))
            .map_err(|e| format!("cannot join the step's cgroup {}: {e}", dir.display())),
        None => nix::sys::prctl::set_child_subreaper(true)
            .map(|()| Contained::Subreaper)
            .map_err(|e| format!("cannot become a child subreaper: {e}")),
    };
    let contained = match contained {
        Ok(c) => c,
        Err(e) => return fail(SHIM_FAILED, &e),
    };
    // Listen before anything can send: the agent's stop, its death, the child's end.
    let mut signals = match Signals::new([SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGUSR1]) {
        Ok(s) => s,
        Err(e) => return fail(SHIM_FAILED, &format!("cannot handle signals: {e}")),
    };
    if let Err(e) = nix::sys::prctl::set_pdeathsig(Signal::SIGTERM) {
        return fail(
            SHIM_FAILED,
            &format!("cannot ask for the agent's death: {e}"),
        );
    }
    if let Some(parent) = args.parent
        && nix::unistd::getppid().as_raw() != parent
    {
        // The agent died before the request above: nobody wants this step any more.
        return fail(SHIM_FAILED, "the agent is gone; not starting the step");
    }

    let Some((program, rest)) = args.program.split_first() else {
        return fail(SHIM_FAILED, "step shim: no program to run");
    };
    let mut command = Command::new(program);
    command.args(rest).stdin(Stdio::null());
    if let Some(gid) = args.gid {
        command.gid(gid);
    }
    if let Some(uid) = args.uid {
        // std drops the supplementary groups (setgroups(0)) before setuid.
        command.uid(uid);
    }
    let child = match command.spawn() {
        Ok(c) => Pid::from_raw(i32::try_from(c.id()).unwrap_or(i32::MAX)),
        Err(e) => {
            return fail(
                CANNOT_START,
                &format!("cannot start {}: {e}", program.to_string_lossy()),
            );
        }
    };

    let mut status: Option<WaitStatus> = None;
    let mut stopping: Option<Instant> = None;
    'outer: loop {
        for signal in signals.wait() {
            match signal {
                SIGCHLD => {
                    reap(child, &mut status, false);
                    if status.is_some() {
                        break 'outer;
                    }
                }
                SIGUSR1 => {
                    contained.kill_all(me, child, &mut status);
                    break 'outer;
                }
                _ if stopping.is_none() => {
                    stopping = Some(Instant::now());
                    contained.signal_all(me, Signal::SIGTERM);
                    // Wake up after the grace period, even without another signal.
                    let grace = args.grace;
                    std::thread::spawn(move || {
                        std::thread::sleep(grace);
                        let _ = kill(me, Signal::SIGUSR1);
                    });
                }
                _ => {}
            }
        }
    }
    // PROGRAM ended: nothing of the step outlives it.
    contained.kill_all(me, child, &mut status);
    exit_like(status)
}

/// How the shim holds the step's processes.
enum Contained {
    Cgroup(PathBuf),
    Subreaper,
}

impl Contained {
    /// Send `signal` to every process of the step but the shim.
    fn signal_all(&self, me: Pid, signal: Signal) {
        let pids = match self {
            Contained::Cgroup(dir) => cgroup::members(dir).unwrap_or_default(),
            Contained::Subreaper => procs::descendants(me.as_raw()),
        };
        for pid in pids.into_iter().filter(|p| *p != me.as_raw()) {
            let _ = kill(Pid::from_raw(pid), signal);
        }
    }

    /// Kill every process of the step but the shim and reap the shim's children; records
    /// PROGRAM's status if it ends meanwhile.
    fn kill_all(&self, me: Pid, child: Pid, status: &mut Option<WaitStatus>) {
        match self {
            Contained::Cgroup(dir) => {
                let others = cgroup::members(dir)
                    .map(|m| m.iter().any(|p| *p != me.as_raw()))
                    .unwrap_or(true);
                if others {
                    kill_cgroup(dir);
                }
                reap(child, status, true);
            }
            Contained::Subreaper => loop {
                // Killing a child reparents its children to us: repeat until none is left.
                for pid in procs::children(me.as_raw()) {
                    let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
                }
                match waitpid(None::<Pid>, None) {
                    Ok(s) => {
                        if s.pid() == Some(child) {
                            *status = Some(s);
                        }
                    }
                    Err(Errno::EINTR) => {}
                    Err(_) => break,
                }
            },
        }
    }
}

/// Leave the step's cgroup (to its parent), kill it and remove it; if leaving fails, kill it
/// with the shim inside (the agent removes it then).
fn kill_cgroup(dir: &std::path::Path) {
    let moved = dir
        .parent()
        .is_some_and(|parent| cgroup::join(parent, std::process::id()).is_ok());
    let _ = cgroup::kill(dir);
    if !moved {
        // cgroup.kill took the shim too.
        return;
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while cgroup::populated(dir).unwrap_or(false) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(2));
    }
    let _ = std::fs::remove_dir(dir);
}

/// Reap the shim's children (orphans reparented to it too), recording PROGRAM's status; with
/// `block`, wait until PROGRAM has ended.
fn reap(child: Pid, status: &mut Option<WaitStatus>, block: bool) {
    loop {
        let flags = if block && status.is_none() {
            None
        } else {
            Some(WaitPidFlag::WNOHANG)
        };
        match waitpid(None::<Pid>, flags) {
            Ok(WaitStatus::StillAlive) => return,
            Ok(s) => {
                if s.pid() == Some(child) {
                    *status = Some(s);
                }
            }
            Err(Errno::EINTR) => {}
            Err(_) => return,
        }
    }
}

/// Exit the way PROGRAM did.
fn exit_like(status: Option<WaitStatus>) -> ExitCode {
    match status {
        Some(WaitStatus::Exited(_, code)) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Some(WaitStatus::Signaled(_, signal, _)) => {
            // Re-raise with the default action, so the agent sees the same signal.
            let _ = signal_hook::low_level::emulate_default_handler(signal as i32);
            ExitCode::from(128_u8.saturating_add(u8::try_from(signal as i32).unwrap_or(0)))
        }
        _ => fail(SHIM_FAILED, "lost track of the step's process"),
    }
}

fn fail(code: u8, message: &str) -> ExitCode {
    eprintln!("imx: {message}");
    ExitCode::from(code)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn arguments_round_trip() {
        let args = ShimArgs {
            cgroup: Some("/sys/fs/cgroup/imx-a.1".into()),
            parent: Some(42),
            grace: Duration::from_millis(1500),
            uid: Some(65534),
            gid: Some(65534),
            program: vec!["/bin/sh".into(), "-c".into(), "echo -- hi".into()],
        };
        assert_eq!(ShimArgs::parse(args.to_args()).unwrap(), args);
        let plain = ShimArgs {
            program: vec!["/bin/true".into()],
            ..ShimArgs::default()
        };
        assert_eq!(ShimArgs::parse(plain.to_args()).unwrap(), plain);
        assert!(ShimArgs::parse(["--uid".into()]).is_err());
        assert!(ShimArgs::parse(["--what".into(), "x".into()]).is_err());
        assert!(ShimArgs::parse(["--".into()]).is_err());
    }
}

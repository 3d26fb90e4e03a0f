//! `imx __step-shim ...`: a hidden command of the `imx` binary that agents start to contain
//! steps. It has two forms.
//!
//! **Step shim** (`[--parent PID] [--grace-ms MS] [--uid U --gid G] -- PROGRAM ARGS...`): the
//! subreaper fallback, one per step, where the agent cannot create cgroups.
//!
//! 1. It makes itself a child subreaper (`PR_SET_CHILD_SUBREAPER`): orphaned descendants of the
//!    step, `setsid` daemons included, are reparented to it instead of init.
//! 2. It asks for SIGTERM when the agent dies (`PR_SET_PDEATHSIG`) and checks that the agent
//!    (`--parent PID`) did not die before it asked.
//! 3. It starts PROGRAM (`/bin/sh -c ...`), as `--uid`/`--gid` with no supplementary groups
//!    when given (the shim keeps the agent's privileges, so the step cannot signal or trace it).
//! 4. On SIGTERM, SIGINT or SIGHUP (the agent stopping the step, or dying) it forwards SIGTERM
//!    to every descendant and, after `--grace-ms`, kills them all; SIGUSR1 kills them at once.
//! 5. When PROGRAM exits it kills every descendant left, then exits the way PROGRAM did (same
//!    exit code, or the same signal).
//!
//! **Guard** (`--guard-dir DIR --guard-prefix PREFIX [--parent PID] [--grace-ms MS]`): one per
//! agent that puts its steps in cgroups. It waits, asking for SIGTERM when the agent dies; on
//! SIGTERM, SIGINT or SIGHUP it sends SIGTERM to every process in the cgroups `DIR/PREFIX*`,
//! waits up to the grace period, kills them (`cgroup.kill`) and removes the cgroups. So a
//! step dies with its agent even though no shim sits above it.
//!
//! Errors are printed on stderr (the step's log, for the step shim) as `imx: ...` and end the
//! shim with exit code 125 (127 when PROGRAM cannot be started).

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
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
    /// Guard the cgroups `dir/prefix*` instead of running a program.
    pub(crate) guard: Option<(PathBuf, String)>,
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
        if let Some((dir, prefix)) = &self.guard {
            out.extend(["--guard-dir".into(), dir.into()]);
            out.extend(["--guard-prefix".into(), prefix.into()]);
        }
        if let Some(p) = self.parent {
            out.extend(["--parent".into(), p.to_string().into()]);
        }
        out.extend([
            "--grace-ms".into(),
            self.grace.as_millis().to_string().into(),
        ]);
        if let Some(uid) = self.uid {
            out.extend(["--uid".into(), uid.to_string().into()]);
        }
        if let Some(gid) = self.gid {
            out.extend(["--gid".into(), gid.to_string().into()]);
        }
        if !self.program.is_empty() {
            out.push("--".into());
            out.extend(self.program.iter().cloned());
        }
        out
    }

    fn parse(args: impl IntoIterator<Item = OsString>) -> Result<ShimArgs, String> {
        let mut args = args.into_iter();
        let mut out = ShimArgs::default();
        let mut guard_dir = None;
        let mut guard_prefix = None;
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
                "--guard-dir" => guard_dir = Some(PathBuf::from(value)),
                "--guard-prefix" => guard_prefix = Some(value.to_string_lossy().into_owned()),
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
        match (guard_dir, guard_prefix) {
            (Some(dir), Some(prefix)) if !prefix.is_empty() => out.guard = Some((dir, prefix)),
            (None, None) if !out.program.is_empty() => {}
            (None, None) => return Err("no program to run (expected -- PROGRAM ARGS...)".into()),
            _ => return Err("--guard-dir and --guard-prefix go together".into()),
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
    match &args.guard {
        Some((dir, prefix)) => guard(&args, dir, prefix),
        None => shim(&args),
    }
}

/// Listen for `signals`, ask for SIGTERM when the agent dies, and check it is still there.
fn watch_agent(parent: Option<i32>, signals: &[i32]) -> Result<Signals, String> {
    // Listen before anything can send.
    let signals = Signals::new(signals).map_err(|e| format!("cannot handle signals: {e}"))?;
    nix::sys::prctl::set_pdeathsig(Signal::SIGTERM)
        .map_err(|e| format!("cannot ask for the agent's death: {e}"))?;
    if let Some(parent) = parent
        && nix::unistd::getppid().as_raw() != parent
    {
        // The agent died before the request above.
        return Err("the agent is gone".into());
    }
    Ok(signals)
}

/// The guard: wait for the agent's death (or a stop), then end every step cgroup it left.
fn guard(args: &ShimArgs, dir: &Path, prefix: &str) -> ExitCode {
    let mut signals = match watch_agent(args.parent, &[SIGTERM, SIGINT, SIGHUP]) {
        Ok(s) => s,
        Err(e) => {
            // Clean up anyway: the agent is gone.
            kill_step_cgroups(dir, prefix, Duration::ZERO);
            return fail(SHIM_FAILED, &format!("step guard: {e}"));
        }
    };
    let _ = signals.forever().next();
    kill_step_cgroups(dir, prefix, args.grace);
    ExitCode::SUCCESS
}

/// SIGTERM everything in the cgroups `dir/prefix*`, give it `grace` to end, then kill what is
/// left and remove the cgroups.
fn kill_step_cgroups(dir: &Path, prefix: &str, grace: Duration) {
    let cgroups = cgroup::with_prefix(dir, prefix);
    for cg in &cgroups {
        for pid in cgroup::members(cg).unwrap_or_default() {
            let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
        }
    }
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline
        && cgroups
            .iter()
            .any(|cg| cgroup::populated(cg).unwrap_or(false))
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    for cg in &cgroups {
        let _ = cgroup::remove_blocking(cg, Duration::from_secs(5));
    }
}

/// The step shim (subreaper).
fn shim(args: &ShimArgs) -> ExitCode {
    let me = Pid::this();
    if let Err(e) = nix::sys::prctl::set_child_subreaper(true) {
        return fail(
            SHIM_FAILED,
            &format!("cannot become a child subreaper: {e}"),
        );
    }
    let mut signals = match watch_agent(args.parent, &[SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGUSR1]) {
        Ok(s) => s,
        Err(e) => return fail(SHIM_FAILED, &format!("{e}; not starting the step")),
    };
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
    let mut stopping = false;
    'outer: loop {
        for signal in signals.wait() {
            match signal {
                SIGCHLD => {
                    reap(child, &mut status);
                    if status.is_some() {
                        break 'outer;
                    }
                }
                SIGUSR1 => break 'outer,
                _ if !stopping => {
                    stopping = true;
                    for pid in procs::descendants(me.as_raw()) {
                        let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
                    }
                    // Kill them all after the grace period, even without another signal.
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
    // PROGRAM ended (or time is up): nothing of the step outlives it.
    kill_descendants(me, child, &mut status);
    exit_like(status)
}

/// Kill every descendant and reap them all, recording PROGRAM's status if it ends meanwhile.
/// Killing a child reparents its children to the shim (a subreaper): repeat until none is left.
fn kill_descendants(me: Pid, child: Pid, status: &mut Option<WaitStatus>) {
    loop {
        match waitpid(None::<Pid>, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) => {}
            Ok(s) => {
                if s.pid() == Some(child) {
                    *status = Some(s);
                }
                continue;
            }
            Err(Errno::EINTR) => continue,
            // No child at all: no descendant either (orphans come to the shim).
            Err(_) => return,
        }
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
            Err(_) => return,
        }
    }
}

/// Reap the shim's children that have ended (orphans reparented to it too), recording
/// PROGRAM's status.
fn reap(child: Pid, status: &mut Option<WaitStatus>) {
    loop {
        match waitpid(None::<Pid>, Some(WaitPidFlag::WNOHANG)) {
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
            guard: None,
            parent: Some(42),
            grace: Duration::from_millis(1500),
            uid: Some(65534),
            gid: Some(65534),
            program: vec!["/bin/sh".into(), "-c".into(), "echo -- hi".into()],
        };
        assert_eq!(ShimArgs::parse(args.to_args()).unwrap(), args);
        let guard = ShimArgs {
            guard: Some(("/sys/fs/cgroup".into(), "imx-a-1.".into())),
            parent: Some(7),
            grace: Duration::from_secs(2),
            ..ShimArgs::default()
        };
        assert_eq!(ShimArgs::parse(guard.to_args()).unwrap(), guard);
        assert!(ShimArgs::parse(["--uid".into()]).is_err());
        assert!(ShimArgs::parse(["--what".into(), "x".into()]).is_err());
        assert!(ShimArgs::parse(["--".into()]).is_err());
        assert!(ShimArgs::parse(["--guard-dir".into(), "/x".into()]).is_err());
    }
}

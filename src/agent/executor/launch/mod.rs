//! How an agent starts a `run` step's process, what the process sees, and how it is kept from
//! escaping. [`StepLaunch`] is the agent's configuration; [`Launcher`] is what an agent prepares
//! from it once it has registered; [`Launcher::stage`] makes a step's files and directory (its
//! inputs go there) and [`Launcher::spawn`] starts it as a [`StepProcess`].
//!
//! - **Environment** ([`env`]): built from nothing, never the agent's (no credential leaks).
//! - **Containment** needs the step shim ([`StepLaunch::shim`]: the `imx` binary, whose hidden
//!   `__step-shim` command is in [`shim`]). Where the agent may create cgroup v2 directories
//!   ([`cgroup`]) each step gets its own: the agent starts `/bin/sh`, which waits on its stdin
//!   until the agent has moved it into the step's cgroup, so everything the step starts is in
//!   it; the agent kills the cgroup on timeout, cancel and completion; a per-agent guard process
//!   (`imx __step-shim --guard-...`, with `PR_SET_PDEATHSIG`) kills the agent's step cgroups
//!   when the agent dies; and on start-up an agent removes what a crashed agent of the same
//!   name left. Elsewhere each step runs under its own shim, a child subreaper that kills every
//!   descendant when the step ends or is stopped, and that dies with the agent. Shim and guard
//!   are started from one long-lived [`spawner`] thread, so their parent-death signal means the
//!   agent's death. Without a shim (the library used from another program), steps are plain
//!   `/bin/sh` children in their own process group: the group is killed, but `setsid` escapes
//!   it and nothing dies with the agent.
//! - **Privileges and files**: steps may run as another user ([`StepLaunch::run_as`], the
//!   agent being root) and in a private per-step directory ([`StepLaunch::private_workdir`]),
//!   so embedded agents' steps neither run beside the store nor as its owner.

mod cgroup;
pub(crate) mod env;
mod procs;
pub mod shim;
mod spawner;

use std::ffi::OsString;
use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;
use sha2::Digest;
use tokio::io::AsyncWriteExt;
use tokio::process::{Child, Command};

use self::cgroup::CgroupRoot;
pub use self::env::check_pass_env_name;
use super::output_file::OutputFile;
use crate::model::StepTask;
use crate::{Error, Result};

/// The shell every `run` step runs in.
const SHELL: &str = "/bin/sh";
/// How long a step cgroup may take to empty after `cgroup.kill` before it is left for the next
/// start-up to remove.
const CGROUP_PATIENCE: Duration = Duration::from_secs(5);
/// How long a shim (or shell) may take to exit after being told to kill everything, before it
/// is killed with its group.
const SHIM_PATIENCE: Duration = Duration::from_secs(10);

/// Which containment an agent uses for its steps (`IMX_CONTAINMENT` for `imx agent run` and
/// `imx server`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Containment {
    /// A cgroup per step where possible, else the subreaper.
    #[default]
    Auto,
    /// A cgroup per step; the agent refuses to start without one.
    Cgroup,
    /// The subreaper, even where cgroups would work.
    Subreaper,
}

impl std::str::FromStr for Containment {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "" | "auto" => Ok(Containment::Auto),
            "cgroup" => Ok(Containment::Cgroup),
            "subreaper" => Ok(Containment::Subreaper),
            other => Err(format!(
                "unknown containment {other:?}: expected auto, cgroup or subreaper"
            )),
        }
    }
}

/// The user steps run as (instead of the agent's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepUser {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
}

impl StepUser {
    /// Look up a user by name or numeric uid.
    pub fn lookup(user: &str) -> Result<StepUser> {
        let found = match user.parse::<u32>() {
            Ok(uid) => nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid)),
            Err(_) => nix::unistd::User::from_name(user),
        }
        .map_err(|e| Error::invalid(format!("cannot look up the user {user:?}: {e}")))?;
        let found = found.ok_or_else(|| Error::invalid(format!("no such user: {user:?}")))?;
        Ok(StepUser {
            name: found.name,
            uid: found.uid.as_raw(),
            gid: found.gid.as_raw(),
        })
    }
}

/// How an agent starts and contains its steps' processes. The default — no shim, no extra
/// variables, the agent's user and working directory — is what a library user gets; `imx agent
/// run` and `imx server` set the shim to their own binary.
#[derive(Debug, Clone, Default)]
pub struct StepLaunch {
    /// The `imx` binary, run as `imx __step-shim ...` for every `run` step (see [`shim`]).
    /// `None`: steps run as plain `/bin/sh` children in their own process group — the group
    /// is killed on timeout, cancel and completion, but `setsid` escapes it and steps do not
    /// die with the agent.
    pub shim: Option<PathBuf>,
    /// Cgroup, subreaper, or the best available (needs a shim).
    pub containment: Containment,
    /// Variables of the agent's environment passed to every step (name, value); never `IMX_*`.
    pub pass_env: Vec<(String, OsString)>,
    /// Run steps as this user; the agent must run as root.
    pub run_as: Option<StepUser>,
    /// Run each step in a fresh private directory (also its `HOME`), removed afterwards,
    /// unless the step names its own `workdir`.
    pub private_workdir: bool,
}

/// How steps are contained, as prepared at start-up.
#[derive(Debug)]
enum Mode {
    /// A cgroup per step, and a guard that kills them when the agent dies.
    Cgroup {
        root: CgroupRoot,
        guard: Option<Box<Child>>,
    },
    /// A shim per step, a child subreaper.
    Subreaper,
    /// No shim: a process group only.
    Group,
}

/// The script `/bin/sh -c` runs in a cgroup step: wait until the agent has moved the shell into
/// the step's cgroup (one line on stdin; end of input means it could not), make stdin
/// `/dev/null`, then run the step's command (`$1`) as `sh -c` would, with no positional
/// parameters.
const JOIN_THEN_RUN: &str = r#"read -r _ || exit 125; exec </dev/null; eval "shift; $1""#;

/// An agent's prepared step launching (see [`StepLaunch`]).
#[derive(Debug)]
pub struct Launcher {
    mode: Mode,
    shim: Option<PathBuf>,
    base_env: Vec<(OsString, OsString)>,
    run_as: Option<StepUser>,
    private_workdir: bool,
    /// `imx-step-<tag>.`: the prefix of this agent's private directories.
    dir_prefix: String,
    /// `imx-output-<tag>.`: the prefix of this agent's `$IMX_OUTPUT` files.
    output_prefix: String,
    description: String,
}

impl Launcher {
    /// Prepare launching for the agent `name` of the control plane at `location`: check the
    /// configuration, choose the containment, and kill and remove what a previous agent of the
    /// same name left behind. `grace` is the time between SIGTERM and SIGKILL when steps are
    /// stopped because the agent died. Returns the launcher and warnings for the agent's log.
    pub(crate) async fn start(
        launch: &StepLaunch,
        location: &str,
        name: &str,
        grace: Duration,
    ) -> Result<(Launcher, Vec<String>)> {
        for (name, _) in &launch.pass_env {
            env::check_pass_env_name(name).map_err(Error::invalid)?;
        }
        if let Some(user) = &launch.run_as {
            let me = nix::unistd::geteuid();
            if !me.is_root() && me.as_raw() != user.uid {
                return Err(Error::invalid(format!(
                    "steps can only run as {} when the agent runs as root",
                    user.name
                )));
            }
        }
        let tag = tag(location, name);
        let mut warnings = Vec::new();
        let (mode, description) = match (&launch.shim, launch.containment) {
            (None, Containment::Auto) => (
                Mode::Group,
                "a process group per step (no step shim: setsid escapes it, steps do not die with the agent)".to_string(),
            ),
            (None, _) => {
                return Err(Error::invalid(
                    "cgroup and subreaper containment need the step shim (the imx binary)",
                ));
            }
            (Some(_), Containment::Subreaper) => (
                Mode::Subreaper,
                "a subreaper per step (cgroups not used: IMX_CONTAINMENT=subreaper)".to_string(),
            ),
            (Some(shim), wanted) => match CgroupRoot::detect(&tag) {
                Ok(root) => {
                    match root.reap_leftovers().await {
                        Ok(0) => {}
                        Ok(n) => warnings.push(format!(
                            "killed what a previous agent named {name} left running ({n} step cgroup(s))"
                        )),
                        Err(e) => warnings.push(format!(
                            "cannot remove what a previous agent named {name} left in {}: {e}",
                            root.dir.display()
                        )),
                    }
                    let guard = match start_guard(shim, &root, grace).await {
                        Ok(guard) => Some(Box::new(guard)),
                        Err(e) => {
                            warnings.push(format!(
                                "cannot start the step guard, so steps will not die with the agent: {e}"
                            ));
                            None
                        }
                    };
                    let what = format!("a cgroup per step, under {}", root.dir.display());
                    (Mode::Cgroup { root, guard }, what)
                }
                Err(why) if wanted == Containment::Cgroup => {
                    return Err(Error::invalid(format!(
                        "cannot contain steps in cgroups: {why}"
                    )));
                }
                Err(why) => (Mode::Subreaper, format!("a subreaper per step ({why})")),
            },
        };
        // What a previous agent of this name left in the temp directory when it was killed.
        let dir_prefix = format!("imx-step-{tag}.");
        let output_prefix = format!("imx-output-{tag}.");
        remove_temp_leftovers(vec![dir_prefix.clone(), output_prefix.clone()]).await;
        let home = launch
            .run_as
            .as_ref()
            .and_then(|u| nix::unistd::User::from_uid(u.uid.into()).ok().flatten())
            .map(|u| u.dir);
        let base_env = env::base(|n| std::env::var_os(n), home.as_deref(), &launch.pass_env);
        let launcher = Launcher {
            mode,
            shim: launch.shim.clone(),
            base_env,
            run_as: launch.run_as.clone(),
            private_workdir: launch.private_workdir,
            dir_prefix,
            output_prefix,
            description,
        };
        Ok((launcher, warnings))
    }

    /// A launcher without shim, user or private directories (for tests).
    #[cfg(test)]
    pub(crate) fn plain() -> Launcher {
        Launcher {
            mode: Mode::Group,
            shim: None,
            base_env: env::base(|n| std::env::var_os(n), None, &[]),
            run_as: None,
            private_workdir: false,
            dir_prefix: "imx-step-test.".into(),
            output_prefix: "imx-output-test.".into(),
            description: String::new(),
        }
    }

    /// How steps are contained, for the agent's start-up log.
    pub(crate) fn describe(&self) -> &str {
        &self.description
    }

    /// Make what a step needs before it starts: its `$IMX_OUTPUT` file and (with private
    /// directories) its working directory, where its inputs go before [`Launcher::spawn`].
    pub(crate) fn stage(&self, task: &StepTask) -> std::result::Result<Staged, String> {
        let owner = self.run_as.as_ref().map(|u| (u.uid, u.gid));
        let output = OutputFile::create(&self.output_prefix, owner)
            .map_err(|e| format!("cannot create the $IMX_OUTPUT file: {e}"))?;
        let private = if self.private_workdir {
            Some(
                PrivateDir::create(&self.dir_prefix, owner)
                    .map_err(|e| format!("cannot create the step's working directory: {e}"))?,
            )
        } else {
            None
        };
        let workdir: Option<PathBuf> = match (&task.workdir, &private) {
            (Some(dir), _) => Some(dir.into()),
            (None, Some(p)) => Some(p.path.clone()),
            (None, None) => None,
        };
        Ok(Staged {
            output,
            private,
            workdir,
            owner,
        })
    }

    /// Start `/bin/sh -c command` for `task` in what [`Launcher::stage`] made, its stdout and
    /// stderr piped. `grace` is what a shim waits between SIGTERM and SIGKILL when the agent
    /// dies.
    pub(crate) async fn spawn(
        &self,
        staged: Staged,
        task: &StepTask,
        command: &str,
        grace: Duration,
    ) -> std::result::Result<StepProcess, String> {
        let Staged {
            output,
            private,
            workdir,
            ..
        } = staged;
        let env = env::for_step(
            &self.base_env,
            private.as_ref().map(|p| p.path.as_path()),
            task,
            output.path(),
        );
        let (mut cmd, how) = match (&self.mode, &self.shim) {
            (Mode::Cgroup { root, .. }, _) => {
                let dir = root
                    .create_step()
                    .map_err(|e| format!("cannot create the step's cgroup: {e}"))?;
                let mut cmd = Command::new(SHELL);
                cmd.arg("-c")
                    .arg(JOIN_THEN_RUN)
                    .arg(SHELL)
                    .arg(command)
                    .stdin(Stdio::piped());
                (cmd, How::Cgroup(dir))
            }
            (Mode::Subreaper, Some(shim)) => {
                let args = shim::ShimArgs {
                    guard: None,
                    parent: i32::try_from(std::process::id()).ok(),
                    grace,
                    uid: self.run_as.as_ref().map(|u| u.uid),
                    gid: self.run_as.as_ref().map(|u| u.gid),
                    program: vec![SHELL.into(), "-c".into(), command.into()],
                };
                let mut cmd = Command::new(shim);
                cmd.arg0("imx")
                    .arg(shim::SHIM_COMMAND)
                    .args(args.to_args())
                    .stdin(Stdio::null());
                (cmd, How::Shim)
            }
            _ => {
                let mut cmd = Command::new(SHELL);
                cmd.arg("-c").arg(command).stdin(Stdio::null());
                (cmd, How::Group)
            }
        };
        if how != How::Shim
            && let Some(user) = &self.run_as
        {
            // std drops the supplementary groups (setgroups(0)) before setuid.
            cmd.uid(user.uid).gid(user.gid);
        }
        cmd.env_clear()
            .envs(env)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        if let Some(dir) = &workdir {
            cmd.current_dir(dir);
        }
        let spawned = if how == How::Shim {
            // The shim's parent-death signal must mean the agent's death.
            spawner::spawn(cmd).await
        } else {
            cmd.spawn()
        };
        let mut child = match spawned {
            Ok(c) => c,
            Err(e) => {
                if let How::Cgroup(dir) = &how {
                    let _ = std::fs::remove_dir(dir);
                }
                let place = workdir
                    .as_ref()
                    .map(|d| format!(" in {}", d.display()))
                    .unwrap_or_default();
                return Err(format!("cannot start {SHELL}{place}: {e}"));
            }
        };
        // The child leads its own group, so its pid is the group id.
        let group = child
            .id()
            .and_then(|id| i32::try_from(id).ok())
            .map(Pid::from_raw);
        if let How::Cgroup(dir) = &how {
            // Move the waiting shell into the step's cgroup, then let it go on.
            let stdin = child.stdin.take();
            let joined = match child.id() {
                Some(pid) => cgroup::join(dir, pid),
                None => Err(io::Error::other("the shell ended at once")),
            };
            if let Err(e) = joined {
                let _ = child.start_kill();
                let _ = child.wait().await;
                let _ = std::fs::remove_dir(dir);
                return Err(format!("cannot move the step into its cgroup: {e}"));
            }
            if let Some(mut stdin) = stdin {
                // If the shell is gone already, its exit status says why.
                let _ = stdin.write_all(b"\n").await;
            }
        }
        Ok(StepProcess {
            child,
            group,
            how,
            output,
            private,
            workdir,
            done: false,
        })
    }
}

impl Drop for Launcher {
    /// The agent is done: the guard kills what might be left and exits.
    fn drop(&mut self) {
        if let Mode::Cgroup {
            guard: Some(guard), ..
        } = &mut self.mode
            && let Ok(None) = guard.try_wait()
            && let Some(pid) = guard.id().and_then(|id| i32::try_from(id).ok())
        {
            let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
        }
    }
}

/// Start the guard of the agent's step cgroups (see [`shim`]).
async fn start_guard(shim: &Path, root: &CgroupRoot, grace: Duration) -> io::Result<Child> {
    let args = shim::ShimArgs {
        guard: Some((root.dir.clone(), root.prefix.clone())),
        parent: i32::try_from(std::process::id()).ok(),
        grace,
        ..shim::ShimArgs::default()
    };
    let mut cmd = Command::new(shim);
    cmd.arg0("imx")
        .arg(shim::SHIM_COMMAND)
        .args(args.to_args())
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .process_group(0);
    spawner::spawn(cmd).await
}

/// How a started step is contained.
#[derive(Debug, Clone, PartialEq, Eq)]
enum How {
    /// In this cgroup (the agent kills it).
    Cgroup(PathBuf),
    /// Under a shim (which kills its descendants).
    Shim,
    /// In its own process group only.
    Group,
}

/// What a step needs before it starts (see [`Launcher::stage`]).
pub(crate) struct Staged {
    output: OutputFile,
    private: Option<PrivateDir>,
    workdir: Option<PathBuf>,
    /// The step's user, who owns what is put in its directory.
    owner: Option<(u32, u32)>,
}

impl Staged {
    /// The step's working directory (the agent's own when it has none).
    pub(crate) fn dir(&self) -> io::Result<PathBuf> {
        working_dir(self.workdir.as_ref())
    }

    /// The step's user (uid, gid), when it is not the agent's.
    pub(crate) fn owner(&self) -> Option<(u32, u32)> {
        self.owner
    }
}

fn working_dir(dir: Option<&PathBuf>) -> io::Result<PathBuf> {
    match dir {
        Some(d) => Ok(d.clone()),
        None => std::env::current_dir(),
    }
}

/// A started step: the shell (or the shim running it), its output file and private directory.
pub(crate) struct StepProcess {
    pub(crate) child: Child,
    group: Option<Pid>,
    how: How,
    pub(crate) output: OutputFile,
    private: Option<PrivateDir>,
    workdir: Option<PathBuf>,
    /// Everything is already killed and cleaned up.
    done: bool,
}

impl StepProcess {
    /// Ask the step to stop: SIGTERM to every process of the step.
    pub(crate) fn terminate(&self) {
        match &self.how {
            How::Cgroup(dir) => {
                for pid in cgroup::members(dir).unwrap_or_default() {
                    let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
                }
            }
            // The shim forwards it to every descendant.
            How::Shim => self.signal_leader(Signal::SIGTERM),
            How::Group => self.signal_group(Signal::SIGTERM),
        }
    }

    /// Kill every process of the step now.
    pub(crate) fn kill(&mut self) {
        match &self.how {
            How::Cgroup(dir) => {
                let _ = cgroup::kill(dir);
            }
            How::Shim => self.signal_leader(Signal::SIGUSR1),
            How::Group => {
                self.signal_group(Signal::SIGKILL);
                if self.group.is_none() {
                    let _ = self.child.start_kill();
                }
            }
        }
    }

    /// Wait for the shell (or shim) after [`StepProcess::kill`]: one that does not end in time
    /// is killed with its group.
    pub(crate) async fn wait_killed(&mut self) -> io::Result<ExitStatus> {
        if let Ok(status) = tokio::time::timeout(SHIM_PATIENCE, self.child.wait()).await {
            return status;
        }
        self.signal_group(Signal::SIGKILL);
        let _ = self.child.start_kill();
        self.child.wait().await
    }

    /// The step's working directory (the agent's own when it has none): where its artifacts
    /// are, until [`StepProcess::remove_dir`].
    pub(crate) fn dir(&self) -> io::Result<PathBuf> {
        working_dir(self.workdir.as_ref())
    }

    /// After the shell (or shim) has ended: kill whatever the step left running, remove its
    /// cgroup. Returns a warning if something could not be cleaned up. The private directory
    /// stays until [`StepProcess::remove_dir`] (its artifacts are uploaded in between).
    pub(crate) async fn finish(&mut self) -> Option<String> {
        // Anything the shell left running in its group goes with it.
        self.signal_group(Signal::SIGKILL);
        self.done = true;
        let mut warning = None;
        if let How::Cgroup(dir) = &self.how
            && let Err(e) = cgroup::remove(dir, CGROUP_PATIENCE).await
        {
            warning = Some(format!("cannot remove the step's cgroup: {e}"));
        }
        warning
    }

    /// Remove the step's private directory, if it has one. Returns a warning if it could not.
    pub(crate) async fn remove_dir(&mut self) -> Option<String> {
        let mut warning = None;
        if let Some(private) = self.private.take() {
            let path = private.path.clone();
            let removed = tokio::task::spawn_blocking(move || private.remove()).await;
            if let Ok(Err(e)) | Err(e) = removed.map_err(io::Error::other) {
                warning = Some(format!("cannot remove {}: {e}", path.display()));
            }
        }
        warning
    }

    fn signal_leader(&self, signal: Signal) {
        if let Some(pid) = self.group {
            let _ = kill(pid, signal);
        }
    }

    fn signal_group(&self, signal: Signal) {
        if let Some(pgid) = self.group {
            // ESRCH (nobody left in the group) is the usual, fine outcome.
            let _ = killpg(pgid, signal);
        }
    }
}

impl Drop for StepProcess {
    /// A step abandoned half-way (its task dropped): kill everything it runs.
    fn drop(&mut self) {
        if !self.done {
            self.kill();
            if let How::Cgroup(dir) = &self.how {
                // Best effort: it may still be emptying; the next start-up removes it then.
                let _ = std::fs::remove_dir(dir);
            }
        }
    }
}

/// A step's private working directory (mode 0700, owned by the step's user), removed after it.
#[derive(Debug)]
struct PrivateDir {
    path: PathBuf,
    removed: bool,
}

impl PrivateDir {
    fn create(prefix: &str, owner: Option<(u32, u32)>) -> io::Result<PrivateDir> {
        let path = std::env::temp_dir().join(format!("{prefix}{}", crate::model::new_id()));
        std::fs::DirBuilder::new().mode(0o700).create(&path)?;
        let dir = PrivateDir {
            path,
            removed: false,
        };
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(&dir.path, Some(uid), Some(gid))?;
        }
        Ok(dir)
    }

    fn remove(mut self) -> io::Result<()> {
        self.removed = true;
        remove_dir(&self.path)
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        if !self.removed {
            let _ = remove_dir(&self.path);
        }
    }
}

fn remove_dir(path: &Path) -> io::Result<()> {
    match std::fs::remove_dir_all(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Remove what a previous agent of the same name left in the temp directory (private
/// directories, `$IMX_OUTPUT` files): the entries whose names start with one of `prefixes`.
async fn remove_temp_leftovers(prefixes: Vec<String>) {
    let _ = tokio::task::spawn_blocking(move || {
        let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if !prefixes.iter().any(|p| name.starts_with(p.as_str())) {
                continue;
            }
            match entry.file_type() {
                Ok(t) if t.is_dir() => {
                    let _ = remove_dir(&entry.path());
                }
                _ => {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
    })
    .await;
}

/// A short name for an agent of a control plane: its name (made safe for a file name) and a
/// hash of the control plane's location and the name, so agents of the same name on different
/// stores or servers never touch each other's steps.
fn tag(location: &str, name: &str) -> String {
    let safe: String = name
        .chars()
        .take(40)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let hash = sha2::Sha256::digest(format!("{location}\n{name}").as_bytes());
    format!("{safe}-{}", &hex::encode(hash)[..16])
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_safe_and_tell_stores_apart() {
        let a = tag("/srv/a.db", "w1");
        assert!(a.starts_with("w1-"), "{a}");
        assert_ne!(a, tag("/srv/b.db", "w1"));
        assert_ne!(a, tag("/srv/a.db", "w2"));
        assert!(
            tag("x", "a/b c.d")
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
    }

    #[test]
    fn containment_parses() {
        assert_eq!("".parse::<Containment>(), Ok(Containment::Auto));
        assert_eq!("cgroup".parse::<Containment>(), Ok(Containment::Cgroup));
        assert_eq!(
            "subreaper".parse::<Containment>(),
            Ok(Containment::Subreaper)
        );
        assert!("nope".parse::<Containment>().is_err());
    }
}

//! cgroup v2 for step processes: find the unified hierarchy (`/proc/self/mountinfo`) and the
//! agent's own cgroup (`/proc/self/cgroup`), create one child cgroup per step beside the agent,
//! move a process into it, kill a cgroup with everything in it (`cgroup.kill`, Linux 5.14+),
//! wait until it is empty and remove it. Step cgroups are named `imx-<agent tag>.<ulid>`, so an
//! agent that starts under the name of a crashed one finds, kills and removes what that one
//! left behind; the probe made at start-up is `imx-probe-<pid>.<ulid>`, removed by any agent
//! once that pid is gone.

use std::io::{self, ErrorKind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Where the agent puts its steps' cgroups, and the name prefix they share.
#[derive(Debug, Clone)]
pub(crate) struct CgroupRoot {
    /// The agent's own cgroup directory (step cgroups are its children).
    pub(crate) dir: PathBuf,
    /// `imx-<tag>.`: every step cgroup of this agent name starts with it.
    pub(crate) prefix: String,
}

impl CgroupRoot {
    /// Find a cgroup v2 directory the agent may create step cgroups in, or say why there is
    /// none (no cgroup2 mount, read-only, no permission, no `cgroup.kill`).
    pub(crate) fn detect(tag: &str) -> Result<CgroupRoot, String> {
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo")
            .map_err(|e| format!("cannot read /proc/self/mountinfo: {e}"))?;
        let mount = cgroup2_mount(&mountinfo).ok_or("no cgroup v2 hierarchy is mounted")?;
        if mount.read_only {
            return Err(format!(
                "the cgroup v2 hierarchy at {} is read-only",
                mount.point.display()
            ));
        }
        let own = std::fs::read_to_string("/proc/self/cgroup")
            .map_err(|e| format!("cannot read /proc/self/cgroup: {e}"))?;
        let own = unified_path(&own).ok_or("this process is in no cgroup v2 cgroup")?;
        let relative = own
            .strip_prefix(mount.root.as_str())
            .unwrap_or(own)
            .trim_start_matches('/');
        let dir = if relative.is_empty() {
            mount.point.clone()
        } else {
            mount.point.join(relative)
        };
        let root = CgroupRoot {
            dir,
            prefix: format!("imx-{tag}."),
        };
        // Probe: create one, check it can be killed, remove it. A probe is named after its
        // agent's pid, so the probes of agents killed meanwhile can be recognised and removed.
        remove_dead_probes(&root.dir);
        let probe = root.dir.join(format!(
            "{PROBE_PREFIX}{}.{}",
            std::process::id(),
            crate::model::new_id()
        ));
        std::fs::create_dir(&probe)
            .map_err(|e| format!("cannot create a cgroup in {}: {e}", root.dir.display()))?;
        let killable = probe.join("cgroup.kill").exists();
        let _ = std::fs::remove_dir(&probe);
        if !killable {
            return Err(format!(
                "the cgroups in {} have no cgroup.kill (Linux 5.14 or later is needed)",
                root.dir.display()
            ));
        }
        Ok(root)
    }

    /// A new, empty cgroup for one step.
    pub(crate) fn create_step(&self) -> io::Result<PathBuf> {
        let dir = self
            .dir
            .join(format!("{}{}", self.prefix, crate::model::new_id()));
        std::fs::create_dir(&dir)?;
        Ok(dir)
    }

    /// Kill and remove every step cgroup a previous agent of this name left behind. Returns
    /// how many still held processes.
    pub(crate) async fn reap_leftovers(&self) -> io::Result<usize> {
        let dir = self.dir.clone();
        let prefix = self.prefix.clone();
        tokio::task::spawn_blocking(move || {
            let mut busy = 0;
            for cg in with_prefix(&dir, &prefix) {
                if populated(&cg).unwrap_or(false) {
                    busy += 1;
                }
                remove_blocking(&cg, Duration::from_secs(10))?;
            }
            Ok(busy)
        })
        .await
        .map_err(io::Error::other)?
    }
}

/// How probe cgroups are named: `imx-probe-<pid>.<ulid>`.
const PROBE_PREFIX: &str = "imx-probe-";

/// Remove the (always empty) probe cgroups of agents that are gone.
fn remove_dead_probes(dir: &Path) {
    for probe in with_prefix(dir, PROBE_PREFIX) {
        let pid = probe.file_name().and_then(|n| n.to_str()).and_then(|n| {
            n.strip_prefix(PROBE_PREFIX)?
                .split('.')
                .next()?
                .parse::<i32>()
                .ok()
        });
        let alive = pid.is_some_and(|p| {
            nix::sys::signal::kill(nix::unistd::Pid::from_raw(p), None)
                != Err(nix::errno::Errno::ESRCH)
        });
        if !alive {
            let _ = std::fs::remove_dir(&probe);
        }
    }
}

/// The cgroups in `dir` whose names start with `prefix`.
pub(crate) fn with_prefix(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect()
}

/// The cgroup2 mount: where it is, which cgroup is its root, whether it is read-only.
#[derive(Debug, PartialEq, Eq)]
struct Mount {
    point: PathBuf,
    root: String,
    read_only: bool,
}

/// Find the cgroup2 mount in the text of `/proc/self/mountinfo`.
fn cgroup2_mount(mountinfo: &str) -> Option<Mount> {
    mountinfo.lines().find_map(|line| {
        // id parent major:minor root point options [optional...] - fstype source superoptions
        let (left, right) = line.split_once(" - ")?;
        if right.split(' ').next()? != "cgroup2" {
            return None;
        }
        let fields: Vec<&str> = left.split(' ').collect();
        let root = unescape(fields.get(3)?);
        let point = unescape(fields.get(4)?);
        let read_only = fields.get(5)?.split(',').any(|o| o == "ro");
        Some(Mount {
            point: PathBuf::from(point),
            root,
            read_only,
        })
    })
}

/// mountinfo escapes space, tab, newline and backslash as `\ooo`.
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes.get(i + 1..i + 4).and_then(|d| {
            std::str::from_utf8(d)
                .ok()
                .and_then(|d| u8::from_str_radix(d, 8).ok())
        });
        match (bytes[i], octal) {
            (b'\\', Some(b)) => {
                out.push(b);
                i += 4;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The `0::/path` line of `/proc/self/cgroup`.
fn unified_path(cgroup: &str) -> Option<&str> {
    cgroup.lines().find_map(|l| l.strip_prefix("0::"))
}

/// Put process `pid` into the cgroup at `dir`.
pub(crate) fn join(dir: &Path, pid: u32) -> io::Result<()> {
    std::fs::write(dir.join("cgroup.procs"), pid.to_string())
}

/// The processes in the cgroup at `dir` (not in its children).
pub(crate) fn members(dir: &Path) -> io::Result<Vec<i32>> {
    Ok(std::fs::read_to_string(dir.join("cgroup.procs"))?
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect())
}

/// SIGKILL everything in the cgroup at `dir` and its children.
pub(crate) fn kill(dir: &Path) -> io::Result<()> {
    std::fs::write(dir.join("cgroup.kill"), "1")
}

/// Whether any process is in the cgroup at `dir` or below it.
pub(crate) fn populated(dir: &Path) -> io::Result<bool> {
    let events = std::fs::read_to_string(dir.join("cgroup.events"))?;
    Ok(events.lines().any(|l| l.trim() == "populated 1"))
}

/// Kill everything in the cgroup at `dir` (and below), wait up to `patience` until it is
/// empty, and remove it with its children. A cgroup that is already gone is fine.
pub(crate) async fn remove(dir: &Path, patience: Duration) -> io::Result<()> {
    // The usual case, without a thread: empty, with no children.
    match std::fs::remove_dir(dir) {
        Ok(()) => return Ok(()),
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(_) => {}
    }
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || remove_blocking(&dir, patience))
        .await
        .map_err(io::Error::other)?
}

/// [`remove`], waiting on this thread.
pub(crate) fn remove_blocking(dir: &Path, patience: Duration) -> io::Result<()> {
    match std::fs::remove_dir(dir) {
        Ok(()) => return Ok(()),
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(_) => {}
    }
    match kill(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    }
    let deadline = Instant::now() + patience;
    let mut pause = Duration::from_millis(1);
    while populated(dir)? {
        if Instant::now() >= deadline {
            return Err(io::Error::other(format!(
                "{} still holds processes {}s after cgroup.kill",
                dir.display(),
                patience.as_secs()
            )));
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
    }
    remove_tree(dir)
}

/// Remove an empty cgroup and the (empty) cgroups below it, deepest first.
fn remove_tree(dir: &Path) -> io::Result<()> {
    let children = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in children {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            remove_tree(&entry.path())?;
        }
    }
    match std::fs::remove_dir(dir) {
        Err(e) if e.kind() != ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const HYBRID: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";

    #[test]
    fn finds_the_cgroup2_mount() {
        assert_eq!(
            cgroup2_mount(HYBRID),
            Some(Mount {
                point: "/sys/fs/cgroup/unified".into(),
                root: "/".into(),
                read_only: false,
            })
        );
        let pure =
            "29 23 0:26 /user.slice /sys/fs/cgroup ro,nosuid shared:4 - cgroup2 cgroup2 rw\n";
        assert_eq!(
            cgroup2_mount(pure),
            Some(Mount {
                point: "/sys/fs/cgroup".into(),
                root: "/user.slice".into(),
                read_only: true,
            })
        );
        assert_eq!(cgroup2_mount("1 0 8:1 / / rw - ext4 /dev/sda1 rw\n"), None);
        assert_eq!(unescape(r"/mnt/with\040space"), "/mnt/with space");
    }

    #[test]
    fn finds_the_unified_cgroup_line() {
        let text = "9:name=systemd:/\n4:memory:/x\n0::/system.slice/imx.service\n";
        assert_eq!(unified_path(text), Some("/system.slice/imx.service"));
        assert_eq!(unified_path("4:memory:/x\n"), None);
    }
}

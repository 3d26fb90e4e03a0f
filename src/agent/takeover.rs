//! Taking an agent's name over from a process that is gone (DESIGN §3). The control plane cannot
//! see the processes of other hosts, so the registering agent does the looking: when the name is
//! held by an agent of its own principal on its own host (same boot and PID namespace), it checks
//! whether that pid is still alive, and if not registers again naming the pid it replaces. The
//! control plane takes that word only from the principal that registered the holder, and only
//! for the pid, host and pid scope it has on record.

use crate::Error;
use crate::model::AgentRegistration;

/// Where this process's pid names it: the boot (a pid means nothing across reboots) and the PID
/// namespace (nor across containers sharing a host name). `None` where it cannot be told; such
/// agents take a name over only with a new `--instance` (or once the holder is offline).
pub(crate) fn pid_scope() -> Option<String> {
    #[cfg(target_os = "linux")]
    {
        let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
        let ns = std::fs::read_link("/proc/self/ns/pid").ok()?;
        Some(format!("{}/{}", boot.trim(), ns.display()))
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

/// Whether process `pid` (in this PID namespace) may still be running. Errs towards "alive":
/// a process we may not signal is alive; only "no such process", or a zombie nobody has reaped
/// yet, is gone.
pub(crate) fn alive(pid: u32) -> bool {
    let Ok(raw) = i32::try_from(pid) else {
        return true;
    };
    if raw <= 0 {
        return true;
    }
    let pid = nix::unistd::Pid::from_raw(raw);
    match nix::sys::signal::kill(pid, None) {
        Err(nix::errno::Errno::ESRCH) => false,
        Err(_) => true,
        Ok(()) => !zombie(raw),
    }
}

/// Whether `pid` is a zombie (exited, not yet reaped by its parent).
fn zombie(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        // The state is the first field after the parenthesised command name.
        stat.rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z') || rest.starts_with('X'))
    })
}

/// After `err` from registering `reg`: if the name is held by a process on this host that is
/// gone, set `reg` up to take it over and say so (register again); else `false`. Asks once per
/// holder, so a refused takeover ends in the error rather than a loop.
pub(crate) fn retry_as_takeover(reg: &mut AgentRegistration, err: &Error) -> bool {
    let Error::NameHeld { hostname, pid, .. } = err else {
        return false;
    };
    let gone = reg.pid_scope.is_some()
        && *hostname == reg.hostname
        && *pid != reg.pid
        && reg.replaces_pid != Some(*pid)
        && !alive(*pid);
    if gone {
        reg.replaces_pid = Some(*pid);
    }
    gone
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn reg(pid: u32) -> AgentRegistration {
        AgentRegistration {
            name: "w".into(),
            labels: Default::default(),
            slots: 1,
            hostname: "here".into(),
            pid,
            version: "t".into(),
            instance: None,
            pid_scope: Some("boot/pid:[1]".into()),
            replaces_pid: None,
        }
    }

    fn held(hostname: &str, pid: u32) -> Error {
        Error::NameHeld {
            name: "w".into(),
            hostname: hostname.into(),
            pid,
        }
    }

    /// A pid that was alive a moment ago and is gone now (reaped).
    fn dead_pid() -> u32 {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        pid
    }

    #[test]
    fn this_process_is_alive_and_a_reaped_child_is_not() {
        assert!(alive(std::process::id()));
        assert!(!alive(dead_pid()));
        assert!(alive(0), "never a pid that means a process group");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_pid_scope_names_the_boot_and_the_pid_namespace() {
        let scope = pid_scope().unwrap();
        assert!(scope.contains("/pid:["), "{scope}");
    }

    #[test]
    fn only_a_dead_holder_on_this_host_is_taken_over_and_only_once() {
        let me = std::process::id();
        let dead = dead_pid();
        let mut r = reg(me);
        assert!(!retry_as_takeover(&mut r, &Error::Conflict("x".into())));
        assert!(!retry_as_takeover(&mut r, &held("elsewhere", dead)));
        assert!(!retry_as_takeover(&mut r, &held("here", me)), "alive");
        assert_eq!(r.replaces_pid, None);
        assert!(retry_as_takeover(&mut r, &held("here", dead)));
        assert_eq!(r.replaces_pid, Some(dead));
        assert!(
            !retry_as_takeover(&mut r, &held("here", dead)),
            "refused once: no second try"
        );
        let mut unscoped = AgentRegistration {
            pid_scope: None,
            ..reg(me)
        };
        assert!(!retry_as_takeover(&mut unscoped, &held("here", dead)));
    }
}

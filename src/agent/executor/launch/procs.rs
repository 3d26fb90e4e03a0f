//! Finding a process's children and descendants in `/proc`, for the subreaper fallback: the
//! `children` file of each of its threads where the kernel has one, else a scan of every
//! process's parent.

use std::collections::BTreeSet;

/// The live and zombie children of `pid`.
pub(crate) fn children(pid: i32) -> Vec<i32> {
    from_children_files(pid).unwrap_or_else(|| by_parent_scan(pid))
}

/// Every descendant of `pid` (children first, then theirs).
pub(crate) fn descendants(pid: i32) -> Vec<i32> {
    let mut seen = BTreeSet::new();
    let mut order = Vec::new();
    let mut queue = vec![pid];
    while let Some(p) = queue.pop() {
        for child in children(p) {
            if seen.insert(child) {
                order.push(child);
                queue.push(child);
            }
        }
    }
    order
}

/// `/proc/PID/task/*/children` (Linux 3.5+, `CONFIG_PROC_CHILDREN`); `None` if missing.
fn from_children_files(pid: i32) -> Option<Vec<i32>> {
    if !std::path::Path::new(&format!("/proc/{pid}/task/{pid}/children")).exists() {
        // Gone (no children), or a kernel without the files (scan instead).
        return (!std::path::Path::new(&format!("/proc/{pid}")).exists()).then(Vec::new);
    }
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let mut out = Vec::new();
    for task in tasks.flatten() {
        if let Ok(text) = std::fs::read_to_string(task.path().join("children")) {
            out.extend(
                text.split_whitespace()
                    .filter_map(|p| p.parse::<i32>().ok()),
            );
        }
    }
    Some(out)
}

/// Every process whose parent (field 4 of `/proc/*/stat`) is `pid`.
fn by_parent_scan(pid: i32) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|p| parent_of(*p) == Some(pid))
        .collect()
}

fn parent_of(pid: i32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn finds_children_and_grandchildren() {
        let mut child = std::process::Command::new("/bin/sh")
            .args(["-c", "sleep 30 & wait"])
            .spawn()
            .unwrap();
        let me = i32::try_from(std::process::id()).unwrap();
        let shell = i32::try_from(child.id()).unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let all = loop {
            let all = descendants(me);
            if all.contains(&shell) && all.len() >= 2 && !children(shell).is_empty() {
                break all;
            }
            assert!(std::time::Instant::now() < deadline, "{all:?}");
            std::thread::sleep(std::time::Duration::from_millis(10));
        };
        assert!(children(me).contains(&shell));
        assert_eq!(by_parent_scan(shell), children(shell));
        assert!(all.contains(&children(shell)[0]));
        for pid in children(shell) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        child.wait().unwrap();
    }
}

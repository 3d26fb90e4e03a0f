//! Step processes never escape their step: a step that starts a `setsid` daemon leaves no
//! process behind after a timeout, a cancel, a success, or kill -9 of its agent — with a cgroup
//! per step (skipped where the tests may not create cgroups) and under the subreaper fallback
//! (`IMX_CONTAINMENT=subreaper`). Leaked processes are found by a unique marker: each test runs
//! its own copy of `sleep` under a unique file name.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::env::{Background, SLOW, TestEnv, process_gone, wait_until};

static MARKERS: AtomicUsize = AtomicUsize::new(0);

/// How steps are contained in a test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Cgroup,
    Subreaper,
}

/// A local test environment whose agents use `mode`, with short leases; `None` (and a note on
/// stderr) where `mode` cannot work here.
fn env_for(mode: Mode) -> Option<TestEnv> {
    if mode == Mode::Cgroup && !cgroups_available() {
        eprintln!(
            "skipped: cgroup containment needs root and a writable cgroup v2 hierarchy (the subreaper tests still run)"
        );
        return None;
    }
    let name = match mode {
        Mode::Cgroup => "cgroup",
        Mode::Subreaper => "subreaper",
    };
    Some(
        TestEnv::new()
            .with_var("IMX_CONTAINMENT", name)
            .with_var("IMX_LEASE", "2s"),
    )
}

/// Root, with a read-write cgroup2 mount.
fn cgroups_available() -> bool {
    nix::unistd::geteuid().is_root()
        && std::fs::read_to_string("/proc/self/mountinfo").is_ok_and(|m| {
            m.lines().any(|l| {
                l.split_once(" - ").is_some_and(|(left, right)| {
                    right.starts_with("cgroup2 ")
                        && left
                            .split(' ')
                            .nth(5)
                            .is_some_and(|o| o.split(',').any(|o| o == "rw"))
                })
            })
        })
}

/// A copy of `sleep` under a name no other process has: its path is the marker.
fn marker(env: &TestEnv) -> String {
    let sleep = std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join("sleep"))
                .find(|p| p.is_file())
        })
        .unwrap_or_else(|| PathBuf::from("/bin/sleep"));
    let n = MARKERS.fetch_add(1, Ordering::Relaxed);
    let path = env
        .home()
        .join(format!("imx-leak-{}-{n}", std::process::id()));
    std::fs::copy(&sleep, &path).unwrap();
    path.to_str().unwrap().to_string()
}

/// Live processes whose command line holds `marker`.
fn with_marker(marker: &str) -> Vec<i32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        if String::from_utf8_lossy(&cmdline).contains(marker) && !process_gone(pid) {
            found.push(pid);
        }
    }
    found
}

/// Wait until no process with `marker` is left; kills them (so nothing outlives the test) and
/// fails if some stay past the deadline.
#[track_caller]
fn assert_none_left(marker: &str, after: &str) {
    let deadline = std::time::Instant::now() + SLOW;
    loop {
        let left = with_marker(marker);
        if left.is_empty() {
            return;
        }
        if std::time::Instant::now() >= deadline {
            for pid in &left {
                let _ = kill(Pid::from_raw(*pid), Signal::SIGKILL);
            }
            let info: Vec<String> = left
                .iter()
                .map(|p| {
                    format!(
                        "{p}: {} {:?} ppid/state {:?}",
                        std::fs::read_to_string(format!("/proc/{p}/cgroup"))
                            .unwrap_or_default()
                            .lines()
                            .last()
                            .unwrap_or_default(),
                        String::from_utf8_lossy(
                            &std::fs::read(format!("/proc/{p}/cmdline")).unwrap_or_default()
                        ),
                        std::fs::read_to_string(format!("/proc/{p}/stat")).unwrap_or_default()
                    )
                })
                .collect();
            panic!("processes {left:?} of the step survived {after}: {info:#?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// A workflow whose step starts a `setsid` sleeper, says so once it runs (the line the tests
/// wait for), then runs `tail`.
fn leaky(marker: &str, timeout: Option<&str>, tail: &str) -> String {
    let timeout = timeout.map_or(String::new(), |t| format!("    timeout: {t}\n"));
    format!(
        r#"name: leaky
steps:
  - id: leak
{timeout}    run: |
      setsid {marker} 1000 &
      p=$!
      while ! grep -q imx-leak /proc/$p/cmdline 2>/dev/null; do sleep 0.02; done
      echo "output file $IMX_OUTPUT"
      echo "sleeper $p started"
      {tail}
"#
    )
}

/// Start the leaky workflow on a fresh agent; returns the agent and the run id.
fn start_leaky(env: &TestEnv, yaml: &str) -> (Background, String) {
    env.apply("leaky.yaml", yaml);
    let agent = env.agent("container", 1);
    let id = env.start("leaky", &[]);
    (agent, id)
}

/// Wait until the step's sleeper runs (its own log line says so).
fn wait_for_sleeper(env: &TestEnv, id: &str) {
    wait_until("the step to start its sleeper", SLOW, || {
        env.run(["run", "logs", id]).stdout.contains("started")
    });
}

fn status(env: &TestEnv, id: &str) -> String {
    env.show_run(id)["status"].as_str().unwrap().to_string()
}

fn after_a_timeout(mode: Mode) {
    let Some(env) = env_for(mode) else { return };
    let marker = marker(&env);
    let (_agent, id) = start_leaky(&env, &leaky(&marker, Some("6s"), &format!("{marker} 60")));
    let run = env.finish(&id);
    assert_eq!(run["status"], "failed", "{run:#}");
    let step = TestEnv::step(&run, "leak");
    assert!(
        step["error"].as_str().unwrap().contains("timed out"),
        "{run:#}"
    );
    assert!(
        env.run(["run", "logs", &id]).stdout.contains("started"),
        "the sleeper never started"
    );
    assert_none_left(&marker, "the step's timeout");
}

fn after_a_cancel(mode: Mode) {
    let Some(env) = env_for(mode) else { return };
    let marker = marker(&env);
    let (_agent, id) = start_leaky(&env, &leaky(&marker, None, &format!("{marker} 60")));
    wait_for_sleeper(&env, &id);
    env.run(["run", "cancel", &id]).expect_code(0);
    wait_until("the run to be cancelled", SLOW, || {
        status(&env, &id) == "cancelled"
    });
    assert_none_left(&marker, "the run's cancel");
}

fn after_a_success(mode: Mode) {
    let Some(env) = env_for(mode) else { return };
    let marker = marker(&env);
    let (_agent, id) = start_leaky(&env, &leaky(&marker, None, "echo done"));
    let run = env.finish(&id);
    assert_eq!(run["status"], "succeeded", "{run:#}");
    assert!(env.run(["run", "logs", &id]).stdout.contains("started"));
    assert_none_left(&marker, "the step's success");
}

fn after_kill_9_of_the_agent(mode: Mode) {
    let Some(env) = env_for(mode) else { return };
    let marker = marker(&env);
    let (agent, id) = start_leaky(&env, &leaky(&marker, None, &format!("{marker} 60")));
    wait_for_sleeper(&env, &id);
    agent.signal(Signal::SIGKILL);
    assert_none_left(&marker, "kill -9 of the agent");
}

#[test]
fn cgroup_nothing_survives_a_timeout() {
    after_a_timeout(Mode::Cgroup);
}

#[test]
fn cgroup_nothing_survives_a_cancel() {
    after_a_cancel(Mode::Cgroup);
}

#[test]
fn cgroup_nothing_survives_a_success() {
    after_a_success(Mode::Cgroup);
}

#[test]
fn cgroup_nothing_survives_kill_9_of_the_agent() {
    after_kill_9_of_the_agent(Mode::Cgroup);
}

#[test]
fn subreaper_nothing_survives_a_timeout() {
    after_a_timeout(Mode::Subreaper);
}

#[test]
fn subreaper_nothing_survives_a_cancel() {
    after_a_cancel(Mode::Subreaper);
}

#[test]
fn subreaper_nothing_survives_a_success() {
    after_a_success(Mode::Subreaper);
}

#[test]
fn subreaper_nothing_survives_kill_9_of_the_agent() {
    after_kill_9_of_the_agent(Mode::Subreaper);
}

/// The agent's guard is killed first (so nothing dies with the agent): the next agent of the
/// same name kills what is left in the step's cgroup when it starts.
#[test]
fn cgroup_a_restarted_agent_kills_what_its_predecessor_left() {
    let Some(env) = env_for(Mode::Cgroup) else {
        return;
    };
    let marker = marker(&env);
    let (agent, id) = start_leaky(&env, &leaky(&marker, None, &format!("{marker} 60")));
    wait_for_sleeper(&env, &id);
    let sleeper = with_marker(&marker)[0];
    let cgroup = std::fs::read_to_string(format!("/proc/{sleeper}/cgroup")).unwrap();
    let cgroup = cgroup
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .unwrap()
        .to_string();
    assert!(cgroup.contains("/imx-container-"), "{cgroup}");
    // Freeze the agent (so it cannot clean up), kill its guard, then the agent.
    agent.signal(Signal::SIGSTOP);
    wait_until("the agent to stop", SLOW, || stopped(agent.pid()));
    let guard = guard_of(&cgroup);
    kill(Pid::from_raw(guard), Signal::SIGKILL).unwrap();
    agent.signal(Signal::SIGKILL);
    drop(agent);
    wait_until("the guard to be gone", SLOW, || process_gone(guard));
    assert!(
        !with_marker(&marker).is_empty(),
        "the step's processes should outlive a killed guard and agent"
    );
    // Cancelled, so that the new agent does not run the step again.
    env.run(["run", "cancel", &id]).expect_code(0);
    wait_until("the dead agent to be offline", SLOW, || {
        env.json(["agent", "show", "container"])["state"] == "offline"
    });
    let logs = env.run(["run", "logs", &id]).stdout;
    let output = logs
        .lines()
        .find_map(|l| l.strip_prefix("output file "))
        .unwrap()
        .to_string();
    assert!(std::path::Path::new(&output).exists(), "{output}");
    let _again = env.agent("container", 1);
    assert_none_left(&marker, "the start of a new agent of the same name");
    wait_until("the old $IMX_OUTPUT file to be removed", SLOW, || {
        !std::path::Path::new(&output).exists()
    });
}

/// Whether process `pid` is stopped (SIGSTOP took effect on all its threads).
fn stopped(pid: i32) -> bool {
    std::fs::read_dir(format!("/proc/{pid}/task")).is_ok_and(|tasks| {
        tasks.flatten().all(|t| {
            std::fs::read_to_string(t.path().join("stat")).is_ok_and(|stat| {
                stat.rsplit_once(") ")
                    .is_some_and(|(_, rest)| rest.starts_with('T'))
            })
        })
    })
}

/// The guard of the agent whose step cgroup is `path` (as /proc/PID/cgroup names it): the
/// `__step-shim --guard-...` process watching the cgroups of that name prefix.
fn guard_of(path: &str) -> i32 {
    let name = path.rsplit('/').next().unwrap();
    let prefix = &name[..=name.find('.').unwrap()];
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .find(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| {
                let c = String::from_utf8_lossy(&c);
                c.contains("__step-shim") && c.contains("--guard-prefix") && c.contains(prefix)
            })
        })
        .unwrap_or_else(|| panic!("no guard for {prefix}"))
}

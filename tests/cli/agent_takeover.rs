//! Agents that crash and come back under the same name, with real processes (issue 10): a
//! `kill -9`'d agent's replacement registers at once (a systemd unit must not hit its restart
//! limit), takes the name over and gives the old attempt up through the lease-lost transition
//! (logged, counted against the step's lost-agent budget); a crash loop fails the step once the
//! budget is spent; a second live agent under the same name is still refused. The lease is
//! long (60 s), so nothing here can pass by waiting for the old agent to go offline.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use crate::both_modes;
use crate::env::{Background, SLOW, TestEnv, wait_until};

/// Longer than any wait below: an agent that registers took the name over, it did not wait for
/// the old one to go offline.
const LEASE: &str = "60s";

/// A step's files: `marks` gets a line per attempt that starts; attempts up to `block` wait for
/// `release` to exist (at most a minute) before they finish.
pub struct Files {
    pub marks: PathBuf,
    pub release: PathBuf,
}

impl Files {
    pub fn new(env: &TestEnv) -> Self {
        Files {
            marks: env.home().join("marks"),
            release: env.home().join("release"),
        }
    }

    /// A workflow `blocking` with one step `work`, whose attempts up to `block` wait for the
    /// release file. Every attempt writes the output `who=attempt-N`.
    pub fn workflow(&self, block: u32) -> String {
        format!(
            r#"name: blocking
steps:
  - id: work
    run: |
      echo "started $IMX_ATTEMPT" >> "$MARKS"
      if [ "$IMX_ATTEMPT" -le {block} ]; then
        i=0
        while [ ! -e "$RELEASE" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done
      fi
      echo "who=attempt-$IMX_ATTEMPT" >> "$IMX_OUTPUT"
    env:
      MARKS: {}
      RELEASE: {}
"#,
            self.marks.display(),
            self.release.display()
        )
    }

    /// Wait until attempt `n`'s shell has started.
    #[track_caller]
    pub fn wait_started(&self, n: u32) {
        let line = format!("started {n}");
        wait_until(&format!("attempt {n} to start"), SLOW, || {
            std::fs::read_to_string(&self.marks).is_ok_and(|m| m.lines().any(|l| l == line))
        });
    }

    /// How many attempts started.
    pub fn started(&self) -> usize {
        std::fs::read_to_string(&self.marks)
            .map(|m| m.lines().count())
            .unwrap_or(0)
    }
}

impl Drop for Files {
    /// Let any shell still waiting (e.g. the step of a `kill -9`'d agent) finish.
    fn drop(&mut self) {
        let _ = std::fs::write(&self.release, "");
    }
}

/// Start `imx agent run --name NAME --slots 1` (with the agent token in remote mode) and wait
/// until this very process holds the name; panics if it exits first.
#[track_caller]
pub fn start_agent(env: &TestEnv, name: &str) -> Background {
    let mut agent = env.spawn_with(
        env.agent_cmd(),
        ["agent", "run", "--name", name, "--slots", "1"],
    );
    let pid = i64::from(agent.pid());
    wait_until(
        &format!("agent {name} (pid {pid}) to register"),
        SLOW,
        || {
            if let Some(status) = agent.try_exit() {
                panic!("agent {name} exited ({status}):\n{}", agent.stderr());
            }
            let out = env.run(["agent", "show", name, "-o", "json"]);
            out.code == 0
                && serde_json::from_str::<serde_json::Value>(&out.stdout)
                    .is_ok_and(|a| a["pid"].as_i64() == Some(pid))
        },
    );
    agent
}

fn kill9(agent: &mut Background) {
    agent.signal(Signal::SIGKILL);
    agent.wait_exit(SLOW);
}

fn a_killed_agent_restarts_under_its_name_at_once(env: TestEnv) {
    let env = env.with_var("IMX_LEASE", LEASE);
    let files = Files::new(&env);
    env.apply("blocking.yaml", &files.workflow(1));
    let mut first = start_agent(&env, "w");
    let run = env.start("blocking", &[]);
    files.wait_started(1);

    kill9(&mut first);
    let restarted = Instant::now();
    let _second = start_agent(&env, "w");
    assert!(
        restarted.elapsed() < Duration::from_secs(60),
        "the replacement waited for the old agent's lease"
    );

    let done = env.finish(&run);
    assert_eq!(done["status"], "succeeded", "{done:#}");
    let step = TestEnv::step(&done, "work");
    assert_eq!(step["attempt"], 2, "{step:#}");
    assert_eq!(step["outputs"]["who"], "attempt-2", "{step:#}");
    assert_eq!(files.started(), 2);
    let logs = env.run(["run", "logs", &run]);
    logs.expect_code(0);
    assert!(
        logs.stdout
            .lines()
            .any(|l| l.starts_with("attempt 1 lost: agent w")),
        "{}",
        logs.stdout
    );

    // A second live agent under the same name is still refused.
    let out = assert_cmd::Command::from_std(env.agent_cmd())
        .args(["agent", "run", "--name", "w", "--slots", "1"])
        .timeout(SLOW)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{stderr}");
    assert!(stderr.contains("already online"), "{stderr}");
}

fn a_crash_looping_agent_fails_its_step_after_the_lost_agent_budget(env: TestEnv) {
    let env = env.with_var("IMX_LEASE", LEASE);
    let files = Files::new(&env);
    env.apply("blocking.yaml", &files.workflow(u32::MAX));
    let run = env.start("blocking", &[]);
    // The default budget is 3: three lost attempts go back to the queue, the fourth fails.
    for n in 1..=4 {
        let mut agent = start_agent(&env, "w");
        files.wait_started(n);
        kill9(&mut agent);
    }
    // The next start takes the name over, which gives the fourth attempt up: over budget.
    let _last = start_agent(&env, "w");
    let done = env.finish(&run);
    assert_eq!(done["status"], "failed", "{done:#}");
    let step = TestEnv::step(&done, "work");
    assert_eq!(step["status"], "failed", "{step:#}");
    assert_eq!(step["attempt"], 4, "{step:#}");
    let error = step["error"].as_str().unwrap_or_default();
    assert!(error.contains("lost its agent 4 times"), "{error}");
    assert_eq!(files.started(), 4, "no attempt beyond the budget");
}

both_modes!(
    a_killed_agent_restarts_under_its_name_at_once,
    a_crash_looping_agent_fails_its_step_after_the_lost_agent_budget,
);

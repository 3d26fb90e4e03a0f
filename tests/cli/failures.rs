//! Failure tests with real processes and signals: agents killed or paused mid-step, agents racing
//! for the same steps, and `imx` itself killed in the middle of writes. Each waits for conditions
//! with a deadline and checks the store directly afterwards.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use rusqlite::Connection;

const BIN: &str = env!("CARGO_BIN_EXE_imx");

/// A temp store plus the processes started against it (killed on drop).
struct Cluster {
    dir: tempfile::TempDir,
    children: Vec<Child>,
}

impl Cluster {
    /// A cluster around a new store (`imx init`).
    fn new() -> Self {
        let cluster = Cluster {
            dir: tempfile::tempdir().unwrap(),
            children: Vec::new(),
        };
        cluster.imx(&["init", "-q"]);
        cluster
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join("imx.db")
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new(BIN);
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("IMX_STORE", self.db())
            .env("IMX_LEASE", "1s")
            .env("NO_COLOR", "1")
            .env("COLUMNS", "120");
        c
    }

    fn imx(&self, args: &[&str]) -> String {
        let out = self.cmd().args(args).output().unwrap();
        assert!(
            out.status.success(),
            "imx {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn write(&self, name: &str, body: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, body).unwrap();
        p
    }

    fn apply(&self, name: &str, body: &str) {
        let p = self.write(name, body);
        self.imx(&["workflow", "apply", "-f", p.to_str().unwrap()]);
    }

    /// Start a run and return its id.
    fn start(&self, workflow: &str) -> String {
        self.imx(&["workflow", "run", workflow, "-o", "name"])
            .trim()
            .to_string()
    }

    fn agent(&mut self, name: &str, slots: u32) -> u32 {
        let child = self
            .cmd()
            .args([
                "agent",
                "run",
                "--name",
                name,
                "--slots",
                &slots.to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let pid = child.id();
        self.children.push(child);
        pid
    }

    /// Wait until the process `pid` started by [`Cluster::agent`] has exited.
    fn wait_exit(&mut self, pid: u32, timeout: Duration) {
        let child = self
            .children
            .iter_mut()
            .find(|c| c.id() == pid)
            .expect("a process of this cluster");
        wait_until("the agent to exit", timeout, || {
            child.try_wait().ok().flatten().is_some()
        });
    }

    fn conn(&self) -> Connection {
        let c = Connection::open(self.db()).unwrap();
        c.busy_timeout(Duration::from_secs(10)).unwrap();
        c
    }

    fn query_i64(&self, sql: &str, arg: &str) -> i64 {
        self.conn().query_row(sql, [arg], |r| r.get(0)).unwrap()
    }

    fn run_status(&self, run: &str) -> String {
        self.conn()
            .query_row("SELECT status FROM runs WHERE id = ?1", [run], |r| r.get(0))
            .unwrap()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = kill(Pid::from_raw(c.id() as i32), Signal::SIGCONT);
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn wait_until(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Invariants that hold after any crash: counters match the steps, no half-applied transition.
fn assert_consistent(db: &Path) {
    let c = Connection::open(db).unwrap();
    let ok: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    let bad: i64 = c
        .query_row(
            "SELECT count(*) FROM runs r WHERE
               r.steps_total != (SELECT count(*) FROM steps s WHERE s.run_id = r.id)
            OR r.steps_done != (SELECT count(*) FROM steps s WHERE s.run_id = r.id
                                AND s.status IN ('succeeded', 'failed', 'skipped', 'cancelled'))
            OR r.steps_succeeded != (SELECT count(*) FROM steps s WHERE s.run_id = r.id AND s.status = 'succeeded')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(bad, 0, "a run's counters disagree with its steps");
    let held_without_lease: i64 = c
        .query_row(
            "SELECT count(*) FROM steps WHERE status IN ('leased', 'running')
             AND (agent_id IS NULL OR lease_until IS NULL OR attempt = 0)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(held_without_lease, 0);
    let ended_runs_with_open_steps: i64 = c
        .query_row(
            "SELECT count(*) FROM runs r WHERE r.status IN ('succeeded', 'failed', 'cancelled', 'timed_out')
             AND EXISTS (SELECT 1 FROM steps s WHERE s.run_id = r.id AND s.status IN ('pending', 'ready', 'leased', 'running'))",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(ended_runs_with_open_steps, 0);
}

/// Each attempt of `work` appends "KEY ATTEMPT" to MARKS when its shell starts; attempt 1 then
/// sleeps 4 s and appends "ATTEMPT done" to MARKS.done when it has finished sleeping.
const SLOW_STEP: &str = r#"
name: slow
steps:
  - id: work
    run: |
      echo "$IMX_IDEMPOTENCY_KEY $IMX_ATTEMPT" >> "$MARKS"
      if [ "$IMX_ATTEMPT" = 1 ]; then sleep 4; echo "$IMX_ATTEMPT done" >> "$MARKS.done"; fi
      echo "who=attempt-$IMX_ATTEMPT" >> "$IMX_OUTPUT"
    env:
      MARKS: MARKS_PATH
  - id: after
    needs: [work]
    noop: true
"#;

/// The lines of a marks file (none while it does not exist).
fn marks_of(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .map(|m| m.lines().map(str::to_string).collect())
        .unwrap_or_default()
}

/// Whether the shell of `attempt` has started (it wrote its mark).
fn shell_started(marks: &Path, attempt: i64) -> bool {
    marks_of(marks)
        .iter()
        .any(|l| l.ends_with(&format!(" {attempt}")))
}

/// Apply the slow workflow, start one agent and a run, and wait until attempt 1's shell runs
/// on it (its mark line, not the step's `running` state: the agent reports that before it
/// starts the shell). Returns (agent pid, run id, marks file).
fn slow_run_on(c: &mut Cluster, agent: &str) -> (u32, String, PathBuf) {
    let marks = c.dir.path().join("marks");
    c.apply(
        "slow.yaml",
        &SLOW_STEP.replace("MARKS_PATH", marks.to_str().unwrap()),
    );
    let pid = c.agent(agent, 1);
    let run = c.start("slow");
    wait_until(
        "attempt 1's shell to start",
        Duration::from_secs(30),
        || shell_started(&marks, 1),
    );
    (pid, run, marks)
}

/// The `work` step's attempt, agent and outputs.
fn work_step(c: &Cluster, run: &str) -> (i64, String, String) {
    c.conn()
        .query_row(
            "SELECT attempt, agent_name, outputs FROM steps WHERE run_id = ?1 AND step_id = 'work'",
            [run],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap()
}

#[test]
fn agent_killed_mid_step_is_replaced_and_the_step_succeeds_once() {
    let mut c = Cluster::new();
    let (a, run, marks) = slow_run_on(&mut c, "doomed");
    kill(Pid::from_raw(a as i32), Signal::SIGKILL).unwrap();
    c.agent("rescuer", 1);
    wait_until("the run to succeed", Duration::from_secs(30), || {
        c.run_status(&run) == "succeeded"
    });

    let (attempt, agent, outputs): (i64, String, String) = work_step(&c, &run);
    assert_eq!(attempt, 2);
    assert_eq!(agent, "rescuer");
    assert!(outputs.contains("attempt-2"), "{outputs}");
    let succeeded = c.query_i64(
        "SELECT count(*) FROM events WHERE run_id = ?1 AND step_id = 'work' AND kind = 'step.succeeded'",
        &run,
    );
    assert_eq!(
        succeeded, 1,
        "the step is recorded as succeeded exactly once"
    );
    // At-least-once: both attempts ran, with the same idempotency key.
    let marks = std::fs::read_to_string(&marks).unwrap();
    let lines: Vec<&str> = marks.lines().collect();
    assert_eq!(lines.len(), 2, "{marks}");
    let key = |l: &str| l.split(' ').next().unwrap().to_string();
    assert_eq!(key(lines[0]), key(lines[1]));
    assert_consistent(&c.db());
}

#[test]
fn paused_agent_cannot_overwrite_the_newer_attempt() {
    let mut c = Cluster::new();
    let (a, run, marks) = slow_run_on(&mut c, "sleepy");
    kill(Pid::from_raw(a as i32), Signal::SIGSTOP).unwrap();
    c.agent("rescuer", 1);
    wait_until("the run to succeed", Duration::from_secs(30), || {
        c.run_status(&run) == "succeeded"
    });
    // Let the paused agent's step finish its `sleep 4` while the agent is stopped, then wake it:
    // its late heartbeat and completion must be rejected.
    assert!(shell_started(&marks, 2), "{:?}", marks_of(&marks));
    let done = PathBuf::from(format!("{}.done", marks.display()));
    wait_until(
        "attempt 1's shell to finish",
        Duration::from_secs(30),
        || !marks_of(&done).is_empty(),
    );
    // Wake it and let it drain: it exits only after it has tried to report attempt 1.
    kill(Pid::from_raw(a as i32), Signal::SIGCONT).unwrap();
    kill(Pid::from_raw(a as i32), Signal::SIGTERM).unwrap();
    c.wait_exit(a, Duration::from_secs(60));
    let (attempt, agent, outputs): (i64, String, String) = work_step(&c, &run);
    assert_eq!((attempt, agent.as_str()), (2, "rescuer"));
    assert!(
        outputs.contains("attempt-2"),
        "late completion overwrote outputs: {outputs}"
    );
    let succeeded = c.query_i64(
        "SELECT count(*) FROM events WHERE run_id = ?1 AND step_id = 'work' AND kind = 'step.succeeded'",
        &run,
    );
    assert_eq!(succeeded, 1);
    assert_eq!(c.run_status(&run), "succeeded");
    assert_consistent(&c.db());
}

fn fan_out(n: usize) -> String {
    let mut s = String::from("name: fan\nsteps:\n");
    for i in 0..n {
        s.push_str(&format!("  - id: s{i}\n    noop: true\n"));
    }
    s
}

#[test]
fn racing_agents_grant_each_of_1000_steps_exactly_once() {
    let mut c = Cluster::new();
    c.apply("fan.yaml", &fan_out(1_000));
    for i in 0..4 {
        c.agent(&format!("racer-{i}"), 8);
    }
    let run = c.start("fan");
    wait_until("the run to succeed", Duration::from_secs(60), || {
        c.run_status(&run) == "succeeded"
    });
    // Each attempt of a step is granted once. With a 1 s lease on a loaded machine an agent
    // may miss its heartbeats and a step be granted again (a new attempt, after its lease
    // expired): that is at-least-once working, not a double grant.
    let twice = c.query_i64(
        "SELECT count(*) FROM (SELECT step_id, json_extract(data, '$.attempt') AS a FROM events
          WHERE run_id = ?1 AND kind = 'step.leased' GROUP BY step_id, a HAVING count(*) > 1)",
        &run,
    );
    assert_eq!(twice, 0, "an attempt of a step was granted twice");
    let leased = c.query_i64(
        "SELECT count(*) FROM events WHERE run_id = ?1 AND kind = 'step.leased'",
        &run,
    );
    let expired = c.query_i64(
        "SELECT count(*) FROM events WHERE run_id = ?1 AND kind = 'step.lease_expired'",
        &run,
    );
    assert_eq!(
        leased,
        1_000 + expired,
        "each step granted once, plus once more per expired lease"
    );
    let succeeded = c.query_i64(
        "SELECT count(*) FROM events WHERE run_id = ?1 AND kind = 'step.succeeded'",
        &run,
    );
    assert_eq!(succeeded, 1_000, "no step succeeded twice");
    let distinct = c.query_i64(
        "SELECT count(DISTINCT step_id) FROM events WHERE run_id = ?1 AND kind = 'step.succeeded'",
        &run,
    );
    assert_eq!(distinct, 1_000);
    let retried = c.query_i64(
        "SELECT count(*) FROM steps WHERE run_id = ?1 AND attempt != 1",
        &run,
    );
    let lost = c.query_i64(
        "SELECT count(DISTINCT step_id) FROM events WHERE run_id = ?1 AND kind = 'step.lease_expired'",
        &run,
    );
    assert_eq!(retried, lost, "only steps whose lease expired ran again");
    let agents_used = c.query_i64(
        "SELECT count(DISTINCT agent_name) FROM steps WHERE run_id = ?1",
        &run,
    );
    assert!(
        agents_used >= 2,
        "work was spread over the agents ({agents_used})"
    );
    assert_consistent(&c.db());
}

#[test]
fn killing_imx_mid_write_never_leaves_a_half_applied_transition() {
    let mut c = Cluster::new();
    c.apply("fan.yaml", &fan_out(300));
    c.agent("worker", 8);
    let mut rng_state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        rng_state ^= rng_state << 13;
        rng_state ^= rng_state >> 7;
        rng_state ^= rng_state << 17;
        rng_state
    };
    for i in 0..15 {
        // Writers: a run start (hundreds of inserts in one transaction) and an agent completing.
        let mut starter = c
            .cmd()
            .args(["workflow", "run", "fan"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut agent = c
            .cmd()
            .args([
                "agent",
                "run",
                "--name",
                &format!("victim-{i}"),
                "--slots",
                "8",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(5 + next() % 60));
        let _ = starter.kill();
        std::thread::sleep(Duration::from_millis(next() % 40));
        let _ = agent.kill();
        let _ = starter.wait();
        let _ = agent.wait();
        assert_consistent(&c.db());
    }
    // The store still works: the surviving agent finishes whatever the victims left behind
    // (their leases expire and are reclaimed).
    wait_until("every run to end", Duration::from_secs(60), || {
        c.conn()
            .query_row(
                "SELECT count(*) FROM runs WHERE status IN ('queued', 'running')",
                [],
                |r| r.get::<_, i64>(0),
            )
            .unwrap()
            == 0
    });
    assert_consistent(&c.db());
    let failed: i64 = c
        .conn()
        .query_row(
            "SELECT count(*) FROM runs WHERE status != 'succeeded'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(failed, 0, "killed agents cost retries, not runs");
}

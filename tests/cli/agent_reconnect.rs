//! A remote agent across a server crash, with real processes: `imx agent run --server URL`
//! runs a step; the server is killed (SIGKILL) mid-step; while it is down something on its port
//! accepts and drops every connection (counting them), so the agent's retry rate is measured;
//! the step finishes meanwhile; the server is restarted on the same port and store. The agent
//! must keep the step running, back off (no tight loop, one clear warning per kind of failure),
//! then deliver the step's last log lines (kept, not dropped) and its result for the same
//! attempt (the lease's fencing token) and claim new work.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use crate::env::{Background, SLOW, TestEnv, process_gone, wait_until};

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// `imx server --listen 127.0.0.1:PORT` on the env's store, once it prints its URL.
pub fn start_server(env: &TestEnv, port: u16) -> Background {
    let server = env.spawn(["server", "--listen", &format!("127.0.0.1:{port}")]);
    wait_until("the server to print its URL", SLOW, || {
        server.stdout().trim().starts_with("http://")
    });
    server
}

/// Stands in for a crashed server on its port: accepts every connection and drops it at once,
/// counting them, until dropped.
struct Blackhole {
    connections: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Blackhole {
    fn bind(port: u16) -> Blackhole {
        // The killed server's socket is gone at once, but allow the kernel a moment.
        let mut listener = None;
        wait_until("the port to be free", SLOW, || {
            listener = TcpListener::bind(("127.0.0.1", port)).ok();
            listener.is_some()
        });
        let listener = listener.unwrap();
        listener.set_nonblocking(true).unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (n, halt) = (connections.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !halt.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((conn, _)) => {
                        n.fetch_add(1, Ordering::Relaxed);
                        drop(conn);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
        });
        Blackhole {
            connections,
            stop,
            thread: Some(thread),
        }
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::Relaxed)
    }
}

impl Drop for Blackhole {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A child process killed (and reaped) on drop, so a failing test leaves nothing running.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// How long the server stays down (the agent's behaviour is measured over it).
const DOWN: Duration = Duration::from_secs(4);

#[test]
fn a_remote_agent_rides_out_a_server_restart_and_reports_the_same_attempt() {
    let env = TestEnv::new().with_var("IMX_KEYRING", "off");
    env.run(["init", "--admin", "root"]).expect_code(0);
    let out = env.run([
        "token", "create", "--role", "agent", "--name", "agents", "-q",
    ]);
    out.expect_code(0);
    let agent_token = out.stdout.trim().to_string();
    let pid_file = env.home().join("step.pid");
    let release = env.home().join("release");
    env.apply(
        "slow.yaml",
        &format!(
            "name: slow\nsteps:\n  - id: work\n    run: echo $$ > {pid}; echo started; \
             while [ ! -f {release} ]; do sleep 0.05; done; echo finished while the server was down\n",
            pid = pid_file.display(),
            release = release.display(),
        ),
    );
    env.apply(
        "quick.yaml",
        "name: quick\nsteps:\n  - id: hi\n    run: echo hi\n",
    );

    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let mut server = start_server(&env, port);
    let mut agent_cmd = env.std_cmd();
    agent_cmd
        .env_remove("IMX_STORE")
        .env("IMX_TOKEN", &agent_token)
        .args(["--server", &url]);
    let mut agent = {
        let n = env.home().join("agent");
        let out = std::fs::File::create(n.with_extension("out")).unwrap();
        let err = std::fs::File::create(n.with_extension("err")).unwrap();
        Killed(
            agent_cmd
                .args(["agent", "run", "--name", "roamer", "--slots", "2"])
                .stdin(std::process::Stdio::null())
                .stdout(out)
                .stderr(err)
                .spawn()
                .unwrap(),
        )
    };
    let agent_log = || std::fs::read_to_string(env.home().join("agent.err")).unwrap_or_default();
    let agent_pid = i32::try_from(agent.0.id()).unwrap();

    let run = env.start("slow", &[]);
    let mut step_pid = 0;
    wait_until("the step to start", SLOW, || {
        step_pid = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0);
        step_pid > 0
    });
    wait_until("the step to be running", SLOW, || {
        TestEnv::step(&env.show_run(&run), "work")["status"] == "running"
    });

    // The server dies; something else answers on its port by hanging up.
    server.signal(Signal::SIGKILL);
    server.wait_exit(SLOW);
    let hole = Blackhole::bind(port);
    let down_since = Instant::now();
    assert!(!process_gone(step_pid), "the step stopped with the server");
    // The step finishes while the server is away: its last lines and result must wait.
    std::fs::write(&release, "").unwrap();
    wait_until("the step to finish", SLOW, || process_gone(step_pid));
    while down_since.elapsed() < DOWN {
        assert!(
            !process_gone(agent_pid),
            "the agent exited:\n{}",
            agent_log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let tries = hole.connections();
    let per_second = tries as f64 / down_since.elapsed().as_secs_f64();
    eprintln!("while the server was down: {tries} connections ({per_second:.1}/s)");
    drop(hole);
    // Claims, heartbeats, lease checks, log lines and the result all retry, each with backoff:
    // a handful of tries a second, never a tight loop.
    assert!(tries > 0, "the agent did not try to reach the server");
    assert!(
        per_second < 15.0,
        "{tries} connections in {:?}: the agent is not backing off\n{}",
        down_since.elapsed(),
        agent_log()
    );

    // The server comes back on the same port and store.
    let _server = start_server(&env, port);
    let shown = env.finish(&run);
    assert_eq!(shown["status"], "succeeded", "{shown:#}\n{}", agent_log());
    let step = TestEnv::step(&shown, "work");
    assert_eq!(
        step["attempt"], 1,
        "the same attempt was reported: {shown:#}"
    );
    assert_eq!(step["agent"], "roamer");
    let logs = env.run(["run", "logs", &run]);
    logs.expect_code(0);
    assert!(logs.stdout.contains("started"), "{}", logs.stdout);
    assert!(
        logs.stdout.contains("finished while the server was down"),
        "the step's last lines were lost:\n{}",
        logs.stdout
    );

    // And it takes new work.
    let next = env.start("quick", &[]);
    let shown = env.finish(&next);
    assert_eq!(shown["status"], "succeeded", "{shown:#}\n{}", agent_log());
    assert_eq!(TestEnv::step(&shown, "hi")["agent"], "roamer");

    // What it said: each kind of failure once, naming the server, and each recovery.
    let log = agent_log();
    for line in [
        "cannot claim, will retry",
        "work#1: cannot send its last log lines, will retry",
        "claiming work again",
    ] {
        assert!(
            log.contains(line),
            "{line:?} not in the agent's log:\n{log}"
        );
    }
    assert!(log.contains(&format!("127.0.0.1:{port}")), "{log}");
    let warnings = log.lines().filter(|l| l.starts_with("warning:")).count();
    assert!(
        warnings <= 12,
        "{warnings} warnings: one per failure, not per retry\n{log}"
    );

    // It still drains and stops cleanly.
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(agent_pid), Signal::SIGTERM).unwrap();
    let deadline = Instant::now() + SLOW;
    let status = loop {
        if let Some(s) = agent.0.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "the agent did not stop");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status}\n{}", agent_log());
}

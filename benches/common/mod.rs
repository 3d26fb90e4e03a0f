//! What the end-to-end benches share (`e2e`, `server`, `cluster`; each bench is a crate of its
//! own and takes this in with `mod common;`): workflows to run, running one to its end, the
//! min/median/max of samples, child processes killed on drop, and the HTTP load generators
//! (`wrk`, else an in-process reqwest loop). Not every bench uses every piece.

#![allow(dead_code)]

use std::io::BufReader;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use imx::auth::Principal;
use imx::control::{ControlPlane, StartRun};
use imx::model::{Run, RunStatus, StepKind, StepSpec, WorkflowSpec};

/// `name` parsed from the environment, else `default`.
pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// `n` steps of `kind`, each needing the one before.
pub fn chain(name: &str, n: usize, kind: StepKind) -> WorkflowSpec {
    let steps = (0..n)
        .map(|i| {
            let mut s = StepSpec::new(format!("s{i}"), kind.clone());
            if i > 0 {
                s.needs = vec![format!("s{}", i - 1)];
            }
            s
        })
        .collect();
    WorkflowSpec::new(name, steps)
}

/// `n` independent noop steps.
pub fn fan(name: &str, n: usize) -> WorkflowSpec {
    WorkflowSpec::new(
        name,
        (0..n)
            .map(|i| StepSpec::new(format!("s{i}"), StepKind::Noop))
            .collect(),
    )
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// min/median/max of `samples` (sorted in place).
pub fn spread<T: PartialOrd + Copy>(samples: &mut [T]) -> (T, T, T) {
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    (
        samples[0],
        samples[samples.len() / 2],
        samples[samples.len() - 1],
    )
}

pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

/// Start `workflow` through `plane` and wait, woken by its change feed (at most `poll`
/// apart), until the run ends, which must be in success: the client's wall time and the run.
pub async fn run_to_end(
    plane: &dyn ControlPlane,
    workflow: &str,
    poll: Duration,
) -> (Duration, Run) {
    let who = Principal::local_owner();
    let t0 = Instant::now();
    let run = plane
        .start_run(
            &who,
            StartRun {
                workflow: workflow.into(),
                ..StartRun::default()
            },
        )
        .await
        .unwrap();
    loop {
        let d = plane.get_run(&who, &run.id).await.unwrap();
        if d.run.status.is_terminal() {
            assert_eq!(d.run.status, RunStatus::Succeeded, "{:?}", d.run.error);
            return (t0.elapsed(), d.run);
        }
        assert!(
            t0.elapsed() < Duration::from_secs(600),
            "the run never ended"
        );
        plane.wait_for_change(poll).await;
    }
}

/// A child process killed (and reaped) on drop.
pub struct Proc {
    pub child: Child,
    /// A server's stdout, kept open so it never writes to a closed pipe.
    pub _stdout: Option<BufReader<ChildStdout>>,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What one load run measured.
pub struct Sample {
    pub rps: f64,
    pub p50: f64,
    pub p99: f64,
}

/// The load generator: `wrk` when it is installed (it costs the machine far less CPU than a
/// reqwest client, so more is left for the server), else an in-process tokio + reqwest loop.
/// `IMX_BENCH_LOADGEN=wrk|reqwest` chooses.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum LoadGen {
    Wrk,
    Reqwest,
}

impl LoadGen {
    pub fn pick() -> LoadGen {
        let have_wrk = Command::new("wrk")
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok();
        match std::env::var("IMX_BENCH_LOADGEN").as_deref() {
            Ok("reqwest") => LoadGen::Reqwest,
            Ok("wrk") if !have_wrk => panic!("IMX_BENCH_LOADGEN=wrk, but wrk is not installed"),
            _ if have_wrk => LoadGen::Wrk,
            _ => {
                println!(
                    "note: wrk is not installed (apt-get install wrk); falling back to the \
                     in-process reqwest load generator, which takes much of the CPU itself"
                );
                LoadGen::Reqwest
            }
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            LoadGen::Wrk => "wrk",
            LoadGen::Reqwest => "reqwest",
        }
    }

    /// GET `url` with `token` from `conc` connections for `dur`.
    pub async fn run(self, url: &str, token: &str, conc: usize, dur: Duration) -> Sample {
        match self {
            LoadGen::Wrk => wrk(url, token, conc, dur),
            LoadGen::Reqwest => {
                let client = reqwest::Client::builder()
                    .pool_max_idle_per_host(conc)
                    .build()
                    .unwrap();
                let (n, elapsed, mut lat) = load(&client, url, token, conc, dur).await;
                lat.sort();
                Sample {
                    rps: n as f64 / elapsed.as_secs_f64(),
                    p50: ms(percentile(&lat, 0.50)),
                    p99: ms(percentile(&lat, 0.99)),
                }
            }
        }
    }
}

/// `wrk --latency` with `IMX_BENCH_WRK_THREADS` threads (default 2): requests/s and the p50 and
/// p99 of its latency distribution. Any non-2xx answer or socket error fails the bench.
pub fn wrk(url: &str, token: &str, conc: usize, dur: Duration) -> Sample {
    let threads: usize = env_or("IMX_BENCH_WRK_THREADS", 2usize).clamp(1, conc.max(1));
    let out = Command::new("wrk")
        .arg(format!("-t{threads}"))
        .arg(format!("-c{conc}"))
        // wrk takes whole seconds.
        .arg(format!("-d{}s", dur.as_secs_f64().ceil().max(1.0)))
        .arg("--latency")
        .args(["-H", &format!("Authorization: Bearer {token}")])
        .arg(url)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "wrk failed:\n{text}");
    assert!(
        !text.contains("Non-2xx") && !text.contains("Socket errors"),
        "wrk saw failed requests:\n{text}"
    );
    let field = |prefix: &str| {
        text.lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix(prefix))
            .map(str::trim)
            .unwrap_or_else(|| panic!("no {prefix:?} in wrk's output:\n{text}"))
            .to_string()
    };
    Sample {
        rps: field("Requests/sec:").parse().unwrap(),
        p50: wrk_ms(&field("50%")),
        p99: wrk_ms(&field("99%")),
    }
}

/// A wrk duration (`812.00us`, `1.25ms`, `2.00s`, `1.00m`) in milliseconds.
pub fn wrk_ms(text: &str) -> f64 {
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (n, unit) = text.split_at(split);
    let n: f64 = n.parse().unwrap_or_else(|_| panic!("wrk latency {text:?}"));
    n * match unit {
        "us" => 1e-3,
        "ms" => 1.0,
        "s" => 1e3,
        "m" => 60e3,
        other => panic!("wrk latency unit {other:?} in {text:?}"),
    }
}

/// One in-process load run: `conc` tasks each looping GET `url` until `dur` is over. Returns
/// the number of requests done, the time taken and every latency.
pub async fn load(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    conc: usize,
    dur: Duration,
) -> (usize, Duration, Vec<Duration>) {
    let t0 = Instant::now();
    let deadline = t0 + dur;
    let tasks: Vec<_> = (0..conc)
        .map(|_| {
            let client = client.clone();
            let url = url.to_string();
            let token = token.to_string();
            tokio::spawn(async move {
                let mut lat = Vec::with_capacity(1 << 16);
                while Instant::now() < deadline {
                    let t = Instant::now();
                    let resp = client.get(&url).bearer_auth(&token).send().await.unwrap();
                    assert!(resp.status().is_success(), "{}", resp.status());
                    let body = resp.bytes().await.unwrap();
                    assert!(!body.is_empty());
                    lat.push(t.elapsed());
                }
                lat
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let elapsed = t0.elapsed();
    (all.len(), elapsed, all)
}

//! Benchmark for issue 13: artifact upload and download of a 1 GiB file through the local
//! control plane, as an embedded agent and `imx artifact get` move them — the file read in
//! 1 MiB chunks, streamed into the artifact folder beside the store (SHA-256 on the way) and
//! recorded; then streamed back out into a file (SHA-256 checked). Target: ≥ 200 MB/s each.
//!
//! Run with `cargo bench --bench artifacts`. The 1 GiB of random bytes is made once in
//! `$IMX_BENCH_DIR` (default: the system temp folder) and reused. Reports min/median/max MB/s
//! over 5 runs of each (MB = 10^6 bytes).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use imx::auth::Principal;
use imx::control::{ControlPlane, LocalControlPlane, LocalOptions, StartRun};
use imx::model::{AgentRegistration, StepKind, StepSpec, WorkflowSpec};

const FILE_BYTES: u64 = 1024 * 1024 * 1024;
const RUNS: usize = 5;

fn bench_dir() -> PathBuf {
    std::env::var_os("IMX_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("imx-bench-artifacts"))
}

/// 1 GiB of pseudo-random bytes (xorshift: incompressible, made fast), made once.
fn big_file(dir: &Path) -> PathBuf {
    let path = dir.join("big.bin");
    if std::fs::metadata(&path).is_ok_and(|m| m.len() == FILE_BYTES) {
        return path;
    }
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut buf = vec![0u8; 1 << 20];
    for _ in 0..FILE_BYTES / buf.len() as u64 {
        for chunk in buf.chunks_exact_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            chunk.copy_from_slice(&x.to_le_bytes());
        }
        f.write_all(&buf).unwrap();
    }
    f.flush().unwrap();
    path
}

fn mbps(bytes: u64, d: Duration) -> f64 {
    bytes as f64 / 1e6 / d.as_secs_f64()
}

fn report(what: &str, mut v: Vec<f64>) {
    v.sort_by(f64::total_cmp);
    println!(
        "{what:<9} 1 GiB: min {:>7.1} MB/s  median {:>7.1} MB/s  max {:>7.1} MB/s  ({} runs)",
        v[0],
        v[v.len() / 2],
        v[v.len() - 1],
        v.len()
    );
}

#[tokio::main]
async fn main() {
    let dir = bench_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let big = big_file(&dir);
    let work = tempfile::tempdir_in(&dir).unwrap();
    let plane =
        LocalControlPlane::open(&work.path().join("imx.db"), LocalOptions::default()).unwrap();
    let who = Principal::local_owner();
    let spec = WorkflowSpec::new(
        "bench",
        vec![StepSpec::new(
            "build",
            StepKind::Run {
                command: "true".into(),
            },
        )],
    );
    plane.apply_workflow(&who, spec, false).await.unwrap();
    let agent = plane
        .register_agent(
            &who,
            AgentRegistration {
                name: "bench".into(),
                labels: BTreeMap::new(),
                slots: 1,
                hostname: "bench".into(),
                pid: std::process::id(),
                version: "bench".into(),
                instance: None,
                pid_scope: None,
                replaces_pid: None,
            },
        )
        .await
        .unwrap();

    let (mut up, mut down) = (Vec::new(), Vec::new());
    for i in 0..RUNS {
        let run = plane
            .start_run(
                &who,
                StartRun {
                    workflow: "bench".into(),
                    ..StartRun::default()
                },
            )
            .await
            .unwrap();
        let task = plane
            .claim(&who, &agent.id, 1, Duration::from_secs(5))
            .await
            .unwrap()
            .remove(0);
        plane.start_step(&who, &task.lease).await.unwrap();

        let started = Instant::now();
        let body = imx::artifacts::files::read(&big).await.unwrap();
        let stored = plane
            .upload_artifact(&who, &task.lease, "dist/big.bin", body)
            .await
            .unwrap();
        let took = started.elapsed();
        assert_eq!(stored.size, FILE_BYTES);
        up.push(mbps(FILE_BYTES, took));

        let out = work.path().join(format!("out{i}"));
        std::fs::create_dir_all(&out).unwrap();
        let started = Instant::now();
        let (artifact, bytes) = plane
            .download_artifact(&who, &run.id, "dist/big.bin")
            .await
            .unwrap();
        let (n, sha) = imx::artifacts::files::write(&out, &artifact.path, bytes)
            .await
            .unwrap();
        let took = started.elapsed();
        assert_eq!((n, sha.as_str()), (artifact.size, artifact.sha256.as_str()));
        down.push(mbps(FILE_BYTES, took));
        std::fs::remove_dir_all(&out).unwrap();
        plane
            .complete_steps(
                &who,
                &[(
                    task.lease.clone(),
                    imx::model::StepResult::ok(BTreeMap::new()),
                )],
            )
            .await
            .unwrap();
        eprintln!(
            "run {}: upload {:.1} MB/s, download {:.1} MB/s",
            i + 1,
            up[i],
            down[i]
        );
    }
    report("upload", up);
    report("download", down);
}

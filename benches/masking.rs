//! Benchmark for issue 13: what masking secrets costs the agent's log path. Run with
//! `cargo bench --bench masking`.
//!
//! About 100 MB of realistic step output (log lines with timestamps and fields, JSON lines,
//! base64 blobs, a few long lines, now and then a secret in clear, base64 or URL-encoded) goes
//! through the path every line of a `run` step takes — read from a pipe a block of whole lines
//! at a time ([`imx::agent::executor::pump`]), checked for secrets as a block, into the step's
//! [`LogSink`], which masks the lines the check points at, while a
//! flusher takes batches off as the agent's reporter does. Once with no secrets, once with 100
//! (each masked with its base64 and URL-encoded forms). Reports MB/s min/median/max over 5 runs
//! and the cost of masking (1 − masked median / unmasked median, and the median of that ratio
//! run by run; and in CPU per MB, which other work on the machine moves far less); the aim
//! is under 10%. It also times the masker's check of the blocks the pipe
//! is read in (what masking adds when no line holds a secret) and `Masker::mask` line by line.
//! `IMX_BENCH_MB` changes the size, `IMX_BENCH_RUNS` the number of runs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use imx::agent::LogSink;
use imx::agent::mask::Masker;
use imx::auth::Secret;
use imx::model::LogStream;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// A small deterministic generator (xorshift), so every run sees the same output.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn word(&mut self, len: usize) -> String {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        (0..len)
            .map(|_| ALPHABET[self.below(ALPHABET.len() as u64) as usize] as char)
            .collect()
    }
}

/// 100 secrets as tokens, passwords and keys look.
fn secrets(rng: &mut Rng) -> Vec<String> {
    (0..100)
        .map(|i| match i % 4 {
            0 => format!("sk_live_{}", rng.word(24)),
            1 => format!("ghp_{}", rng.word(36)),
            2 => format!("{}!{}#{}", rng.word(8), rng.word(6), rng.word(4)),
            _ => format!("AKIA{}", rng.word(16)),
        })
        .collect()
}

/// About `bytes` of step output; one line in 5,000 holds a secret in some form.
fn output(bytes: usize, secrets: &[String], rng: &mut Rng) -> Vec<u8> {
    let mut out = String::with_capacity(bytes + 20_000);
    let levels = ["INFO", "DEBUG", "WARN", "INFO", "INFO", "ERROR"];
    let mut n: u64 = 0;
    while out.len() < bytes {
        n += 1;
        let t = format!(
            "2026-11-30T18:{:02}:{:02}.{:03}Z",
            (n / 60_000) % 60,
            (n / 1000) % 60,
            n % 1000
        );
        if n.is_multiple_of(5_000) {
            let s = &secrets[rng.below(secrets.len() as u64) as usize];
            let shown = match n % 3 {
                0 => s.clone(),
                1 => base64::engine::general_purpose::STANDARD.encode(format!("user:{s}")),
                _ => percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC)
                    .to_string(),
            };
            out.push_str(&format!("{t} DEBUG auth header={shown}\n"));
            continue;
        }
        match rng.below(20) {
            0 => {
                let blob: Vec<u8> = (0..rng.below(600) + 60).map(|_| rng.next() as u8).collect();
                out.push_str(&format!(
                    "{t} DEBUG payload {}\n",
                    base64::engine::general_purpose::STANDARD.encode(blob)
                ));
            }
            1..=3 => out.push_str(&format!(
                "{{\"ts\":\"{t}\",\"level\":\"info\",\"msg\":\"request done\",\"path\":\"/api/v1/items/{}\",\"status\":200,\"duration_ms\":{},\"user\":\"{}\"}}\n",
                rng.below(100_000),
                rng.below(900),
                rng.word(8)
            )),
            4 if rng.below(50) == 0 => {
                // A long line (a minified asset, a stack dump), past the agent's 16 KiB cut now
                // and then.
                let len = rng.below(24_000) as usize + 2_000;
                let line_start = out.len();
                out.push_str(&t);
                while out.len() - line_start < len {
                    out.push(' ');
                    out.push_str(&rng.word(63));
                }
                out.push('\n');
            }
            _ => out.push_str(&format!(
                "{t} {} worker[{}] processed batch {} of {} items: id={} status=ok took={}ms\n",
                levels[rng.below(levels.len() as u64) as usize],
                rng.below(16),
                n,
                rng.below(5_000),
                rng.word(12),
                rng.below(2_000)
            )),
        }
    }
    out.into_bytes()
}

/// CPU time (user + system) of this process so far, in seconds.
fn cpu_s() -> f64 {
    let u = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_SELF).unwrap();
    let s = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 + t.tv_usec() as f64 / 1e6;
    s(u.user_time()) + s(u.system_time())
}

/// Push `data` through the log path with `masker`: seconds taken, CPU seconds spent (every
/// thread: the pump's and the flusher's).
fn once(rt: &tokio::runtime::Runtime, data: &[u8], masker: Option<Arc<Masker>>) -> (f64, f64) {
    rt.block_on(async {
        let sink = LogSink::masked(None, masker);
        let done = Arc::new(AtomicBool::new(false));
        let flusher = {
            let sink = sink.clone();
            let done = done.clone();
            tokio::spawn(async move {
                let mut lines = 0;
                loop {
                    let batch = sink.take_batch();
                    if batch.is_empty() {
                        if done.load(Ordering::Acquire) {
                            break;
                        }
                        tokio::select! {
                            () = sink.filled() => {}
                            () = tokio::time::sleep(Duration::from_millis(2)) => {}
                        }
                        continue;
                    }
                    lines += batch.len();
                }
                lines
            })
        };
        let started = Instant::now();
        let cpu = cpu_s();
        imx::agent::executor::pump(data, LogStream::Stdout, sink.clone()).await;
        done.store(true, Ordering::Release);
        let lines = flusher.await.unwrap();
        assert!(lines > 0);
        (started.elapsed().as_secs_f64(), cpu_s() - cpu)
    })
}

fn stats(name: &str, v: Vec<f64>) -> f64 {
    stats_in(name, v, "MB/s")
}

fn stats_in(name: &str, mut v: Vec<f64>, unit: &str) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let median = v[v.len() / 2];
    println!(
        "{name:<28} min {:>8.2}  median {:>8.2}  max {:>8.2}  {unit}",
        v[0],
        median,
        v[v.len() - 1]
    );
    median
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let mb: usize = env_or("IMX_BENCH_MB", 100);
    let runs: usize = env_or("IMX_BENCH_RUNS", 5).max(1);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let values = secrets(&mut rng);
    let data = output(mb * 1_000_000, &values, &mut rng);
    let masker = Masker::new(&values.iter().map(Secret::new).collect::<Vec<_>>()).map(Arc::new);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let size_mb = data.len() as f64 / 1e6;
    println!(
        "masking: {size_mb:.1} MB of output, {} lines, {runs} runs each",
        data.iter().filter(|b| **b == b'\n').count()
    );
    // Warm up (page in the data, grow the allocator).
    once(&rt, &data, masker.clone());
    let mut plain = Vec::new();
    let mut masked = Vec::new();
    let mut plain_cpu = Vec::new();
    let mut masked_cpu = Vec::new();
    for _ in 0..runs {
        // Interleaved, so that a change in the machine's load hits both alike.
        let (t, c) = once(&rt, &data, None);
        plain.push(size_mb / t);
        plain_cpu.push(c * 1e3 / size_mb);
        let (t, c) = once(&rt, &data, masker.clone());
        masked.push(size_mb / t);
        masked_cpu.push(c * 1e3 / size_mb);
    }
    // CPU time moves far less than wall time when other work shares the machine: the agent's
    // throughput, when its CPU is what bounds it, is 1 / its CPU per MB.
    let pc = stats_in("CPU, no secrets", plain_cpu, "ms/MB");
    let mc = stats_in("CPU, 100 secrets", masked_cpu, "ms/MB");
    // Each masked run against the unmasked run just before it: a change in the machine's load
    // between two runs a fraction of a second apart is rarer than across the whole bench.
    let mut paired: Vec<f64> = plain
        .iter()
        .zip(&masked)
        .map(|(p, m)| (1.0 - m / p) * 100.0)
        .collect();
    paired.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let p = stats("log path, no secrets", plain);
    let m = stats("log path, 100 secrets", masked);
    if let Some(masker) = &masker {
        // The masker's check of the blocks the pipe is read in, alone: what masking adds to
        // the log path when no line holds a secret.
        let mut blocks = Vec::new();
        let mut rest = data.as_slice();
        while !rest.is_empty() {
            let end = memchr::memrchr(b'\n', &rest[..rest.len().min(64 * 1024)])
                .map_or(rest.len(), |i| i + 1);
            blocks.push(&rest[..end]);
            rest = &rest[end..];
        }
        let mut alone = Vec::new();
        let mut suspects = Vec::new();
        let mut buf = Vec::with_capacity(64 * 1024);
        let mut flagged = 0;
        for _ in 0..runs {
            let mut took = Duration::ZERO;
            let mut n = 0;
            for b in &blocks {
                // Copied first, as the pump reads a pipe: checked in the cache, not in memory.
                buf.clear();
                buf.extend_from_slice(b);
                let started = Instant::now();
                suspects.clear();
                masker.suspects(&buf, &mut suspects);
                took += started.elapsed();
                n += suspects.len();
            }
            assert!(n > 0);
            flagged = n;
            alone.push(size_mb / took.as_secs_f64());
        }
        stats("block check alone", alone);
        println!(
            "{:<28} {flagged} places in {} blocks",
            "block check flags",
            blocks.len()
        );
        // The masker alone, line by line, without the pipe and the sink around it.
        let lines: Vec<&str> = std::str::from_utf8(&data).unwrap().lines().collect();
        let mut alone = Vec::new();
        for _ in 0..runs {
            let started = Instant::now();
            let masked = lines
                .iter()
                .filter(|l| matches!(masker.mask(l), std::borrow::Cow::Owned(_)))
                .count();
            assert!(masked > 0);
            alone.push(size_mb / started.elapsed().as_secs_f64());
        }
        stats("masker alone", alone);
    }
    println!(
        "masking cost: {:.1}% of the log path's throughput (aim: < 10%); \
         run by run: min {:.1}%, median {:.1}%, max {:.1}%; in CPU per MB: {:.1}%",
        (1.0 - m / p) * 100.0,
        paired[0],
        paired[paired.len() / 2],
        paired[paired.len() - 1],
        (1.0 - pc / mc) * 100.0
    );
}

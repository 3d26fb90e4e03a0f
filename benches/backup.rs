//! Benchmarks for issue 5: backups of a ~1 GB store and audit verification/reporting over
//! 1,000,000 records. Run with `cargo bench --bench backup` (or `-- create|verify|audit|report`).
//!
//! The store is seeded once with direct SQL (log lines, events and a valid 1,000,000-record
//! audit chain) into `$IMX_BENCH_DIR` (default: the system temp folder) and reused by later
//! runs. Each scenario reports min/median/max over 5 runs:
//! - create: `backup create` (snapshot + zstd + SHA-256), MB/s of store size;
//! - verify: `backup verify` (checksum, decompress, integrity check, audit chain, counts), MB/s;
//! - audit:  `audit verify`, records/s;
//! - report: `audit report` over everything, seconds.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::time::Instant;

use imx::auth::Principal;
use imx::backup::{CreateOptions, Integrity, NoProgress};
use imx::control::{ControlPlane, LocalControlPlane, LocalOptions};
use rusqlite::{Connection, params};

const AUDIT_RECORDS: i64 = 1_000_000;
const TARGET_BYTES: u64 = 1_000_000_000;
const RUNS: usize = 5;

fn bench_dir() -> PathBuf {
    std::env::var_os("IMX_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("imx-bench-backup"))
}

/// Seed (once) a store of about 1 GB with a valid audit chain of 1,000,000 records.
fn seed(db: &Path) {
    let marker = db.with_extension("seeded");
    if marker.exists() {
        return;
    }
    let _ = std::fs::remove_file(db);
    let started = Instant::now();
    drop(LocalControlPlane::open(db, LocalOptions::default()).unwrap());
    let mut c = Connection::open(db).unwrap();
    c.pragma_update(None, "synchronous", "OFF").unwrap();
    let tx = c.transaction().unwrap();
    {
        let mut prev = imx::audit::GENESIS.to_string();
        let mut ins = tx
            .prepare("INSERT INTO audit VALUES (?1, ?2, ?3, 'local', ?4, ?5, ?6, ?7, ?8, ?9)")
            .unwrap();
        let actions = [
            "run.start",
            "run.cancel",
            "workflow.apply",
            "agent.register",
            "agent.drain",
            "backup.create",
        ];
        let t0 = imx::model::now_ms() - AUDIT_RECORDS * 1_000;
        for seq in 1..=AUDIT_RECORDS {
            let mut r = imx::model::AuditRecord {
                seq,
                time: t0 + seq * 1_000,
                actor: format!("user:u{}", seq % 17),
                source: "local".into(),
                action: actions[(seq % 6) as usize].into(),
                target: format!("01J{:023}", seq * 7919 % 1_000_003),
                outcome: if seq % 50 == 0 { "denied" } else { "ok" }.into(),
                details: serde_json::json!({ "workflow": format!("wf{}", seq % 40), "version": seq % 9 }),
                prev_hash: prev.clone(),
                hash: String::new(),
            };
            r.hash = imx::audit::record_hash(&r);
            ins.execute(params![
                r.seq,
                r.time,
                r.actor,
                r.action,
                r.target,
                r.outcome,
                r.details.to_string(),
                r.prev_hash,
                r.hash
            ])
            .unwrap();
            prev = r.hash;
        }
    }
    tx.commit().unwrap();
    let tx = c.transaction().unwrap();
    {
        let mut ins = tx
            .prepare("INSERT INTO logs (run_id, step_id, attempt, time, stream, line) VALUES (?1, ?2, 1, ?3, 'stdout', ?4)")
            .unwrap();
        let mut i: u64 = 0;
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        loop {
            if i.is_multiple_of(100_000) {
                let size = std::fs::metadata(db).map(|m| m.len()).unwrap_or(0)
                    + std::fs::metadata(db.with_extension("db-wal"))
                        .map(|m| m.len())
                        .unwrap_or(0);
                if size >= TARGET_BYTES {
                    break;
                }
            }
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let line = format!(
                "2024-05-01T12:{:02}:{:02}.{:03}Z INFO worker={} batch={} processed item {} of {} in {}.{}ms checksum={:016x}",
                (i / 60_000) % 60,
                (i / 1000) % 60,
                i % 1000,
                x % 8,
                (x >> 8) % 500,
                x % 100_000,
                100_000,
                (x >> 20) % 90,
                x % 10,
                x
            );
            ins.execute(params![
                format!("01JRUN{:020}", i / 1000),
                format!("s{}", i % 40),
                i as i64,
                line
            ])
            .unwrap();
            i += 1;
        }
    }
    tx.commit().unwrap();
    c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    drop(c);
    std::fs::write(&marker, "").unwrap();
    eprintln!(
        "seeded {} in {:.1}s",
        db.display(),
        started.elapsed().as_secs_f64()
    );
}

/// The phase under way (with its start time and CPU seconds) and the ones finished.
type Phases = (Option<(imx::backup::Phase, Instant, f64)>, Vec<String>);

/// Prints how long each phase of one operation took (`-- phases`).
struct PhaseTimer {
    state: std::sync::Mutex<Phases>,
}

impl PhaseTimer {
    fn new() -> Self {
        PhaseTimer {
            state: std::sync::Mutex::new((None, Vec::new())),
        }
    }

    fn report(&self, what: &str, total: Instant) {
        let mut s = self.state.lock().unwrap();
        if let Some((p, t, c)) = s.0.take() {
            s.1.push(phase_line(p, t, c));
        }
        println!(
            "  {what} phases: {} (total {:.2}s)",
            s.1.join(", "),
            total.elapsed().as_secs_f64()
        );
        s.1.clear();
    }
}

/// `label 1.23s (cpu 2.34s)`.
fn phase_line(p: imx::backup::Phase, t: Instant, cpu: f64) -> String {
    format!(
        "{} {:.2}s (cpu {:.2}s)",
        p.label(),
        t.elapsed().as_secs_f64(),
        cpu_secs() - cpu
    )
}

impl imx::backup::Progress for PhaseTimer {
    fn start(&self, phase: imx::backup::Phase, _total: u64) {
        let mut s = self.state.lock().unwrap();
        if let Some((p, t, c)) = s.0.take() {
            s.1.push(phase_line(p, t, c));
        }
        s.0 = Some((phase, Instant::now(), cpu_secs()));
    }

    fn advance(&self, _n: u64) {}
}

/// CPU seconds this process has used so far (all threads; from /proc, 10 ms resolution).
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = after
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0.0))
        .collect();
    // Fields 14 and 15 (utime, stime) are at 11 and 12 after the command name.
    (f.get(11).copied().unwrap_or(0.0) + f.get(12).copied().unwrap_or(0.0)) / 100.0
}

fn stats(name: &str, unit: &str, mut v: Vec<f64>) {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!(
        "{name:<34} min {:>10.1}  median {:>10.1}  max {:>10.1}  {unit}",
        v[0],
        v[v.len() / 2],
        v[v.len() - 1]
    );
}

fn main() {
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let want = |s: &str| only.is_empty() || only.iter().any(|o| o == s);
    let dir = bench_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("imx.db");
    seed(&db);
    let size = std::fs::metadata(&db).unwrap().len();
    let mb = size as f64 / 1e6;
    println!(
        "store: {} ({mb:.0} MB, {AUDIT_RECORDS} audit records), {RUNS} runs each",
        db.display()
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let plane = LocalControlPlane::open(&db, LocalOptions::default()).unwrap();
    let who = Principal::local_owner();
    let out = dir.join("backups");
    let _ = std::fs::remove_dir_all(&out);

    let mut last = None;
    if want("create") || want("verify") {
        let mut rates = Vec::new();
        let mut cpu = Vec::new();
        for _ in 0..RUNS {
            let opts = CreateOptions {
                out: Some(out.clone()),
                ..CreateOptions::default()
            };
            std::fs::create_dir_all(&out).unwrap();
            let (t, c) = (Instant::now(), cpu_secs());
            let info = rt
                .block_on(plane.create_backup(&who, opts, &NoProgress))
                .unwrap();
            rates.push(mb / t.elapsed().as_secs_f64());
            cpu.push(cpu_secs() - c);
            if let Some(prev) = last.replace(info.path.clone()) {
                std::fs::remove_file::<PathBuf>(prev).unwrap();
            }
        }
        stats("backup create (snapshot+zstd+sha)", "MB/s of store", rates);
        stats("  cpu time per create", "s", cpu);
    }
    if want("verify") {
        let path = last.clone().unwrap();
        for integrity in [Integrity::Quick, Integrity::Full] {
            let mut rates = Vec::new();
            let mut cpu = Vec::new();
            for _ in 0..RUNS {
                let (t, c) = (Instant::now(), cpu_secs());
                let what = path.to_str().unwrap();
                rt.block_on(plane.verify_backup(&who, None, what, None, integrity, &NoProgress))
                    .unwrap();
                rates.push(mb / t.elapsed().as_secs_f64());
                cpu.push(cpu_secs() - c);
            }
            stats(
                &format!("backup verify ({integrity:?} integrity)"),
                "MB/s of store",
                rates,
            );
            stats("  cpu time per verify", "s", cpu);
        }
    }
    if want("phases") {
        let timer = PhaseTimer::new();
        std::fs::create_dir_all(&out).unwrap();
        let opts = CreateOptions {
            out: Some(out.clone()),
            ..CreateOptions::default()
        };
        let t = Instant::now();
        let info = rt
            .block_on(plane.create_backup(&who, opts, &timer))
            .unwrap();
        timer.report("create", t);
        println!(
            "  backup file: {:.0} MB (payload {:.0} MB)",
            info.size as f64 / 1e6,
            info.manifest.payload_bytes as f64 / 1e6
        );
        for _ in 0..3 {
            let t = Instant::now();
            rt.block_on(plane.verify_backup(
                &who,
                None,
                info.path.to_str().unwrap(),
                None,
                Integrity::Quick,
                &timer,
            ))
            .unwrap();
            timer.report("verify", t);
        }
        let _ = std::fs::remove_file(info.path);
    }
    if let Some(p) = last {
        let _ = std::fs::remove_file(p);
    }
    if want("audit") {
        let mut rates = Vec::new();
        let mut cpu = Vec::new();
        for _ in 0..RUNS {
            let (t, c) = (Instant::now(), cpu_secs());
            let r = rt.block_on(plane.audit_verify(&who)).unwrap();
            assert!(r.ok, "{:?}", r.problem);
            rates.push(r.records as f64 / t.elapsed().as_secs_f64());
            cpu.push(cpu_secs() - c);
        }
        stats("audit verify", "records/s", rates);
        stats("  cpu time per audit verify", "s", cpu);
    }
    if want("integrity") {
        // What the integrity checks cost on this store (for choosing one; not a target).
        let c = Connection::open(&db).unwrap();
        for pragma in ["quick_check", "integrity_check"] {
            let (t, cp) = (Instant::now(), cpu_secs());
            let r: String = c
                .query_row(&format!("PRAGMA {pragma}"), [], |r| r.get(0))
                .unwrap();
            println!(
                "  {pragma}: {r} in {:.2}s (cpu {:.2}s)",
                t.elapsed().as_secs_f64(),
                cpu_secs() - cp
            );
        }
    }
    if want("scan") {
        // How much of `audit verify` is reading rows (not a target; for profiling).
        let c = Connection::open(&db).unwrap();
        let t = Instant::now();
        let mut stmt = c.prepare("SELECT seq, time, actor, source, action, target, outcome, details, prev_hash, hash FROM audit ORDER BY seq").unwrap();
        let mut rows = stmt.query([]).unwrap();
        let mut n = 0usize;
        while let Some(r) = rows.next().unwrap() {
            for i in 2..10 {
                n += r.get_ref(i).unwrap().as_str().unwrap().len();
            }
        }
        println!("  scan only: {:.2}s ({n} bytes)", t.elapsed().as_secs_f64());
    }
    if want("report") {
        let mut secs = Vec::new();
        let mut cpu = Vec::new();
        for _ in 0..RUNS {
            let (t, c) = (Instant::now(), cpu_secs());
            let r = rt
                .block_on(plane.audit_report(&who, imx::audit::Window::default()))
                .unwrap();
            let _ = imx::audit::render::render(&r, imx::audit::render::ReportFormat::Html).unwrap();
            secs.push(t.elapsed().as_secs_f64());
            cpu.push(cpu_secs() - c);
        }
        stats("audit report (1M records, html)", "s", secs);
        stats("  cpu time per report", "s", cpu);
    }
}

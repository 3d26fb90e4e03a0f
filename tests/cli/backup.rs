//! `imx backup ...` end to end: the lifecycle (create, list, show, verify, restore, prune), both
//! formats, encryption, and the failures that must never restore anything — a flipped byte, a
//! truncated file, a missing manifest, a file that is not a backup, a wrong key, a full disk —
//! and a backup taken while an agent keeps writing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use rusqlite::Connection;

use crate::env::TestEnv;

const HELLO: &str =
    "name: hello\nsteps:\n  - id: a\n    noop: {}\n  - id: b\n    needs: [a]\n    noop: {}\n";

fn seeded() -> TestEnv {
    let env = TestEnv::new();
    let wf = env.write("hello.yaml", HELLO);
    env.run(["workflow", "apply", "-f", wf.to_str().unwrap()])
        .expect_code(0);
    env.run(["workflow", "run", "hello"]).expect_code(0);
    env
}

fn create(env: &TestEnv, extra: &[&str]) -> (String, PathBuf) {
    let mut args = vec!["backup", "create", "-o", "json"];
    args.extend_from_slice(extra);
    let out = env.run(&args);
    out.expect_code(0);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    (
        v["manifest"]["id"].as_str().unwrap().to_string(),
        PathBuf::from(v["path"].as_str().unwrap()),
    )
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn count(db: &Path, table: &str) -> i64 {
    let c = Connection::open(db).unwrap();
    c.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

#[test]
fn create_list_show_verify_and_restore_elsewhere() {
    let env = seeded();
    let (id, path) = create(&env, &["--note", "before upgrade"]);
    assert!(path.starts_with(env.store().parent().unwrap().join("backups")));
    assert!(
        path.to_str().unwrap().contains(&id),
        "the file is named for its id"
    );

    let list = env.run(["backup", "list"]);
    list.expect_code(0);
    assert!(list.stdout.contains(&id[..8]) && list.stdout.contains("before upgrade"));
    assert_eq!(env.run(["backup", "list", "-o", "name"]).stdout.trim(), id);

    let show = env.run(["backup", "show", &id[..8], "-o", "json"]);
    show.expect_code(0);
    let m: serde_json::Value = serde_json::from_str(&show.stdout).unwrap();
    assert_eq!(m["manifest"]["tables"]["runs"], 1);
    assert_eq!(m["manifest"]["tables"]["steps"], 2);
    assert_eq!(m["manifest"]["schema_version"], imx::store::SCHEMA_VERSION);
    assert_eq!(m["manifest"]["payload_sha256"].as_str().unwrap().len(), 64);

    let v = env.run(["backup", "verify", &id]);
    v.expect_code(0);
    assert!(v.stderr.contains("verifies"), "{}", v.stderr);

    let target = env.home().join("elsewhere/restored.db");
    env.run(["backup", "restore", &id, "--to", s(&target)])
        .expect_code(0);
    assert_eq!(count(&target, "runs"), 1);
    assert_eq!(count(&target, "workflows"), 1);
    // The restore is itself audited, in the restored store.
    let c = Connection::open(&target).unwrap();
    let action: String = c
        .query_row(
            "SELECT action FROM audit ORDER BY seq DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(action, "backup.restore");
    let audited = env.run(["audit", "list", "--action", "backup.", "-o", "json"]);
    let recs: Vec<serde_json::Value> = serde_json::from_str(&audited.stdout).unwrap();
    let actions: Vec<&str> = recs.iter().map(|r| r["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["backup.create", "backup.verify"]);
}

#[test]
fn restore_over_the_store_needs_force_and_swaps_it() {
    let env = seeded();
    let (id, _) = create(&env, &[]);
    env.run(["workflow", "run", "hello"]).expect_code(0);
    assert_eq!(count(&env.store(), "runs"), 2);

    let refused = env.run(["backup", "restore", &id]);
    refused.expect_code(5);
    assert!(
        refused.stderr.contains("already holds data"),
        "{}",
        refused.stderr
    );
    assert_eq!(count(&env.store(), "runs"), 2, "target untouched");

    env.run(["backup", "restore", &id, "--force"])
        .expect_code(0);
    assert_eq!(count(&env.store(), "runs"), 1, "back to the backup's state");
    env.run(["audit", "verify"]).expect_code(0);
    env.run(["run", "list"]).expect_code(0);
    let kept: Vec<_> = std::fs::read_dir(env.store().parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("pre-restore"))
        .collect();
    assert_eq!(kept.len(), 1, "the replaced store is kept");
}

#[test]
fn logical_format_restores_into_a_fresh_store() {
    let env = seeded();
    let (id, path) = create(&env, &["--format", "logical"]);
    let show = env.run(["backup", "show", &id, "-o", "json"]);
    assert!(show.stdout.contains("\"format\": \"logical\""));
    env.run(["backup", "verify", s(&path)]).expect_code(0);
    let target = env.home().join("fresh.db");
    env.run(["backup", "restore", &id, "--to", s(&target)])
        .expect_code(0);
    assert_eq!(count(&target, "steps"), 2);
}

#[test]
fn encrypted_backups_need_the_right_key() {
    let env = seeded();
    let key = env.home().join("backup.key");
    env.run(["backup", "keygen", "--out", s(&key)])
        .expect_code(0);
    env.run(["backup", "create", "--encrypt"]).expect_code(2);
    let (id, path) = create(&env, &["--encrypt", "--key-file", s(&key)]);
    // The payload starts right after the 8-byte header: a zstd frame when plain, noise when not.
    const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
    let raw = std::fs::read(&path).unwrap();
    assert_ne!(raw[8..12], ZSTD_MAGIC, "the payload is encrypted");
    let (_, plain) = create(&env, &[]);
    assert_eq!(std::fs::read(&plain).unwrap()[8..12], ZSTD_MAGIC);

    let no_key = env.run(["backup", "verify", &id]);
    no_key.expect_code(4);
    assert!(no_key.stderr.contains("--key-file"), "{}", no_key.stderr);

    let other = env.home().join("other.key");
    env.run(["backup", "keygen", "--out", s(&other)])
        .expect_code(0);
    let wrong = env.run(["backup", "verify", &id, "--key-file", s(&other)]);
    wrong.expect_code(4);
    assert!(wrong.stderr.contains("wrong key"), "{}", wrong.stderr);
    let target = env.home().join("t.db");
    env.run([
        "backup",
        "restore",
        &id,
        "--key-file",
        s(&other),
        "--to",
        s(&target),
    ])
    .expect_code(4);
    assert!(!target.exists(), "nothing restored with a wrong key");

    env.run(["backup", "verify", &id, "--key-file", s(&key)])
        .expect_code(0);
    env.run([
        "backup",
        "restore",
        &id,
        "--key-file",
        s(&key),
        "--to",
        s(&target),
    ])
    .expect_code(0);
    assert_eq!(count(&target, "runs"), 1);

    // No OS keyring here (a cleared environment has no Secret Service): a clear error that
    // names the alternatives, and `keygen --keyring --out` leaves no key file behind.
    let ring = env.run(["backup", "create", "--encrypt", "--keyring", "imx"]);
    ring.expect_code(2);
    assert!(
        ring.stderr.contains("keyring is not available") && ring.stderr.contains("--key-file"),
        "{}",
        ring.stderr
    );
    let off = env.with_var("IMX_KEYRING", "off");
    let copy = off.home().join("copy.key");
    let keygen = off.run(["backup", "keygen", "--keyring", "--out", s(&copy)]);
    keygen.expect_code(2);
    assert!(
        keygen.stderr.contains("IMX_KEYRING is off"),
        "{}",
        keygen.stderr
    );
    assert!(!copy.exists(), "no half-made key");
    off.run(["backup", "keygen"]).expect_code(2);
}

#[test]
fn passphrase_on_stdin() {
    let env = seeded();
    let out = env
        .cmd()
        .args([
            "backup",
            "create",
            "--encrypt",
            "--passphrase-stdin",
            "-o",
            "name",
        ])
        .write_stdin("correct horse\n")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let bad = env
        .cmd()
        .args(["backup", "verify", &id, "--passphrase-stdin"])
        .write_stdin("wrong horse\n")
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("wrong passphrase"));
    let good = env
        .cmd()
        .args(["backup", "verify", &id, "--passphrase-stdin"])
        .write_stdin("correct horse\n")
        .output()
        .unwrap();
    assert!(
        good.status.success(),
        "{}",
        String::from_utf8_lossy(&good.stderr)
    );
}

/// Verify and restore must both refuse `path`, with `code` and a message containing `says`;
/// the restore target must not appear.
fn refused(env: &TestEnv, path: &Path, code: i32, says: &str) {
    let v = env.run(["backup", "verify", s(path)]);
    v.expect_code(code);
    assert!(v.stderr.contains(says), "verify: {}", v.stderr);
    let target = env.home().join("never.db");
    let r = env.run(["backup", "restore", s(path), "--to", s(&target)]);
    r.expect_code(code);
    assert!(r.stderr.contains(says), "restore: {}", r.stderr);
    assert!(!target.exists(), "the target was touched");
    let before = count(&env.store(), "runs");
    let r = env.run(["backup", "restore", s(path), "--force"]);
    r.expect_code(code);
    assert_eq!(count(&env.store(), "runs"), before, "the store was touched");
}

#[test]
fn damaged_files_are_refused_with_a_clear_error() {
    let env = seeded();
    let (_, path) = create(&env, &[]);
    let good = std::fs::read(&path).unwrap();
    let dir = env.home().join("bad");
    std::fs::create_dir_all(&dir).unwrap();

    let flipped = dir.join("flipped.imxb");
    let mut b = good.clone();
    b[40] ^= 0x01;
    std::fs::write(&flipped, &b).unwrap();
    refused(&env, &flipped, 1, "checksum mismatch");

    let truncated = dir.join("truncated.imxb");
    std::fs::write(&truncated, &good[..good.len() / 2]).unwrap();
    refused(&env, &truncated, 1, "truncated");

    let no_manifest = dir.join("no-manifest.imxb");
    std::fs::write(&no_manifest, &good[..good.len() - 16]).unwrap();
    refused(&env, &no_manifest, 1, "manifest");

    let not_backup = dir.join("notes.txt");
    std::fs::write(&not_backup, "just some text, not a backup at all").unwrap();
    refused(&env, &not_backup, 2, "not an imx backup");

    let store_copy = dir.join("store.imxb");
    std::fs::copy(env.store(), &store_copy).unwrap();
    refused(&env, &store_copy, 2, "not an imx backup");
}

/// Copy the backup at `from` to `to` with its manifest edited by `edit`; with `reseal`, the
/// seal's SHA-256 is recomputed (what anyone can do; the tag of an encrypted backup needs the key).
fn edit_manifest(from: &Path, to: &Path, reseal: bool, edit: impl FnOnce(&mut serde_json::Value)) {
    let raw = std::fs::read(from).unwrap();
    let len = u64::from_le_bytes(raw[raw.len() - 16..raw.len() - 8].try_into().unwrap()) as usize;
    let start = raw.len() - 16 - len;
    let mut m: serde_json::Value = serde_json::from_slice(&raw[start..raw.len() - 16]).unwrap();
    edit(&mut m);
    let json = serde_json::to_vec_pretty(&m).unwrap();
    let mut out = raw[..start].to_vec();
    if reseal {
        let seal = start - imx::backup::container::SEAL_LEN as usize;
        out[seal + 8..seal + 40].copy_from_slice(&imx::backup::container::manifest_digest(&json));
    }
    out.extend_from_slice(&json);
    out.extend_from_slice(&(json.len() as u64).to_le_bytes());
    out.extend_from_slice(b"IMXBKEND");
    std::fs::write(to, out).unwrap();
}

#[test]
fn a_backup_from_a_newer_schema_is_refused() {
    let env = seeded();
    let (_, path) = create(&env, &[]);
    // Resealed, as a newer imx would have written it.
    let newer = env.home().join("newer.imxb");
    edit_manifest(&path, &newer, true, |m| m["schema_version"] = 99.into());
    let target = env.home().join("t.db");
    let r = env.run(["backup", "restore", s(&newer), "--to", s(&target)]);
    r.expect_code(1);
    assert!(r.stderr.contains("newer than this imx"), "{}", r.stderr);
    assert!(!target.exists());
}

#[test]
fn prune_keeps_what_the_policy_says() {
    let env = seeded();
    let ids: Vec<String> = (0..3).map(|_| create(&env, &[]).0).collect();
    let dry = env.run(["backup", "prune", "--keep-last", "1", "--dry-run"]);
    dry.expect_code(0);
    assert!(dry.stderr.contains("Would remove 2"), "{}", dry.stderr);
    assert_eq!(
        env.run(["backup", "list", "-o", "name"])
            .stdout
            .lines()
            .count(),
        3
    );
    env.run(["backup", "prune"]).expect_code(2);
    env.run(["backup", "prune", "--keep-last", "1", "--yes"])
        .expect_code(0);
    let left = env.run(["backup", "list", "-o", "name"]);
    assert_eq!(left.stdout.trim(), ids[2], "the newest is kept");
}

#[test]
fn a_full_disk_leaves_no_partial_file_and_the_store_untouched() {
    let env = seeded();
    // Enough incompressible data that the backup cannot fit in 256 KiB.
    {
        let c = Connection::open(env.store()).unwrap();
        let mut stmt = c
            .prepare("INSERT INTO logs (run_id, step_id, attempt, time, stream, line) VALUES ('r', 's', 1, 0, 'stdout', ?1)")
            .unwrap();
        for _ in 0..4_000 {
            let line: String = (0..8)
                .map(|_| format!("{:016x}", rand::random::<u64>()))
                .collect();
            stmt.execute([line]).unwrap();
        }
    }
    let full = env.home().join("full");
    std::fs::create_dir_all(&full).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=256k", "tmpfs", s(&full)])
        .status()
        .is_ok_and(|st| st.success());
    if !mounted {
        eprintln!("skipping: cannot mount a small tmpfs here (needs root)");
        return;
    }
    struct Unmount(PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg(&self.0).status();
        }
    }
    let _guard = Unmount(full.clone());
    let before = std::fs::read(env.store()).unwrap().len();
    let out = env.run([
        "backup",
        "create",
        "--out",
        &format!("{}/", s(&full)),
        "--level",
        "1",
    ]);
    out.expect_code(1);
    assert!(out.stderr.contains("full"), "{}", out.stderr);
    let left: Vec<_> = std::fs::read_dir(&full).unwrap().collect();
    assert!(left.is_empty(), "partial files left: {left:?}");
    assert!(std::fs::read(env.store()).unwrap().len() >= before);
    env.run(["audit", "verify"]).expect_code(0);
    env.run(["run", "list"]).expect_code(0);
    let failed = env.run([
        "audit",
        "list",
        "--action",
        "backup.create",
        "--outcome",
        "error",
    ]);
    assert!(
        failed.stdout.contains("backup.create"),
        "the failure is audited"
    );
}

fn spawn(env: &TestEnv, args: &[&str]) -> Child {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_imx"));
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", env.home())
        .env("XDG_CONFIG_HOME", env.home().join(".config"))
        .env("IMX_STORE", env.store())
        .env("NO_COLOR", "1")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c.spawn().unwrap()
}

#[test]
fn a_backup_under_write_load_restores_consistent() {
    let env = TestEnv::new();
    let mut steps = String::from("name: fan\nsteps:\n");
    for i in 0..300 {
        steps.push_str(&format!("  - id: s{i}\n    noop: {{}}\n"));
    }
    let wf = env.write("fan.yaml", &steps);
    env.run(["workflow", "apply", "-f", s(&wf)]).expect_code(0);
    for _ in 0..3 {
        env.run(["workflow", "run", "fan"]).expect_code(0);
    }
    let mut agent = spawn(&env, &["agent", "run", "--name", "w1", "--slots", "8"]);
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut backups = Vec::new();
    // Back up while the agent works through 900 steps.
    while backups.len() < 3 && Instant::now() < deadline {
        backups.push(create(&env, &[]).0);
    }
    let _ = agent.kill();
    let _ = agent.wait();
    assert_eq!(backups.len(), 3);
    for (i, id) in backups.iter().enumerate() {
        let target = env.home().join(format!("r{i}.db"));
        env.run(["backup", "restore", id, "--to", s(&target)])
            .expect_code(0);
        let c = Connection::open(&target).unwrap();
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
        assert_eq!(bad, 0, "backup {id}: counters disagree with steps");
        let ok: String = c
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(ok, "ok");
        let v = env
            .cmd()
            .env("IMX_STORE", &target)
            .args(["audit", "verify"])
            .output()
            .unwrap();
        assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));
    }
}

#[test]
fn a_live_store_is_not_replaced_without_force() {
    let env = seeded();
    let (id, _) = create(&env, &[]);
    let target = env.home().join("live.db");
    env.run(["backup", "restore", &id, "--to", s(&target)])
        .expect_code(0);
    // An agent holds the target open.
    let mut agent = std::process::Command::new(env!("CARGO_BIN_EXE_imx"));
    agent
        .env_clear()
        .env("HOME", env.home())
        .env("IMX_STORE", &target)
        .args(["agent", "run", "--name", "holder"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = agent.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while imx::backup::live::holder(&target).is_none() {
        assert!(
            Instant::now() < deadline,
            "the agent never opened the store"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let r = env.run(["backup", "restore", &id, "--to", s(&target)]);
    let _ = child.kill();
    let _ = child.wait();
    r.expect_code(5);
    assert!(
        r.stderr.contains("in use by another process"),
        "{}",
        r.stderr
    );
}

#[test]
fn an_edited_manifest_is_refused_by_verify_and_restore() {
    let env = seeded();
    let key = env.home().join("backup.key");
    env.run(["backup", "keygen", "--out", s(&key)])
        .expect_code(0);
    let (_, plain) = create(&env, &["--note", "nightly"]);
    let (_, sealed) = create(
        &env,
        &["--encrypt", "--key-file", s(&key), "--note", "nightly"],
    );
    let edited = env.home().join("edited.imxb");
    let target = env.home().join("never.db");
    let refused = |key_args: &[&str]| {
        let mut v = vec!["backup", "verify", s(&edited)];
        v.extend_from_slice(key_args);
        let out = env.run(&v);
        out.expect_error(1);
        assert!(
            out.stderr.contains("the manifest was modified"),
            "verify: {}",
            out.stderr
        );
        let mut r = vec!["backup", "restore", s(&edited), "--to", s(&target)];
        r.extend_from_slice(key_args);
        let out = env.run(&r);
        out.expect_error(1);
        assert!(
            out.stderr.contains("the manifest was modified"),
            "restore: {}",
            out.stderr
        );
        assert!(!target.exists(), "nothing restored");
    };
    let with_key = ["--key-file", s(&key)];
    for (path, key_args) in [(&plain, &[][..]), (&sealed, &with_key[..])] {
        edit_manifest(path, &edited, false, |m| m["note"] = "weekly".into());
        refused(key_args);
        edit_manifest(path, &edited, false, |m| m["created_at"] = 1.into());
        refused(key_args);
        edit_manifest(path, &edited, false, |m| m["tables"]["runs"] = 5.into());
        refused(key_args);
    }
    // With the seal's SHA-256 recomputed, an encrypted backup still refuses: the manifest is the
    // associated data of a tag under its key.
    edit_manifest(&sealed, &edited, true, |m| m["note"] = "weekly".into());
    refused(&with_key);
    edit_manifest(&sealed, &edited, true, |m| {
        m["created_by"] = "local:mallory".into()
    });
    refused(&with_key);
    // Untouched, both still verify.
    env.run(["backup", "verify", s(&plain)]).expect_code(0);
    env.run(["backup", "verify", s(&sealed), "--key-file", s(&key)])
        .expect_code(0);
}

#[test]
fn restoring_a_copy_elsewhere_leaves_the_live_trail_alone() {
    let env = seeded();
    env.run(["audit", "checkpoint"]).expect_code(0);
    let (id, _) = create(&env, &[]);
    env.run(["workflow", "run", "hello"]).expect_code(0);
    env.run(["audit", "checkpoint"]).expect_code(0);
    let log = env.home().join(".config/imx/audit-checkpoints.jsonl");
    let log_before = std::fs::read_to_string(&log).unwrap();

    let copy = env.home().join("elsewhere/copy.db");
    let r = env.run(["backup", "restore", &id, "--to", s(&copy)]);
    r.expect_code(0);
    assert!(
        r.stderr.contains("is a copy with a new identity"),
        "{}",
        r.stderr
    );
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        log_before,
        "the live store's checkpoint log is untouched"
    );
    let live = env.run(["audit", "verify"]);
    live.expect_code(0);
    assert!(
        live.stderr.contains("2 signed checkpoints hold"),
        "{}",
        live.stderr
    );

    let store_id = |db: &Path| -> String {
        Connection::open(db)
            .unwrap()
            .query_row("SELECT value FROM meta WHERE key = 'store_id'", [], |r| {
                r.get(0)
            })
            .unwrap()
    };
    let (live_id, copy_id) = (store_id(&env.store()), store_id(&copy));
    assert_ne!(live_id, copy_id);
    assert_eq!(copy_id.len(), 32);
    assert!(
        r.stderr.contains(&copy_id) && r.stderr.contains(&live_id),
        "{}",
        r.stderr
    );
    // The copy's chain verifies, says where it came from, and takes checkpoints of its own.
    let on_copy = |args: &[&str]| {
        let out = env
            .cmd()
            .env("IMX_STORE", &copy)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    on_copy(&["audit", "verify"]);
    let recs: Vec<serde_json::Value> = serde_json::from_str(&on_copy(&[
        "audit",
        "list",
        "--action",
        "backup.restore",
        "-o",
        "json",
    ]))
    .unwrap();
    assert_eq!(recs.last().unwrap()["details"]["copy_of"], live_id.as_str());
    on_copy(&["audit", "checkpoint"]);
    on_copy(&["audit", "verify"]);
    env.run(["audit", "verify"]).expect_code(0);
}

/// Whether process `pid` is stopped (SIGSTOP).
fn stopped(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(") ").map(|(_, rest)| rest.starts_with('T')))
        .unwrap_or(false)
}

/// Start `imx ARGS` with `IMX_TEST_FAULT=point` and wait until it stops there.
fn stop_at(env: &TestEnv, point: &str, args: &[&str]) -> crate::env::Background {
    let mut cmd = env.std_cmd();
    cmd.env("IMX_TEST_FAULT", point);
    let mut bg = env.spawn_with(cmd, args);
    let pid = bg.pid();
    crate::env::wait_until(
        &format!("imx {args:?} to stop at {point}"),
        crate::env::SLOW,
        || {
            if let Some(status) = bg.try_exit() {
                panic!(
                    "imx {args:?} exited ({status}) before {point}:\n{}",
                    bg.stderr()
                );
            }
            stopped(pid)
        },
    );
    bg
}

/// The entries of `dir` whose names start with `prefix`.
fn named(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
        .map(|e| e.path())
        .collect()
}

#[test]
fn a_killed_backup_leaves_a_partial_file_that_the_next_one_removes() {
    let env = seeded();
    create(&env, &[]);
    let dir = env.store().parent().unwrap().join("backups");
    let mut first = stop_at(&env, "backup.create.written", &["backup", "create"]);
    let partial = named(&dir, ".imx-backup-");
    assert_eq!(partial.len(), 1, "{partial:?}");
    let list = env.run(["backup", "list"]);
    list.expect_code(0);
    assert!(list.stderr.contains("in progress"), "{}", list.stderr);
    // Another backup meanwhile leaves the live one's file alone.
    create(&env, &[]);
    assert!(partial[0].exists(), "a live backup's file was removed");

    first.signal(nix::sys::signal::Signal::SIGKILL);
    first.wait_exit(crate::env::SLOW);
    let list = env.run(["backup", "list"]);
    list.expect_code(0);
    let name = partial[0]
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let line = list
        .stderr
        .lines()
        .find(|l| l.contains(&name))
        .unwrap_or_else(|| panic!("not listed:\n{}", list.stderr));
    assert!(
        line.contains("incomplete") && line.contains("B)") && line.contains("imx backup create"),
        "{line}"
    );
    assert_eq!(
        env.run(["backup", "list", "-o", "name"])
            .stdout
            .lines()
            .count(),
        2,
        "only complete backups are backups"
    );
    create(&env, &[]);
    assert!(!partial[0].exists(), "the next backup removes it");
    assert!(named(&dir, ".imx-backup-").is_empty());
    let list = env.run(["backup", "list"]);
    assert!(!list.stderr.contains(&name), "{}", list.stderr);
}

#[test]
fn a_killed_restore_leaves_a_folder_that_the_next_one_removes() {
    let env = seeded();
    let (id, _) = create(&env, &[]);
    let dir = env.store().parent().unwrap().to_path_buf();
    let to = |name: &str| dir.join(name).to_string_lossy().into_owned();
    let mut first = stop_at(
        &env,
        "backup.restore.unpacked",
        &["backup", "restore", &id, "--to", &to("a.db")],
    );
    let work = named(&dir, ".imx-restore-");
    assert_eq!(work.len(), 1, "{work:?}");
    assert!(work[0].join("restored.db").exists());
    let list = env.run(["backup", "list"]);
    assert!(list.stderr.contains("in progress"), "{}", list.stderr);
    // Another restore meanwhile leaves the live one's folder alone.
    env.run(["backup", "restore", &id, "--to", &to("b.db")])
        .expect_code(0);
    assert!(work[0].exists(), "a live restore's folder was removed");

    first.signal(nix::sys::signal::Signal::SIGKILL);
    first.wait_exit(crate::env::SLOW);
    assert!(
        !dir.join("a.db").exists(),
        "the killed restore swapped nothing in"
    );
    let list = env.run(["backup", "list"]);
    let name = work[0].file_name().unwrap().to_string_lossy().into_owned();
    let line = list
        .stderr
        .lines()
        .find(|l| l.contains(&name))
        .unwrap_or_else(|| panic!("not listed:\n{}", list.stderr));
    assert!(
        line.contains("incomplete") && line.contains("B)") && line.contains("imx backup restore"),
        "{line}"
    );
    env.run(["backup", "restore", &id, "--to", &to("c.db")])
        .expect_code(0);
    assert!(!work[0].exists(), "the next restore removes it");
    assert!(named(&dir, ".imx-restore-").is_empty());
    env.run(["audit", "verify"]).expect_code(0);
}

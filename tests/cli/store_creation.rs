//! Which commands create a store (only `init` and `demo`), what every other command does on a
//! missing one (exit 6, naming the path and `imx init`, creating nothing), and the permissions a
//! new store gets (0600 files in a 0700 folder).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::env::{SLOW, TestEnv, wait_until};

/// Commands that must refuse a missing store, as a script would run them.
const COMMANDS: &[&[&str]] = &[
    &["run", "list", "-q", "-o", "json"],
    &["status", "-o", "json"],
    &["workflow", "list"],
    &["workflow", "apply", "-f", "noop.yaml"],
    &["workflow", "run", "noop"],
    &["run", "show", "01HZX"],
    &["run", "wait", "01HZX"],
    &["run", "logs", "01HZX"],
    &["agent", "list"],
    &["agent", "run", "--name", "w1"],
    &["audit", "verify"],
    &["audit", "list"],
    &["backup", "list"],
    &["backup", "create"],
    &["user", "list"],
    &["token", "list"],
    &["whoami"],
    &["server", "--listen", "127.0.0.1:0"],
];

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{path:?}: {e}"))
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn a_typo_in_store_or_imx_store_creates_nothing_and_exits_6() {
    let env = TestEnv::bare();
    env.write(
        "noop.yaml",
        "name: noop\nsteps:\n  - id: only\n    noop: true\n",
    );
    let typo = env.home().join("typo-dir").join("sub").join("imx.db");
    let typo_arg = typo.to_str().unwrap();
    for args in COMMANDS {
        for via_env in [false, true] {
            let mut cmd = env.cmd();
            if via_env {
                cmd.env("IMX_STORE", typo_arg);
            } else {
                cmd.args(["--store", typo_arg]);
            }
            let out = cmd
                .args(*args)
                .timeout(std::time::Duration::from_secs(60))
                .output()
                .unwrap();
            let code = out.status.code().unwrap_or(-1);
            let stdout = String::from_utf8_lossy(&out.stdout);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(code, 6, "{args:?} (env: {via_env}): {stdout}\n{stderr}");
            assert!(stdout.is_empty(), "{args:?}: {stdout}");
            assert!(stderr.contains(typo_arg), "{args:?}: {stderr}");
            assert!(stderr.contains("imx init"), "{args:?}: {stderr}");
            assert!(
                !env.home().join("typo-dir").exists(),
                "{args:?} (env: {via_env}) created {:?}",
                env.home().join("typo-dir")
            );
        }
    }
    assert!(!env.store().exists(), "nothing created the default store");
}

#[test]
fn the_default_store_is_not_created_by_a_read_command_either() {
    let env = TestEnv::bare();
    let out = env.run_without_store(["run", "list", "-q", "-o", "json"]);
    out.expect_error(6);
    let default = env.home().join(".local/share/imx/imx.db");
    out.expect_stderr(&[default.to_str().unwrap(), "imx init"]);
    assert!(!env.home().join(".local/share").exists());
}

#[test]
fn init_creates_the_store_0600_in_a_0700_folder_and_so_are_its_wal_and_shm() {
    let env = TestEnv::bare();
    let store = env.home().join("new").join("deeper").join("imx.db");
    let arg = store.to_str().unwrap();
    let out = env.run(["--store", arg, "init"]);
    out.expect_code(0);
    out.expect_stderr(&[&format!("Created a new store at {arg}")]);
    assert_eq!(mode(&env.home().join("new")), 0o700);
    assert_eq!(mode(&env.home().join("new/deeper")), 0o700);
    assert_eq!(mode(&store), 0o600);

    // A process that keeps the store open keeps its -wal and -shm files.
    let mut cmd = env.std_cmd();
    cmd.env("IMX_STORE", arg);
    let _agent = env.spawn_with(cmd, ["agent", "run", "--name", "w1"]);
    let wal = env.home().join("new/deeper/imx.db-wal");
    let shm = env.home().join("new/deeper/imx.db-shm");
    wait_until("the -wal and -shm files", SLOW, || {
        wal.exists() && shm.exists()
    });
    assert_eq!(mode(&wal), 0o600);
    assert_eq!(mode(&shm), 0o600);
    assert_eq!(mode(&store), 0o600, "opening does not loosen it");
}

#[test]
fn init_in_an_existing_folder_leaves_the_folder_alone() {
    let env = TestEnv::bare();
    let dir = env.home().join("shared");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let store = dir.join("imx.db");
    env.run(["--store", store.to_str().unwrap(), "init"])
        .expect_code(0);
    assert_eq!(mode(&dir), 0o755);
    assert_eq!(mode(&store), 0o600);
}

#[test]
fn racing_inits_all_succeed_and_one_says_it_created_the_store() {
    for _ in 0..3 {
        let env = TestEnv::bare();
        let mut racers: Vec<_> = (0..6).map(|_| env.spawn(["init"])).collect();
        let mut created = 0;
        for racer in &mut racers {
            let status = racer.wait_exit(SLOW);
            assert!(status.success(), "{status}: {}", racer.stderr());
            created += usize::from(racer.stderr().contains("Created a new store"));
        }
        assert_eq!(created, 1, "exactly one process created the store");
        let status = env.json(["status"]);
        assert_eq!(status["schema_version"], imx::store::SCHEMA_VERSION);
    }
}

#[test]
fn demo_creates_its_store_and_says_so() {
    let env = TestEnv::bare();
    let store = env.home().join("demo").join("imx.db");
    let arg = store.to_str().unwrap();
    let out = env.run(["--store", arg, "demo", "--agents", "2"]);
    out.expect_code(0);
    out.expect_stderr(&[&format!("Created a new store at {arg}")]);
    assert_eq!(mode(&store), 0o600);
    // Once made, the demo reuses it without saying so again.
    let again = env.run(["--store", arg, "run", "list", "-q", "-o", "json"]);
    again.expect_code(0);
    assert!(!again.stdout.trim().is_empty());
}

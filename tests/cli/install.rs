//! `install.sh`: shellcheck-clean; installs the binary, completions and man pages into a prefix
//! without root, and `--uninstall` removes exactly what it installed. The release build is
//! replaced by a stand-in `cargo` on PATH so the test does not rebuild the project.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn install_script_is_shellcheck_clean() {
    let Ok(out) = Command::new("shellcheck")
        .arg("install.sh")
        .current_dir(repo())
        .output()
    else {
        eprintln!("skipped: shellcheck is not installed (.ci/run installs it)");
        return;
    };
    assert!(
        out.status.success(),
        "shellcheck install.sh:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn install_into_a_prefix_then_uninstall_removes_exactly_that() {
    let tmp = tempfile::tempdir().unwrap();
    let prefix = tmp.path().join("prefix");
    // A stand-in cargo and a prebuilt binary where the script expects the release build.
    let fakebin = tmp.path().join("fakebin");
    std::fs::create_dir_all(&fakebin).unwrap();
    let cargo = fakebin.join("cargo");
    std::fs::write(&cargo, "#!/bin/sh\nexit 0\n").unwrap();
    std::fs::set_permissions(&cargo, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let target = tmp.path().join("target");
    std::fs::create_dir_all(target.join("release")).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_imx"), target.join("release/imx")).unwrap();
    let path = format!(
        "{}:{}",
        fakebin.display(),
        std::env::var("PATH").unwrap_or_default()
    );

    let out = Command::new("sh")
        .arg(repo().join("install.sh"))
        .arg("--prefix")
        .arg(&prefix)
        .env("PATH", &path)
        .env("CARGO_TARGET_DIR", &target)
        .env("HOME", tmp.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for f in [
        "bin/imx",
        "share/bash-completion/completions/imx",
        "share/zsh/site-functions/_imx",
        "share/fish/vendor_completions.d/imx.fish",
        "share/man/man1/imx.1",
        "share/man/man1/imx-run-list.1",
        "share/man/man5/imx-workflow.5",
    ] {
        assert!(prefix.join(f).is_file(), "{f} not installed:\n{stdout}");
    }
    assert!(stdout.contains("is not on your PATH"), "{stdout}");
    let version = Command::new(prefix.join("bin/imx"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("imx "));

    // Something of the user's in the same prefix must survive the uninstall.
    std::fs::write(prefix.join("bin/mine"), "keep").unwrap();
    let out = Command::new("sh")
        .arg(repo().join("install.sh"))
        .args(["--uninstall", "--prefix"])
        .arg(&prefix)
        .env("PATH", &path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(prefix.join("bin/mine").is_file());
    let mut left = Vec::new();
    for entry in walk(&prefix) {
        if entry.is_file() && !entry.ends_with("bin/mine") {
            left.push(entry);
        }
    }
    assert!(left.is_empty(), "left behind: {left:?}");
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

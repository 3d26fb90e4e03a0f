//! The committed completions (completions/) and man pages (man/) must match what the binary
//! generates. Refresh them with `IMX_BLESS=1 cargo test --test cli generated`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::env::TestEnv;

const SHELLS: [(&str, &str); 5] = [
    ("bash", "imx.bash"),
    ("zsh", "_imx"),
    ("fish", "imx.fish"),
    ("powershell", "_imx.ps1"),
    ("elvish", "imx.elv"),
];

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn bless() -> bool {
    std::env::var_os("IMX_BLESS").is_some_and(|v| v != "0")
}

fn read_dir(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return BTreeMap::new();
    };
    entries
        .filter_map(Result::ok)
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let data = std::fs::read(e.path()).unwrap_or_default();
            (name, data)
        })
        .collect()
}

#[test]
fn completions_are_up_to_date() {
    let env = TestEnv::new();
    let dir = repo().join("completions");
    let mut stale = Vec::new();
    for (shell, file) in SHELLS {
        let out = env.run(["completions", shell]);
        out.expect_code(0);
        assert!(!out.stdout.is_empty(), "no {shell} completions");
        let path = dir.join(file);
        if bless() {
            std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("mkdir: {e}"));
            std::fs::write(&path, &out.stdout).unwrap_or_else(|e| panic!("write: {e}"));
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(out.stdout.as_str()) {
            stale.push(file);
        }
    }
    assert!(
        stale.is_empty(),
        "completions/ is stale ({stale:?}); refresh with: IMX_BLESS=1 cargo test --test cli generated"
    );
}

#[test]
fn man_pages_are_up_to_date() {
    let env = TestEnv::new();
    let out_dir = env.home().join("man");
    env.run(["man", "--out", out_dir.to_str().unwrap_or_default()])
        .expect_code(0);
    let generated = read_dir(&out_dir);
    assert!(generated.contains_key("imx.1"), "{:?}", generated.keys());
    assert!(
        generated.contains_key("imx-run-list.1"),
        "{:?}",
        generated.keys()
    );
    assert!(
        String::from_utf8_lossy(&generated["imx.1"]).contains("cannot reach"),
        "the top page documents the exit codes"
    );
    let dir = repo().join("man");
    if bless() {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("mkdir: {e}"));
        for (name, data) in &generated {
            std::fs::write(dir.join(name), data).unwrap_or_else(|e| panic!("write: {e}"));
        }
        return;
    }
    let committed = read_dir(&dir);
    let differ: Vec<&String> = generated
        .keys()
        .chain(committed.keys())
        .filter(|k| generated.get(*k) != committed.get(*k))
        .collect();
    assert!(
        differ.is_empty(),
        "man/ is stale ({differ:?}); refresh with: IMX_BLESS=1 cargo test --test cli generated \
         (or: cargo run -- man --out man)"
    );
}

#[test]
fn man_without_out_prints_the_top_page() {
    let env = TestEnv::new();
    let out = env.run(["man"]);
    out.expect_code(0);
    assert!(
        out.stdout.starts_with(".ie"),
        "{}",
        &out.stdout[..out.stdout.len().min(200)]
    );
    assert!(out.stdout.contains("imx"));
}

/// Every page has the sections a man page is expected to have, and a NAME line `whatis` reads:
/// `imx-run-list \- List runs, newest first`.
#[test]
fn man_pages_have_name_exit_status_environment_and_files() {
    let env = TestEnv::new();
    let out_dir = env.home().join("man");
    env.run(["man", "--out", out_dir.to_str().unwrap_or_default()])
        .expect_code(0);
    let pages = read_dir(&out_dir);
    for (file, data) in pages.iter().filter(|(f, _)| f.ends_with(".1")) {
        let page = String::from_utf8_lossy(data);
        let name = file.trim_end_matches(".1");
        let mut lines = page.lines().skip_while(|l| *l != ".SH NAME");
        let _ = lines.next();
        let name_line = lines.next().unwrap_or_default();
        assert!(
            name_line.starts_with(&format!("{name} \\- ")) && name_line.len() > name.len() + 4,
            "{file}: NAME line {name_line:?}"
        );
        for section in [
            ".SH SYNOPSIS",
            ".SH EXIT STATUS",
            ".SH ENVIRONMENT",
            ".SH FILES",
        ] {
            assert!(
                page.lines().any(|l| l == section),
                "{file} has no {section}"
            );
        }
        assert!(page.contains("\\fBIMX_STORE\\fR"), "{file}");
        assert!(page.contains("config.toml"), "{file}");
    }
    let run_list = String::from_utf8_lossy(&pages["imx-run-list.1"]);
    assert!(
        run_list.contains("imx-run-list \\- List runs, newest first\n"),
        "{run_list}"
    );
}

/// `mandoc -Tlint` finds nothing to say about any committed page (skipped, saying so, where
/// mandoc is not installed; `.ci/run` installs it).
#[test]
fn man_pages_are_mandoc_lint_clean() {
    let probe = std::process::Command::new("mandoc")
        .arg("-V")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
    if probe.is_err() {
        eprintln!("skipped: mandoc is not installed (apt-get install mandoc; .ci/run does)");
        return;
    }
    let dir = repo().join("man");
    let mut pages: Vec<PathBuf> = read_dir(&dir).keys().map(|k| dir.join(k)).collect();
    pages.sort();
    assert!(!pages.is_empty(), "no pages in {dir:?}");
    let out = std::process::Command::new("mandoc")
        .arg("-Tlint")
        .args(&pages)
        .output()
        .unwrap_or_else(|e| panic!("mandoc: {e}"));
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && said.trim().is_empty(),
        "mandoc -Tlint (exit {:?}):\n{said}",
        out.status.code()
    );
}

/// `imx-workflow(5)` is made from the text of `imx help workflow` (and `imx help templates`):
/// every heading a subsection, every key there.
#[test]
fn the_workflow_man_page_is_the_workflow_reference() {
    let env = TestEnv::new();
    let out_dir = env.home().join("man");
    env.run(["man", "--out", out_dir.to_str().unwrap_or_default()])
        .expect_code(0);
    let pages = read_dir(&out_dir);
    let page = String::from_utf8_lossy(
        pages
            .get("imx-workflow.5")
            .unwrap_or_else(|| panic!("no imx-workflow.5: {:?}", pages.keys())),
    )
    .into_owned();
    assert!(page.starts_with(".TH IMX-WORKFLOW 5 "), "{page}");
    assert!(
        page.contains(".SH NAME\nimx-workflow \\- the workflow file format of imx\n"),
        "{page}"
    );
    for section in [".SH DESCRIPTION", ".SH TEMPLATES", ".SH SEE ALSO"] {
        assert!(page.lines().any(|l| l == section), "no {section}");
    }
    let reference = env.run(["help", "workflow"]);
    reference.expect_code(0);
    let subsections: Vec<&str> = reference
        .stdout
        .lines()
        .filter(|l| l.ends_with(" keys:") || l.contains(" keys ("))
        .collect();
    assert!(subsections.len() >= 10, "{subsections:?}");
    for heading in subsections {
        let name = heading.split([':', '(']).next().unwrap_or_default().trim();
        assert!(
            page.lines()
                .any(|l| l == format!(".SS {}", name.replace('-', "\\-"))),
            "no .SS {name} in imx-workflow.5"
        );
    }
    for section in imx::spec::documented_keys() {
        for key in section.keys {
            assert!(
                page.contains(&format!("  {}", key.replace('-', "\\-"))),
                "{key} of {} not in imx-workflow.5",
                section.heading
            );
        }
    }
}

//! `imx context ...` and how commands pick their control plane: `--server` / `--store` /
//! `--context` / the current context / the default store.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::env::TestEnv;

/// A loopback URL nothing listens on.
fn dead_url() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    drop(l);
    url
}

#[test]
fn contexts_are_added_listed_switched_shown_and_removed() {
    let env = TestEnv::bare();
    let store = env.home().join("other.db");
    let url = dead_url();
    let store_arg = store.to_str().unwrap();

    let out = env.run(["context", "add", "laptop", "--store", store_arg]);
    out.expect_code(0);
    assert!(
        out.stderr.contains("laptop is now the current context"),
        "{}",
        out.stderr
    );
    env.run_without_store(["context", "add", "prod", "--server", &url])
        .expect_code(0);

    let list = env.json(["context", "list"]);
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["laptop", "prod"]);
    assert_eq!(list[0]["current"], true);

    // The current context (a store) is where commands act: `init` creates it there...
    env.run_without_store(["init"]).expect_code(0);
    env.run_without_store(["workflow", "list"]).expect_code(0);
    assert!(store.exists(), "commands used the laptop context's store");
    assert!(!env.store().exists(), "and not the default one");

    // ...until another is chosen: an unreachable server is exit 6, naming the URL.
    env.run(["context", "use", "prod"]).expect_code(0);
    let out = env.run_without_store(["run", "list"]);
    out.expect_code(6);
    assert!(
        out.stderr.contains(url.trim_start_matches("http://")),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.to_lowercase().contains("refused"),
        "{}",
        out.stderr
    );

    // --context picks one for a single command.
    env.run_without_store(["--context", "laptop", "run", "list"])
        .expect_code(0);
    let shown: serde_json::Value = serde_json::from_str(
        &env.run_without_store(["context", "show", "-o", "json"])
            .stdout,
    )
    .unwrap();
    assert_eq!(shown[0]["name"], "prod");

    let out = env.run(["context", "use", "prd"]);
    out.expect_code(3);
    assert!(
        out.stderr.contains("did you mean \"prod\""),
        "{}",
        out.stderr
    );

    env.run(["context", "remove", "prod"]).expect_code(0);
    let shown = env.run(["context", "show"]);
    assert!(
        shown.stderr.contains("No current context"),
        "{}",
        shown.stderr
    );
}

#[test]
fn bad_context_input_is_refused() {
    let env = TestEnv::new();
    env.run_without_store(["context", "add", "x"])
        .expect_code(2);
    env.run_without_store(["context", "add", "x", "--server", "ftp://nowhere"])
        .expect_code(2);
    let both = env.run([
        "--server",
        "http://127.0.0.1:1",
        "--store",
        "a.db",
        "run",
        "list",
    ]);
    both.expect_code(2);
    // A broken config file names itself.
    env.write(".config/imx/config.toml", "curent = 'x'\n");
    let out = env.run(["context", "list"]);
    out.expect_code(2);
    assert!(out.stderr.contains("config.toml"), "{}", out.stderr);
}

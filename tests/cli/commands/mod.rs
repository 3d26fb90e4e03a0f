//! The command suite: every command of the control plane, end to end, with real `imx`
//! processes (agents run in the background). Tests listed in a module's
//! [`both_modes!`](crate::both_modes) run twice: on a local store and through a real `imx server`. Each test builds its own [`TestEnv`], waits for
//! conditions with deadlines and checks what a user or script would see: exit codes, stdout in
//! each `-o` format, status lines on stderr, and the store's audit trail.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod agents;
mod audit;
mod json;
mod json_sweep;
mod lists;
mod logs;
mod output;
mod runs;
mod steps;
mod streams;
mod waiting;
mod workflow_source;
mod workflows;

use crate::env::TestEnv;

/// A test environment whose agents lose their leases quickly (`IMX_LEASE=2s`).
fn env() -> TestEnv {
    short_leases(TestEnv::new())
}

/// `env` with agents that lose their leases quickly (`IMX_LEASE=2s`; in remote mode the server
/// reads it, since it starts on first use).
fn short_leases(env: TestEnv) -> TestEnv {
    env.with_var("IMX_LEASE", "2s")
}

/// A workflow of one `noop` step.
const NOOP: &str = "name: noop\nsteps:\n  - id: only\n    noop: true\n";

/// A workflow of one step that takes `secs` seconds (a `sleep`).
fn sleepy(name: &str, secs: f64) -> String {
    format!("name: {name}\nsteps:\n  - id: nap\n    run: sleep {secs}\n")
}

/// Whether the step's process recorded in `pid_file` has started; its pid if so.
fn read_pid(pid_file: &std::path::Path) -> Option<i32> {
    std::fs::read_to_string(pid_file)
        .ok()
        .and_then(|s| s.trim().parse().ok())
}

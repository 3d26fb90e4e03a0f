//! Fault injection for the failure tests: with `IMX_TEST_FAULT=<point>` in its environment, a
//! process stops itself (SIGSTOP) when it reaches the named point, so a test can kill -9 it at
//! exactly that moment (between two writes that must both happen, or once a temporary file
//! exists). Hidden and for tests only: nothing documents it, and without the variable a point
//! costs one environment lookup on paths that run once per command.
//!
//! Points: `audit.checkpoint.between` (between the checkpoint's two writes: the record is
//! committed, its signature not yet in the log), `backup.create.written` (the `.partial` file holds the whole backup, not yet
//! renamed), `backup.restore.unpacked` (the restore folder holds the unpacked store, not yet
//! checked or swapped in), `notify.outbox.waiting` (a delivery pass found a run's end in the
//! outbox, not yet turned into a delivery or sent).

/// The environment variable that names the point to stop at.
const VAR: &str = "IMX_TEST_FAULT";

/// Stop this process here if the test asked for it (see the module doc).
pub fn point(name: &str) {
    if std::env::var_os(VAR).is_some_and(|v| v == name) {
        #[cfg(unix)]
        let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGSTOP);
    }
}

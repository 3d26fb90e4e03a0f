//! The `imx` binary: the CLI (`commands/`) over the `imx` library.
//!
//! `commands/` and `tui/` are modules of the binary only, so the library can never depend on
//! them (DESIGN §1).

#[path = "../commands/mod.rs"]
mod commands;
#[path = "../tui/mod.rs"]
mod tui;

/// mimalloc rather than the system allocator: cheaper for the server's many small, short-lived
/// allocations (about 10% of its CPU per listed page; see benches/server.rs).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    commands::main()
}

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
    // The step shim (`imx __step-shim ...`, started by agents for each step) is not a command:
    // it reads no configuration and is hidden from help, completions and man pages.
    let mut args = std::env::args_os().skip(1);
    if args.next().is_some_and(|a| a == imx::agent::SHIM_COMMAND) {
        return imx::agent::shim_main(args);
    }
    commands::main()
}

//! The `imx` binary: the CLI (`commands/`) over the `imx` library.
//!
//! `commands/` and `tui/` are modules of the binary only, so the library can never depend on
//! them (DESIGN §1).

#[path = "../commands/mod.rs"]
mod commands;
#[path = "../tui/mod.rs"]
mod tui;

fn main() -> std::process::ExitCode {
    commands::main()
}

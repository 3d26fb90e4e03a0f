//! The `imx` binary: the CLI (`commands/`) over the `imx` library.
//!
//! `commands/` is a module of the binary only, so the library can never depend on it (DESIGN §1).

#[path = "../commands/mod.rs"]
mod commands;

fn main() -> std::process::ExitCode {
    commands::main()
}

//! The `imx` binary: the CLI (`commands/`) and the dashboard (`tui/`) over the `imx` library.

fn main() -> std::process::ExitCode {
    std::process::ExitCode::SUCCESS
}

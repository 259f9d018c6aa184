//! The `bundleguard` binary: parse arguments, run, map the outcome to an exit code.

fn main() -> std::process::ExitCode {
    bundleguard::cli::main()
}

//! The `bundleguard` binary: parse arguments, run, map the outcome to an exit code.

/// mimalloc instead of the system allocator (see `docs/ARCHITECTURE.md`, "Memory").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    bundleguard::cli::main()
}

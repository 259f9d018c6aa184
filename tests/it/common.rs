//! Helpers shared by the integration tests: paths to fixtures and to `../shared`.

use std::path::PathBuf;

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `fixtures/<rel>`.
pub fn fixture(rel: &str) -> PathBuf {
    repo_root().join("fixtures").join(rel)
}

/// The shared data folder (`../shared` beside the repository, or `$BUNDLEGUARD_SHARED`).
///
/// Tests that need it are `#[ignore = "needs ../shared: ..."]` and named `shared_*`, so a fresh
/// clone lists them as ignored (never as passed), and `.ci/run` runs them with
/// `cargo test -- --ignored shared_` when the folder is there. Run on their own without it,
/// they fail here, saying what is missing.
pub fn shared() -> PathBuf {
    let dir =
        std::env::var_os("BUNDLEGUARD_SHARED").map_or_else(|| repo_root().join("..").join("shared"), PathBuf::from);
    assert!(
        dir.join("osv").is_dir(),
        "needs ../shared (the OSV mirror and the lockfile corpus) at {}: put it beside the repository or set BUNDLEGUARD_SHARED",
        dir.display()
    );
    dir
}

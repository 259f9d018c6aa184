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

/// The shared data folder (`../shared` beside the repository), or `None` with one clear
/// "skipped" line when it is not there (a user's fresh clone).
pub fn shared_dir(test: &str) -> Option<PathBuf> {
    let dir =
        std::env::var_os("BUNDLEGUARD_SHARED").map_or_else(|| repo_root().join("..").join("shared"), PathBuf::from);
    if dir.join("osv").is_dir() {
        Some(dir)
    } else {
        #[expect(clippy::print_stdout, reason = "the one line that says a test was skipped")]
        {
            println!("skipped: ../shared not found ({test})");
        }
        None
    }
}

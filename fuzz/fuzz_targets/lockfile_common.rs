//! Shared body of the lockfile fuzz targets: parse arbitrary bytes as one format; it must never
//! panic. The first half of the input is also served as every sibling file (package.json,
//! go.sum, `-r` includes), so manifests and includes are exercised too.

use std::path::Path;

use bundleguard::lockfile::{LockfileFormat, ParseInput, parse};

pub fn run(format: LockfileFormat, file_name: &str, data: &[u8]) {
    let sibling = data.get(..data.len() / 2).unwrap_or_default().to_vec();
    let read = move |_: &Path| Some(sibling.clone());
    let input = ParseInput { path: Path::new(file_name), bytes: data, read_sibling: &read };
    let _ = parse(format, &input);
}

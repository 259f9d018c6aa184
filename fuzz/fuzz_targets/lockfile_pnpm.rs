//! Fuzz target: the pnpm-lock.yaml parser must never panic, whatever the bytes (and sibling package.json).
#![no_main]

use std::path::Path;

use bundleguard::lockfile::{LockfileFormat, ParseInput, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first half of the input is also served as the sibling package.json.
    let sibling = data.get(..data.len() / 2).unwrap_or_default().to_vec();
    let read = move |_: &Path| Some(sibling.clone());
    let input = ParseInput {
        path: Path::new("pnpm-lock.yaml"),
        bytes: data,
        read_sibling: &read,
    };
    let _ = parse(LockfileFormat::PnpmLock, &input);
});

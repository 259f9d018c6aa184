//! Fuzz target: the CargoLock parser must never panic, whatever the bytes (siblings: the input again,
//! so includes and manifests are exercised too).
#![no_main]

use bundleguard::lockfile::{LockfileFormat, ParseInput, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let sibling = |_: &std::path::Path| Some(data.to_vec());
    let input = ParseInput {
        path: std::path::Path::new("fuzz"),
        bytes: data,
        read_sibling: &sibling,
    };
    let _ = parse(LockfileFormat::CargoLock, &input);
});

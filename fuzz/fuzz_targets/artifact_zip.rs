//! Fuzz target: reading arbitrary bytes as a deployment zip (or binary) never panics and
//! respects the limits.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = bundleguard::bundle::Limits { max_total_bytes: 64 * 1024 * 1024, ..Default::default() };
    let _ = bundleguard::bundle::read_artifact_bytes(std::path::Path::new("fuzz.zip"), data, &limits);
    let _ = bundleguard::bundle::parse_go_buildinfo(data);
});

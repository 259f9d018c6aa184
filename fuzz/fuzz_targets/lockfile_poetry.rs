//! Fuzz target: the poetry.lock parser must never panic, whatever the bytes.
#![no_main]

#[path = "lockfile_common.rs"]
mod common;

use bundleguard::lockfile::LockfileFormat;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| common::run(LockfileFormat::PoetryLock, "poetry.lock", data));

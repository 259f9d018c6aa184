//! Fuzz target: any bytes as an OSV record must parse or fail cleanly, and a parsed record's
//! affected entries must survive the store's index encoding.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(advisory) = bundleguard::advisory::osv::parse_record(data) {
        for entry in &advisory.affected {
            let encoded = serde_json::to_string(entry).expect("index entries always encode");
            let _: bundleguard::advisory::osv::Affected = serde_json::from_str(&encoded).expect("and decode");
        }
    }
});

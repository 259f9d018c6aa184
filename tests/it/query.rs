//! `bundleguard query` on real records (the `advisories/` subset): versions just below, at and
//! above `introduced`, `fixed` and `last_affected` bounds, alias grouping, withdrawn records,
//! and a malformed bound.

use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::Value;

use crate::snapshot::run_snapshot;
use crate::sync::{bundleguard, synced_fixture_db};

/// One database synced from `advisories/` for all query tests.
fn db() -> PathBuf {
    static DB: OnceLock<PathBuf> = OnceLock::new();
    DB.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap().keep();
        synced_fixture_db(&dir)
    })
    .clone()
}

fn query(eco: &str, name: &str, version: &str) -> Value {
    let out = bundleguard(&db()).args(["query", eco, name, version, "--format", "json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn ids(found: &Value) -> Vec<String> {
    let mut ids: Vec<String> = found.as_array().unwrap().iter().map(|v| v["id"].as_str().unwrap().to_owned()).collect();
    ids.sort();
    ids
}

#[test]
fn boundaries_on_real_records() {
    let cases: &[(&str, &str, &str, &[&str])] = &[
        // GHSA-78xj-cgh5-2h22: introduced 0, last_affected 1.1.8 (inclusive).
        ("npm", "ip", "0.0.1", &["GHSA-78xj-cgh5-2h22"]),
        ("npm", "ip", "1.1.8", &["GHSA-78xj-cgh5-2h22"]),
        ("npm", "ip", "1.1.9", &[]),
        // GHSA-762f-c2wg-m8c8: [0, 5.0.3) and [6.0.0, 6.8.6); GHSA-4gpv-cvmq-6526 (same ranges) is withdrawn.
        ("npm", "protobufjs", "5.0.2", &["GHSA-762f-c2wg-m8c8"]),
        ("npm", "protobufjs", "5.0.3", &[]),
        ("npm", "protobufjs", "5.9.9", &[]),
        ("npm", "protobufjs", "6.0.0", &["GHSA-762f-c2wg-m8c8"]),
        ("npm", "protobufjs", "6.8.6", &[]),
        ("npm", "protobufjs", "6.9.9", &[]),
        // GHSA-h755-8qp9-cq85: introduced 6.10.0, fixed "7.2.4, 6.11.4" (malformed: matched conservatively).
        ("npm", "protobufjs", "6.10.0", &["GHSA-h755-8qp9-cq85"]),
        // crates.io: RUSTSEC ranges with prerelease lower bounds and several intervals.
        (
            "crates.io",
            "smallvec",
            "0.6.9",
            &["RUSTSEC-2018-0018", "RUSTSEC-2019-0009", "RUSTSEC-2019-0012", "RUSTSEC-2021-0003"],
        ),
        ("crates.io", "smallvec", "0.6.10", &["RUSTSEC-2018-0018", "RUSTSEC-2021-0003"]),
        ("crates.io", "smallvec", "0.6.13", &["RUSTSEC-2021-0003"]),
        ("crates.io", "smallvec", "0.6.14", &[]),
        // GHSA-69gw / GHSA-mm7v say [0, 0.6.10) where their RUSTSEC aliases start at 0.6.3 / 0.6.5:
        // evaluated as written, the GHSA records match on their own.
        (
            "crates.io",
            "smallvec",
            "0.6.2",
            &["GHSA-69gw-hgj3-45m7", "GHSA-mm7v-vpv8-xfc3", "RUSTSEC-2018-0003", "RUSTSEC-2018-0018"],
        ),
        ("crates.io", "smallvec", "1.0.0", &["RUSTSEC-2021-0003"]),
        ("crates.io", "smallvec", "1.6.1", &[]),
        // Go: module versions carry a `v`, OSV SEMVER bounds do not.
        ("Go", "golang.org/x/text", "v0.3.7", &["GO-2022-1059", "GO-2026-5970"]),
        ("Go", "golang.org/x/text", "v0.3.8", &["GO-2026-5970"]),
        ("Go", "golang.org/x/text", "v0.39.0", &[]),
        // PyPI: PEP 440 versions, GHSA and PYSEC records of one CVE are one finding.
        ("PyPI", "PyYAML", "5.3", &["PYSEC-2020-96", "PYSEC-2021-142"]),
        ("PyPI", "pyyaml", "5.3.1", &["PYSEC-2021-142"]),
        ("PyPI", "PyYAML", "5.4", &[]),
        ("PyPI", "pyyaml", "5.1", &["PYSEC-2020-176", "PYSEC-2020-96", "PYSEC-2021-142"]),
    ];
    let mut failures = Vec::new();
    for (eco, name, version, want) in cases {
        let got = ids(&query(eco, name, version));
        if got != *want {
            failures.push(format!("{eco} {name} {version}: got {got:?}, want {want:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn aliases_are_grouped_into_one_finding() {
    let found = query("PyPI", "pyyaml", "5.3");
    let first = found.as_array().unwrap().iter().find(|v| v["id"] == "PYSEC-2021-142").unwrap();
    assert_eq!(first["aliases"], serde_json::json!(["CVE-2020-14343", "GHSA-8q59-q68h-6hv4"]));
    assert_eq!(first["fixed"], serde_json::json!(["5.4"]));
    assert_eq!(first["severity"], "critical");
    let smallvec = query("crates.io", "smallvec", "0.6.9");
    let r2018 = smallvec.as_array().unwrap().iter().find(|v| v["id"] == "RUSTSEC-2018-0018").unwrap();
    assert_eq!(r2018["aliases"], serde_json::json!(["CVE-2018-25023", "GHSA-55m5-whcv-c49c", "GHSA-66p5-j55p-32r9"]));
}

#[test]
fn a_malformed_bound_is_reported_not_hidden() {
    let found = query("npm", "protobufjs", "7.2.5");
    assert_eq!(ids(&found), vec!["GHSA-h755-8qp9-cq85"]);
    let note = found[0]["notes"][0].as_str().unwrap();
    assert!(note.contains("unreadable version bound \"7.2.4, 6.11.4\""), "{note}");
}

#[test]
fn table_output_and_unknown_packages() {
    insta::assert_snapshot!(
        "unknown_package",
        run_snapshot(bundleguard(&db()).args(["query", "npm", "left-pad", "1.0.0"]))
    );
    insta::assert_snapshot!("no_fixed_version", run_snapshot(bundleguard(&db()).args(["query", "npm", "ip", "1.1.5"])));
    insta::assert_snapshot!("unknown_ecosystem", run_snapshot(bundleguard(&db()).args(["query", "maven", "x", "1"])));
}

#[test]
fn no_database_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("none.db");
    insta::assert_snapshot!(run_snapshot(bundleguard(&missing).args(["query", "npm", "ip", "1.1.5"])));
    assert!(!missing.exists(), "a query must not create a database");
}

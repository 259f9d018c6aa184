//! A scan's registry metadata end to end: fetched online while the scan matches (on the scan's
//! second connection to the database file) and written to the cache, then read back from the
//! cache alone by later scans (`--no-metadata`, `--offline`), which give the same signals and ask
//! the registry nothing.

use std::path::Path;

use serde_json::Value;

use crate::common::{fixture, repo_root};
use crate::server::MockBucket;
use crate::sync::bundleguard;

/// The stale and takeover findings of a JSON report: (code, package) pairs, sorted.
fn registry_findings(report: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = report["bundles"]
        .as_array()
        .expect("bundles")
        .iter()
        .flat_map(|b| b["risks"].as_array().into_iter().flatten())
        .filter(|f| matches!(f["kind"].as_str(), Some("stale" | "takeover")))
        .map(|f| {
            let p = &f["package"];
            (f["code"].as_str().unwrap_or_default().to_owned(), format!("{}@{}", p["name"], p["version"]))
        })
        .collect();
    out.sort();
    out
}

fn scan(db: &Path, registry: &MockBucket, project: &Path, extra: &[&str]) -> Value {
    let out = bundleguard(db)
        .env_remove("BUNDLEGUARD_NO_METADATA")
        .env("BUNDLEGUARD_NOW", "2024-05-21T12:00:00Z")
        .env("PIP_INDEX_URL", format!("{}/simple/", registry.url))
        .args(["scan", "--format", "json", "--no-inventory"])
        .args(extra)
        .arg(project)
        .output()
        .expect("scan runs");
    // exit 2 is an incomplete verdict here (PyPI never gives some facts), with a report
    assert!(matches!(out.status.code(), Some(0..=2)), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn an_online_scan_caches_the_metadata_that_cache_only_scans_read_back() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let db = tmp.path().join("advisories.sqlite");
    let source = repo_root().join("advisories");
    let synced = bundleguard(&db).args(["sync", "--quiet", "--source"]).arg(&source).output().expect("sync runs");
    assert!(synced.status.success(), "{}", String::from_utf8_lossy(&synced.stderr));
    let project = tmp.path().join("svc");
    std::fs::create_dir_all(&project).expect("project folder");
    std::fs::write(project.join("requirements.txt"), "requests==2.32.0\n").expect("requirements");
    let registry = MockBucket::start(fixture("registry/pypi/json-before-yank"));

    // Online: the registry's facts raise signals (none can be raised without them).
    let online = scan(&db, &registry, &project, &[]);
    let expected = registry_findings(&online);
    assert!(!expected.is_empty(), "{online:#}");
    assert!(expected.iter().all(|(_, p)| p == "\"requests\"@\"2.32.0\""), "{expected:?}");
    assert!(!registry.log().is_empty(), "the online scan asked the registry");
    // What it fetched is in the database file itself, not left in the `-wal` for every later
    // process to read again at its open.
    let wal = std::fs::metadata(tmp.path().join("advisories.sqlite-wal")).map_or(0, |m| m.len());
    assert_eq!(wal, 0, "the scan that wrote fetched metadata checkpoints");

    // The cache alone, read-only: the same signal, no request.
    registry.clear_log();
    for flag in ["--no-metadata", "--offline"] {
        let cached = scan(&db, &registry, &project, &[flag]);
        assert_eq!(registry_findings(&cached), expected, "{flag}: {cached:#}");
        assert_eq!(cached["bundles"], online["bundles"], "{flag}");
    }
    assert_eq!(registry.log(), Vec::<String>::new(), "cache-only scans ask nothing");

    // Online again within the TTL: answered from the cache, no request either.
    let again = scan(&db, &registry, &project, &[]);
    assert_eq!(again["bundles"], online["bundles"]);
    assert_eq!(registry.log(), Vec::<String>::new());
}

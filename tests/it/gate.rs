//! The gate never passes what it did not check (issue 12, items 3, 4 and 6): a database without
//! the scanned ecosystem, a zero-byte database, and packages whose version cannot be matched all
//! make the scan `incomplete` (exit 2) in every format, never `pass`.

use std::path::Path;

use serde_json::Value;

use crate::common::{fixture, repo_root};
use crate::sync::{bundleguard, sync_json};

/// A database holding only the Go advisories of `advisories/`.
fn go_only_db(dir: &Path) -> std::path::PathBuf {
    let db = dir.join("go-only.db");
    sync_json(&db, &repo_root().join("advisories").display().to_string(), &["--ecosystem", "Go"]);
    db
}

fn scan(db: &Path, args: &[&str]) -> (i32, String, String) {
    let out = bundleguard(db).current_dir(repo_root()).arg("scan").args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn offline_scan_of_an_ecosystem_missing_from_the_database_is_incomplete_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let db = go_only_db(dir.path());
    let lock = fixture("scan/lambda-repo/report-api/requirements.txt");
    let lock = lock.to_str().unwrap();
    let (code, stdout, stderr) =
        scan(&db, &["--offline", "--no-inventory", "--format", "json", "--fail-on", "critical", lock]);
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["verdict"], "incomplete");
    let not_evaluated = doc["not_evaluated"].as_array().unwrap();
    assert!(!not_evaluated.is_empty());
    assert!(not_evaluated.iter().all(|n| n["reason"] == "no PyPI advisories in the database"), "{not_evaluated:?}");
    assert_eq!(doc["summary"]["not_evaluated"].as_u64(), Some(not_evaluated.len() as u64));
    let (code, table, _) = scan(&db, &["--offline", "--no-inventory", "--fail-on", "critical", lock]);
    assert_eq!(code, 2);
    assert!(table.contains("INCOMPLETE:"), "{table}");
    assert!(!table.contains("PASS"), "{table}");
    assert!(table.contains("not evaluated:"), "{table}");
    let (code, md, _) =
        scan(&db, &["--offline", "--no-inventory", "--format", "markdown", "--fail-on", "critical", lock]);
    assert_eq!(code, 2);
    assert!(md.starts_with("## ⚠️ bundleguard: incomplete"), "{md}");
}

#[test]
fn zero_byte_database_is_not_a_pass() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("empty.db");
    std::fs::write(&db, b"").unwrap();
    let lock = fixture("scan/lambda-repo/report-api/requirements.txt");
    let (code, stdout, stderr) =
        scan(&db, &["--offline", "--no-inventory", "--format", "json", lock.to_str().unwrap()]);
    assert_ne!(code, 0, "{stdout}\n{stderr}");
    if let Ok(doc) = serde_json::from_str::<Value>(&stdout) {
        assert_ne!(doc["verdict"], "pass");
    }
}

#[test]
fn query_of_an_ecosystem_never_synced_is_an_error_not_no_advisories() {
    let dir = tempfile::tempdir().unwrap();
    let db = go_only_db(dir.path());
    let out = bundleguard(&db).args(["query", "PyPI", "requests", "2.19.1"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains("no known advisories"), "{stdout}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("no PyPI advisories in the database"));
}

#[test]
fn versions_that_cannot_be_matched_are_named_and_make_the_scan_incomplete() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db.sqlite");
    sync_json(&db, &repo_root().join("advisories").display().to_string(), &["--ecosystem", "npm"]);
    let project = dir.path().join("fn");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(
        project.join("package-lock.json"),
        r#"{"name":"f","lockfileVersion":3,"packages":{"":{"name":"f","dependencies":{"left-pad":"latest"}},
            "node_modules/left-pad":{"version":"latest"}}}"#,
    )
    .unwrap();
    let (code, stdout, stderr) =
        scan(&db, &["--offline", "--no-inventory", "--format", "json", project.to_str().unwrap()]);
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["verdict"], "incomplete");
    let named: Vec<&str> =
        doc["not_evaluated"].as_array().unwrap().iter().filter_map(|n| n["package"].as_str()).collect();
    assert_eq!(named, ["left-pad@latest"]);
}

//! `bundleguard sync` and `db status` end to end, against a mock OSV bucket on 127.0.0.1:
//! full, no-change, incremental, retried, cut, corrupt, malformed and killed syncs.

use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;
use serde_json::Value;

use crate::common::{repo_root, shared};
use crate::server::{Fault, MockBucket};

pub fn bundleguard(db: &Path) -> Command {
    let mut cmd = Command::cargo_bin("bundleguard").expect("binary");
    cmd.env("BUNDLEGUARD_DB", db).env_remove("BUNDLEGUARD_SOURCE").env("NO_COLOR", "1");
    cmd
}

pub fn sync_json(db: &Path, source: &str, extra: &[&str]) -> Value {
    let out =
        bundleguard(db).args(["sync", "--quiet", "--format", "json", "--source", source]).args(extra).output().unwrap();
    assert!(out.status.success(), "sync failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

pub fn status_json(db: &Path) -> Value {
    let out = bundleguard(db).args(["db", "status", "--format", "json"]).output().unwrap();
    assert!(out.status.success(), "status failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

pub fn counts(status: &Value) -> Vec<(String, u64)> {
    status["ecosystems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["ecosystem"].as_str().unwrap().to_owned(), e["advisories"].as_u64().unwrap()))
        .collect()
}

/// Number of `.json` entries in `<root>/<eco>/all.zip`.
fn zip_records(root: &Path, eco: &str) -> u64 {
    let bytes = std::fs::read(root.join(eco).join("all.zip")).unwrap();
    let archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    archive.file_names().filter(|n| n.as_ref().is_ok_and(|n| n.ends_with(".json"))).count() as u64
}

pub fn requests(bucket: &MockBucket, needle: &str) -> usize {
    bucket.log().iter().filter(|l| l.contains(needle)).count()
}

/// Copies a bucket folder so a test can change it.
pub fn copy_bucket(from: &Path, to: &Path, ecosystems: &[&str]) {
    for eco in ecosystems {
        std::fs::create_dir_all(to.join(eco)).unwrap();
        for file in ["all.zip", "modified_id.csv"] {
            std::fs::copy(from.join(eco).join(file), to.join(eco).join(file)).unwrap();
        }
    }
}

/// Rewrites `<root>/<eco>`: `edit` gets every (id, json) and returns the new set.
pub fn rewrite_bucket(root: &Path, eco: &str, edit: impl FnOnce(Vec<(String, Value)>) -> Vec<(String, Value)>) {
    use std::io::{Read, Write};
    let bytes = std::fs::read(root.join(eco).join("all.zip")).unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut records = Vec::new();
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).unwrap();
        let mut s = String::new();
        f.read_to_string(&mut s).unwrap();
        let v: Value = serde_json::from_str(&s).unwrap();
        records.push((v["id"].as_str().unwrap().to_owned(), v));
    }
    let mut records = edit(records);
    records.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let mut csv = Vec::new();
    for (id, v) in &records {
        out.start_file(format!("{id}.json"), zip::write::SimpleFileOptions::default()).unwrap();
        out.write_all(v.to_string().as_bytes()).unwrap();
        csv.push(format!("{},{id}\n", v["modified"].as_str().unwrap_or("2020-01-01T00:00:00Z")));
    }
    csv.sort();
    csv.reverse();
    std::fs::write(root.join(eco).join("all.zip"), out.finish().unwrap().into_inner()).unwrap();
    std::fs::write(root.join(eco).join("modified_id.csv"), csv.concat()).unwrap();
}

/// Every record modified at `time` (a new export where everything changed).
pub fn touch_all(records: Vec<(String, Value)>, time: &str) -> Vec<(String, Value)> {
    records
        .into_iter()
        .map(|(id, mut v)| {
            v["modified"] = Value::from(time);
            (id, v)
        })
        .collect()
}

#[test]
fn full_then_no_change_sync_from_the_fixture_bucket() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("db.sqlite");
    let root = repo_root().join("advisories");
    let bucket = MockBucket::start(root.clone());
    let report = sync_json(&db, &bucket.url, &[]);
    for eco in report["ecosystems"].as_array().unwrap() {
        assert_eq!(eco["mode"], "full");
        assert_eq!(eco["records"].as_u64().unwrap(), zip_records(&root, eco["ecosystem"].as_str().unwrap()));
    }
    let status = status_json(&db);
    let want: Vec<(String, u64)> =
        ["npm", "PyPI", "Go", "crates.io"].iter().map(|e| ((*e).to_owned(), zip_records(&root, e))).collect();
    assert_eq!(counts(&status), want);
    assert_eq!(status["ecosystems"][1]["newest_modified"], "2027-07-09T15:54:00Z", "PYSEC-2025-19's date in 2027");
    assert_eq!(status["ecosystems"][0]["source"], bucket.url.as_str());

    bucket.clear_log();
    let again = sync_json(&db, &bucket.url, &[]);
    assert!(again["ecosystems"].as_array().unwrap().iter().all(|e| e["mode"] == "up to date"));
    assert_eq!(bucket.log().len(), 4, "one conditional CSV request per ecosystem: {:?}", bucket.log());
    assert_eq!(requests(&bucket, "304 "), 4);
    assert_eq!(counts(&status_json(&db)), want);
}

#[test]
fn incremental_sync_fetches_only_changed_records() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("db.sqlite");
    let root = tmp.path().join("bucket");
    copy_bucket(&repo_root().join("advisories"), &root, &["crates.io"]);
    let bucket = MockBucket::start(root.clone());
    sync_json(&db, &bucket.url, &["--ecosystem", "crates.io"]);
    let before = zip_records(&root, "crates.io");

    let mut changed_id = String::new();
    let mut removed_id = String::new();
    rewrite_bucket(&root, "crates.io", |mut records| {
        changed_id.clone_from(&records[0].0);
        records[0].1["modified"] = Value::from("2026-11-01T00:00:00Z");
        records[0].1["summary"] = Value::from("changed upstream");
        removed_id = records.pop().unwrap().0;
        let mut added = records[1].1.clone();
        added["id"] = Value::from("RUSTSEC-2099-0001");
        added["aliases"] = Value::from(Vec::<String>::new());
        added["modified"] = Value::from("2026-11-02T00:00:00.5Z");
        records.push(("RUSTSEC-2099-0001".into(), added));
        records
    });
    bucket.clear_log();
    let report = sync_json(&db, &bucket.url, &["--ecosystem", "crates.io"]);
    let eco = &report["ecosystems"][0];
    assert_eq!(eco["mode"], "incremental");
    let mut changed: Vec<&str> = eco["changed"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    changed.sort_unstable();
    assert_eq!(changed, vec![changed_id.as_str(), "RUSTSEC-2099-0001"]);
    assert_eq!(eco["removed"], serde_json::json!([removed_id]));
    assert_eq!(requests(&bucket, "all.zip"), 0, "no zip download: {:?}", bucket.log());
    assert_eq!(requests(&bucket, ".json"), 2);
    assert_eq!(counts(&status_json(&db))[3], ("crates.io".to_owned(), before));
}

#[test]
fn retries_server_errors_then_succeeds() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("db.sqlite");
    let bucket = MockBucket::start(repo_root().join("advisories"));
    bucket.add_fault(Fault::Status { suffix: "Go/modified_id.csv".into(), status: 503, count: 2 });
    bucket.add_fault(Fault::Status { suffix: "Go/all.zip".into(), status: 500, count: 1 });
    let report = sync_json(&db, &bucket.url, &["--ecosystem", "Go"]);
    assert_eq!(report["ecosystems"][0]["mode"], "full");
    assert_eq!(requests(&bucket, "503 /Go/modified_id.csv"), 2);
    assert_eq!(requests(&bucket, "500 /Go/all.zip"), 1);
    assert_eq!(requests(&bucket, "200 /Go/all.zip"), 1);
}

#[test]
fn a_cut_download_fails_cleanly_and_keeps_the_previous_database() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("db.sqlite");
    let root = tmp.path().join("bucket");
    copy_bucket(&repo_root().join("advisories"), &root, &["npm", "Go"]);
    let bucket = MockBucket::start(root.clone());
    sync_json(&db, &bucket.url, &["--ecosystem", "npm,Go"]);
    let before = status_json(&db)["ecosystems"].clone();

    // A new export appears, but every download of the Go zip is cut half-way.
    rewrite_bucket(&root, "Go", |records| touch_all(records, "2026-11-03T00:00:00Z"));
    rewrite_bucket(&root, "npm", |mut records| {
        records[0].1["modified"] = Value::from("2026-11-03T00:00:00Z");
        records
    });
    bucket.add_fault(Fault::Cut { suffix: "Go/all.zip".into(), after: 1000, count: 10 });
    let out =
        bundleguard(&db).args(["sync", "--quiet", "--ecosystem", "npm,Go", "--source", &bucket.url]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("/Go/all.zip") && stderr.contains("gave up after 4 attempts"), "{stderr}");
    assert!(stderr.contains("the database was left as it was"), "{stderr}");
    assert_eq!(status_json(&db)["ecosystems"], before, "npm's change must not be half-applied either");
}

#[test]
fn a_corrupt_zip_is_rejected_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("db.sqlite");
    let root = tmp.path().join("bucket");
    copy_bucket(&repo_root().join("advisories"), &root, &["crates.io"]);
    let zip = root.join("crates.io/all.zip");
    let bytes = std::fs::read(&zip).unwrap();
    std::fs::write(&zip, &bytes[..bytes.len() / 2]).unwrap();
    let bucket = MockBucket::start(root.clone());
    let out = bundleguard(&db)
        .args(["sync", "--quiet", "--ecosystem", "crates.io", "--source", &bucket.url])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("crates.io/all.zip: corrupt or truncated download, nothing ingested"), "{stderr}");
    assert_eq!(status_json(&db)["ecosystems"][3]["advisories"], 0);

    // Flipped bytes inside the compressed data: the CRC check rejects it.
    let mut flipped = bytes.clone();
    for b in &mut flipped[200..260] {
        *b ^= 0x55;
    }
    std::fs::write(&zip, &flipped).unwrap();
    let out = bundleguard(&db)
        .args(["sync", "--quiet", "--ecosystem", "crates.io", "--source", &bucket.url])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(status_json(&db)["ecosystems"][3]["advisories"], 0);
}

#[test]
fn malformed_records_are_skipped_counted_and_named() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("db.sqlite");
    let root = tmp.path().join("bucket");
    copy_bucket(&repo_root().join("advisories"), &root, &["npm"]);
    let good = zip_records(&root, "npm");
    rewrite_bucket(&root, "npm", |mut records| {
        records.push((
            "ZZ-BAD-EVENT".into(),
            serde_json::json!({"id": "ZZ-BAD-EVENT", "modified": "2024-01-01T00:00:00Z",
            "affected": [{"package": {"ecosystem": "npm", "name": "x"}, "ranges": [{"type": "SEMVER",
            "events": [{"introduced": "0", "fixed": "1.0.0"}]}]}]}),
        ));
        records.push(("ZZ-NO-MODIFIED".into(), serde_json::json!({"id": "ZZ-NO-MODIFIED"})));
        records
    });
    let report = sync_json(&db, &root.display().to_string(), &["--ecosystem", "npm"]);
    let eco = &report["ecosystems"][0];
    assert_eq!(eco["records"].as_u64().unwrap(), good);
    let malformed = eco["malformed"].as_array().unwrap();
    assert_eq!(malformed.len(), 2);
    assert_eq!(malformed[0]["file"], "ZZ-BAD-EVENT.json");
    assert!(malformed[0]["error"].as_str().unwrap().starts_with("affected[0].ranges[0].events[0]: has both"));
    assert_eq!(malformed[1]["error"], "modified: missing (required by the OSV schema)");
    let status = status_json(&db);
    assert_eq!(status["ecosystems"][0]["advisories"].as_u64().unwrap(), good);
    assert_eq!(status["ecosystems"][0]["malformed_skipped"], 2);

    let table =
        bundleguard(&db).args(["sync", "--quiet", "--ecosystem", "npm", "--source"]).arg(&root).output().unwrap();
    assert!(table.status.success());
}

#[test]
fn a_sync_killed_mid_download_leaves_the_database_readable_and_unchanged() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("db.sqlite");
    let root = tmp.path().join("bucket");
    copy_bucket(&repo_root().join("advisories"), &root, &["PyPI"]);
    let bucket = MockBucket::start(root.clone());
    sync_json(&db, &bucket.url, &["--ecosystem", "PyPI"]);
    let before = status_json(&db)["ecosystems"].clone();
    // Every record changed: the new zip is needed, and it arrives slowly.
    rewrite_bucket(&root, "PyPI", |records| touch_all(records, "2026-11-03T00:00:00Z"));
    bucket.add_fault(Fault::Slow { suffix: "PyPI/all.zip".into(), chunk: 512, pause: Duration::from_millis(20) });
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("bundleguard"))
        .env("BUNDLEGUARD_DB", &db)
        .args(["sync", "--quiet", "--ecosystem", "PyPI", "--source", &bucket.url])
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(400));
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(status_json(&db)["ecosystems"], before);
}

/// Syncs the shared mirror over HTTP, then kills syncs of it at several moments (some land in
/// the write transaction): every time, the database shows one complete state, never a mix.
#[test]
#[ignore = "needs ../shared: the OSV mirror osv/"]
fn shared_mirror_full_sync_counts_and_kills_leave_a_complete_state() {
    let shared = shared();
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("db.sqlite");
    let mirror = shared.join("osv");
    let bucket = MockBucket::start(mirror.clone());
    let report = sync_json(&db, &bucket.url, &[]);
    let full = counts(&status_json(&db));
    for (eco, n) in &full {
        assert_eq!(*n, zip_records(&mirror, eco), "{eco}");
        let reported =
            report["ecosystems"].as_array().unwrap().iter().find(|e| e["ecosystem"] == eco.as_str()).unwrap();
        assert_eq!(reported["malformed"].as_array().unwrap().len(), 0, "{eco}");
    }
    assert_eq!(full.iter().map(|(_, n)| n).sum::<u64>(), 48_196);

    // State A: only the small fixture subset. Then kill syncs towards state B (the full mirror).
    let db2 = tmp.path().join("db2.sqlite");
    let small = MockBucket::start(repo_root().join("advisories"));
    sync_json(&db2, &small.url, &[]);
    let state_a = counts(&status_json(&db2));
    for delay_ms in [300, 700, 1100, 1500, 1900] {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("bundleguard"))
            .env("BUNDLEGUARD_DB", &db2)
            .args(["sync", "--quiet", "--source", &bucket.url])
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill();
        child.wait().unwrap();
        let now = counts(&status_json(&db2));
        assert!(now == state_a || now == full, "after a kill at {delay_ms} ms: {now:?}");
    }
}

/// A real incremental sync: Go and crates.io as exported on 2026-08-01, then as on 2026-08-21.
#[test]
#[ignore = "needs ../shared: the OSV exports osv-2026-08-01/ and osv/"]
fn shared_mirror_incremental_sync_between_two_real_exports() {
    let shared = shared();
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("db.sqlite");
    let bucket = MockBucket::start(shared.join("osv-2026-08-01"));
    sync_json(&db, &bucket.url, &["--ecosystem", "Go,crates.io"]);
    bucket.set_root(shared.join("osv"));
    bucket.clear_log();
    let report = sync_json(&db, &bucket.url, &["--ecosystem", "Go,crates.io"]);
    let changed: Vec<usize> =
        report["ecosystems"].as_array().unwrap().iter().map(|e| e["changed"].as_array().unwrap().len()).collect();
    assert_eq!(changed, vec![164, 50], "{report}");
    assert!(report["ecosystems"].as_array().unwrap().iter().all(|e| e["mode"] == "incremental"));
    assert_eq!(requests(&bucket, "all.zip"), 0);
    let status = counts(&status_json(&db));
    assert_eq!(status[2], ("Go".to_owned(), zip_records(&shared.join("osv"), "Go")));
    assert_eq!(status[3], ("crates.io".to_owned(), zip_records(&shared.join("osv"), "crates.io")));
}

pub fn synced_fixture_db(dir: &Path) -> PathBuf {
    let db = dir.join("db.sqlite");
    sync_json(&db, &repo_root().join("advisories").display().to_string(), &[]);
    db
}

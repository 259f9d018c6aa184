//! A fault-injecting bucket (empty, short and cut listings, empty and all-malformed zips, zip
//! bombs, HTML record bodies, stalls, a source that is down, FIFOs) and foreign, read-only and
//! damaged database files. For every fault: the previous database is kept (same counts), the
//! exit code is 2, and the message names the source.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::repo_root;
use crate::server::{Fault, MockBucket};
use crate::sync::{bundleguard, copy_bucket, counts, requests, rewrite_bucket, status_json, sync_json, touch_all};

/// Runs a sync that must fail: exit 2 and a message; returns stderr.
fn failed_sync(db: &Path, source: &str, extra: &[&str]) -> String {
    let out = bundleguard(db).args(["sync", "--quiet", "--source", source]).args(extra).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "stdout: {}\nstderr: {stderr}", String::from_utf8_lossy(&out.stdout));
    stderr
}

/// A bucket copy with `ecosystems`, served, and a database synced from it.
fn synced(tmp: &Path, ecosystems: &[&str]) -> (std::path::PathBuf, std::path::PathBuf, MockBucket) {
    let root = tmp.join("bucket");
    copy_bucket(&repo_root().join("advisories"), &root, ecosystems);
    let bucket = MockBucket::start(root.clone());
    let db = tmp.join("db.sqlite");
    sync_json(&db, &bucket.url, &["--ecosystem", &ecosystems.join(",")]);
    (db, root, bucket)
}

fn zip_of(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, bytes) in entries {
        out.start_file(name.as_str(), zip::write::SimpleFileOptions::default()).unwrap();
        out.write_all(bytes).unwrap();
    }
    out.finish().unwrap().into_inner()
}

#[test]
fn an_empty_short_or_cut_listing_removes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let (db, root, bucket) = synced(tmp.path(), &["Go"]);
    let before = status_json(&db)["ecosystems"].clone();
    let csv = std::fs::read(root.join("Go/modified_id.csv")).unwrap();
    let lines: Vec<&[u8]> = csv.split_inclusive(|&b| b == b'\n').collect();
    let tenth_of_lines = lines[..lines.len() / 10].concat();
    let html = b"<html><body>Please sign in to the Wi-Fi</body></html>\n".to_vec();
    let faults = [
        ("empty", Fault::Body { suffix: "Go/modified_id.csv".into(), body: Vec::new(), count: 1 }),
        ("HTML", Fault::Body { suffix: "Go/modified_id.csv".into(), body: html.clone(), count: 1 }),
        ("10% of the lines", Fault::Body { suffix: "Go/modified_id.csv".into(), body: tenth_of_lines, count: 1 }),
        (
            "cut mid-line, no Content-Length",
            Fault::Unbounded { suffix: "Go/modified_id.csv".into(), after: csv.len() / 10 + 7, count: 1 },
        ),
        (
            "cut mid-line",
            Fault::Body { suffix: "Go/modified_id.csv".into(), body: csv[..csv.len() - 5].to_vec(), count: 1 },
        ),
    ];
    for (what, fault) in faults {
        bucket.add_fault(fault);
        let stderr = failed_sync(&db, &bucket.url, &["--ecosystem", "Go"]);
        assert!(stderr.contains(&format!("{}/Go/modified_id.csv", bucket.url)), "{what}: {stderr}");
        let cut = stderr.contains("the last line is cut");
        let refused = stderr.contains("refusing to sync Go: it would remove") && stderr.contains("--allow-shrink");
        let not_csv = stderr.contains(":1: expected `<modified>,<id>`, found \"<html>");
        assert!(cut || refused || not_csv, "{what}: {stderr}");
        assert_eq!(status_json(&db)["ecosystems"], before, "{what}");
    }
    // The same listing served whole is fine, and a source that really shrank can be accepted.
    assert!(sync_json(&db, &bucket.url, &["--ecosystem", "Go"])["ecosystems"][0]["mode"] != "full");
    rewrite_bucket(&root, "Go", |records| records.into_iter().take(20).collect());
    let stderr = failed_sync(&db, &bucket.url, &["--ecosystem", "Go"]);
    assert!(stderr.contains("it would remove 207 records"), "{stderr}");
    let report = sync_json(&db, &bucket.url, &["--ecosystem", "Go", "--allow-shrink"]);
    assert_eq!(report["ecosystems"][0]["removed"].as_array().unwrap().len(), 207);
    assert_eq!(counts(&status_json(&db))[2], ("Go".to_owned(), 20));
}

#[test]
fn an_empty_or_all_malformed_zip_replaces_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let (db, root, bucket) = synced(tmp.path(), &["crates.io"]);
    let before = status_json(&db)["ecosystems"].clone();
    // A new export where everything changed, so the zip is needed...
    rewrite_bucket(&root, "crates.io", |records| touch_all(records, "2026-11-05T00:00:00Z"));
    let good_zip = std::fs::read(root.join("crates.io/all.zip")).unwrap();
    let names: Vec<String> = {
        let archive = zip::ZipArchive::new(std::io::Cursor::new(good_zip.clone())).unwrap();
        archive.file_names().map(|n| n.unwrap().into_owned()).collect()
    };
    // ...but it is empty, or every record in it is malformed: over HTTP and from a folder.
    let malformed: Vec<(String, Vec<u8>)> = names.iter().map(|n| (n.clone(), b"{\"id\": 1}".to_vec())).collect();
    for (what, zip, reason) in
        [("empty", zip_of(&[]), "it holds no records"), ("all malformed", zip_of(&malformed), "are malformed")]
    {
        std::fs::write(root.join("crates.io/all.zip"), &zip).unwrap();
        for source in [bucket.url.clone(), root.display().to_string()] {
            let stderr = failed_sync(&db, &source, &["--ecosystem", "crates.io"]);
            assert!(
                stderr.contains(&format!("{source}/crates.io/all.zip: refusing to sync crates.io")),
                "{what}: {stderr}"
            );
            assert!(stderr.contains(reason) && stderr.contains("keeps its 71 crates.io records"), "{what}: {stderr}");
            assert_eq!(status_json(&db)["ecosystems"], before, "{what} from {source}");
        }
    }
    // An HTML page where the zip should be.
    std::fs::write(root.join("crates.io/all.zip"), b"<html><body>502 Bad Gateway</body></html>").unwrap();
    let stderr = failed_sync(&db, &bucket.url, &["--ecosystem", "crates.io"]);
    let want = format!("{}/crates.io/all.zip: corrupt or truncated download, nothing ingested", bucket.url);
    assert!(stderr.contains(&want), "{stderr}");
    assert_eq!(status_json(&db)["ecosystems"], before);
    // A first sync from an empty zip leaves the ecosystem unsynced (never "synced, 0 records").
    let fresh = tmp.path().join("fresh.sqlite");
    std::fs::write(root.join("crates.io/all.zip"), zip_of(&[])).unwrap();
    let stderr = failed_sync(&fresh, &bucket.url, &["--ecosystem", "crates.io"]);
    assert!(stderr.contains("it holds no records"), "{stderr}");
    assert_eq!(status_json(&fresh)["ecosystems"][3]["synced_at"], Value::Null);
    std::fs::write(root.join("crates.io/all.zip"), good_zip).unwrap();
    assert_eq!(sync_json(&db, &bucket.url, &["--ecosystem", "crates.io"])["ecosystems"][0]["mode"], "full");
}

#[test]
fn html_or_empty_record_bodies_fail_the_sync_and_are_fetched_again() {
    let tmp = tempfile::tempdir().unwrap();
    let (db, root, bucket) = synced(tmp.path(), &["crates.io"]);
    let before = status_json(&db)["ecosystems"].clone();
    let mut ids = Vec::new();
    rewrite_bucket(&root, "crates.io", |mut records| {
        for record in records.iter_mut().take(3) {
            record.1["modified"] = Value::from("2026-11-06T00:00:00Z");
            ids.push(record.0.clone());
        }
        records
    });
    let html = b"<!DOCTYPE html><html><body>Service Unavailable</body></html>".to_vec();
    bucket.add_fault(Fault::Body { suffix: format!("/{}.json", ids[0]), body: html, count: 1 });
    bucket.add_fault(Fault::Body { suffix: format!("/{}.json", ids[1]), body: Vec::new(), count: 1 });
    let stderr = failed_sync(&db, &bucket.url, &["--ecosystem", "crates.io"]);
    assert!(stderr.contains(&format!("{}: 2 crates.io record(s) did not arrive intact", bucket.url)), "{stderr}");
    assert!(stderr.contains(&ids[0]) && stderr.contains(&ids[1]) && !stderr.contains(&ids[2]), "{stderr}");
    assert_eq!(status_json(&db)["ecosystems"], before);
    // Nothing was marked as seen: the next sync fetches all three again.
    bucket.clear_log();
    let report = sync_json(&db, &bucket.url, &["--ecosystem", "crates.io"]);
    assert_eq!(report["ecosystems"][0]["mode"], "incremental");
    assert_eq!(report["ecosystems"][0]["changed"].as_array().unwrap().len(), 3);
    assert_eq!(requests(&bucket, ".json"), 3, "{:?}", bucket.log());
}

#[test]
fn a_stalled_or_crawling_server_is_timed_out() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("db.sqlite");
    let bucket = MockBucket::start(repo_root().join("advisories"));
    bucket.add_fault(Fault::Stall { suffix: "Go/all.zip".into(), after: 1000 });
    let started = Instant::now();
    let stderr = failed_sync(&db, &bucket.url, &["--ecosystem", "Go", "--idle-timeout", "300ms"]);
    assert!(stderr.contains(&format!("{}/Go/all.zip", bucket.url)) && stderr.contains("timed out"), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(50), "a stall must not hang the sync");
    assert_eq!(status_json(&db)["ecosystems"][2]["advisories"], 0);

    // A server that never answers at all.
    bucket.add_fault(Fault::Silent { suffix: "npm/modified_id.csv".into() });
    let stderr = failed_sync(&db, &bucket.url, &["--ecosystem", "npm", "--idle-timeout", "300ms"]);
    assert!(
        stderr.contains(&format!("{}/npm/modified_id.csv", bucket.url)) && stderr.contains("timed out"),
        "{stderr}"
    );
    assert_eq!(requests(&bucket, "silent /npm/modified_id.csv"), 4, "{:?}", bucket.log());

    // Bytes keep coming, too slowly: the overall deadline ends it.
    bucket.add_fault(Fault::Slow { suffix: "PyPI/all.zip".into(), chunk: 256, pause: Duration::from_millis(50) });
    let stderr = failed_sync(&db, &bucket.url, &["--ecosystem", "PyPI", "--deadline", "1s"]);
    assert!(stderr.contains(&format!("{}/PyPI/all.zip", bucket.url)) && stderr.contains("deadline"), "{stderr}");
}

#[test]
fn a_source_that_is_down_is_given_up_early() {
    let tmp = tempfile::tempdir().unwrap();
    let (db, root, bucket) = synced(tmp.path(), &["crates.io"]);
    let before = status_json(&db)["ecosystems"].clone();
    rewrite_bucket(&root, "crates.io", |mut records| {
        for record in records.iter_mut().take(12) {
            record.1["modified"] = Value::from("2026-11-07T00:00:00Z");
        }
        records
    });
    bucket.add_fault(Fault::Status { suffix: ".json".into(), status: 500, count: usize::MAX });
    bucket.clear_log();
    let stderr = failed_sync(&db, &bucket.url, &["--ecosystem", "crates.io"]);
    assert!(stderr.contains(&bucket.url) && stderr.contains("giving up on this source"), "{stderr}");
    let tried = requests(&bucket, "500 /crates.io/");
    assert!(tried < 12 * 4 / 2, "{tried} record requests: the source should be given up early");
    assert_eq!(status_json(&db)["ecosystems"], before);
}

#[test]
fn a_zip_bomb_all_zip_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let (db, root, bucket) = synced(tmp.path(), &["crates.io"]);
    let before = status_json(&db)["ecosystems"].clone();
    let padding = " ".repeat(4 << 20);
    let bomb: Vec<(String, Vec<u8>)> = (0..4)
        .map(|i| {
            let json = format!("{{\"id\":\"RUSTSEC-2099-000{i}\",\"modified\":\"2026-11-08T00:00:00Z\"{padding}}}");
            (format!("RUSTSEC-2099-000{i}.json"), json.into_bytes())
        })
        .collect();
    std::fs::write(root.join("crates.io/all.zip"), zip_of(&bomb)).unwrap();
    rewrite_csv_from_zip(&root);
    drop(bucket);
    let stderr = failed_sync(&db, &root.display().to_string(), &["--ecosystem", "crates.io", "--allow-shrink"]);
    assert!(
        stderr.contains(
            "/crates.io/all.zip: corrupt or truncated download, nothing ingested: refused as a possible zip bomb"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("compression ratio"), "{stderr}");
    assert_eq!(status_json(&db)["ecosystems"], before);
}

/// A listing naming what `crates.io/all.zip` holds, all modified now.
fn rewrite_csv_from_zip(root: &Path) {
    let bytes = std::fs::read(root.join("crates.io/all.zip")).unwrap();
    let archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut csv = String::new();
    for name in archive.file_names() {
        csv.push_str("2026-11-08T00:00:00Z,");
        csv.push_str(name.unwrap().trim_end_matches(".json"));
        csv.push('\n');
    }
    std::fs::write(root.join("crates.io/modified_id.csv"), csv).unwrap();
}

#[cfg(unix)]
#[test]
fn fifos_and_devices_are_refused_not_opened() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("bucket");
    copy_bucket(&repo_root().join("advisories"), &root, &["Go"]);
    let csv = root.join("Go/modified_id.csv");
    std::fs::remove_file(&csv).unwrap();
    let made = std::process::Command::new("mkfifo").arg(&csv).status().unwrap();
    assert!(made.success());
    let db = tmp.path().join("db.sqlite");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("bundleguard"))
        .env("BUNDLEGUARD_DB", &db)
        .args(["sync", "--quiet", "--ecosystem", "Go", "--source"])
        .arg(&root)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(30) {
            child.kill().unwrap();
            panic!("the sync hung on a FIFO");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("Go/modified_id.csv: is a FIFO (named pipe), not a regular file"), "{stderr}");

    let stderr = failed_sync(&db, "/dev/null", &["--ecosystem", "Go"]);
    assert!(stderr.contains("/dev/null: is a device, not a folder"), "{stderr}");

    // --db that is a folder or a device.
    let source = repo_root().join("advisories").display().to_string();
    for (db, kind) in [(tmp.path(), "a directory"), (Path::new("/dev/null"), "a device")] {
        for args in [&["db", "status"][..], &["query", "npm", "qs", "1.0.0"], &["sync", "--source", &source]] {
            let out = bundleguard(db).args(args).output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
            let want = format!("--db {}: is {kind}, not an advisory database file", db.display());
            assert!(stderr.contains(&want), "{args:?}: {stderr}");
        }
    }
}

#[test]
fn a_foreign_sqlite_file_is_refused_and_an_old_one_migrated() {
    let tmp = tempfile::tempdir().unwrap();
    let source = repo_root().join("advisories").display().to_string();
    let foreign = tmp.path().join("app.sqlite");
    let conn = rusqlite::Connection::open(&foreign).unwrap();
    conn.execute_batch("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);").unwrap();
    drop(conn);
    let stderr = failed_sync(&foreign, &source, &["--ecosystem", "Go"]);
    assert!(stderr.contains("not a bundleguard database (it holds tables of another application: users)"), "{stderr}");
    let tables: i64 = rusqlite::Connection::open(&foreign)
        .unwrap()
        .query_row("SELECT count(*) FROM sqlite_master WHERE type = 'table'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(tables, 1, "nothing was added to the other application's file");

    let tagged = tmp.path().join("tagged.sqlite");
    rusqlite::Connection::open(&tagged).unwrap().execute_batch("PRAGMA application_id = 1234;").unwrap();
    let stderr = failed_sync(&tagged, &source, &["--ecosystem", "Go"]);
    assert!(stderr.contains("its application_id is 0x000004d2, bundleguard's is 0x42474442"), "{stderr}");

    // A database made before the id (schema 2): readable as it is, tagged by the next sync.
    let old = tmp.path().join("old.sqlite");
    sync_json(&old, &source, &["--ecosystem", "Go"]);
    let conn = rusqlite::Connection::open(&old).unwrap();
    conn.execute_batch("DROP TABLE meta; PRAGMA user_version = 2; PRAGMA application_id = 0;").unwrap();
    drop(conn);
    assert_eq!(counts(&status_json(&old))[2], ("Go".to_owned(), 227));
    let id = |path: &Path| -> i32 {
        rusqlite::Connection::open(path).unwrap().query_row("PRAGMA application_id", [], |r| r.get(0)).unwrap()
    };
    assert_eq!(id(&old), 0, "db status only reads");
    sync_json(&old, &source, &["--ecosystem", "Go"]);
    assert_eq!(id(&old), 0x4247_4442);
}

#[test]
fn a_damaged_database_fails_its_check_and_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let db = crate::sync::synced_fixture_db(tmp.path());
    let out = bundleguard(&db).args(["db", "status", "--check"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("integrity: ok"));
    // Overwrite a run of pages in the middle of the file (index and table b-trees).
    let mut bytes = std::fs::read(&db).unwrap();
    let page = 4096;
    let middle = bytes.len() / page / 2 * page;
    for b in &mut bytes[middle..middle + 4 * page] {
        *b = 0x5a;
    }
    std::fs::write(&db, &bytes).unwrap();
    let out = bundleguard(&db).args(["db", "status", "--check"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("integrity: FAILED"), "{stdout}");
    let out = bundleguard(&db).args(["query", "npm", "minimist", "1.2.5"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr.contains("failed its integrity check") && stderr.contains("delete it and run `bundleguard sync`"),
        "{stderr}"
    );
    let scan = repo_root().join("fixtures/scan/lambda-repo");
    let out = bundleguard(&db).args(["scan", "--offline", "--no-inventory"]).arg(&scan).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("failed its integrity check"), "{stderr}");
}

/// Runs the binary as an unprivileged user when the tests run as root (root ignores file
/// modes), so a read-only folder really is read-only; `None` when that is not possible.
fn unprivileged() -> Option<std::process::Command> {
    let bin = assert_cmd::cargo::cargo_bin("bundleguard");
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let root = status.lines().any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(2) == Some("0"));
    if !root {
        return Some(std::process::Command::new(bin));
    }
    let setpriv = ["/usr/bin/setpriv", "/bin/setpriv"].into_iter().find(|p| Path::new(p).exists())?;
    let mut cmd = std::process::Command::new(setpriv);
    cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"]).arg(bin);
    Some(cmd)
}

#[cfg(unix)]
#[test]
fn a_database_in_a_read_only_folder_serves_status_query_and_scans() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ro");
    std::fs::create_dir(&dir).unwrap();
    let db = crate::sync::synced_fixture_db(&dir);
    let Some(_) = unprivileged() else {
        #[expect(clippy::print_stdout, reason = "the one line that says a test was skipped")]
        {
            println!(
                "skipped: running as root without setpriv (a_database_in_a_read_only_folder_serves_status_query_and_scans)"
            );
        }
        return;
    };
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o444)).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o555)).unwrap();
    let run = |args: &[&str]| unprivileged().unwrap().arg("--db").arg(&db).args(args).output().unwrap();
    let out = run(&["db", "status", "--format", "json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let status: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(counts(&status)[0].1, 64);
    let out = run(&["query", "npm", "minimist", "1.2.5", "--format", "json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("GHSA-xvch-5gv4-984h"));
    // A scan matches from the read-only database; only the recording fails, as a warning.
    let scan = repo_root().join("fixtures/scan/lambda-repo");
    let out = run(&["scan", "--offline", "--format", "json", scan.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "the policy fails on the demo: {stderr}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["summary"]["findings"], 39, "{stderr}");
    assert!(stderr.contains("could not be recorded in the inventory"), "{stderr}");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Damage a page no sync reads (the empty inventory's findings table): the sync's own
/// `quick_check` finds it, rolls back, and marks the file so that readers refuse it.
#[test]
fn a_sync_whose_quick_check_fails_rolls_back_and_marks_the_database() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("bucket");
    copy_bucket(&repo_root().join("advisories"), &root, &["Go"]);
    let db = tmp.path().join("db.sqlite");
    let source = root.display().to_string();
    sync_json(&db, &source, &["--ecosystem", "Go"]);
    let before = status_json(&db)["ecosystems"].clone();
    let (page, root_page): (i64, i64) = {
        let conn = rusqlite::Connection::open(&db).unwrap();
        let page = conn.query_row("PRAGMA page_size", [], |r| r.get(0)).unwrap();
        let root = conn
            .query_row("SELECT rootpage FROM sqlite_master WHERE name = 'inventory_findings'", [], |r| r.get(0))
            .unwrap();
        (page, root)
    };
    let mut bytes = std::fs::read(&db).unwrap();
    let (page, root_page) = (usize::try_from(page).unwrap(), usize::try_from(root_page).unwrap());
    bytes[(root_page - 1) * page..root_page * page].fill(0x5a);
    std::fs::write(&db, &bytes).unwrap();
    rewrite_bucket(&root, "Go", |records| touch_all(records, "2026-11-09T00:00:00Z"));

    let stderr = failed_sync(&db, &source, &["--ecosystem", "Go"]);
    assert!(stderr.contains("the database was left as it was"), "{stderr}");
    assert!(stderr.contains("failed its integrity check"), "{stderr}");
    let out = bundleguard(&db).args(["db", "status", "--format", "json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "a failed check is not a clean status");
    let status: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["ecosystems"], before, "rolled back");
    assert_eq!(status["integrity"]["ok"], false);
    let out = bundleguard(&db).args(["query", "Go", "golang.org/x/text", "0.3.0"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("failed its integrity check"));
}

//! The periodic sync: a synced database, a scanned fixture, then a sync from a mirror that adds
//! an advisory for one of its packages and withdraws another. The sync names the bundle, the
//! package and the new advisory, exits 1, and a sync with nothing new reports nothing new.

use serde_json::Value;

use crate::common::{fixture, repo_root};
use crate::server::MockBucket;
use crate::sync::{bundleguard, copy_bucket, rewrite_bucket};

#[test]
fn a_sync_reports_which_scanned_bundles_new_advisories_hit() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("db.sqlite");
    let root = tmp.path().join("bucket");
    copy_bucket(&repo_root().join("advisories"), &root, &["npm", "PyPI", "Go", "crates.io"]);
    let bucket = MockBucket::start(root.clone());
    let sync = |extra: &[&str]| {
        bundleguard(&db)
            .args(["sync", "--quiet", "--format", "json", "--source", &bucket.url])
            .args(extra)
            .output()
            .unwrap()
    };
    assert!(sync(&[]).status.success());
    let repo = fixture("scan/lambda-repo");
    let out = bundleguard(&db).args(["scan", "--format", "json"]).arg(&repo).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let listed = bundleguard(&db).args(["inventory", "list", "--format", "json"]).output().unwrap();
    let listed: Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(listed["bundles"].as_array().unwrap().len(), 2);
    assert_eq!(listed["bundles"][0]["name"], "orders-webhook");

    // Upstream: a new advisory for lodash 4.17.15, and minimist's advisory withdrawn.
    rewrite_bucket(&root, "npm", |mut records| {
        let mut new = records.iter().find(|(id, _)| id == "GHSA-35jh-r3h4-6jhm").unwrap().1.clone();
        new["id"] = Value::from("GHSA-test-lodash-new");
        new["aliases"] = serde_json::json!(["CVE-2099-0001"]);
        new["summary"] = Value::from("A new lodash flaw");
        new["modified"] = Value::from("2026-11-20T10:00:00Z");
        records.push(("GHSA-test-lodash-new".into(), new));
        let minimist = records.iter_mut().find(|(id, _)| id == "GHSA-xvch-5gv4-984h").unwrap();
        minimist.1["withdrawn"] = Value::from("2026-11-20T00:00:00Z");
        minimist.1["modified"] = Value::from("2026-11-20T00:00:00Z");
        records
    });
    let out = sync(&[]);
    assert_eq!(out.status.code(), Some(1), "a new high finding alerts: {}", String::from_utf8_lossy(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["ecosystems"][0]["mode"], "incremental");
    let inventory = doc["inventory"].as_array().unwrap();
    assert_eq!(inventory.len(), 1, "only the npm bundle is affected: {inventory:?}");
    let change = &inventory[0];
    assert_eq!(change["bundle"], "orders-webhook");
    assert!(change["path"].as_str().unwrap().ends_with("orders-webhook/package-lock.json"));
    assert_eq!(change["new"].as_array().unwrap().len(), 1);
    assert_eq!(change["new"][0]["id"], "GHSA-test-lodash-new");
    assert_eq!(
        change["new"][0]["package"],
        serde_json::json!({"ecosystem": "npm", "name": "lodash", "version": "4.17.15"})
    );
    assert_eq!(change["new"][0]["severity"], "high");
    assert_eq!(change["gone"][0]["id"], "GHSA-xvch-5gv4-984h");

    // Nothing new: nothing reported, exit 0; the table says so too.
    let out = sync(&[]);
    assert_eq!(out.status.code(), Some(0));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["inventory"], serde_json::json!([]));
    let table = bundleguard(&db).args(["sync", "--quiet", "--source", &bucket.url]).output().unwrap();
    assert!(String::from_utf8_lossy(&table.stdout).contains("no recorded bundle is newly affected"));

    // Above the threshold only: a critical-only alert level ignores the new high finding.
    rewrite_bucket(&root, "npm", |mut records| {
        let mut new = records.iter().find(|(id, _)| id == "GHSA-test-lodash-new").unwrap().1.clone();
        new["id"] = Value::from("GHSA-test-lodash-newer");
        new["aliases"] = serde_json::json!(["CVE-2099-0002"]);
        new["modified"] = Value::from("2026-11-21T10:00:00Z");
        records.push(("GHSA-test-lodash-newer".into(), new));
        records
    });
    let out = bundleguard(&db)
        .args(["sync", "--quiet", "--format", "markdown", "--fail-on", "critical", "--source", &bucket.url])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(md.contains("| orders-webhook | new | high | GHSA-test-lodash-newer | lodash@4.17.15 | 4.17.21 |"), "{md}");

    let out = bundleguard(&db).args(["inventory", "forget", "--all"]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "forgot 2 bundles\n");
}

/// The size of the database's `-wal` file (0 when there is none).
fn wal_len(db: &std::path::Path) -> u64 {
    std::fs::metadata(format!("{}-wal", db.display())).map_or(0, |m| m.len())
}

/// A `-wal` file that recorded scans left over the bound (SQLite's auto-checkpoint copies the
/// pages but never starts the file over here) is emptied by the next record, which is kept.
#[test]
fn a_record_empties_a_wal_grown_past_the_bound() {
    let tmp = tempfile::tempdir().unwrap();
    let db = crate::sync::synced_fixture_db(tmp.path());
    let wal_len = || wal_len(&db);
    let scan = || {
        let out =
            bundleguard(&db).args(["scan", "--format", "json"]).arg(fixture("scan/lambda-repo")).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    };
    scan();
    let one = wal_len();
    assert!(one > 0 && one < bundleguard::advisory::store::WAL_BOUND, "{one}");
    scan();
    assert!(wal_len() > one, "under the bound a record appends to the -wal");
    {
        // grow the -wal past the bound: another connection's writes, with its auto-checkpoint off
        // and no checkpoint when it closes
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch("PRAGMA wal_autocheckpoint = 0; CREATE TABLE filler (b BLOB);").unwrap();
        let blob = vec![7u8; 1 << 20];
        for _ in 0..5 {
            conn.execute("INSERT INTO filler VALUES (?1)", [&blob]).unwrap();
        }
        conn.execute_batch("DROP TABLE filler;").unwrap();
        conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true).unwrap();
    }
    assert!(wal_len() > bundleguard::advisory::store::WAL_BOUND, "{}", wal_len());
    scan();
    assert_eq!(wal_len(), 0, "the record emptied the -wal");
    let out = bundleguard(&db).args(["inventory", "list", "--format", "json"]).output().unwrap();
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed["bundles"].as_array().unwrap().len(), 2, "{listed}");
}

/// Issue 15: a recording scan leaves its record in the `-wal` file (closing does not checkpoint),
/// where every later process reads it; `sync` ends with a checkpoint, after which the database
/// file copied alone (a CI cache of just the file) still holds every record.
#[test]
fn a_recorded_scan_stays_in_the_wal_until_sync_leaves_a_self_contained_file() {
    let tmp = tempfile::tempdir().unwrap();
    let db = crate::sync::synced_fixture_db(tmp.path());
    let wal_len = || wal_len(&db);
    assert_eq!(wal_len(), 0, "sync leaves nothing in the -wal");
    let out = bundleguard(&db).args(["scan", "--format", "json"]).arg(fixture("scan/lambda-repo")).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(wal_len() > 0, "the record was appended to the -wal, not checkpointed on close");
    let names = |db: &std::path::Path| -> Vec<String> {
        let out = bundleguard(db).args(["inventory", "list", "--format", "json"]).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
        listed["bundles"].as_array().unwrap().iter().map(|b| b["name"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(names(&db), ["orders-webhook", "report-api"]);

    crate::sync::sync_json(&db, &repo_root().join("advisories").display().to_string(), &[]);
    assert_eq!(wal_len(), 0, "sync ends with a checkpoint");
    let copy = tmp.path().join("cache").join("db.sqlite");
    std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
    std::fs::copy(&db, &copy).unwrap();
    assert_eq!(names(&copy), ["orders-webhook", "report-api"]);
}

/// The record is written before the policy's judgement (beside the unused check's end), so it
/// applies the judgement's rule itself: a code the policy turns off is not recorded. A later
/// sync (with the default policy) then reports those advisories as new; recorded ones it does not.
#[test]
fn a_record_keeps_what_the_policy_keeps() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("bucket");
    copy_bucket(&repo_root().join("advisories"), &root, &["npm", "PyPI", "Go", "crates.io"]);
    let bucket = MockBucket::start(root);
    let off = tmp.path().join("off.toml");
    std::fs::write(&off, "[levels]\n\"vulnerability/advisory\" = \"off\"\n").unwrap();
    let new_after_sync = |config: Option<&std::path::Path>| {
        let db = tmp.path().join(format!("db-{}.sqlite", config.is_some()));
        let sync = || {
            bundleguard(&db).args(["sync", "--quiet", "--format", "json", "--source", &bucket.url]).output().unwrap()
        };
        assert!(sync().status.success());
        let mut scan = bundleguard(&db);
        scan.args(["scan", "--format", "json"]).arg(fixture("scan/lambda-repo"));
        if let Some(config) = config {
            scan.arg("--config").arg(config);
        }
        assert!(scan.output().unwrap().status.code().is_some());
        let doc: Value = serde_json::from_slice(&sync().stdout).unwrap();
        let mut new: Vec<String> = doc["inventory"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|c| c["new"].as_array().unwrap().iter().map(|n| n["id"].as_str().unwrap().to_owned()))
            .collect();
        new.sort();
        new
    };
    assert_eq!(new_after_sync(None), Vec::<String>::new(), "every judged vulnerability was recorded");
    let unrecorded = new_after_sync(Some(&off));
    assert!(
        unrecorded.contains(&"GHSA-35jh-r3h4-6jhm".to_owned()),
        "lodash's advisory was off, so not recorded: {unrecorded:?}"
    );
}

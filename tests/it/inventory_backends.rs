//! The inventory's contract, one test body run against both backends: the local SQLite file and
//! a real PostgreSQL server started by the test (skipped with a line when not installed).
//! Deploy records from 16 processes at once; a re-check naming exactly the newly affected
//! (repository, environment, function); a second re-check with nothing new; `forget` by
//! repository; a recorder killed mid-transaction leaving the previous record intact.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command as StdCommand, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt as _;
use serde_json::Value;

use crate::common::{fixture, repo_root};
use crate::inventory_pg::PgServer;
use crate::server::MockBucket;
use crate::sync::{bundleguard, copy_bucket, rewrite_bucket};

/// Runs `body` with a SQLite inventory file, then with a fresh PostgreSQL database.
fn for_each_backend(test: &str, body: impl Fn(&Path, &str)) {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("inventory.sqlite");
    body(tmp.path(), &file.display().to_string());
    if let Some(server) = PgServer::start(test) {
        let tmp = tempfile::tempdir().unwrap();
        body(tmp.path(), &server.database(test));
    }
}

/// A synced advisory database in `dir`, from a mock bucket the test may change.
fn synced(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf, MockBucket) {
    let db = dir.join("advisories.sqlite");
    let root = dir.join("bucket");
    copy_bucket(&repo_root().join("advisories"), &root, &["npm", "PyPI", "Go", "crates.io"]);
    let bucket = MockBucket::start(root.clone());
    let out = bundleguard(&db).args(["sync", "--quiet", "--source", &bucket.url]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    (db, root, bucket)
}

/// `bundleguard scan fixtures/scan/lambda-repo --record deploy` as a CI job would run it.
fn deploy(db: &Path, inventory: &str, repository: &str, environment: &str, commit: &str) -> StdCommand {
    let mut cmd = StdCommand::cargo_bin("bundleguard").unwrap();
    cmd.env("BUNDLEGUARD_DB", db)
        .env("NO_COLOR", "1")
        .env("GITHUB_SHA", commit)
        .env("GITHUB_REF", "refs/heads/main")
        .env_remove("GITHUB_REPOSITORY")
        .env_remove("BUNDLEGUARD_INVENTORY")
        .args(["scan", "--offline", "--format", "json", "--record", "deploy", "--inventory", inventory])
        .args(["--repository", repository, "--environment", environment])
        .arg(fixture("scan/lambda-repo"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

fn list(db: &Path, inventory: &str, extra: &[&str]) -> Vec<Value> {
    let out = bundleguard(db)
        .args(["inventory", "list", "--format", "json", "--inventory", inventory])
        .args(extra)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    doc["bundles"].as_array().unwrap().clone()
}

fn identities(entries: &[Value], name_key: &str) -> BTreeSet<(String, String, String)> {
    entries
        .iter()
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap().to_owned();
            (s("repository"), s("environment"), s(name_key))
        })
        .collect()
}

fn id(repository: &str, environment: &str, name: &str) -> (String, String, String) {
    (repository.to_owned(), environment.to_owned(), name.to_owned())
}

#[test]
fn a_recheck_names_exactly_the_newly_affected_functions_and_only_once() {
    for_each_backend("recheck", |dir, inventory| {
        let (db, root, bucket) = synced(dir);
        for (repo, env) in [("org/a", "prod"), ("org/a", "dev"), ("org/b", "prod")] {
            let out = deploy(&db, inventory, repo, env, "c1").output().unwrap();
            assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
        }
        // A scan without `--record deploy` (a pull request) never writes to a named inventory.
        let out = bundleguard(&db)
            .args(["scan", "--offline", "--format", "json", "--inventory", inventory, "--repository", "org/pr"])
            .arg(fixture("scan/lambda-repo"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        let listed = list(&db, inventory, &[]);
        assert_eq!(listed.len(), 6, "{listed:?}");
        assert!(listed.iter().all(|b| b["deploy"] == true && b["commit"] == "c1" && b["ref"] == "refs/heads/main"));
        assert_eq!(list(&db, inventory, &["--repository", "org/a", "--environment", "dev"]).len(), 2);

        rewrite_bucket(&root, "npm", |mut records| {
            let mut new = records.iter().find(|(id, _)| id == "GHSA-35jh-r3h4-6jhm").unwrap().1.clone();
            new["id"] = Value::from("GHSA-test-lodash-new");
            new["aliases"] = serde_json::json!(["CVE-2099-0001"]);
            new["modified"] = Value::from("2026-11-20T10:00:00Z");
            records.push(("GHSA-test-lodash-new".into(), new));
            records
        });
        let recheck = || {
            bundleguard(&db)
                .args(["sync", "--quiet", "--format", "json", "--source", &bucket.url, "--inventory", inventory])
                .output()
                .unwrap()
        };
        let out = recheck();
        assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        let changes = doc["inventory"].as_array().unwrap();
        assert_eq!(
            identities(changes, "bundle"),
            [
                id("org/a", "dev", "orders-webhook"),
                id("org/a", "prod", "orders-webhook"),
                id("org/b", "prod", "orders-webhook")
            ]
            .into_iter()
            .collect(),
        );
        for c in changes {
            let new: Vec<&str> = c["new"].as_array().unwrap().iter().map(|n| n["id"].as_str().unwrap()).collect();
            assert_eq!(new, ["GHSA-test-lodash-new"]);
        }

        // Tomorrow's run: nothing new, nothing repeated.
        let out = recheck();
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(doc["inventory"], serde_json::json!([]));

        let out = bundleguard(&db)
            .args(["inventory", "forget", "--repository", "org/b", "--inventory", inventory])
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "forgot 2 bundles\n");
        let left = list(&db, inventory, &[]);
        assert_eq!(left.len(), 4);
        assert!(left.iter().all(|b| b["repository"] == "org/a"));
    });
}

#[test]
fn sixteen_processes_record_at_once_without_loss_or_duplicates() {
    for_each_backend("concurrent", |dir, inventory| {
        let (db, _root, _bucket) = synced(dir);
        // Create the schema first, as a real organisation's first deploy would.
        assert_eq!(deploy(&db, inventory, "org/first", "prod", "c0").output().unwrap().status.code(), Some(1));
        // 12 repositories, 4 of them twice at the same moment (a retried job): 16 processes.
        let repos: Vec<String> = (0..12).chain(0..4).map(|i| format!("org/r{i:02}")).collect();
        let children: Vec<_> = repos.iter().map(|r| deploy(&db, inventory, r, "prod", "c1").spawn().unwrap()).collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
            assert!(!String::from_utf8_lossy(&out.stderr).contains("could not be recorded"));
        }
        let listed = list(&db, inventory, &[]);
        let want: BTreeSet<_> = (0..12)
            .map(|i| format!("org/r{i:02}"))
            .chain(["org/first".to_owned()])
            .flat_map(|r| [id(&r, "prod", "orders-webhook"), id(&r, "prod", "report-api")])
            .collect();
        assert_eq!(identities(&listed, "name"), want);
        assert_eq!(listed.len(), want.len(), "no duplicated record");
        assert!(
            listed.iter().all(|b| b["packages"].as_u64().unwrap() > 0 && b["history"] == 0),
            "{inventory}: a retried job wrote history: {listed:?}"
        );
    });
}

#[test]
fn a_recorder_killed_mid_transaction_leaves_the_previous_record() {
    for_each_backend("killed", |dir, inventory| {
        let (db, _root, _bucket) = synced(dir);
        assert_eq!(deploy(&db, inventory, "org/k", "prod", "old").output().unwrap().status.code(), Some(1));
        {
            // Hold the second function's row (PostgreSQL) or the write lock (SQLite): the new
            // deploy writes what it can, then waits inside its transaction; then it is killed.
            let _lock = Lock::take(inventory);
            let mut child = deploy(&db, inventory, "org/k", "prod", "new").spawn().unwrap();
            wait_until_blocked(inventory, &mut child);
            child.kill().unwrap();
            child.wait().unwrap();
        }
        let listed = list(&db, inventory, &["--repository", "org/k"]);
        assert_eq!(listed.len(), 2);
        assert!(listed.iter().all(|b| b["commit"] == "old" && b["history"] == 0), "{listed:?}");
        // And the next deploy goes through, keeping the old record as history.
        assert_eq!(deploy(&db, inventory, "org/k", "prod", "new").output().unwrap().status.code(), Some(1));
        let listed = list(&db, inventory, &["--repository", "org/k"]);
        assert!(listed.iter().all(|b| b["commit"] == "new" && b["history"] == 1), "{listed:?}");
    });
}

enum Lock {
    Pg(Box<postgres::Client>),
    Sqlite(rusqlite::Connection),
}

impl Lock {
    fn take(inventory: &str) -> Lock {
        if inventory.starts_with("postgres://") {
            let mut client =
                postgres::Client::connect(&format!("{inventory}?sslmode=disable"), postgres::NoTls).unwrap();
            client
                .batch_execute(
                    "BEGIN; SELECT id FROM bundleguard_functions WHERE repository = 'org/k' AND function = 'report-api' FOR UPDATE",
                )
                .unwrap();
            Lock::Pg(Box::new(client))
        } else {
            let conn = rusqlite::Connection::open(inventory).unwrap();
            conn.execute_batch("BEGIN IMMEDIATE").unwrap();
            Lock::Sqlite(conn)
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        match self {
            Lock::Pg(client) => client.batch_execute("ROLLBACK").unwrap(),
            Lock::Sqlite(conn) => conn.execute_batch("ROLLBACK").unwrap(),
        }
    }
}

/// PostgreSQL: until the server shows the recorder waiting on our row lock (so its first
/// function's new record is written, uncommitted). SQLite: a moment, for it to reach the lock.
fn wait_until_blocked(inventory: &str, child: &mut std::process::Child) {
    if !inventory.starts_with("postgres://") {
        std::thread::sleep(Duration::from_millis(1500));
        assert!(child.try_wait().unwrap().is_none(), "the recorder should be waiting for the lock");
        return;
    }
    let mut client = postgres::Client::connect(&format!("{inventory}?sslmode=disable"), postgres::NoTls).unwrap();
    let start = Instant::now();
    loop {
        let waiting: i64 = client
            .query_one("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'", &[])
            .unwrap()
            .get(0);
        if waiting > 0 {
            let uncommitted: i64 = client
                .query_one("SELECT count(*) FROM pg_locks WHERE locktype = 'transactionid' AND granted AND mode = 'ExclusiveLock'", &[])
                .unwrap()
                .get(0);
            assert!(uncommitted >= 1, "the recorder's transaction is open");
            return;
        }
        assert!(child.try_wait().unwrap().is_none(), "the recorder ended before reaching the lock");
        assert!(start.elapsed() < Duration::from_mins(2), "the recorder never waited for the lock");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `sync --metadata` re-checks the stale and takeover signals of recorded functions: the
/// registry of the first day (requests 2.32.0 just published) and of the next (2.32.0 yanked)
/// differ, and each day reports only its own news, once.
#[test]
fn a_metadata_recheck_reports_new_stale_and_takeover_signals_once() {
    for_each_backend("riskrecheck", |dir, inventory| {
        let (db, _root, bucket) = synced(dir);
        let project = dir.join("svc");
        std::fs::create_dir_all(&project).unwrap();
        std::fs::write(project.join("requirements.txt"), "requests==2.32.0\n").unwrap();
        for env in ["prod", "dev"] {
            let out = bundleguard(&db)
                .args(["scan", "--offline", "--format", "json", "--record", "deploy", "--inventory", inventory])
                .args(["--repository", "org/py", "--environment", env])
                .arg(&project)
                .output()
                .unwrap();
            assert!(matches!(out.status.code(), Some(0 | 1)), "{}", String::from_utf8_lossy(&out.stderr));
            assert!(!String::from_utf8_lossy(&out.stderr).contains("could not be recorded"));
        }
        let registry = MockBucket::start(fixture("registry/pypi/json-before-yank"));
        let sync = || {
            let out = bundleguard(&db)
                .env("BUNDLEGUARD_NOW", "2024-05-21T12:00:00Z")
                .env("PIP_INDEX_URL", format!("{}/simple/", registry.url))
                .args(["sync", "--quiet", "--metadata", "--fail-on", "medium", "--format", "json"])
                .args(["--source", &bucket.url, "--inventory", inventory])
                .output()
                .unwrap();
            let doc: Value = serde_json::from_slice(&out.stdout)
                .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
            (out.status.code(), doc["inventory"].as_array().unwrap().clone())
        };
        let ids = |changes: &[Value]| -> BTreeSet<(String, String, String)> {
            changes
                .iter()
                .flat_map(|c| {
                    c["new"].as_array().unwrap().iter().map(|n| {
                        (
                            c["environment"].as_str().unwrap().to_owned(),
                            n["id"].as_str().unwrap().to_owned(),
                            n["kind"].as_str().unwrap().to_owned(),
                        )
                    })
                })
                .collect()
        };
        let fresh = "takeover/too-fresh:PyPI/requests@2.32.0";
        let yanked = "stale/yanked:PyPI/requests@2.32.0";
        let both = |id: &str, kind: &str| -> BTreeSet<_> {
            ["dev", "prod"].into_iter().map(|e| (e.to_owned(), id.to_owned(), kind.to_owned())).collect()
        };

        // Day 1: 2.32.0 is 20 hours old, younger than the 1-day cooldown.
        let (code, changes) = sync();
        assert_eq!(code, Some(1), "{changes:?}");
        assert_eq!(ids(&changes), both(fresh, "takeover"));
        let n = &changes[0]["new"][0];
        assert_eq!((n["code"].as_str(), n["severity"].as_str()), (Some("takeover/too-fresh"), Some("medium")));
        assert_eq!(n["package"], serde_json::json!({"ecosystem": "PyPI", "name": "requests", "version": "2.32.0"}));

        // Day 2: the registry now says 2.32.0 is yanked; too-fresh was already reported.
        registry.set_root(fixture("registry/pypi/json-yanked"));
        let (code, changes) = sync();
        assert_eq!(code, Some(1), "{changes:?}");
        assert_eq!(ids(&changes), both(yanked, "stale"));
        let n = &changes[0]["new"][0];
        assert!(n["summary"].as_str().unwrap().contains("CVE-2024-35195"), "{n}");

        // Day 3: nothing new, nothing repeated.
        let (code, changes) = sync();
        assert_eq!((code, changes), (Some(0), Vec::new()));

        // Day 4: the registry no longer lists 2.32.0: nothing can be evaluated on it, so its
        // remembered signals are not gone (unknown is not clean).
        let unlisted = dir.join("registry-unlisted");
        copy_dir(&fixture("registry/pypi/json-yanked"), &unlisted);
        let doc = unlisted.join("pypi/requests/json");
        let mut json: Value = serde_json::from_slice(&std::fs::read(&doc).unwrap()).unwrap();
        json["releases"].as_object_mut().unwrap().remove("2.32.0");
        std::fs::write(&doc, serde_json::to_vec(&json).unwrap()).unwrap();
        registry.set_root(&unlisted);
        let (code, changes) = sync();
        assert_eq!((code, changes), (Some(0), Vec::new()));

        // Day 5: 2.32.0 is listed again and no longer yanked: the yank is reported gone, in each
        // environment, without alerting.
        registry.set_root(fixture("registry/pypi/json-before-yank"));
        let (code, changes) = sync();
        assert_eq!(code, Some(0), "{changes:?}");
        assert_eq!(gone_ids(&changes), both(yanked, "no longer raised"));
        assert!(changes.iter().all(|c| c["new"].as_array().unwrap().is_empty()), "{changes:?}");
        let g = &changes[0]["gone"][0];
        assert_eq!(g["code"], "stale/yanked");
        assert_eq!(g["package"], serde_json::json!({"ecosystem": "PyPI", "name": "requests", "version": "2.32.0"}));

        // Day 6: reported once, not every day.
        let (code, changes) = sync();
        assert_eq!((code, changes), (Some(0), Vec::new()));
    });
}

/// (environment, id, why) of every gone entry of a re-check's JSON.
fn gone_ids(changes: &[Value]) -> BTreeSet<(String, String, String)> {
    changes
        .iter()
        .flat_map(|c| {
            c["gone"].as_array().unwrap().iter().map(|g| {
                let text = |v: &Value| v.as_str().unwrap().to_owned();
                (text(&c["environment"]), text(&g["id"]), text(&g["why"]))
            })
        })
        .collect()
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir_files(from) {
        let target = to.join(entry.strip_prefix(from).unwrap());
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(&entry, &target).unwrap();
    }
}

fn walkdir_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walkdir_files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// `sync --config FILE` judges the re-checked signals by the policy, as `scan` would: a code
/// `off` is not reported (nor remembered), a `[levels]` entry sets the level and the file's
/// `fail-on` the alert, and an ignored signal is reported with its status without alerting.
#[test]
fn a_recheck_judges_signals_by_the_config_policy() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let inventory = dir.join("inventory.sqlite").display().to_string();
    let (db, _root, bucket) = synced(dir);
    let project = dir.join("svc");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(project.join("requirements.txt"), "requests==2.32.0\n").unwrap();
    let out = bundleguard(&db)
        .args(["scan", "--offline", "--format", "json", "--record", "deploy", "--inventory", &inventory])
        .args(["--repository", "org/py", "--environment", "prod"])
        .arg(&project)
        .output()
        .unwrap();
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", String::from_utf8_lossy(&out.stderr));
    let registry = MockBucket::start(fixture("registry/pypi/json-before-yank"));
    let sync = |policy: &str| {
        let config = dir.join("bundleguard.toml");
        std::fs::write(&config, policy).unwrap();
        let out = bundleguard(&db)
            .env("BUNDLEGUARD_NOW", "2024-05-21T12:00:00Z")
            .env("PIP_INDEX_URL", format!("{}/simple/", registry.url))
            .args(["sync", "--quiet", "--metadata", "--format", "json", "--config"])
            .arg(&config)
            .args(["--source", &bucket.url, "--inventory", &inventory])
            .output()
            .unwrap();
        let doc: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        (out.status.code(), doc["inventory"].as_array().unwrap().clone())
    };
    let news = |changes: &[Value]| -> Vec<(String, String, String)> {
        let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
        changes
            .iter()
            .flat_map(|c| c["new"].as_array().unwrap().iter())
            .map(|n| (text(&n["id"]), text(&n["severity"]), text(&n["status"])))
            .collect()
    };
    let fresh = "takeover/too-fresh:PyPI/requests@2.32.0";

    // Off: not reported, not remembered.
    let (code, changes) = sync("[levels]\n\"takeover/too-fresh\" = \"off\"\n");
    assert_eq!((code, news(&changes)), (Some(0), Vec::new()), "{changes:?}");

    // The file's level and fail-on: critical, gating (the default fail-on would be high too,
    // but medium, the check's own level, would not alert without the file).
    let (code, changes) = sync("fail-on = \"critical\"\n[levels]\n\"takeover/too-fresh\" = \"critical\"\n");
    assert_eq!(news(&changes), [(fresh.to_owned(), "critical".to_owned(), "gating".to_owned())]);
    assert_eq!(code, Some(1));

    // Ignored: the new yank is reported with its status and does not alert.
    registry.set_root(fixture("registry/pypi/json-yanked"));
    let (code, changes) = sync("[[ignore]]\nid = \"stale/yanked\"\nreason = \"pinned until the upgrade lands\"\n");
    let yanked = "stale/yanked:PyPI/requests@2.32.0";
    assert_eq!(news(&changes), [(yanked.to_owned(), "medium".to_owned(), "ignored".to_owned())]);
    assert_eq!(code, Some(0), "{changes:?}");
}

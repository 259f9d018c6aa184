//! The advisory store (`advisory::store`): opening and migrating the schema, refusing a newer
//! one, upserting and removing records in one transaction that commits whole or not at all,
//! candidates by normalized name (withdrawn left out), the labels kept per record (and filled
//! in when an older file is migrated), and the per-ecosystem sync state.

use std::path::Path;

use bundleguard::advisory::osv;
use bundleguard::advisory::store::{APPLICATION_ID, SCHEMA_VERSION, Store, StoreError, SyncState};

/// The tables of a version-1 database.
const V1_TABLES: [&str; 4] = ["advisories", "memberships", "affected", "sync_state"];
use bundleguard::package::{Ecosystem, PackageName};
use jiff::Timestamp;

/// An OSV record `id` affecting `affected` ((ecosystem, name, introduced, fixed)), as JSON.
pub fn record(id: &str, aliases: &[&str], withdrawn: bool, affected: &[(&str, &str, &str, &str)]) -> String {
    let affected: Vec<serde_json::Value> = affected
        .iter()
        .map(|(eco, name, introduced, fixed)| {
            serde_json::json!({
                "package": {"ecosystem": eco, "name": name},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": introduced}, {"fixed": fixed}]}]
            })
        })
        .collect();
    let mut doc = serde_json::json!({
        "id": id,
        "modified": "2024-01-02T03:04:05Z",
        "aliases": aliases,
        "summary": format!("{id} summary"),
        "database_specific": {"severity": "HIGH"},
        "affected": affected,
    });
    if withdrawn {
        doc["withdrawn"] = "2024-02-01T00:00:00Z".into();
    }
    doc.to_string()
}

/// Upserts the records into `eco`'s folder and commits.
pub fn put(store: &mut Store, eco: Ecosystem, records: &[String]) {
    let mut ingest = store.ingest().expect("a write transaction");
    for raw in records {
        let advisory = osv::parse_record(raw.as_bytes()).expect("a valid OSV record");
        ingest.upsert(eco, &advisory, raw).expect("upsert");
    }
    ingest.commit().expect("commit");
}

fn user_version(path: &Path) -> i64 {
    let conn = rusqlite::Connection::open(path).expect("open");
    conn.query_row("PRAGMA user_version", [], |row| row.get(0)).expect("user_version")
}

fn ids(store: &Store, eco: Ecosystem, name: &str) -> Vec<String> {
    let mut ids: Vec<String> = store
        .candidates(eco, &PackageName::new(eco, name))
        .expect("candidates")
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    ids.sort();
    ids
}

#[test]
fn open_creates_the_folder_and_the_current_schema() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("nested/folder/advisories.db");
    let store = Store::open(&path).expect("open");
    assert_eq!(store.path(), path);
    drop(store);
    assert_eq!(user_version(&path), SCHEMA_VERSION);
    Store::open(&path).expect("opening again migrates nothing");
    Store::open_existing(&path).expect("and it exists now");
    assert_eq!(user_version(&path), SCHEMA_VERSION);
}

#[test]
fn open_existing_never_creates_a_database() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("none.db");
    let Err(err) = Store::open_existing(&path) else { panic!("a missing file opened") };
    assert!(matches!(err, StoreError::Missing(_)));
    assert_eq!(err.to_string(), format!("no advisory database at {}: run `bundleguard sync` first", path.display()));
    assert!(!path.exists());
}

#[test]
fn an_older_schema_is_migrated_and_a_newer_one_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("a.db");
    let mut store = Store::open(&path).expect("open");
    put(&mut store, Ecosystem::Npm, &[record("GHSA-keep", &[], false, &[("npm", "qs", "0", "6.7.3")])]);
    drop(store);
    // A version-1 file, as written before the file was marked as ours: its four advisory
    // tables, and nothing a later version added.
    let conn = rusqlite::Connection::open(&path).expect("open");
    let later: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT IN (?1, ?2, ?3, ?4)")
        .expect("prepare")
        .query_map(V1_TABLES, |row| row.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("names");
    assert!(later.iter().any(|t| t.starts_with("inventory_")), "{later:?}");
    for table in &later {
        conn.execute_batch(&format!("DROP TABLE {table};")).expect("drop");
    }
    conn.execute_batch("PRAGMA user_version = 1; PRAGMA application_id = 0;").expect("downgrade");
    drop(conn);
    let store = Store::open(&path).expect("migrates");
    assert_eq!(ids(&store, Ecosystem::Npm, "qs"), ["GHSA-keep"], "the advisories are kept");
    drop(store);
    assert_eq!(user_version(&path), SCHEMA_VERSION);
    let conn = rusqlite::Connection::open(&path).expect("open");
    let application_id: i32 = conn.query_row("PRAGMA application_id", [], |r| r.get(0)).expect("application_id");
    assert_eq!(application_id, APPLICATION_ID, "marked as ours on the way");
    let tables: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_master WHERE name LIKE 'inventory_%' AND type = 'table'", [], |r| {
            r.get(0)
        })
        .expect("count");
    assert_eq!(tables, 3);

    conn.execute_batch(&format!("PRAGMA user_version = {};", SCHEMA_VERSION + 1)).expect("from the future");
    drop(conn);
    let Err(err) = Store::open(&path) else { panic!("a newer schema opened") };
    assert!(matches!(err, StoreError::TooNew { found, .. } if found == SCHEMA_VERSION + 1));
    assert!(err.to_string().contains(&path.display().to_string()), "{err}");
}

/// Records with each kind of label: CWE-506 at the record level (GHSA), RustSec informational
/// in an affected entry, and none.
fn labelled_records() -> Vec<String> {
    vec![
        r#"{"id":"GHSA-mal","modified":"2021-10-22T20:38:14Z","affected":[{"package":{"ecosystem":"npm","name":"ua-parser-js"},"versions":["0.7.29"]}],"database_specific":{"cwe_ids":["CWE-506","CWE-912"],"severity":"CRITICAL"}}"#.to_owned(),
        r#"{"id":"RUSTSEC-2099-0001","modified":"2024-01-02T03:04:05Z","affected":[{"package":{"ecosystem":"crates.io","name":"old"},"database_specific":{"informational":"unmaintained"}}]}"#.to_owned(),
        record("GHSA-plain", &[], false, &[("npm", "qs", "0", "6.7.3")]),
    ]
}

fn all_labels(store: &Store) -> Vec<Option<osv::Labels>> {
    ["GHSA-mal", "RUSTSEC-2099-0001", "GHSA-plain", "GHSA-absent"].map(|id| store.labels(id).expect("labels")).into()
}

#[test]
fn labels_are_kept_at_ingest_and_back_filled_in_an_older_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("a.db");
    let mut store = Store::open(&path).expect("open");
    let records = labelled_records();
    put(&mut store, Ecosystem::Npm, &records[..1]);
    put(&mut store, Ecosystem::CratesIo, &records[1..2]);
    put(&mut store, Ecosystem::Npm, &records[2..]);
    let expected = vec![
        Some(osv::Labels { cwe_ids: vec!["CWE-506".into(), "CWE-912".into()], informational: None }),
        Some(osv::Labels { cwe_ids: Vec::new(), informational: Some("unmaintained".into()) }),
        Some(osv::Labels::default()),
        None,
    ];
    assert_eq!(all_labels(&store), expected, "as ingested");
    drop(store);

    // The same file as schema 4 wrote it: no labels columns.
    let conn = rusqlite::Connection::open(&path).expect("open");
    conn.execute_batch(
        "ALTER TABLE advisories DROP COLUMN cwe_ids; ALTER TABLE advisories DROP COLUMN informational;
         PRAGMA user_version = 4;",
    )
    .expect("downgrade");
    drop(conn);
    let read_only = Store::open_read_only(&path).expect("read-only open migrates nothing");
    assert_eq!(all_labels(&read_only), expected, "read from the raw records");
    drop(read_only);
    assert_eq!(user_version(&path), 4);

    let store = Store::open(&path).expect("migrates");
    assert_eq!(user_version(&path), SCHEMA_VERSION);
    let conn = rusqlite::Connection::open(&path).expect("open");
    let filled: Vec<(String, String, Option<String>)> = conn
        .prepare("SELECT id, cwe_ids, informational FROM advisories ORDER BY id")
        .expect("prepare")
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(
        filled,
        [
            ("GHSA-mal".to_owned(), r#"["CWE-506","CWE-912"]"#.to_owned(), None),
            ("GHSA-plain".to_owned(), "[]".to_owned(), None),
            ("RUSTSEC-2099-0001".to_owned(), "[]".to_owned(), Some("unmaintained".to_owned())),
        ],
        "back-filled in the columns"
    );
    assert_eq!(all_labels(&store), expected, "read from the columns");
}

#[test]
fn upsert_replaces_a_record_and_its_index() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(&dir.path().join("a.db")).expect("open");
    let first = record("PYSEC-1", &["CVE-1"], false, &[("PyPI", "PyYAML", "0", "5.4"), ("Maven", "x:y", "0", "1")]);
    put(&mut store, Ecosystem::PyPI, std::slice::from_ref(&first));
    assert_eq!(ids(&store, Ecosystem::PyPI, "pyyaml"), ["PYSEC-1"], "names are normalized (PEP 503)");
    assert_eq!(ids(&store, Ecosystem::PyPI, "PyYAML"), ["PYSEC-1"]);
    assert_eq!(store.raw("PYSEC-1").expect("raw").as_deref(), Some(first.as_str()), "stored whole");
    let meta = store.meta("PYSEC-1").expect("meta").expect("present");
    assert_eq!(
        (meta.aliases, meta.summary, meta.withdrawn),
        (vec!["CVE-1".to_owned()], "PYSEC-1 summary".into(), false)
    );
    assert_eq!(meta.severity.level, Some(bundleguard::vocab::Level::High));
    assert_eq!(meta.modified, "2024-01-02T03:04:05Z".parse::<Timestamp>().expect("time"));

    let (_, entry) = store
        .candidates(Ecosystem::PyPI, &PackageName::new(Ecosystem::PyPI, "pyyaml"))
        .expect("candidates")
        .pop()
        .expect("one");
    assert_eq!(entry.ecosystem, Some(Ecosystem::PyPI));
    assert_eq!(entry.ranges[0].events.len(), 2, "the ranges come back from the index");

    put(&mut store, Ecosystem::PyPI, &[record("PYSEC-1", &["CVE-1"], false, &[("PyPI", "jinja2", "0", "2.10.1")])]);
    assert!(ids(&store, Ecosystem::PyPI, "pyyaml").is_empty(), "the old affected entry is gone");
    assert_eq!(ids(&store, Ecosystem::PyPI, "jinja2"), ["PYSEC-1"]);
    assert_eq!(store.record_count(Ecosystem::PyPI).expect("count"), 1);
}

#[test]
fn withdrawn_records_are_kept_but_never_candidates() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(&dir.path().join("a.db")).expect("open");
    put(
        &mut store,
        Ecosystem::Npm,
        &[
            record("GHSA-live", &[], false, &[("npm", "protobufjs", "0", "5.0.3")]),
            record("GHSA-gone", &[], true, &[("npm", "protobufjs", "0", "5.0.3")]),
        ],
    );
    assert_eq!(ids(&store, Ecosystem::Npm, "protobufjs"), ["GHSA-live"]);
    assert!(store.meta("GHSA-gone").expect("meta").expect("kept").withdrawn);
    let npm = &store.status().expect("status")[0];
    assert_eq!((npm.ecosystem, npm.advisories, npm.withdrawn), (Ecosystem::Npm, 2, 1));
}

#[test]
fn remove_drops_records_no_folder_lists_and_a_dropped_ingest_changes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(&dir.path().join("a.db")).expect("open");
    // One record listed by two ecosystems' folders (a record affecting npm and PyPI packages).
    let both = record("GHSA-both", &[], false, &[("npm", "a", "0", "1"), ("PyPI", "b", "0", "1")]);
    put(&mut store, Ecosystem::Npm, std::slice::from_ref(&both));
    put(&mut store, Ecosystem::PyPI, &[both, record("PYSEC-only", &[], false, &[("PyPI", "c", "0", "1")])]);

    let mut ingest = store.ingest().expect("ingest");
    ingest.remove(Ecosystem::PyPI, "PYSEC-only").expect("remove");
    ingest.clear_ecosystem(Ecosystem::Npm).expect("clear");
    drop(ingest);
    assert_eq!(ids(&store, Ecosystem::PyPI, "c"), ["PYSEC-only"], "not committed: nothing changed");
    assert_eq!(store.record_count(Ecosystem::Npm).expect("count"), 1);

    let mut ingest = store.ingest().expect("ingest");
    ingest.remove(Ecosystem::PyPI, "PYSEC-only").expect("remove");
    ingest.remove(Ecosystem::Npm, "GHSA-both").expect("remove");
    ingest.commit().expect("commit");
    assert!(ids(&store, Ecosystem::PyPI, "c").is_empty());
    assert!(store.meta("PYSEC-only").expect("meta").is_none(), "listed by no folder: dropped");
    assert_eq!(ids(&store, Ecosystem::Npm, "a"), ["GHSA-both"], "still listed by PyPI's folder: kept");
    assert_eq!(store.record_count(Ecosystem::Npm).expect("count"), 0);
    assert_eq!(store.known_records(Ecosystem::PyPI).expect("known").keys().collect::<Vec<_>>(), ["GHSA-both"]);
}

#[test]
fn sync_state_round_trips_per_ecosystem() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(&dir.path().join("a.db")).expect("open");
    assert_eq!(store.sync_state(Ecosystem::Go).expect("state"), None);
    let state = SyncState {
        source: "https://mirror.example/osv".into(),
        csv_etag: Some("\"csv-1\"".into()),
        zip_etag: None,
        synced_at: Some("2026-06-01T12:00:00.123456789Z".parse().expect("time")),
        malformed: 2,
    };
    let mut ingest = store.ingest().expect("ingest");
    ingest.set_state(Ecosystem::Go, &state).expect("set");
    ingest.commit().expect("commit");
    assert_eq!(store.sync_state(Ecosystem::Go).expect("state"), Some(state.clone()));
    assert_eq!(store.sync_state(Ecosystem::CratesIo).expect("state"), None);
    let go = store.status().expect("status").into_iter().find(|s| s.ecosystem == Ecosystem::Go).expect("Go");
    assert_eq!((go.synced_at, go.source, go.malformed), (state.synced_at, Some(state.source), 2));
    assert_eq!(go.advisories, 0);
}

/// One statement for many names gives each name's entries as `candidates` gives them, in the
/// order of the names, withdrawn left out; absent names give nothing.
#[test]
fn candidates_of_many_names_match_one_lookup_per_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(&dir.path().join("a.db")).expect("open");
    put(
        &mut store,
        Ecosystem::Npm,
        &[
            record("GHSA-b", &[], false, &[("npm", "qs", "0", "6.0.4"), ("npm", "qs", "6.1.0", "6.1.2")]),
            record("GHSA-a", &[], false, &[("npm", "qs", "0", "1"), ("npm", "@types/node", "0", "2")]),
            record("GHSA-gone", &[], true, &[("npm", "qs", "0", "9")]),
            record("GHSA-c", &[], false, &[("npm", "minimist", "0", "1.2.6")]),
        ],
    );
    let names: Vec<PackageName> = ["qs", "absent", "@types/node", "minimist", "\"quoted\\"]
        .iter()
        .map(|n| PackageName::new(Ecosystem::Npm, n))
        .collect();
    let refs: Vec<&PackageName> = names.iter().collect();
    let many = store.candidates_of(Ecosystem::Npm, &refs).expect("candidates_of");
    let mut one_by_one = Vec::new();
    for (at, name) in names.iter().enumerate() {
        let rows = store.candidates(Ecosystem::Npm, name).expect("candidates");
        one_by_one.extend(rows.into_iter().map(|(id, entry)| (at, id, entry)));
    }
    assert_eq!(many, one_by_one);
    let ids: Vec<(usize, &str)> = many.iter().map(|(at, id, _)| (*at, id.as_str())).collect();
    assert_eq!(ids, [(0, "GHSA-a"), (0, "GHSA-b"), (0, "GHSA-b"), (2, "GHSA-a"), (3, "GHSA-c")]);
    assert!(store.candidates_of(Ecosystem::PyPI, &refs).expect("other ecosystem").is_empty());
    assert!(store.candidates_of(Ecosystem::Npm, &[]).expect("no names").is_empty());
}

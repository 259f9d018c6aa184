//! Organisation-scale inventory benchmark on a real PostgreSQL server started here (127.0.0.1):
//! 50 repositories x 200 functions whose package lists are real lockfiles from
//! `../shared/corpus`, the advisories of `../shared/osv`; then a sync adds 100 advisories for
//! packages the inventory holds and the re-check runs: wall time and statements sent to the
//! server (targets: under 10 s; the inventory read in bulk, each (ecosystem, package) matched
//! once). Then the added time of recording one 500-function scan (target: under 1 s).
//! Run with `cargo bench --bench inventory_pg`; prints "skipped" without ../shared or PostgreSQL.

#![expect(clippy::print_stdout, reason = "a benchmark prints its figures")]

#[path = "../tests/it/inventory_pg.rs"]
mod pg;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use bundleguard::advisory::osv;
use bundleguard::advisory::store::Store;
use bundleguard::advisory::sync::{self, Quiet, Source};
use bundleguard::inventory::postgres::PgInventory;
use bundleguard::inventory::{self, FunctionRecord, Inventory as _, RecordContext, RecordedPackage, ScanRecord};
use bundleguard::package::{Ecosystem, Source as PackageSource};

const REPOSITORIES: usize = 50;
const FUNCTIONS: usize = 200;
const NEW_ADVISORIES: usize = 100;

/// Every lockfile of the corpus that parses, as a package list (prod and dev, as recorded).
fn corpus_package_lists(corpus: &Path) -> Vec<Vec<RecordedPackage>> {
    let mut files = Vec::new();
    let mut stack = vec![corpus.to_owned()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs_err::read_dir(&dir) else { continue };
        for e in entries.flatten() {
            let path = e.path();
            if path.is_dir() {
                stack.push(path);
            } else if bundleguard::lockfile::detect(&path).is_some() {
                files.push(path);
            }
        }
    }
    files.sort();
    files
        .iter()
        .filter_map(|f| bundleguard::lockfile::load(f).ok())
        .map(|lock| {
            let mut packages: Vec<RecordedPackage> = lock
                .graph
                .nodes()
                .iter()
                .filter(|p| p.source == PackageSource::Registry)
                .map(|p| RecordedPackage {
                    ecosystem: p.ecosystem,
                    name: p.name.as_str().to_owned(),
                    version: p.version.clone(),
                    scope: p.scope,
                })
                .collect();
            packages.sort();
            packages.dedup();
            packages
        })
        .filter(|p| !p.is_empty())
        .collect()
}

fn scan(repository: &str, functions: usize, lists: &[Vec<RecordedPackage>], offset: usize) -> ScanRecord {
    let mut context = RecordContext::local(jiff::Timestamp::now());
    repository.clone_into(&mut context.repository);
    context.environment = "prod".into();
    context.commit = Some(format!("{offset:040x}"));
    context.deploy = true;
    let functions = (0..functions)
        .map(|j| FunctionRecord {
            function: format!("fn-{j:03}"),
            kind: "function".into(),
            runtime: Some("nodejs20.x".into()),
            path: format!("services/fn-{j:03}/package-lock.json"),
            packages: lists[(offset + j) % lists.len()].clone(),
            findings: Vec::new(),
        })
        .collect();
    ScanRecord { context, functions, history_days: inventory::DEFAULT_HISTORY_DAYS }
}

/// 100 new OSV records, each affecting every version of one package the inventory holds.
fn new_advisories(lists: &[Vec<RecordedPackage>]) -> Vec<(Ecosystem, String)> {
    let names: BTreeSet<(Ecosystem, String)> = lists.iter().flatten().map(|p| (p.ecosystem, p.name.clone())).collect();
    let step = (names.len() / NEW_ADVISORIES).max(1);
    names.into_iter().step_by(step).take(NEW_ADVISORIES).collect()
}

fn add_advisories(db: &Path, packages: &[(Ecosystem, String)]) {
    let mut store = Store::open(db).expect("open");
    let mut ingest = store.ingest().expect("ingest");
    for (i, (eco, name)) in packages.iter().enumerate() {
        let raw = serde_json::json!({
            "schema_version": "1.6.0",
            "id": format!("BENCH-2026-{i:04}"),
            "modified": "2026-12-01T00:00:00Z",
            "published": "2026-12-01T00:00:00Z",
            "summary": format!("benchmark advisory for {name}"),
            "affected": [{
                "package": {"ecosystem": eco.as_str(), "name": name},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}],
            }],
            "database_specific": {"severity": "HIGH"},
        })
        .to_string();
        let advisory = osv::parse_record(raw.as_bytes()).expect("valid OSV");
        ingest.upsert(*eco, &advisory, &raw).expect("upsert");
    }
    ingest.commit().expect("commit");
}

fn main() {
    let shared = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared");
    if !shared.join("osv").is_dir() || !shared.join("corpus").is_dir() {
        println!("skipped: ../shared not found");
        return;
    }
    let Some(server) = pg::PgServer::start("inventory_pg bench") else { return };
    let url = server.database("bench");
    let tmp = tempfile::tempdir().expect("tempdir");

    let lists = corpus_package_lists(&shared.join("corpus"));
    let rows: usize = lists.iter().map(Vec::len).sum();
    println!("corpus: {} package lists, {} packages ({} per list)", lists.len(), rows, rows / lists.len().max(1));

    let db = tmp.path().join("advisories.db");
    let start = Instant::now();
    let mut store = Store::open(&db).expect("open");
    sync::sync(
        &mut store,
        &Source::parse(&shared.join("osv").display().to_string()).expect("source"),
        &Ecosystem::ALL,
        &Quiet,
    )
    .expect("sync");
    drop(store);
    println!("advisory database synced from ../shared/osv: {:.1} s", start.elapsed().as_secs_f64());

    let mut inv = PgInventory::connect(&url).expect("connect");
    let start = Instant::now();
    for r in 0..REPOSITORIES {
        inv.record(&scan(&format!("org/repo-{r:02}"), FUNCTIONS, &lists, r * 7)).expect("record");
    }
    let functions = inv.list(&inventory::Filter::default()).expect("list");
    let recorded_packages: usize = functions.iter().map(|f| f.packages).sum();
    println!(
        "recorded {} functions ({} package rows) in {:.1} s",
        functions.len(),
        recorded_packages,
        start.elapsed().as_secs_f64()
    );

    let advisories = Store::open_existing(&db).expect("open");
    let start = Instant::now();
    let before = inv.query_count();
    let first = inventory::recheck(&mut inv, &advisories, bundleguard::vocab::Level::High).expect("recheck");
    println!(
        "first re-check (every existing finding is news): {:.2} s, {} functions affected, {} statements",
        start.elapsed().as_secs_f64(),
        first.len(),
        inv.query_count() - before
    );
    drop(advisories);

    let added = new_advisories(&lists);
    add_advisories(&db, &added);
    let advisories = Store::open_existing(&db).expect("open");
    let before = inv.query_count();
    let start = Instant::now();
    let changes = inventory::recheck(&mut inv, &advisories, bundleguard::vocab::Level::High).expect("recheck");
    let elapsed = start.elapsed();
    let new: usize = changes.iter().map(|c| c.new.len()).sum();
    println!(
        "re-check after a sync adding {} advisories: {:.2} s (target < 10 s), {} functions newly affected, {} new findings, {} statements to the server",
        added.len(),
        elapsed.as_secs_f64(),
        changes.len(),
        new,
        inv.query_count() - before
    );
    let before = inv.query_count();
    let start = Instant::now();
    let again = inventory::recheck(&mut inv, &advisories, bundleguard::vocab::Level::High).expect("recheck");
    println!(
        "second re-check, nothing new: {:.2} s, {} changes, {} statements",
        start.elapsed().as_secs_f64(),
        again.len(),
        inv.query_count() - before
    );

    let big = scan("org/big-monorepo", 500, &lists, 3);
    let before = inv.query_count();
    let start = Instant::now();
    inv.record(&big).expect("record");
    println!(
        "recording one 500-function scan ({} package rows): {:.0} ms (target < 1 s), {} statements",
        big.functions.iter().map(|f| f.packages.len()).sum::<usize>(),
        start.elapsed().as_secs_f64() * 1e3,
        inv.query_count() - before
    );
    let start = Instant::now();
    inv.record(&big).expect("record");
    println!("the same scan again (a retried job, nothing new): {:.0} ms", start.elapsed().as_secs_f64() * 1e3);
}

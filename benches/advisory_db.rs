//! Advisory database benchmark: full sync of the shared mirror from a local folder with the
//! bucket layout (`--source DIR`: the sync code a mirror goes through, without HTTP), a
//! no-change sync, single-package query latency, and matching 10,000 distinct packages against
//! the full database. Inputs are built through the public API only. Run with
//! `cargo bench --bench advisory_db` (needs ../shared; prints "skipped" without it). Figures are
//! wall-clock on this machine; each is the best of N runs.

#![expect(clippy::print_stdout, reason = "a benchmark prints its figures")]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use bundleguard::advisory::store::Store;
use bundleguard::advisory::sync::{self, Quiet, Source};
use bundleguard::matcher::{self, PackageQuery};
use bundleguard::package::{Ecosystem, PackageName};

fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut last = None;
    for _ in 0..runs {
        let start = Instant::now();
        let out = f();
        best = best.min(start.elapsed());
        last = Some(out);
    }
    (best, last.expect("at least one run"))
}

fn main() {
    let shared = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared");
    if !shared.join("osv").is_dir() {
        println!("skipped: ../shared not found");
        return;
    }
    let mirror = shared.join("osv").display().to_string();
    let tmp = tempfile::tempdir().expect("tempdir");

    let (full, db) = best_of(3, || {
        let db = tmp.path().join(format!("full-{}.db", rand_suffix()));
        let mut store = Store::open(&db).expect("open");
        let source = Source::parse(&mirror).expect("source");
        sync::sync(&mut store, &source, &Ecosystem::ALL, &Quiet).expect("full sync");
        db
    });
    println!("full sync of the shared mirror (48,196 records) from a local folder: {:.2} s", full.as_secs_f64());

    let mut store = Store::open(&db).expect("open");
    let source = Source::parse(&mirror).expect("source");
    let (no_change, _) = best_of(5, || sync::sync(&mut store, &source, &Ecosystem::ALL, &Quiet).expect("sync"));
    println!("no-change sync (4 conditional reads): {:.1} ms", no_change.as_secs_f64() * 1e3);

    let one = [PackageQuery {
        ecosystem: Ecosystem::Npm,
        name: PackageName::new(Ecosystem::Npm, "lodash"),
        version: "4.17.15".into(),
    }];
    let (query, found) = best_of(50, || matcher::match_packages(&store, &one).expect("match"));
    println!(
        "query latency (npm lodash 4.17.15, {} findings): {:.2} ms",
        found[0].vulnerabilities.len(),
        query.as_secs_f64() * 1e3
    );

    let queries = distinct_packages(&db, 10_000);
    let (many, results) = best_of(5, || matcher::match_packages(&store, &queries).expect("match"));
    let hits: usize = results.iter().map(|r| r.vulnerabilities.len()).sum();
    println!(
        "matching {} distinct packages against the full DB: {:.0} ms ({hits} findings)",
        queries.len(),
        many.as_secs_f64() * 1e3
    );
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos())
}

/// Distinct package names of the index (all four ecosystems), each at a plausible version.
fn distinct_packages(db: &std::path::Path, n: usize) -> Vec<PackageQuery> {
    let conn = rusqlite::Connection::open(db).expect("open");
    let mut stmt =
        conn.prepare("SELECT DISTINCT ecosystem, name FROM affected ORDER BY ecosystem, name").expect("prepare");
    let rows = stmt.query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))).expect("query");
    rows.filter_map(Result::ok)
        .filter_map(|(eco, name)| {
            let ecosystem = Ecosystem::from_name(&eco)?;
            let version = if ecosystem == Ecosystem::Go { "v1.0.0" } else { "1.0.0" };
            Some(PackageQuery { ecosystem, name: PackageName::new(ecosystem, &name), version: version.into() })
        })
        .take(n)
        .collect()
}

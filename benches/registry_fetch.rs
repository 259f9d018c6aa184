//! Registry metadata fetch for the 500-function monorepo (benches/gen_monorepo.py over
//! `../shared/corpus`): its unique npm and PyPI packages are served by the test suite's mock
//! server on 127.0.0.1 as synthesised packuments / PyPI JSON documents (12 versions each, with
//! publishers, times, dependencies), then fetched three ways: a first fetch into an empty
//! database, a second run answered by the warm cache, and `sync --metadata` where nothing changed
//! (every package revalidated with a 304). The lockfile parse of the same monorepo is printed
//! beside them for scale. Run: `cargo bench --bench registry_fetch` (needs `../shared/corpus` and
//! python3).

#![expect(clippy::print_stdout, reason = "a benchmark reports its figures on stdout")]

#[path = "../tests/it/server.rs"]
#[expect(dead_code, reason = "the benchmark uses only part of the test server")]
mod server;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use bundleguard::advisory::store::Store;
use bundleguard::package::{Ecosystem, PackageName};
use bundleguard::registry::config::RegistryConfig;
use bundleguard::registry::{FetchMode, FetchOptions, facts_for, sync_metadata};

fn lockfiles(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            lockfiles(&path, out);
        } else if bundleguard::lockfile::detect(&path).is_some() && !path.ends_with("package.json") {
            out.push(path);
        }
    }
}

fn npm_packument(name: &str, locked: &str) -> String {
    let mut versions = Vec::new();
    let mut times = vec![r#""created":"2019-01-01T00:00:00.000Z""#.to_owned()];
    for i in 0..12 {
        let v = if i == 11 { locked.to_owned() } else { format!("0.{i}.0") };
        versions.push(format!(
            r#""{v}":{{"name":"{name}","version":"{v}","scripts":{{"test":"node test"}},"dependencies":{{"dep-{i}":"^1.0.0"}},"_npmUser":{{"name":"publisher-{p}","email":"p@example.invalid"}},"maintainers":[{{"name":"publisher-{p}","email":"p@example.invalid"}}],"dist":{{"tarball":"http://x/{name}-{v}.tgz","shasum":"0000000000000000000000000000000000000000"}},"readme":"{readme}"}}"#,
            p = i % 3,
            readme = "x".repeat(200)
        ));
        times.push(format!(r#""{v}":"20{:02}-0{}-15T10:00:00.000Z""#, 19 + i / 2, 1 + i % 9));
    }
    format!(
        r#"{{"_id":"{name}","name":"{name}","dist-tags":{{"latest":"{locked}"}},"time":{{{}}},"maintainers":[{{"name":"publisher-0"}}],"versions":{{{}}}}}"#,
        times.join(","),
        versions.join(",")
    )
}

fn pypi_json(name: &str, locked: &str) -> String {
    let releases: Vec<String> = (0..12)
        .map(|i| {
            let v = if i == 11 { locked.to_owned() } else { format!("0.{i}.0") };
            format!(
                r#""{v}":[{{"filename":"{name}-{v}.tar.gz","upload_time_iso_8601":"20{:02}-0{}-15T10:00:00.000000Z","yanked":false,"yanked_reason":null}}]"#,
                19 + i / 2,
                1 + i % 9
            )
        })
        .collect();
    format!(
        r#"{{"info":{{"name":"{name}","version":"{locked}"}},"releases":{{{}}},"ownership":{{"roles":[{{"role":"Owner","user":"someone"}}]}}}}"#,
        releases.join(",")
    )
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let out = f();
    (out, start.elapsed())
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let corpus = root.join("../shared/corpus");
    if !corpus.is_dir() {
        println!("skipped: ../shared/corpus not found");
        return;
    }
    let work = tempfile::tempdir().expect("temp dir");
    let mono = work.path().join("mono");
    let generated = Command::new("python3")
        .arg(root.join("benches/gen_monorepo.py"))
        .arg(&corpus)
        .arg(&mono)
        .arg("500")
        .output()
        .expect("python3 runs");
    assert!(generated.status.success(), "gen_monorepo.py failed: {}", String::from_utf8_lossy(&generated.stderr));

    let mut files = Vec::new();
    lockfiles(&mono, &mut files);
    let (locked, parse_time) = timed(|| {
        let mut set = BTreeSet::new();
        for file in &files {
            if let Ok(lock) = bundleguard::lockfile::load(file) {
                for p in lock.graph.nodes() {
                    set.insert((p.ecosystem, p.name.clone(), p.version.clone()));
                }
            }
        }
        set
    });
    let mut packages: Vec<(Ecosystem, PackageName)> = locked.iter().map(|(e, n, _)| (*e, n.clone())).collect();
    packages.dedup();

    let documents = work.path().join("served");
    for (eco, name, version) in &locked {
        let (path, body) = match eco {
            Ecosystem::Npm => (documents.join("npm").join(name.as_str()), npm_packument(name.as_str(), version)),
            Ecosystem::PyPI => {
                (documents.join("pypi/pypi").join(name.as_str()).join("json"), pypi_json(name.as_str(), version))
            }
            _ => continue,
        };
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, body).expect("write");
    }
    let server = server::MockBucket::start(documents);
    let config = RegistryConfig::single_mirror(&server.url);
    let mut store = Store::open(&work.path().join("db.sqlite")).expect("database");
    let online = FetchOptions::new(FetchMode::Online { ttl: Duration::from_hours(24) });

    println!(
        "{} lockfiles, {} unique packages ({} npm, {} PyPI); lockfile parse of the monorepo: {:.0} ms",
        files.len(),
        packages.len(),
        packages.iter().filter(|p| p.0 == Ecosystem::Npm).count(),
        packages.iter().filter(|p| p.0 == Ecosystem::PyPI).count(),
        parse_time.as_secs_f64() * 1e3
    );
    let (first, t_first) = timed(|| facts_for(&mut store, &config, &packages, &online).expect("first fetch"));
    // The file and its write-ahead log: a scan's writes stay in the -wal until a checkpoint.
    let db_size: u64 = ["db.sqlite", "db.sqlite-wal"]
        .iter()
        .map(|f| std::fs::metadata(work.path().join(f)).map_or(0, |m| m.len()))
        .sum();
    println!(
        "first fetch (8 parallel requests, empty cache): {:>8.0} ms  fetched {}, not evaluated {}, database {:.1} MiB",
        t_first.as_secs_f64() * 1e3,
        first.stats.fetched,
        first.stats.not_evaluated,
        f64::from(u32::try_from(db_size >> 10).unwrap_or(u32::MAX)) / 1024.0
    );
    server.clear_log();
    let (warm, t_warm) = timed(|| facts_for(&mut store, &config, &packages, &online).expect("warm run"));
    println!(
        "second run (warm cache, within TTL):            {:>8.0} ms  from cache {}, requests {}",
        t_warm.as_secs_f64() * 1e3,
        warm.stats.cached,
        server.log().len()
    );
    let (synced, t_sync) = timed(|| sync_metadata(&mut store, &config, &packages, &online).expect("sync"));
    println!(
        "sync --metadata, nothing changed (all 304):      {:>8.0} ms  not modified {}",
        t_sync.as_secs_f64() * 1e3,
        synced.stats.not_modified
    );
}

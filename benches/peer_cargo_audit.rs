//! Side by side with cargo-audit (issue 15): whole-process wall time of `target/release/bundleguard`
//! scanning the 734-package cargo-lambda `Cargo.lock` and of `cargo audit` on the same file
//! (RustSec's own database in `../shared/peers`), interleaved so the machine's load falls on both
//! alike, plus the 3,181-package npm shrinkwrap scan in the same run. Prints medians, the ratios
//! and whether both tools report the same RUSTSEC ids (bundleguard reports OSV ids: its ids and
//! aliases are compared). Targets: cargo-lambda at most 1/3 of cargo-audit's time, the npm
//! shrinkwrap under 0.45x.
//!
//! Run: `cargo build --release --locked && cargo bench --locked --bench peer_cargo_audit`
//! (`BENCH_RUNS=N` to change the 9 runs, `BENCH_BIN=PATH` to time another bundleguard binary).
//! Skips with a line when `../shared`, cargo-audit or the release binary is missing.

#![expect(clippy::print_stdout, reason = "a benchmark reports its figures on stdout")]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CARGO_LAMBDA: &str = "corpus/cargo-lock/cargo-lambda-2026-v4/Cargo.lock";
const NPM_SHRINKWRAP: &str = "corpus/npm-shrinkwrap/powertools-lambda-typescript-2021-12-root/npm-shrinkwrap.json";

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let shared = std::env::var_os("BUNDLEGUARD_SHARED").map_or_else(|| root.join("../shared"), PathBuf::from);
    // `BENCH_BIN` compares another build (an older binary, for a before/after figure).
    let bin = std::env::var_os("BENCH_BIN").map_or_else(|| root.join("target/release/bundleguard"), PathBuf::from);
    if !shared.join("osv").is_dir() || !shared.join("peers/rustsec-advisory-db").is_dir() {
        println!("skipped: ../shared (osv mirror and peers/rustsec-advisory-db) not found");
        return;
    }
    if !bin.is_file() {
        println!("skipped: {} not built (cargo build --release --locked)", bin.display());
        return;
    }
    let Some(audit) = cargo_audit() else {
        println!("skipped: cargo-audit not installed (cargo install cargo-audit --locked)");
        return;
    };
    let runs: usize = std::env::var("BENCH_RUNS").ok().and_then(|n| n.parse().ok()).unwrap_or(9).max(1);
    let db = root.join("target/peer-bench/advisories.db");
    if let Err(e) = sync(&bin, &db, &shared.join("osv")) {
        println!("failed: the database could not be synced from ../shared/osv: {e}");
        std::process::exit(1);
    }
    let lock = shared.join(CARGO_LAMBDA);
    let npm = shared.join(NPM_SHRINKWRAP);
    let scan = |target: &Path| {
        let mut c = Command::new(&bin);
        c.arg("--db").arg(&db).arg("scan").arg(target);
        c.args(["--offline", "--no-inventory", "--format", "json"]);
        c
    };
    let cargo_audit = || {
        let mut c = Command::new(&audit);
        c.arg("audit").arg("--db").arg(shared.join("peers/rustsec-advisory-db"));
        c.args(["--no-fetch", "--stale", "--no-yanked", "-f"]).arg(&lock);
        c
    };

    // One warm-up run each (file cache, page cache of the database), not counted.
    for mut c in [scan(&lock), cargo_audit(), scan(&npm)] {
        time(&mut c);
    }
    let (mut ours, mut theirs, mut ours_npm) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        ours.push(time(&mut scan(&lock)));
        theirs.push(time(&mut cargo_audit()));
        ours_npm.push(time(&mut scan(&npm)));
    }
    let (ours, theirs, ours_npm) = (median(&mut ours), median(&mut theirs), median(&mut ours_npm));
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!("interleaved, median of {runs} runs each, whole process, warm cache:");
    println!("  bundleguard scan cargo-lambda Cargo.lock (734 packages): {:.1} ms", ms(ours));
    println!("  cargo audit on the same file:                           {:.1} ms", ms(theirs));
    println!("  bundleguard scan npm-shrinkwrap.json (3,181 packages):  {:.1} ms", ms(ours_npm));
    println!("  ratio cargo-lambda / cargo-audit: {:.2} (target <= 0.33)", ms(ours) / ms(theirs));
    println!("  ratio npm shrinkwrap / cargo-audit: {:.2} (target < 0.45)", ms(ours_npm) / ms(theirs));

    let ours_ids = rustsec_ids_of_bundleguard(&output(&mut scan(&lock)));
    let mut theirs_json = cargo_audit();
    theirs_json.arg("--json");
    let theirs_ids = rustsec_ids_of_cargo_audit(&output(&mut theirs_json));
    let only_ours: Vec<_> = ours_ids.difference(&theirs_ids).collect();
    let only_theirs: Vec<_> = theirs_ids.difference(&ours_ids).collect();
    println!(
        "RUSTSEC ids: {} reported by both, only bundleguard {only_ours:?}, only cargo-audit {only_theirs:?}",
        ours_ids.intersection(&theirs_ids).count()
    );
    if !only_ours.is_empty() || !only_theirs.is_empty() || ours_ids.is_empty() {
        println!("failed: the two tools do not report the same RUSTSEC ids");
        std::process::exit(1);
    }
}

/// `cargo-audit` from `$CARGO_HOME/bin`, `~/.cargo/bin` or the `PATH`.
fn cargo_audit() -> Option<PathBuf> {
    let home = std::env::var_os("CARGO_HOME").map(PathBuf::from).or_else(|| dirs::home_dir().map(|h| h.join(".cargo")));
    let candidates = home.map(|h| h.join("bin/cargo-audit")).into_iter().chain(
        std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).map(|d| d.join("cargo-audit")).collect::<Vec<_>>())
            .unwrap_or_default(),
    );
    candidates.into_iter().find(|p| p.is_file())
}

/// A database with every ecosystem of the mirror (a no-change sync when it is already there).
fn sync(bin: &Path, db: &Path, osv: &Path) -> Result<(), String> {
    if let Some(dir) = db.parent() {
        fs_err::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    let status = Command::new(bin)
        .arg("--db")
        .arg(db)
        .args(["sync", "--quiet", "--source"])
        .arg(osv)
        .stdout(Stdio::null())
        .status()
        .map_err(|e| e.to_string())?;
    status.success().then_some(()).ok_or_else(|| format!("sync exited with {status}"))
}

/// Wall time of one run, output discarded (exit 1, "vulnerabilities found", is expected).
fn time(command: &mut Command) -> Duration {
    let start = Instant::now();
    let status = command.stdout(Stdio::null()).stderr(Stdio::null()).status();
    let elapsed = start.elapsed();
    if status.as_ref().map_or(true, |s| s.code().is_none_or(|c| c > 1)) {
        println!("failed: {command:?} exited with {status:?}");
        std::process::exit(1);
    }
    elapsed
}

fn output(command: &mut Command) -> serde_json::Value {
    let out = command.stderr(Stdio::null()).output().map(|o| o.stdout).unwrap_or_default();
    serde_json::from_slice(&out).unwrap_or(serde_json::Value::Null)
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// The RUSTSEC ids among the findings' ids and aliases.
fn rustsec_ids_of_bundleguard(report: &serde_json::Value) -> BTreeSet<String> {
    let findings =
        report["bundles"].as_array().into_iter().flatten().filter_map(|b| b["findings"].as_array()).flatten();
    let ids = findings.flat_map(|f| std::iter::once(&f["id"]).chain(f["aliases"].as_array().into_iter().flatten()));
    ids.filter_map(|i| i.as_str()).filter(|i| i.starts_with("RUSTSEC-")).map(str::to_owned).collect()
}

/// The ids of cargo-audit's vulnerabilities and informational warnings.
fn rustsec_ids_of_cargo_audit(report: &serde_json::Value) -> BTreeSet<String> {
    let vulns = report["vulnerabilities"]["list"].as_array().into_iter().flatten();
    let warnings =
        report["warnings"].as_object().into_iter().flat_map(|w| w.values()).filter_map(|l| l.as_array()).flatten();
    vulns.chain(warnings).filter_map(|v| v["advisory"]["id"].as_str()).map(str::to_owned).collect()
}

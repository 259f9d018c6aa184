//! Per-phase wall times of the library scan pipeline (`scan::run` with
//! `ScanOptions::phases`, then the reporters), median of N runs, on: the cargo-lambda
//! `Cargo.lock`, the largest npm lockfile of the corpus, the generated 500-function monorepo
//! (`benches/gen_monorepo.py`) and the whole `../shared/corpus`, against a database fully synced
//! from `../shared/osv`. The scan runs as `scan --offline` does by default: cached registry
//! metadata only, recorded in the local inventory (the database file).
//!
//! Run with `cargo bench --locked --bench scan_phases` (needs ../shared; prints "skipped"
//! without it). `SCAN_PHASES_RUNS` sets N (default 7); `SCAN_PHASES_DB` names an already synced
//! database to use instead of syncing one (it is written to: scans record in it).

#![expect(clippy::print_stdout, reason = "a benchmark prints its figures")]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bundleguard::advisory::store::Store;
use bundleguard::advisory::sync::{self, Quiet, Source};
use bundleguard::finding::ScanResult;
use bundleguard::inventory::{DEFAULT_HISTORY_DAYS, RecordContext};
use bundleguard::package::Ecosystem;
use bundleguard::report::{self, RenderOptions, ReportFormat};
use bundleguard::scan::{self, Phase, PhaseTimes, Recording, ScanOptions};

/// The reporters timed as the `report` phase (what a CI gate typically writes).
const FORMATS: [ReportFormat; 4] =
    [ReportFormat::Json, ReportFormat::Sarif, ReportFormat::Markdown, ReportFormat::Table];

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let shared = root.join("../shared");
    if !shared.join("osv").is_dir() || !shared.join("corpus").is_dir() {
        println!("skipped: ../shared not found");
        return;
    }
    let runs: usize = std::env::var("SCAN_PHASES_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(7).max(1);
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = database(&shared, tmp.path());
    let mono = tmp.path().join("mono");
    let generated = std::process::Command::new("python3")
        .arg(root.join("benches/gen_monorepo.py"))
        .arg(shared.join("corpus"))
        .arg(&mono)
        .arg("500")
        .stdout(std::process::Stdio::null())
        .status();
    let corpus = shared.join("corpus");
    let mut inputs = vec![
        ("cargo-lambda", corpus.join("cargo-lock/cargo-lambda-2026-v4")),
        ("npm 3,181", corpus.join("npm-shrinkwrap/powertools-lambda-typescript-2021-12-root")),
    ];
    if generated.is_ok_and(|s| s.success()) {
        inputs.push(("500 functions", mono));
    } else {
        println!("note: benches/gen_monorepo.py failed (python3 missing?): the monorepo column is left out");
    }
    inputs.push(("whole corpus", corpus));

    let columns: Vec<Column> = inputs.iter().map(|(label, path)| measure(label, path, &db, &shared, runs)).collect();
    print_table(&columns, runs);
}

/// `SCAN_PHASES_DB`, else a full sync of the shared mirror into `dir`.
fn database(shared: &Path, dir: &Path) -> PathBuf {
    if let Some(db) = std::env::var_os("SCAN_PHASES_DB").map(PathBuf::from).filter(|p| p.is_file()) {
        return db;
    }
    let db = dir.join("full.db");
    let start = Instant::now();
    let mut store = Store::open(&db).expect("open the database");
    let source = Source::parse(&shared.join("osv").display().to_string()).expect("source");
    sync::sync(&mut store, &source, &Ecosystem::ALL, &Quiet).expect("full sync");
    println!("synced {} from ../shared/osv in {:.1} s", db.display(), start.elapsed().as_secs_f64());
    db
}

/// One input's phases (median per phase over the runs) and its totals.
struct Column {
    label: String,
    packages: usize,
    findings: usize,
    phases: Vec<(Phase, Duration)>,
    report: Duration,
    total: Duration,
}

fn measure(label: &str, path: &Path, db: &Path, shared: &Path, runs: usize) -> Column {
    let now = jiff::Timestamp::now();
    let options = ScanOptions {
        paths: vec![path.to_owned()],
        artifacts: Vec::new(),
        db: db.to_owned(),
        offline: true,
        source: shared.join("osv").display().to_string(),
        max_age: jiff::SignedDuration::from_hours(24 * 365 * 10),
        config: None,
        fail_on: None,
        include_dev: false,
        vex: Vec::new(),
        baseline: None,
        record: Some(Recording {
            inventory: None,
            context: RecordContext::detect(path, now),
            history_days: DEFAULT_HISTORY_DAYS,
        }),
        nothing_scanned_is_error: false,
        no_metadata: true,
        metadata_ttl: Duration::from_hours(24),
        now,
        phases: Some(Arc::new(PhaseTimes::default())),
    };
    let times = options.phases.clone().expect("set above");
    let mut per_phase: Vec<Vec<Duration>> = vec![Vec::new(); Phase::ALL.len()];
    let (mut reports, mut totals) = (Vec::new(), Vec::new());
    let mut last = None;
    for _ in 0..runs {
        let start = Instant::now();
        let result = scan::run(&options, &Quiet).expect("scan");
        let rendered = Instant::now();
        render_all(&result);
        reports.push(rendered.elapsed());
        totals.push(start.elapsed());
        let taken = times.take();
        for (slot, phase) in per_phase.iter_mut().zip(Phase::ALL) {
            slot.push(PhaseTimes::total(&taken, phase));
        }
        last = Some(result);
    }
    let result = last.expect("at least one run");
    Column {
        label: label.to_owned(),
        packages: result.bundles.iter().map(|b| b.graph.nodes().len()).sum(),
        findings: result.bundles.iter().map(|b| b.findings.len()).sum(),
        phases: Phase::ALL.into_iter().zip(per_phase.into_iter().map(median)).collect(),
        report: median(reports),
        total: median(totals),
    }
}

fn render_all(result: &ScanResult) {
    for format in FORMATS {
        let mut out = Vec::new();
        report::render(format, result, RenderOptions::default(), &mut out).expect("render");
        std::hint::black_box(out);
    }
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values.get(values.len() / 2).copied().unwrap_or_default()
}

fn print_table(columns: &[Column], runs: usize) {
    let ms = |d: Duration| format!("{:.2}", d.as_secs_f64() * 1e3);
    println!("\nwall time per phase, ms (median of {runs} runs; the total is the median of whole runs)");
    print!("{:<22}", "phase");
    for c in columns {
        print!(" | {:>14}", c.label);
    }
    println!();
    print!("{:<22}", "");
    for c in columns {
        print!(" | {:>14}", format!("{} pkgs", c.packages));
    }
    println!();
    for (i, phase) in Phase::ALL.iter().enumerate() {
        print!("{:<22}", phase.as_str());
        for c in columns {
            print!(" | {:>14}", ms(c.phases[i].1));
        }
        println!();
    }
    let row = |name: &str, value: &dyn Fn(&Column) -> String| {
        print!("{name:<22}");
        for c in columns {
            print!(" | {:>14}", value(c));
        }
        println!();
    };
    row("report (4 formats)", &|c| ms(c.report));
    row("total", &|c| ms(c.total));
    row("findings", &|c| c.findings.to_string());
}

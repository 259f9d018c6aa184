//! `bundleguard scan PATH...`: find the lockfiles, match them against the advisory database
//! (syncing it first when there is none, unless `--offline`), judge with the policy, report.
//! Exit code: 1 when the policy fails; else 2 when a file could not be scanned; else 0.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use jiff::{SignedDuration, Timestamp};

use super::Outcome;
use super::db::{parse_age, stale_warning};
use super::progress::SyncProgress;
use crate::advisory::store::Store;
use crate::advisory::sync::{self, DEFAULT_SOURCE, Source};
use crate::finding::{Level, ScanResult, Verdict};
use crate::package::Ecosystem;
use crate::policy::{Baseline, Policy};
use crate::report::{self, RenderOptions, ReportFormat};
use crate::scan;

#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    /// Folders (repositories, services), lockfiles, templates, deployment zips or binaries.
    #[arg(required_unless_present = "artifacts")]
    paths: Vec<PathBuf>,
    /// A file to read as a deployment artifact whatever its name (zip, Go or Rust binary).
    #[arg(long = "artifact", value_name = "FILE")]
    artifacts: Vec<PathBuf>,
    /// Never use the network: fail (exit 2) when the database is missing.
    #[arg(long)]
    offline: bool,
    #[arg(long, value_enum, default_value_t = FormatArg::Table)]
    format: FormatArg,
    /// Write the report to FILE instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Also write a report in another format (repeatable): `sarif=bundleguard.sarif`,
    /// `markdown=summary.md`, `json=report.json`, `cyclonedx=sbom.json`, `table=report.txt`.
    #[arg(long = "report", value_name = "FORMAT=FILE", value_parser = parse_extra_report)]
    reports: Vec<(FormatArg, PathBuf)>,
    /// Policy file [default: bundleguard.toml in the first PATH].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Fail on findings at or above this severity (overrides the policy file).
    #[arg(long, value_enum)]
    fail_on: Option<LevelArg>,
    /// Let dev-only packages gate too (overrides the policy file).
    #[arg(long)]
    include_dev: bool,
    /// An earlier `--format json` report: only findings new against it gate.
    #[arg(long, value_name = "REPORT.json")]
    baseline: Option<PathBuf>,
    /// Where to sync from when the database is missing.
    #[arg(long, env = "BUNDLEGUARD_SOURCE", default_value = DEFAULT_SOURCE)]
    source: String,
    /// Do not record the scanned bundles in the database's inventory (used by `sync` to report
    /// which bundles new advisories hit).
    #[arg(long)]
    no_inventory: bool,
    /// Warn when the database's last sync is older than this (e.g. `36h`, `7d`).
    #[arg(long, env = "BUNDLEGUARD_MAX_AGE", default_value = "7d", value_parser = parse_age)]
    max_age: SignedDuration,
}

fn parse_extra_report(s: &str) -> Result<(FormatArg, PathBuf), String> {
    use clap::ValueEnum as _;
    let (format, file) =
        s.split_once('=').ok_or_else(|| format!("{s:?}: expected FORMAT=FILE, such as sarif=bundleguard.sarif"))?;
    let format = FormatArg::from_str(format, true)
        .map_err(|_| format!("{format:?}: unknown format; expected table, json, sarif, cyclonedx or markdown"))?;
    if file.is_empty() {
        return Err(format!("{s:?}: the file name is missing"));
    }
    Ok((format, PathBuf::from(file)))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum FormatArg {
    Table,
    Json,
    Sarif,
    Cyclonedx,
    Markdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(super) enum LevelArg {
    Low,
    Medium,
    High,
    Critical,
}

impl From<LevelArg> for Level {
    fn from(l: LevelArg) -> Level {
        match l {
            LevelArg::Low => Level::Low,
            LevelArg::Medium => Level::Medium,
            LevelArg::High => Level::High,
            LevelArg::Critical => Level::Critical,
        }
    }
}

impl From<FormatArg> for ReportFormat {
    fn from(f: FormatArg) -> ReportFormat {
        match f {
            FormatArg::Table => ReportFormat::Table,
            FormatArg::Json => ReportFormat::Json,
            FormatArg::Sarif => ReportFormat::Sarif,
            FormatArg::Cyclonedx => ReportFormat::CycloneDx,
            FormatArg::Markdown => ReportFormat::Markdown,
        }
    }
}

pub fn run(db: &Path, args: &ScanArgs) -> anyhow::Result<Outcome> {
    let root = args.paths.first().map_or_else(|| PathBuf::from("."), |p| policy_root(p));
    let mut policy = Policy::load(args.config.as_deref(), &root)?;
    if let Some(level) = args.fail_on {
        policy.fail_on = level.into();
    }
    policy.include_dev |= args.include_dev;
    let baseline = match &args.baseline {
        Some(path) => Baseline::from_json_report(path, &fs_err::read_to_string(path)?)?,
        None => Baseline::default(),
    };
    let today = Timestamp::now().to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
    let collected = scan::collect(&args.paths, &args.artifacts, today);
    let ecosystems = collected.ecosystems();
    let mut store = open_or_sync(db, args, &ecosystems)?;
    let mut result = scan::scan(collected, &store)?;
    result.warnings.extend(staleness(&store, &ecosystems, args.max_age)?);
    policy.judge(&mut result, &baseline, today);
    if !args.no_inventory {
        scan::record_inventory(&mut store, &result)?;
    }
    write_report(args, &result)?;
    Ok(outcome(&result))
}

fn outcome(result: &ScanResult) -> Outcome {
    match result.verdict {
        Verdict::Fail => Outcome::Fail,
        Verdict::Pass if !result.errors.is_empty() => Outcome::Incomplete,
        Verdict::Pass => Outcome::Pass,
    }
}

/// Where `bundleguard.toml` / `osv-scanner.toml` are looked for: the first PATH (or its folder).
fn policy_root(path: &Path) -> PathBuf {
    if path.is_dir() { path.to_owned() } else { path.parent().map_or_else(|| PathBuf::from("."), Path::to_owned) }
}

/// Opens the database; when it is missing (or lacks an ecosystem the scan needs), syncs first,
/// unless `--offline`.
fn open_or_sync(db: &Path, args: &ScanArgs, ecosystems: &[Ecosystem]) -> anyhow::Result<Store> {
    let missing: Vec<Ecosystem> = if db.is_file() {
        let store = Store::open_existing(db)?;
        let mut missing = Vec::new();
        for &eco in ecosystems {
            if store.sync_state(eco)?.is_none() {
                missing.push(eco);
            }
        }
        if missing.is_empty() || args.offline {
            return Ok(store);
        }
        missing
    } else {
        if args.offline {
            anyhow::bail!(
                "no advisory database at {} and --offline forbids downloading one: run `bundleguard sync` first (or pass --db)",
                db.display()
            );
        }
        if ecosystems.is_empty() { Ecosystem::ALL.to_vec() } else { ecosystems.to_vec() }
    };
    let source = Source::parse(&args.source)?;
    let mut store = Store::open(db)?;
    let progress = SyncProgress::new(false);
    let synced = sync::sync(&mut store, &source, &missing, &progress);
    progress.finish();
    synced
        .with_context(|| format!("the advisory database is missing and the sync from {} failed", source.describe()))?;
    Ok(store)
}

fn staleness(store: &Store, ecosystems: &[Ecosystem], max_age: SignedDuration) -> anyhow::Result<Vec<String>> {
    let now = Timestamp::now();
    let mut warnings = Vec::new();
    for &eco in ecosystems {
        match store.sync_state(eco)?.and_then(|s| s.synced_at) {
            None => warnings.push(format!(
                "no {eco} advisories in the database ({}): its packages were not checked; run `bundleguard sync`",
                store.path().display()
            )),
            Some(at) => warnings.extend(stale_warning(eco, at, now, max_age)),
        }
    }
    Ok(warnings)
}

fn write_report(args: &ScanArgs, result: &ScanResult) -> anyhow::Result<()> {
    for (format, path) in &args.reports {
        let mut file = std::io::BufWriter::new(fs_err::File::create(path)?);
        report::render((*format).into(), result, RenderOptions::default(), &mut file)?;
        file.flush()?;
    }
    let format: ReportFormat = args.format.into();
    if let Some(path) = &args.output {
        let mut file = std::io::BufWriter::new(fs_err::File::create(path)?);
        report::render(format, result, RenderOptions::default(), &mut file)?;
        file.flush()?;
        // The people reading the terminal still learn what the gate decided.
        let mut err = std::io::stderr().lock();
        writeln!(err, "{}: report written to {}", result.verdict.as_str(), path.display())?;
    } else {
        let stdout = std::io::stdout();
        let color = stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        let mut out = std::io::BufWriter::new(stdout.lock());
        report::render(format, result, RenderOptions { color }, &mut out)?;
        out.flush()?;
    }
    if args.format != FormatArg::Table {
        let mut err = std::io::stderr().lock();
        for e in &result.errors {
            writeln!(err, "error: {}: {}", report::escape(&e.path), report::escape(&e.message))?;
        }
        for w in &result.warnings {
            writeln!(err, "warning: {}", report::escape(w))?;
        }
    }
    Ok(())
}

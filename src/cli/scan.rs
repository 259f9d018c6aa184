//! `bundleguard scan PATH...`: turns the arguments into [`ScanOptions`], runs the library's
//! pipeline (`scan::run`) and renders the result. Exit code: 1 when the policy fails; else 2
//! when the scan is incomplete (a file could not be scanned, packages not evaluated); else 0.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use jiff::{SignedDuration, Timestamp};

use super::Outcome;
use super::db::parse_age;
use super::progress::SyncProgress;
use crate::advisory::sync::DEFAULT_SOURCE;
use crate::finding::{Level, ScanResult, Verdict};
use crate::inventory;
use crate::report::{self, RenderOptions, ReportFormat};
use crate::scan::{self, ScanOptions};

#[derive(Debug, clap::Args)]
#[expect(clippy::struct_excessive_bools, reason = "clap flags: each bool is one switch of the command line")]
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
    /// Print only the fix plan (per function, the upgrades and overrides that clear every gating
    /// finding) instead of the report; `--output` and `--report` files are still written.
    #[arg(long)]
    fix_plan: bool,
    /// Write the report to FILE instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Also write a report in another format (repeatable): `sarif=bundleguard.sarif`,
    /// `markdown=summary.md`, `json=report.json`, `cyclonedx=sbom.json`, `table=report.txt`, `html=report.html`.
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
    /// An OpenVEX document (repeatable): its `not_affected` statements work as ignores, shown
    /// with status `vex`.
    #[arg(long = "vex", value_name = "FILE")]
    vex: Vec<PathBuf>,
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
    /// Do not fetch registry metadata (stale and takeover checks use only what is cached).
    #[arg(long, env = "BUNDLEGUARD_NO_METADATA", value_parser = clap::builder::BoolishValueParser::new(), default_value_t = false)]
    no_metadata: bool,
    /// What to record: `local` (the default with the local SQLite inventory), `deploy` (an
    /// explicit deploy record: the only way a scan writes to a shared `--inventory` server, so a
    /// pull request's scan never overwrites what is deployed), or `none`. `--no-inventory` wins.
    #[arg(long, value_enum, env = "BUNDLEGUARD_RECORD")]
    record: Option<RecordArg>,
    /// The inventory: a `postgres://` URL (shared by an organisation) or a SQLite file
    /// [default: the database file].
    #[arg(long, env = "BUNDLEGUARD_INVENTORY", value_name = "URL", hide_env_values = true)]
    inventory: Option<String>,
    /// The repository recorded [default: GITHUB_REPOSITORY, else the git remote `origin`].
    #[arg(long, value_name = "OWNER/NAME")]
    repository: Option<String>,
    /// The environment or stage deployed to (`prod`, `staging`...), part of a record's identity
    /// [default: the stage the templates declare: Serverless `provider.stage` (`dev` without
    /// one, `${opt:stage, 'x'}` read as `x`), SAM's `samconfig.toml` environment (`SAM_CONFIG_ENV`
    /// or `default`)]. Pass the deploy's own `--stage` here.
    #[arg(long, visible_alias = "stage", env = "BUNDLEGUARD_ENVIRONMENT", value_name = "NAME")]
    environment: Option<String>,
    /// Replaced records are kept as history this many days.
    #[arg(long, env = "BUNDLEGUARD_INVENTORY_HISTORY_DAYS", default_value_t = crate::inventory::DEFAULT_HISTORY_DAYS)]
    history_days: u32,
    /// Warn when the database's last sync is older than this (e.g. `36h`, `7d`).
    #[arg(long, env = "BUNDLEGUARD_MAX_AGE", default_value = "7d", value_parser = parse_age)]
    max_age: SignedDuration,
}

fn parse_extra_report(s: &str) -> Result<(FormatArg, PathBuf), String> {
    use clap::ValueEnum as _;
    let (format, file) =
        s.split_once('=').ok_or_else(|| format!("{s:?}: expected FORMAT=FILE, such as sarif=bundleguard.sarif"))?;
    let format = FormatArg::from_str(format, true).map_err(|_| {
        format!("{format:?}: unknown format; expected table, json, sarif, cyclonedx, markdown, html or openvex")
    })?;
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
    Html,
    Openvex,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum RecordArg {
    Local,
    Deploy,
    None,
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
            FormatArg::Html => ReportFormat::Html,
            FormatArg::Openvex => ReportFormat::OpenVex,
        }
    }
}

pub fn run(db: &Path, args: &ScanArgs) -> anyhow::Result<Outcome> {
    let options = ScanOptions {
        paths: args.paths.clone(),
        artifacts: args.artifacts.clone(),
        db: db.to_owned(),
        offline: args.offline,
        source: args.source.clone(),
        max_age: args.max_age,
        config: args.config.clone(),
        fail_on: args.fail_on.map(Level::from),
        include_dev: args.include_dev,
        vex: args.vex.clone(),
        baseline: args.baseline.clone(),
        record: recording(args),
        nothing_scanned_is_error: std::env::var_os("GITHUB_ACTIONS").is_some_and(|v| v == "true"),
        no_metadata: args.no_metadata,
        metadata_ttl: std::time::Duration::from_hours(24),
        now: crate::clock::now(),
        phases: None,
    };
    let progress = SyncProgress::new(false);
    let result = scan::run(&options, &progress);
    progress.finish();
    let result = result?;
    write_report(args, &result)?;
    let outcome = match result.verdict {
        Verdict::Fail => Outcome::Fail,
        Verdict::Incomplete => Outcome::Incomplete,
        Verdict::Pass => Outcome::Pass,
    };
    // The process ends after this: the system frees the result's tens of thousands of small
    // allocations at once, faster than dropping them one by one (the store is closed already).
    std::mem::forget(result);
    Ok(outcome)
}

/// Where and as what to record, as `--record`, `--no-inventory` and `--inventory` say: a shared
/// inventory only takes explicit deploy records (a pull request's scan never overwrites what is
/// deployed); the local one records by default.
fn recording(args: &ScanArgs) -> Option<scan::Recording> {
    let shared = args.inventory.as_deref().is_some_and(|i| !i.is_empty());
    let mode = match (args.record, args.no_inventory) {
        (_, true) => RecordArg::None,
        (Some(mode), false) => mode,
        (None, false) if shared => RecordArg::None,
        (None, false) => RecordArg::Local,
    };
    if mode == RecordArg::None {
        return None;
    }
    let root = args.paths.first().or(args.artifacts.first()).map_or_else(|| PathBuf::from("."), Clone::clone);
    let mut context = inventory::RecordContext::detect(&root, Timestamp::now());
    if let Some(repository) = &args.repository {
        context.repository.clone_from(repository);
    }
    context.environment = args.environment.clone().unwrap_or_default();
    context.deploy = mode == RecordArg::Deploy;
    Some(scan::Recording { inventory: args.inventory.clone(), context, history_days: args.history_days })
}

fn write_report(args: &ScanArgs, result: &ScanResult) -> anyhow::Result<()> {
    for (format, path) in &args.reports {
        write_file((*format).into(), result, path)?;
    }
    let format: ReportFormat = args.format.into();
    if let Some(path) = &args.output
        && write_file(format, result, path)?
    {
        // The people reading the terminal still learn what the gate decided.
        writeln!(std::io::stderr().lock(), "{}: report written to {}", result.verdict.as_str(), path.display())?;
    }
    if args.fix_plan {
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        report::render_fix_plan(result, &mut out)?;
        out.flush()?;
    } else if args.output.is_none() {
        if let Some(why) = report::nothing_to_write(format, result) {
            writeln!(std::io::stderr().lock(), "note: {why}")?;
        } else {
            let stdout = std::io::stdout();
            let color = stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
            let mut out = std::io::BufWriter::new(stdout.lock());
            report::render(format, result, RenderOptions { color }, &mut out)?;
            out.flush()?;
        }
    }
    if args.format != FormatArg::Table {
        let mut err = std::io::stderr().lock();
        for e in &result.errors {
            writeln!(err, "error: {}", report::escape::terminal(&e.to_string()))?;
        }
        for w in &result.warnings {
            writeln!(err, "warning: {}", report::escape::terminal(&w.to_string()))?;
        }
    }
    Ok(())
}

/// Writes one report file; `false`, with a note on stderr and no file created, when the format
/// has no valid document for this result (an OpenVEX document with nothing to state).
fn write_file(format: ReportFormat, result: &ScanResult, path: &Path) -> anyhow::Result<bool> {
    if let Some(why) = report::nothing_to_write(format, result) {
        writeln!(std::io::stderr().lock(), "note: {}: {why}", path.display())?;
        return Ok(false);
    }
    let mut file = std::io::BufWriter::new(fs_err::File::create(path)?);
    report::render(format, result, RenderOptions::default(), &mut file)?;
    file.flush()?;
    Ok(true)
}

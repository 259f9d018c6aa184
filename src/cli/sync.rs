//! `bundleguard sync`: bring the advisory database up to date from the osv.dev bucket, a mirror
//! URL, or a local folder with the bucket layout.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use serde_json::json;

use super::progress::SyncProgress;
use super::{Format, Outcome};
use crate::advisory::store::Store;
use crate::advisory::sync::{self, DEFAULT_SOURCE, Source, SyncReport};
use crate::package::Ecosystem;

#[derive(Debug, clap::Args)]
pub struct SyncArgs {
    /// Where to sync from: an osv.dev-layout base URL or a local folder of that layout.
    #[arg(long, env = "BUNDLEGUARD_SOURCE", default_value = DEFAULT_SOURCE)]
    source: String,
    /// Ecosystems to sync (repeat or comma-separate) [default: npm, PyPI, Go, crates.io].
    #[arg(long = "ecosystem", value_delimiter = ',', value_parser = parse_ecosystem)]
    ecosystems: Vec<Ecosystem>,
    /// Summary format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// No progress output on stderr.
    #[arg(long, short)]
    quiet: bool,
}

pub fn parse_ecosystem(s: &str) -> Result<Ecosystem, String> {
    Ecosystem::from_name(s).ok_or_else(|| format!("unknown ecosystem {s:?}: expected npm, PyPI, Go or crates.io"))
}

pub fn run(db: &Path, args: &SyncArgs) -> anyhow::Result<Outcome> {
    let ecosystems = if args.ecosystems.is_empty() { Ecosystem::ALL.to_vec() } else { dedup(&args.ecosystems) };
    let source = Source::parse(&args.source)?;
    let mut store = Store::open(db)?;
    let progress = SyncProgress::new(args.quiet);
    let report = sync::sync(&mut store, &source, &ecosystems, &progress);
    progress.finish();
    let report =
        report.with_context(|| format!("sync from {} failed; the database was left as it was", source.describe()))?;
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Table => write_table(&mut out, &report)?,
        Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(&report_json(&report))?)?,
    }
    Ok(Outcome::Pass)
}

fn dedup(ecosystems: &[Ecosystem]) -> Vec<Ecosystem> {
    let mut list = ecosystems.to_vec();
    list.sort();
    list.dedup();
    list
}

fn write_table(out: &mut dyn Write, report: &SyncReport) -> std::io::Result<()> {
    writeln!(out, "synced from {}", super::terminal_safe(&report.source))?;
    for eco in &report.ecosystems {
        writeln!(
            out,
            "  {:<10} {:<12} {:>6} records, {} new or changed, {} removed, {} malformed",
            eco.ecosystem.as_str(),
            eco.mode.as_str(),
            eco.total,
            eco.changed.len(),
            eco.removed.len(),
            eco.malformed.len()
        )?;
        for bad in &eco.malformed {
            writeln!(out, "    skipped {}: {}", super::terminal_safe(&bad.file), super::terminal_safe(&bad.error))?;
        }
    }
    Ok(())
}

fn report_json(report: &SyncReport) -> serde_json::Value {
    json!({
        "source": report.source,
        "ecosystems": report.ecosystems.iter().map(|eco| json!({
            "ecosystem": eco.ecosystem.as_str(),
            "mode": eco.mode.as_str(),
            "records": eco.total,
            "changed": eco.changed,
            "removed": eco.removed,
            "malformed": eco.malformed.iter().map(|m| json!({"file": m.file, "error": m.error})).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

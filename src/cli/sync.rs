//! `bundleguard sync`: bring the advisory database up to date from the osv.dev bucket, a mirror
//! URL, or a local folder with the bucket layout.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use serde_json::json;

use super::Outcome;
use super::progress::SyncProgress;
use crate::advisory::sync::{DEFAULT_SOURCE, Patience, Source, SyncOptions, SyncReport};
use crate::inventory::{InventoryChange, InventoryFinding};
use crate::package::Ecosystem;
use crate::report::escape;
use crate::scan::resync::{self, Resync, Resynced};

#[derive(Debug, clap::Args)]
pub struct SyncArgs {
    /// Where to sync from: an osv.dev-layout base URL or a local folder of that layout.
    #[arg(long, env = "BUNDLEGUARD_SOURCE", default_value = DEFAULT_SOURCE)]
    source: String,
    /// Ecosystems to sync (repeat or comma-separate) [default: npm, PyPI, Go, crates.io].
    #[arg(long = "ecosystem", value_delimiter = ',', value_parser = parse_ecosystem)]
    ecosystems: Vec<Ecosystem>,
    /// Summary format.
    #[arg(long, value_enum, default_value_t = SyncFormat::Table)]
    format: SyncFormat,
    /// Exit 1 when a recorded bundle is newly affected by an advisory, or a stale or takeover
    /// signal, at or above this severity [default: the policy's `fail-on`, else high].
    #[arg(long, value_enum)]
    fail_on: Option<super::scan::LevelArg>,
    /// Policy file for the re-check: its levels, `off`, ignores, scopes, `[registries]` and
    /// `fail-on` judge the stale and takeover signals as `scan` does [default: none, the
    /// built-in defaults; the inventory spans repositories, so no bundleguard.toml is picked up
    /// from the working directory].
    #[arg(long, value_name = "FILE")]
    config: Option<std::path::PathBuf>,
    /// No progress output on stderr.
    #[arg(long, short)]
    quiet: bool,
    /// Accept a listing or zip that removes more than 10% of an ecosystem's records (a source
    /// that really shrank). A zip with no valid record is refused even so.
    #[arg(long)]
    allow_shrink: bool,
    /// HTTP sources: time allowed to connect (e.g. `15s`).
    #[arg(long, env = "BUNDLEGUARD_CONNECT_TIMEOUT", default_value = "15s", value_parser = parse_duration)]
    connect_timeout: Duration,
    /// HTTP sources: an attempt fails when no byte arrives for this long (e.g. `30s`).
    #[arg(long, env = "BUNDLEGUARD_IDLE_TIMEOUT", default_value = "30s", value_parser = parse_duration)]
    idle_timeout: Duration,
    /// HTTP sources: the whole sync, retries included, must end within this (e.g. `30m`).
    #[arg(long, env = "BUNDLEGUARD_SYNC_DEADLINE", default_value = "30m", value_parser = parse_duration)]
    deadline: Duration,
    /// Also refresh the registry metadata (stale and takeover checks) of every package of the
    /// inventory, so that later scans can run offline.
    #[arg(long)]
    metadata: bool,
    /// The inventory to re-check: a `postgres://` URL (an organisation's shared inventory) or a
    /// SQLite file [default: the database file].
    #[arg(long, env = "BUNDLEGUARD_INVENTORY", value_name = "URL", hide_env_values = true)]
    inventory: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum SyncFormat {
    Table,
    Json,
    Markdown,
}

/// Parses `500ms`, `15s`, `30m`, `2h`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (digits, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = digits.parse().map_err(|_| format!("{s:?}: expected a number with ms, s, m or h, such as 30s"))?;
    let millis = match unit {
        "ms" => 1,
        "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => return Err(format!("{s:?}: unknown or missing unit {unit:?}; use ms, s, m or h")),
    };
    if n == 0 {
        return Err(format!("{s:?}: must be more than zero"));
    }
    Ok(Duration::from_millis(n.saturating_mul(millis)))
}

pub fn parse_ecosystem(s: &str) -> Result<Ecosystem, String> {
    Ecosystem::from_name(s).ok_or_else(|| format!("unknown ecosystem {s:?}: expected npm, PyPI, Go or crates.io"))
}

pub fn run(db: &Path, args: &SyncArgs) -> anyhow::Result<Outcome> {
    let ecosystems = if args.ecosystems.is_empty() { Ecosystem::ALL.to_vec() } else { dedup(&args.ecosystems) };
    let patience = Patience {
        connect: args.connect_timeout,
        idle: args.idle_timeout,
        deadline: args.deadline,
        ..Patience::default()
    };
    let source = Source::parse_with(&args.source, patience)?;
    let progress = SyncProgress::new(args.quiet);
    let job = Resync {
        db,
        source: &source,
        ecosystems: &ecosystems,
        options: SyncOptions { allow_shrink: args.allow_shrink },
        inventory: args.inventory.as_deref(),
        metadata: args.metadata,
        config: args.config.as_deref(),
        fail_on: args.fail_on.map(Into::into),
    };
    let done = resync::run(&job, &progress);
    progress.finish();
    let Resynced { report, changes, metadata, fail_on: threshold } = done?;
    if let Some((fetched, diagnostics)) = &metadata
        && !args.quiet
    {
        let mut err = std::io::stderr().lock();
        let s = &fetched.stats;
        writeln!(
            err,
            "metadata: {} packages: {} fetched, {} unchanged, {} from cache",
            s.requested, s.fetched, s.not_modified, s.cached
        )?;
        for d in diagnostics.iter().chain(&fetched.diagnostics) {
            writeln!(err, "warning: {}", escape::terminal(&d.to_string()))?;
        }
    }
    let mut out = std::io::stdout().lock();
    match args.format {
        SyncFormat::Table => {
            write_table(&mut out, &report)?;
            write_changes_table(&mut out, &changes)?;
        }
        SyncFormat::Json => {
            let mut doc = report_json(&report);
            doc["inventory"] = changes_json(&changes);
            writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
        }
        SyncFormat::Markdown => write_changes_markdown(&mut out, &report, &changes)?,
    }
    let alert = changes.iter().flat_map(|c| &c.new).any(|n| resync::alerts(n, threshold));
    Ok(if alert { Outcome::Fail } else { Outcome::Pass })
}

fn dedup(ecosystems: &[Ecosystem]) -> Vec<Ecosystem> {
    let mut list = ecosystems.to_vec();
    list.sort();
    list.dedup();
    list
}

fn write_table(out: &mut dyn Write, report: &SyncReport) -> std::io::Result<()> {
    writeln!(out, "synced from {}", escape::terminal(&report.source))?;
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
            writeln!(out, "    skipped {}: {}", escape::terminal(&bad.file), escape::terminal(&bad.error))?;
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

fn write_changes_table(out: &mut dyn Write, changes: &[InventoryChange]) -> std::io::Result<()> {
    if changes.is_empty() {
        return writeln!(out, "no recorded bundle is newly affected");
    }
    for c in changes {
        writeln!(
            out,
            "{}{} ({})",
            where_label(c).map(|w| format!("{} ", escape::terminal(&w))).unwrap_or_default(),
            escape::terminal(&c.name),
            escape::terminal(&c.path)
        )?;
        for n in &c.new {
            let p = &n.package;
            writeln!(
                out,
                "  new  {:<8} {} {}@{}: {}",
                n.severity.as_str(),
                escape::terminal(&p.advisory_id),
                escape::terminal(&p.name),
                escape::terminal(&p.version),
                escape::terminal(&n.summary)
            )?;
        }
        for g in &c.gone {
            writeln!(
                out,
                "  gone          {} {}@{} ({})",
                escape::terminal(&g.advisory_id),
                escape::terminal(&g.name),
                escape::terminal(&g.version),
                gone_why(g)
            )?;
        }
    }
    Ok(())
}

/// Why a remembered finding is gone: an advisory withdrawn or removed, or a signal the checks
/// evaluated again and no longer raise.
fn gone_why(g: &InventoryFinding) -> &'static str {
    if g.risk_code().is_some() { "no longer raised" } else { "withdrawn or removed" }
}

/// `repository [environment]` of a change, when known.
fn where_label(c: &InventoryChange) -> Option<String> {
    match (c.repository.is_empty(), c.environment.is_empty()) {
        (true, true) => None,
        (false, true) => Some(c.repository.clone()),
        (true, false) => Some(format!("[{}]", c.environment)),
        (false, false) => Some(format!("{} [{}]", c.repository, c.environment)),
    }
}

fn changes_json(changes: &[InventoryChange]) -> serde_json::Value {
    json!(
        changes
            .iter()
            .map(|c| json!({
                "repository": c.repository,
                "environment": c.environment,
                "bundle": c.name,
                "path": c.path,
                "new": c.new.iter().map(new_json).collect::<Vec<_>>(),
                "gone": c.gone.iter().map(gone_json).collect::<Vec<_>>(),
            }))
            .collect::<Vec<_>>()
    )
}

/// A remembered vulnerability (`id` is the advisory's) or stale or takeover signal (`id` is
/// `code:ecosystem/name@version`, with its `code`) that is gone; `why` says which way.
fn gone_json(g: &InventoryFinding) -> serde_json::Value {
    let mut entry = json!({
        "id": g.report_id(),
        "why": gone_why(g),
        "package": {"ecosystem": g.ecosystem.as_str(), "name": g.name, "version": g.version},
    });
    if let Some(code) = g.risk_code() {
        entry["code"] = json!(code);
    }
    entry
}

/// A new vulnerability (`id` is the advisory's) or a new stale or takeover signal (`id` is
/// `code:ecosystem/name@version`, with its `code`; `kind` says which).
fn new_json(n: &crate::inventory::NewFinding) -> serde_json::Value {
    let mut entry = json!({
        "id": n.package.report_id(),
        "kind": n.code.map_or(crate::vocab::FindingKind::Vulnerability, crate::vocab::Code::kind).as_str(),
        "aliases": n.package.aliases,
        "severity": n.severity.as_str(),
        "summary": n.summary,
        "fixed": n.fixed,
        "package": {"ecosystem": n.package.ecosystem.as_str(), "name": n.package.name, "version": n.package.version},
    });
    if let Some(code) = n.code {
        entry["code"] = json!(code.as_str());
        entry["dev_only"] = json!(n.dev_only);
    }
    if let Some(status) = n.status {
        entry["status"] = json!(status);
    }
    entry
}

fn write_changes_markdown(
    out: &mut dyn Write,
    report: &SyncReport,
    changes: &[InventoryChange],
) -> std::io::Result<()> {
    let new: usize = changes.iter().map(|c| c.new.len()).sum();
    writeln!(out, "## bundleguard advisory sync\n")?;
    let records: usize = report.ecosystems.iter().map(|e| e.changed.len()).sum();
    writeln!(out, "{records} advisories new or changed; {new} new findings in {} recorded bundles.\n", changes.len())?;
    if changes.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "| repository | environment | bundle | change | severity | advisory or signal | package | fixed in |"
    )?;
    writeln!(out, "|---|---|---|---|---|---|---|---|")?;
    for c in changes {
        for n in &c.new {
            let p = &n.package;
            writeln!(
                out,
                "| {} | {} | {} | new | {} | {} | {}@{} | {} |",
                escape::markdown(&c.repository),
                escape::markdown(&c.environment),
                escape::markdown(&c.name),
                n.severity.as_str(),
                escape::markdown(&p.advisory_id),
                escape::markdown(&p.name),
                escape::markdown(&p.version),
                escape::markdown(&n.fixed.join(", "))
            )?;
        }
        for g in &c.gone {
            writeln!(
                out,
                "| {} | {} | {} | gone ({}) | | {} | {}@{} | |",
                escape::markdown(&c.repository),
                escape::markdown(&c.environment),
                escape::markdown(&c.name),
                gone_why(g),
                escape::markdown(&g.advisory_id),
                escape::markdown(&g.name),
                escape::markdown(&g.version)
            )?;
        }
    }
    Ok(())
}

//! `bundleguard db status`: what the advisory database holds and how fresh it is.

use std::io::Write;
use std::path::Path;

use jiff::{SignedDuration, Timestamp};
use serde_json::json;

use super::{Format, Outcome, rfc3339};
use crate::advisory::open::stale_warning;
use crate::advisory::store::{EcosystemStatus, Store};

#[derive(Debug, clap::Subcommand)]
pub enum DbCommand {
    /// Per ecosystem: advisories, newest `modified`, source and time of the last sync.
    Status(StatusArgs),
}

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Warn when an ecosystem's last sync is older than this (e.g. `36h`, `7d`).
    #[arg(long, env = "BUNDLEGUARD_MAX_AGE", default_value = "7d", value_parser = parse_age)]
    max_age: SignedDuration,
}

/// Parses `90m`, `36h`, `7d` (or a bare number of hours).
pub fn parse_age(s: &str) -> Result<SignedDuration, String> {
    let s = s.trim();
    let (digits, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = digits.parse().map_err(|_| format!("{s:?}: expected a number with m, h or d, such as 7d"))?;
    let secs = match unit {
        "m" => 60,
        "" | "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("{s:?}: unknown unit {unit:?}; use m, h or d")),
    };
    Ok(SignedDuration::from_secs(n.saturating_mul(secs)))
}

pub fn run(db: &Path, cmd: &DbCommand) -> anyhow::Result<Outcome> {
    let DbCommand::Status(args) = cmd;
    let store = Store::open_existing(db)?;
    let status = store.status()?;
    let now = Timestamp::now();
    let stale: Vec<String> =
        status.iter().filter_map(|s| stale_warning(s.ecosystem, s.synced_at?, now, args.max_age)).collect();
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Table => {
            writeln!(out, "database: {}", db.display())?;
            writeln!(
                out,
                "{:<10} {:>10} {:>9} {:<21} {:<21} source",
                "ecosystem", "advisories", "withdrawn", "newest modified", "synced at"
            )?;
            for s in &status {
                writeln!(
                    out,
                    "{:<10} {:>10} {:>9} {:<21} {:<21} {}",
                    s.ecosystem.as_str(),
                    s.advisories,
                    s.withdrawn,
                    s.newest_modified.map_or_else(|| "-".into(), rfc3339),
                    s.synced_at.map_or_else(|| "never".into(), rfc3339),
                    super::terminal_safe(s.source.as_deref().unwrap_or("-")),
                )?;
            }
            for warning in &stale {
                writeln!(out, "warning: {warning}")?;
            }
        }
        Format::Json => {
            let doc = json!({
                "database": db.display().to_string(),
                "ecosystems": status.iter().map(status_json).collect::<Vec<_>>(),
                "warnings": stale,
            });
            writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
        }
    }
    Ok(Outcome::Pass)
}

fn status_json(s: &EcosystemStatus) -> serde_json::Value {
    json!({
        "ecosystem": s.ecosystem.as_str(),
        "advisories": s.advisories,
        "withdrawn": s.withdrawn,
        "malformed_skipped": s.malformed,
        "newest_modified": s.newest_modified.map(rfc3339),
        "synced_at": s.synced_at.map(rfc3339),
        "source": s.source,
    })
}

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
    /// Also run SQLite's full `PRAGMA integrity_check` (reads every page: seconds on a full
    /// database) and record the result; exit 2 when it fails. Scans refuse a failed database.
    #[arg(long)]
    check: bool,
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
    let (store, check) = if args.check {
        let mut store = Store::open_for_check(db)?;
        let report = store.check(true)?;
        (store, Some(report))
    } else {
        (Store::open_to_inspect(db)?, None)
    };
    let failure = match &check {
        Some(report) => (!report.ok()).then(|| report.problems.join("; ")),
        None => store.recorded_failure()?,
    };
    let status = match (store.status(), &failure) {
        (Ok(status), _) => status,
        (Err(e), Some(problems)) => {
            let mut out = std::io::stdout().lock();
            writeln!(out, "database: {}", db.display())?;
            writeln!(
                out,
                "integrity: FAILED ({}); cannot even list it: {e}",
                crate::report::escape::terminal(problems)
            )?;
            return Ok(Outcome::Incomplete);
        }
        (Err(e), None) => return Err(e.into()),
    };
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
                    crate::report::escape::terminal(s.source.as_deref().unwrap_or("-")),
                )?;
            }
            for warning in &stale {
                writeln!(out, "warning: {warning}")?;
            }
            match (&failure, &check) {
                (Some(problems), _) => writeln!(
                    out,
                    "integrity: FAILED ({}); scans refuse this database: delete it and run `bundleguard sync`",
                    crate::report::escape::terminal(problems)
                )?,
                (None, Some(_)) => writeln!(out, "integrity: ok (PRAGMA integrity_check)")?,
                (None, None) => {}
            }
        }
        Format::Json => {
            let doc = json!({
                "database": db.display().to_string(),
                "ecosystems": status.iter().map(status_json).collect::<Vec<_>>(),
                "warnings": stale,
                "integrity": match (&failure, &check) {
                    (Some(problems), _) => json!({"ok": false, "problems": problems}),
                    (None, Some(_)) => json!({"ok": true, "checked": "integrity_check"}),
                    (None, None) => json!({"ok": true, "checked": "last sync's quick_check"}),
                },
            });
            writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
        }
    }
    Ok(if failure.is_some() { Outcome::Incomplete } else { Outcome::Pass })
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

//! `bundleguard query ECOSYSTEM NAME VERSION`: the advisories affecting one package version.

use std::io::Write;
use std::path::Path;

use serde_json::json;

use super::sync::parse_ecosystem;
use super::{Format, Outcome};
use crate::advisory::osv::Level;
use crate::advisory::store::Store;
use crate::matcher::{self, PackageQuery, Vulnerability};
use crate::package::{Ecosystem, PackageName};
use crate::report::escape;

#[derive(Debug, clap::Args)]
pub struct QueryArgs {
    /// npm, PyPI, Go or crates.io.
    #[arg(value_parser = parse_ecosystem)]
    ecosystem: Ecosystem,
    /// Package name (normalized for the ecosystem, e.g. PEP 503 for PyPI).
    name: String,
    /// The exact installed version.
    version: String,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

pub fn run(db: &Path, args: &QueryArgs) -> anyhow::Result<Outcome> {
    let store = Store::open_read_only(db)?;
    if store.sync_state(args.ecosystem)?.is_none() {
        // Unknown is not clean: an ecosystem never synced cannot say "no known advisories".
        anyhow::bail!(
            "no {eco} advisories in the database {}: {eco} packages cannot be checked; run `bundleguard sync --ecosystem {eco}`",
            db.display(),
            eco = args.ecosystem
        );
    }
    let query = PackageQuery {
        ecosystem: args.ecosystem,
        name: PackageName::new(args.ecosystem, &args.name),
        version: args.version.trim().to_owned(),
    };
    let result = matcher::match_packages(&store, std::slice::from_ref(&query))?.pop().unwrap_or_default();
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            let doc: Vec<_> = result.vulnerabilities.iter().map(vulnerability_json).collect();
            writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
        }
        Format::Table => {
            let label = format!("{} {}@{}", query.ecosystem, query.name, query.version);
            if let Some(warning) = &result.version_warning {
                writeln!(out, "warning: {}", escape::terminal(warning))?;
            }
            if result.vulnerabilities.is_empty() {
                writeln!(out, "{}: no known advisories", escape::terminal(&label))?;
            }
            for v in &result.vulnerabilities {
                write_vulnerability(&mut out, v)?;
            }
        }
    }
    Ok(Outcome::Pass)
}

fn write_vulnerability(out: &mut dyn Write, v: &Vulnerability) -> std::io::Result<()> {
    let severity = v.severity.level.map_or("unknown", |l| l.as_str());
    let score = v.severity.score.map(|s| format!(" {s:.1}")).unwrap_or_default();
    writeln!(out, "{} [{severity}{score}] {}", escape::terminal(&v.id), escape::terminal(&v.summary))?;
    if !v.aliases.is_empty() {
        writeln!(out, "    aliases: {}", escape::terminal(&v.aliases.join(", ")))?;
    }
    let fixed = if v.fixed.is_empty() { "no fixed version known".to_owned() } else { v.fixed.join(", ") };
    writeln!(out, "    fixed in: {}", escape::terminal(&fixed))?;
    for note in &v.notes {
        writeln!(out, "    note: {}", escape::terminal(note))?;
    }
    Ok(())
}

fn vulnerability_json(v: &Vulnerability) -> serde_json::Value {
    json!({
        "id": v.id,
        "aliases": v.aliases,
        "severity": v.severity.level.map(Level::as_str),
        "cvss_score": v.severity.score,
        "severity_source": v.severity.source.as_str(),
        "fixed": v.fixed,
        "summary": v.summary,
        "notes": v.notes,
    })
}

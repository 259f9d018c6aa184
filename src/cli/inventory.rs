//! `bundleguard inventory list|forget`: the bundles that scans recorded in the database, which
//! `sync` re-checks against new advisories.

use std::io::Write;
use std::path::Path;

use serde_json::json;

use super::{Format, Outcome, rfc3339};
use crate::advisory::store::Store;
use crate::inventory::Inventory as _;
use crate::report::escape;

#[derive(Debug, clap::Subcommand)]
pub enum InventoryCommand {
    /// The recorded bundles: name, path, packages, time of the last scan.
    List {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Forget recorded bundles whose path (as scanned, or on disk) starts with PREFIX.
    Forget {
        /// Path prefix; `--all` forgets everything.
        #[arg(required_unless_present = "all")]
        prefix: Option<String>,
        #[arg(long)]
        all: bool,
    },
}

pub fn run(db: &Path, cmd: &InventoryCommand) -> anyhow::Result<Outcome> {
    let mut store = Store::open_existing(db)?;
    let mut out = std::io::stdout().lock();
    match cmd {
        InventoryCommand::List { format } => {
            let bundles = store.bundles()?;
            match format {
                Format::Json => {
                    let doc: Vec<_> = bundles
                        .iter()
                        .map(|b| json!({"name": b.name, "path": b.path, "file": b.key, "packages": b.packages, "scanned_at": rfc3339(b.scanned_at)}))
                        .collect();
                    writeln!(out, "{}", serde_json::to_string_pretty(&json!({"bundles": doc}))?)?;
                }
                Format::Table => {
                    if bundles.is_empty() {
                        writeln!(out, "no bundles recorded: `bundleguard scan` records them")?;
                    }
                    for b in &bundles {
                        writeln!(
                            out,
                            "{:<24} {:>5} packages  scanned {}  {}",
                            escape::terminal(&b.name),
                            b.packages,
                            rfc3339(b.scanned_at),
                            escape::terminal(&b.path)
                        )?;
                    }
                }
            }
        }
        InventoryCommand::Forget { prefix, all } => {
            let prefix = if *all { "" } else { prefix.as_deref().unwrap_or_default() };
            let n = store.forget(prefix)?;
            writeln!(out, "forgot {n} bundles")?;
        }
    }
    Ok(Outcome::Pass)
}

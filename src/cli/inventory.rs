//! `bundleguard inventory list|forget`: the functions that scans recorded (in the local database,
//! or in the inventory named by `--inventory`), which `sync` re-checks against new advisories.

use std::io::Write;
use std::path::Path;

use serde_json::json;

use super::{Format, Outcome, rfc3339};
use crate::inventory::{self, Filter};
use crate::report::escape;

/// Where the inventory is and which of its records a command concerns.
#[derive(Debug, clap::Args)]
pub struct Selection {
    /// The inventory: a `postgres://` URL or a SQLite file [default: the database file].
    #[arg(long, env = "BUNDLEGUARD_INVENTORY", value_name = "URL", hide_env_values = true)]
    inventory: Option<String>,
    /// Only the records of this repository (`owner/name` as recorded).
    #[arg(long, value_name = "OWNER/NAME")]
    repository: Option<String>,
    /// Only the records of this environment (stage).
    #[arg(long, value_name = "NAME")]
    environment: Option<String>,
}

#[derive(Debug, clap::Subcommand)]
pub enum InventoryCommand {
    /// The recorded functions: repository, environment, name, packages, time of the last scan.
    List {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        #[command(flatten)]
        selection: Selection,
    },
    /// Forget recorded functions (their current record and history): those whose name or path
    /// starts with PREFIX, within `--repository` / `--environment` when given.
    Forget {
        /// Name or path prefix; `--all` (or `--repository` / `--environment` alone) needs none.
        #[arg(required_unless_present_any = ["all", "repository", "environment"])]
        prefix: Option<String>,
        /// Forget everything the other filters select.
        #[arg(long)]
        all: bool,
        #[command(flatten)]
        selection: Selection,
    },
}

pub fn run(db: &Path, cmd: &InventoryCommand) -> anyhow::Result<Outcome> {
    let mut out = std::io::stdout().lock();
    match cmd {
        InventoryCommand::List { format, selection } => {
            let mut inv = open(db, selection)?;
            let bundles = inv.list(&filter(selection, None))?;
            match format {
                Format::Json => {
                    let doc: Vec<_> = bundles
                        .iter()
                        .map(|b| {
                            json!({
                                "repository": b.repository,
                                "environment": b.environment,
                                "name": b.name,
                                "kind": b.kind,
                                "runtime": b.runtime,
                                "path": b.path,
                                "ref": b.git_ref,
                                "commit": b.commit,
                                "deploy": b.deploy,
                                "packages": b.packages,
                                "history": b.history,
                                "scanned_at": rfc3339(b.scanned_at),
                                "bundleguard_version": b.tool_version,
                            })
                        })
                        .collect();
                    writeln!(out, "{}", serde_json::to_string_pretty(&json!({"bundles": doc}))?)?;
                }
                Format::Table => {
                    if bundles.is_empty() {
                        writeln!(out, "no bundles recorded: `bundleguard scan` records them")?;
                    }
                    for b in &bundles {
                        let place = match (b.repository.as_str(), b.environment.as_str()) {
                            ("", "") => String::new(),
                            (r, "") => format!("{} ", escape::terminal(r)),
                            (r, e) => format!("{} [{}] ", escape::terminal(r), escape::terminal(e)),
                        };
                        writeln!(
                            out,
                            "{place}{:<24} {:>5} packages  scanned {}  {}",
                            escape::terminal(&b.name),
                            b.packages,
                            rfc3339(b.scanned_at),
                            escape::terminal(&b.path)
                        )?;
                    }
                }
            }
        }
        InventoryCommand::Forget { prefix, all, selection } => {
            let mut inv = open(db, selection)?;
            let prefix = if *all { None } else { prefix.as_deref() };
            let n = inv.forget(&filter(selection, prefix))?;
            writeln!(out, "forgot {n} bundles")?;
        }
    }
    Ok(Outcome::Pass)
}

fn open(db: &Path, selection: &Selection) -> anyhow::Result<Box<dyn inventory::Inventory>> {
    if selection.inventory.is_none() && !db.is_file() {
        anyhow::bail!("{}: no database here; `bundleguard sync` creates it", db.display());
    }
    Ok(inventory::open(selection.inventory.as_deref(), db)?)
}

fn filter(selection: &Selection, prefix: Option<&str>) -> Filter {
    Filter {
        repository: selection.repository.clone(),
        environment: selection.environment.clone(),
        prefix: prefix.filter(|p| !p.is_empty()).map(str::to_owned),
    }
}

//! Command-line interface: clap arguments and one handler per subcommand. The only module that
//! knows clap; every handler returns an [`Outcome`] that `main` maps to an exit code.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod bundles;
mod db;
mod deps;
mod inventory;
mod progress;
mod query;
mod scan;
mod sync;

/// How a command ended, mapped to the exit codes of DESIGN.md in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 0: the policy passed / the command did what was asked.
    Pass,
    /// 1: the policy failed.
    Fail,
    /// 2: the command ran but could not do all that was asked (a file could not be scanned);
    /// what it could do was reported.
    Incomplete,
}

#[derive(Debug, Parser)]
#[command(name = "bundleguard", version, about = "Guards serverless deploys against dependency supply-chain risk")]
pub struct Cli {
    /// The advisory database file [default: <user cache dir>/bundleguard/advisories.db].
    #[arg(long, global = true, env = "BUNDLEGUARD_DB", value_name = "FILE")]
    db: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Scan lockfiles for vulnerable packages and judge them with the policy.
    Scan(scan::ScanArgs),
    /// Download or update the OSV advisory database.
    Sync(sync::SyncArgs),
    /// Inspect the advisory database.
    #[command(subcommand)]
    Db(db::DbCommand),
    /// Show the advisories that affect one package version.
    Query(query::QueryArgs),
    /// The bundles recorded by scans, re-checked by every sync.
    #[command(subcommand)]
    Inventory(inventory::InventoryCommand),
    /// Print the dependency trees of the lockfiles under a path.
    Deps(deps::DepsArgs),
    /// List the Lambda functions and layers under a path, and what their artifacts ship.
    Bundles(bundles::BundlesArgs),
}

/// Parses the command line, runs the command, and maps its outcome to 0 / 1 / 2.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let db = cli.db.unwrap_or_else(crate::advisory::store::default_path);
    let result = match cli.command {
        Command::Scan(args) => scan::run(&db, &args),
        Command::Sync(args) => sync::run(&db, &args),
        Command::Db(cmd) => db::run(&db, &cmd),
        Command::Query(args) => query::run(&db, &args),
        Command::Deps(args) => deps::run(&args),
        Command::Inventory(cmd) => inventory::run(&db, &cmd),
        Command::Bundles(args) => bundles::run(&args),
    };
    match result {
        Ok(Outcome::Pass) => ExitCode::SUCCESS,
        Ok(Outcome::Fail) => ExitCode::from(1),
        Ok(Outcome::Incomplete) => ExitCode::from(2),
        Err(err) => {
            #[expect(clippy::print_stderr, reason = "the CLI edge reports errors on stderr")]
            {
                eprintln!("error: {}", crate::report::escape::terminal(&error_chain(&err)));
            }
            ExitCode::from(2)
        }
    }
}

/// The error and its causes on one line, each text once: a cause whose text the line already
/// holds (thiserror messages that embed their source, rusqlite's own chain) is left out.
pub fn error_chain(err: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        // Also left out: a cause that only puts a label before what was said
        // (`Error code 8: attempt to write a readonly database`).
        let said = |t: &str| line.contains(t);
        if text.is_empty() || said(&text) || text.split_once(": ").is_some_and(|(_, rest)| said(rest)) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

/// Output formats of the database commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
}

/// Formats a timestamp as RFC 3339 in UTC, seconds precision.
pub fn rfc3339(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("advisory database db.sqlite: {source}")]
    struct Wrapped {
        source: std::io::Error,
    }

    #[derive(Debug, thiserror::Error)]
    #[error("advisory database db.sqlite: {source}")]
    struct Outer {
        source: Mid,
    }

    #[derive(Debug, thiserror::Error)]
    #[error("attempt to write a readonly database")]
    struct Mid {
        source: std::io::Error,
    }

    #[test]
    fn error_chain_prints_each_text_once() {
        let inner = std::io::Error::other("disk I/O error");
        let err = anyhow::Error::new(Wrapped { source: inner }).context("sync from x failed");
        assert_eq!(error_chain(&err), "sync from x failed: advisory database db.sqlite: disk I/O error");
        // rusqlite's shape: the message, then the same message labelled with its code.
        let code = std::io::Error::other("Error code 8: attempt to write a readonly database");
        let sqlite = Mid { source: code };
        let err = anyhow::Error::new(Outer { source: sqlite });
        assert_eq!(error_chain(&err), "advisory database db.sqlite: attempt to write a readonly database");
        let plain = anyhow::anyhow!("a").context("b");
        assert_eq!(error_chain(&plain), "b: a");
    }
}

//! Command-line interface: clap arguments and one handler per subcommand. The only module that
//! knows clap; every handler returns an [`Outcome`] that `main` maps to an exit code.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod bundles;
mod db;
mod deps;
mod progress;
mod query;
mod sync;

/// How a command ended, mapped to the exit codes of DESIGN.md in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 0: the policy passed / the command did what was asked.
    Pass,
    /// 1: the policy failed.
    Fail,
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
    /// Download or update the OSV advisory database.
    Sync(sync::SyncArgs),
    /// Inspect the advisory database.
    #[command(subcommand)]
    Db(db::DbCommand),
    /// Show the advisories that affect one package version.
    Query(query::QueryArgs),
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
        Command::Sync(args) => sync::run(&db, &args),
        Command::Db(cmd) => db::run(&db, &cmd),
        Command::Query(args) => query::run(&db, &args),
        Command::Deps(args) => deps::run(&args),
        Command::Bundles(args) => bundles::run(&args),
    };
    match result {
        Ok(Outcome::Pass) => ExitCode::SUCCESS,
        Ok(Outcome::Fail) => ExitCode::from(1),
        Err(err) => {
            #[expect(clippy::print_stderr, reason = "the CLI edge reports errors on stderr")]
            {
                eprintln!("error: {err:#}");
            }
            ExitCode::from(2)
        }
    }
}

/// Output formats of the database commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
}

/// Makes text from advisories and package names safe for a terminal: control characters
/// (escape sequences, carriage returns) are shown escaped, never interpreted.
pub fn terminal_safe(text: &str) -> String {
    text.chars().flat_map(|c| if c.is_control() { c.escape_default().collect::<Vec<_>>() } else { vec![c] }).collect()
}

/// Formats a timestamp as RFC 3339 in UTC, seconds precision.
pub fn rfc3339(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

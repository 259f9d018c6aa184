//! Command-line interface: clap arguments and one handler per subcommand. The only module that
//! knows clap; every handler returns an [`Outcome`] that `main` maps to an exit code.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod deps;

/// How a command ended, mapped to the exit codes of DESIGN.md in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 0: the policy passed / the command did what was asked.
    Pass,
    /// 1: the policy failed.
    Fail,
}

#[derive(Debug, Parser)]
#[command(
    name = "bundleguard",
    version,
    about = "Guards serverless deploys against dependency supply-chain risk"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the dependency trees of the lockfiles under a path.
    Deps(deps::DepsArgs),
}

/// Parses the command line, runs the command, and maps its outcome to 0 / 1 / 2.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Deps(args) => deps::run(&args),
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

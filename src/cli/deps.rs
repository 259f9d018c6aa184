//! `bundleguard deps PATH`: print the dependency trees of the lockfiles under PATH.

use std::path::PathBuf;

use super::Outcome;

#[derive(Debug, clap::Args)]
pub struct DepsArgs {
    /// Folder (or lockfile) to read.
    pub path: PathBuf,
}

pub fn run(args: &DepsArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!("deps: not built yet ({})", args.path.display())
}

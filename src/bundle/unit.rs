//! The unit every later stage works on: one dependency tree of one function or layer, read from
//! a lockfile (a claim) or from the deployment artifact (the truth of what ships), with what
//! discovery knows of the function. Matching, the risk checks and the reports all take units.

use std::path::PathBuf;
use std::sync::Arc;

use super::EsbuildBuild;
use super::artifact::Artifact;
use crate::graph::DepGraph;

pub use crate::vocab::{TreeSource, UnitKind};

/// One tree to match and assess.
#[derive(Debug, Clone)]
pub struct Unit {
    /// The function's or layer's logical name (template key), or the folder / file name.
    pub name: String,
    pub kind: UnitKind,
    pub runtime: Option<String>,
    pub handler: Option<String>,
    /// The template that declares the function, for display.
    pub template: Option<String>,
    /// The function's code folder, when known (what the unused check reads).
    pub code_dir: Option<PathBuf>,
    /// Display path of the lockfile or artifact: `/`-separated, relative where possible.
    pub path: String,
    /// The lockfile or artifact on disk (the key of the unit in the inventory).
    pub file: PathBuf,
    pub source: TreeSource,
    pub graph: DepGraph,
    /// The artifact, for units read from one (its entries, sizes and inner lockfile).
    pub artifact: Option<Arc<Artifact>>,
    /// For an artifact unit: the index (in the same unit list) of the lockfile unit of the same
    /// function it is compared with.
    pub lockfile_twin: Option<usize>,
    /// Why the function's tree could not be read (`unsupported runtime java21: ...`); `None`
    /// when it was.
    pub coverage: Option<String>,
    /// SAM's esbuild entry points and externals, when the template has them.
    pub esbuild: Option<EsbuildBuild>,
}

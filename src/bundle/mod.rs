//! Lambda bundles: which functions and layers a repository deploys ([`discover`]) and what a
//! deployment artifact really ships ([`read_artifact`]). Comparing the two is a risk check
//! (`risk::hygiene`).
//!
//! API:
//! - [`discover(root)`](discover) -> [`Discovery`]: functions and layers from `serverless.yml`,
//!   SAM / CloudFormation templates and CDK output (`cdk.out`); without any template, one bundle per
//!   folder with a lockfile or manifest. Each [`Bundle`] names its lockfiles and artifacts; a
//!   lockfile shared by several functions is listed by each and appears once in
//!   [`Discovery::unique_lockfiles`].
//! - [`read_artifact(path, limits)`](read_artifact) -> [`Artifact`]: packages inside a zip (npm
//!   `node_modules`, Python `dist-info` / `egg-info`, Go and cargo-auditable binaries, layer
//!   layouts), read in memory with [`Limits`]; [`read_artifact_bytes`] is the pure form.
//! - [`Unit`]: one tree of one function, what the later stages (match, assess) work on.
//! - [`code::read_function_code`] -> [`code::FunctionCode`]: a function's own source files and
//!   manifests, read into memory for the unused-package check.
//! - [`runtime_status`]: AWS's runtime deprecation table (`data/lambda-runtimes.toml`).

use std::path::PathBuf;

mod artifact;
mod auditable;
pub mod code;
mod discover;
mod gobuildinfo;
mod runtimes;
mod sam;
mod serverless;
mod unit;
mod yaml;

pub use artifact::{
    Artifact, ArtifactError, ArtifactIssue, ArtifactIssueKind, ArtifactPackage, Limits, read_artifact,
    read_artifact_bytes,
};
pub use discover::{DiscoverError, Discovery, discover};
pub use gobuildinfo::{GoBuildInfo, GoModule, parse_go_buildinfo};
pub use runtimes::{RuntimeInfo, RuntimeStatus, runtime_info, runtime_status, table_source};
pub use unit::{TreeSource, Unit, UnitKind};

/// What a bundle deploys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BundleKind {
    Function,
    Layer,
}

impl BundleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BundleKind::Function => "function",
            BundleKind::Layer => "layer",
        }
    }
}

/// One Lambda function or layer and the files that describe what it ships.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    /// The function's logical name (template key), or the folder for template-less bundles.
    pub name: String,
    pub kind: BundleKind,
    /// `nodejs20.x`, `python3.12`, `provided.al2023`...; `None` when not declared or unresolved.
    pub runtime: Option<String>,
    pub handler: Option<String>,
    /// The template that declares the bundle (`None` for folder bundles).
    pub source: Option<PathBuf>,
    /// The folder whose contents are packaged.
    pub code_dir: Option<PathBuf>,
    pub lockfiles: Vec<PathBuf>,
    /// Zips (or binaries) that are the deployed code.
    pub artifacts: Vec<PathBuf>,
    /// Layers as written in the template (names, ARNs, or unresolved references).
    pub layers: Vec<String>,
    /// What could not be resolved (variables, intrinsic functions, S3 code, images).
    pub notes: Vec<String>,
}

//! Lambda bundles: which functions and layers a repository deploys ([`discover`]) and what a
//! deployment artifact really ships ([`read_artifact`]). Comparing the two is a risk check
//! (`risk::hygiene`).
//!
//! API:
//! - [`discover(root)`](discover) / [`discover_with(root, excludes)`](discover_with) ->
//!   [`Discovery`]: functions and layers from `serverless.yml`, SAM / CloudFormation templates and
//!   CDK output (`cdk.out`); without any template, one bundle per folder with a lockfile or
//!   manifest. Each [`Bundle`] names its lockfiles and artifacts and has a [`BundleCoverage`]; a
//!   lockfile shared by several functions is listed by each and appears once in
//!   [`Discovery::unique_lockfiles`]. One walk ([`SKIPPED_DIRS`], virtualenvs, CDK asset copies,
//!   the policy's [`Excludes`]) serves `scan`, `bundles` and `deps`.
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
mod exclude;
mod gobuildinfo;
mod manifest;
pub mod metafile;
mod runtimes;
mod sam;
mod serverless;
mod unit;
mod walk;
mod yaml;

pub use artifact::{
    Artifact, ArtifactError, ArtifactIssue, ArtifactIssueKind, ArtifactPackage, Limits, read_artifact,
    read_artifact_bytes,
};
pub use discover::{DiscoverError, Discovery, discover, discover_listing, discover_with};
pub use exclude::{ExcludeError, Excludes};
pub use gobuildinfo::{GoBuildInfo, GoModule, parse_go_buildinfo};
pub use runtimes::{RuntimeInfo, RuntimeStatus, runtime_info, runtime_status, table_source};
pub use unit::{TreeSource, Unit, UnitKind};
pub use walk::SKIPPED_DIRS;

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
    /// Whether its dependency tree is read, and if not, why.
    pub coverage: BundleCoverage,
    /// The stage its template deploys to when the deploy command names none (Serverless
    /// `provider.stage`, SAM's `samconfig.toml` environment); `None` when not known.
    pub stage: Option<String>,
    /// SAM's esbuild build settings, when the template says `Metadata.BuildMethod: esbuild`.
    pub esbuild: Option<EsbuildBuild>,
}

/// SAM's esbuild build (`Metadata.BuildMethod: esbuild`, `Metadata.BuildProperties`): the entry
/// files, relative to the code folder (`EntryPoints`), and the packages esbuild leaves out of the
/// bundle (`External`), which must come from a layer or the runtime.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EsbuildBuild {
    pub entry_points: Vec<String>,
    pub external: Vec<String>,
}

impl Bundle {
    /// A function bundle with nothing known yet but its name (coverage: no dependency files).
    pub fn named(name: impl Into<String>) -> Bundle {
        Bundle {
            name: name.into(),
            kind: BundleKind::Function,
            runtime: None,
            handler: None,
            source: None,
            code_dir: None,
            lockfiles: Vec::new(),
            artifacts: Vec::new(),
            layers: Vec::new(),
            notes: Vec::new(),
            coverage: BundleCoverage::NoDependencyFiles,
            stage: None,
            esbuild: None,
        }
    }
}

/// Whether bundleguard reads a bundle's dependency tree. Every declared function and layer is a
/// bundle, whatever its coverage: unknown is not clean, so the uncovered ones are counted and
/// shown, never left out.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BundleCoverage {
    /// Its tree is read from its lockfiles and/or artifacts.
    Read,
    /// Its runtime or packaging is one bundleguard does not read (java, dotnet, ruby, a
    /// `provided` runtime with no go.mod, Cargo.lock or binary, a legacy `Gopkg.lock`, a
    /// container image).
    Unsupported { reason: String },
    /// No lockfile or artifact was found for it (or its code is elsewhere: S3, inline,
    /// unresolved).
    NoDependencyFiles,
}

impl BundleCoverage {
    /// Stable name used in reports and JSON.
    pub fn as_str(&self) -> &'static str {
        match self {
            BundleCoverage::Read => "read",
            BundleCoverage::Unsupported { .. } => "unsupported",
            BundleCoverage::NoDependencyFiles => "no-dependency-files",
        }
    }

    pub fn is_read(&self) -> bool {
        *self == BundleCoverage::Read
    }

    /// Why the tree is not read (`None` when it is).
    pub fn reason(&self) -> Option<&str> {
        match self {
            BundleCoverage::Read => None,
            BundleCoverage::Unsupported { reason } => Some(reason),
            BundleCoverage::NoDependencyFiles => {
                Some("no lockfile or artifact found: its dependency tree cannot be known")
            }
        }
    }
}

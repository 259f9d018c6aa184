//! What a scan found, in the terms reports use: per bundle (for now, per lockfile) its tree and
//! its findings, each with the dependency paths from the roots, the direct dependencies to
//! upgrade, and the policy's decision. Reporters render a [`ScanResult`]; they never decide.

use std::path::PathBuf;

use crate::graph::{DepGraph, NodeId};
use crate::package::Package;
pub use crate::vocab::Level;

/// The outcome of the policy over all findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Fail,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
        }
    }
}

/// The whole result of one `scan`, deterministic for the same inputs (sorted everywhere).
#[derive(Debug, Clone)]
pub struct ScanResult {
    pub bundles: Vec<BundleReport>,
    /// Files that could not be read or parsed (the rest of the scan went on).
    pub errors: Vec<Problem>,
    /// Things the user should know: stale database, manifests without lockfile, expired ignores.
    pub warnings: Vec<String>,
    pub verdict: Verdict,
    /// The severity at or above which a finding fails the policy.
    pub fail_on: Level,
    /// Whether dev-only packages gate.
    pub include_dev: bool,
}

/// A file that failed, with the message naming what is wrong and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

/// One tree of one Lambda function or layer: the packages its lockfile claims, or the packages
/// its deployment artifact really ships, and what was found in them. A function with both a
/// lockfile and an artifact has one report of each, under the same name.
#[derive(Debug, Clone)]
pub struct BundleReport {
    /// The function's or layer's logical name (template key), or the folder for template-less
    /// bundles.
    pub name: String,
    /// `function`, `layer`, or `artifact` (a zip or binary scanned on its own).
    pub kind: String,
    pub runtime: Option<String>,
    pub handler: Option<String>,
    /// The template that declares the function, when there is one.
    pub template: Option<String>,
    /// Lambda-specific findings: dev packages shipped, drift, runtime-provided packages,
    /// deprecated runtime, opaque binaries, unsafe zip entries.
    pub hygiene: Vec<Hygiene>,
    /// The lockfile, relative to the scanned root where possible, `/`-separated.
    pub path: String,
    /// Lockfile format (`package-lock.json`, `poetry.lock`, ...).
    pub format: String,
    /// The file on disk (the key of the bundle in the inventory).
    pub file: PathBuf,
    pub graph: DepGraph,
    pub findings: Vec<Finding>,
}

/// One Lambda-specific finding (informational: it does not gate).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hygiene {
    /// `dev-shipped`, `drift`, `provided-by-runtime`, `deprecated-runtime`, `opaque-binary`,
    /// `unsafe-entry`.
    pub kind: String,
    /// `name@version` of the package concerned, if any.
    pub package: Option<String>,
    /// Where in the artifact, if it applies.
    pub location: Option<String>,
    pub message: String,
}

/// One vulnerability (all its alias records) in one package of one bundle.
#[derive(Debug, Clone)]
pub struct Finding {
    pub node: NodeId,
    pub package: Package,
    pub advisory: AdvisoryInfo,
    /// The severity the policy used: the advisory's, or the documented rule when it has none.
    pub severity: Level,
    /// Dependency paths from a root, as `name@version` strings (`express@4.17.1 > qs@6.7.0`).
    pub paths: Vec<Vec<String>>,
    /// The direct dependencies that pull the package in (the ones to upgrade), `name@version`.
    pub upgrade: Vec<String>,
    /// 1-based line of the package's entry in the lockfile, where it could be found.
    pub line: Option<u32>,
    pub status: Status,
}

/// The advisory side of a finding (from the matcher, grouped by aliases).
#[derive(Debug, Clone, PartialEq)]
pub struct AdvisoryInfo {
    pub id: String,
    pub aliases: Vec<String>,
    /// The advisory's own severity; `None` when the record has no usable data.
    pub severity: Option<Level>,
    pub cvss_score: Option<f64>,
    pub fixed: Vec<String>,
    pub summary: String,
    pub notes: Vec<String>,
}

impl AdvisoryInfo {
    /// Malicious-package records (OpenSSF `MAL-` ids) mean the package itself is hostile.
    pub fn is_malicious(&self) -> bool {
        is_malicious(&self.id, &self.aliases)
    }

    /// Whether `id` names this vulnerability (its id or any alias).
    pub fn is_named(&self, id: &str) -> bool {
        self.id.eq_ignore_ascii_case(id) || self.aliases.iter().any(|a| a.eq_ignore_ascii_case(id))
    }
}

/// Whether an advisory is a malicious-package record (OpenSSF `MAL-` id, or one among its aliases).
pub fn is_malicious(id: &str, aliases: &[String]) -> bool {
    std::iter::once(id).chain(aliases.iter().map(String::as_str)).any(|i| i.starts_with("MAL-"))
}

/// What the policy decided for a finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// At or above the threshold, in a gating scope: fails the policy.
    Gating,
    /// Reported, below the threshold.
    BelowThreshold,
    /// Only in dev dependencies, which do not gate unless asked.
    DevOnly,
    /// Ignored by the policy file, with its reason and end date.
    Ignored { reason: String, until: Option<String>, source: PathBuf },
    /// Already in the baseline report: old debt, not introduced by this change.
    Baseline,
}

impl Status {
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Gating => "gating",
            Status::BelowThreshold => "below-threshold",
            Status::DevOnly => "dev-only",
            Status::Ignored { .. } => "ignored",
            Status::Baseline => "baseline",
        }
    }
}

impl ScanResult {
    /// Every finding with its bundle, in report order.
    pub fn findings(&self) -> impl Iterator<Item = (&BundleReport, &Finding)> {
        self.bundles.iter().flat_map(|b| b.findings.iter().map(move |f| (b, f)))
    }
}

//! What a scan found, in the terms reports use: per unit (one tree of one function or layer) its
//! packages, its judged findings (vulnerabilities from advisories, with dependency paths and the
//! direct dependencies to upgrade) and its judged risk findings (hygiene, stale, takeover,
//! unused, with evidence). Everything here was decided by the policy once; reporters render a
//! [`ScanResult`] and never decide.

use std::path::PathBuf;

use crate::graph::{DepGraph, NodeId};
use crate::package::Package;
pub use crate::vocab::{AdvisoryId, Code, Diagnostic, FindingKind, Level, LockfileFormat, TreeSource, UnitKind};

/// The outcome of the policy over all findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Fail,
    /// Nothing gated, but not everything could be checked (a file unreadable, packages not
    /// evaluated): never a pass.
    Incomplete,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Incomplete => "incomplete",
        }
    }
}

/// The whole result of one `scan`, deterministic for the same inputs (sorted everywhere).
#[derive(Debug, Clone)]
pub struct ScanResult {
    pub bundles: Vec<BundleReport>,
    /// Files that could not be read or parsed (the rest of the scan went on).
    pub errors: Vec<Diagnostic>,
    /// Things the user should know: stale database, manifests without lockfile, expired ignores.
    pub warnings: Vec<Diagnostic>,
    /// Packages that could not be checked against the advisories, and why.
    pub not_evaluated: Vec<NotEvaluated>,
    /// Per risk signal, for how many packages it could be evaluated.
    pub coverage: Vec<crate::vocab::Coverage>,
    pub verdict: Verdict,
    /// The severity at or above which a finding fails the policy.
    pub fail_on: Level,
    /// Whether dev-only packages gate.
    pub include_dev: bool,
}

/// A package the advisory match could not evaluate (its ecosystem is not in the database, its
/// version is not an exact version of its ecosystem).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct NotEvaluated {
    /// The display path of the unit.
    pub bundle: String,
    pub package: String,
    pub reason: String,
}

/// One tree of one Lambda function or layer: the packages its lockfile claims, or the packages
/// its deployment artifact really ships, and what was found in them. A function with both a
/// lockfile and an artifact has one report of each, under the same name.
#[derive(Debug, Clone)]
pub struct BundleReport {
    /// The function's or layer's logical name (template key), or the folder for template-less
    /// bundles.
    pub name: String,
    pub kind: UnitKind,
    pub runtime: Option<String>,
    pub handler: Option<String>,
    /// The template that declares the function, when there is one.
    pub template: Option<String>,
    /// The lockfile, relative to the scanned root where possible, `/`-separated.
    pub path: String,
    pub format: TreeSource,
    /// The file on disk (the key of the bundle in the inventory).
    pub file: PathBuf,
    pub graph: DepGraph,
    /// Vulnerability findings (and advisory-backed takeover or stale findings), most severe first.
    pub findings: Vec<Finding>,
    /// Risk findings: hygiene, stale, takeover, unused, in check order.
    pub risks: Vec<RiskFinding>,
    /// Why the tree could not be read (an unsupported runtime, no lockfile); `None` when read.
    pub coverage: Option<String>,
    /// The changes that clear the gating findings, decided by the scan (`scan::fixplan`) after
    /// judging; empty when nothing gates.
    pub fix_plan: FixPlan,
}

impl BundleReport {
    /// The risk findings of one kind.
    pub fn risks_of(&self, kind: FindingKind) -> impl Iterator<Item = &RiskFinding> {
        self.risks.iter().filter(move |r| r.code.kind() == kind)
    }
}

/// One judged risk finding: what a check saw, the level the policy gave it, and its status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskFinding {
    pub code: Code,
    pub package: Option<Package>,
    pub node: Option<NodeId>,
    pub location: Option<String>,
    pub message: String,
    pub evidence: Vec<crate::vocab::Evidence>,
    pub level: Level,
    pub status: Status,
}

/// A vulnerability attached to a package of a unit, before the policy judged it.
#[derive(Debug, Clone)]
pub struct VulnHit {
    pub code: Code,
    pub node: NodeId,
    pub package: Package,
    pub advisory: AdvisoryInfo,
    pub paths: Vec<Vec<String>>,
    pub upgrade: Vec<String>,
    pub line: Option<u32>,
    /// Whether an import chain of the function's code reaches the package (`None`: unknown).
    pub reachable: Option<bool>,
}

/// One vulnerability (all its alias records) in one package of one bundle.
#[derive(Debug, Clone)]
pub struct Finding {
    /// `vulnerability/advisory`, `takeover/malicious`, `stale/unmaintained`...
    pub code: Code,
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
    /// Whether a chain of imports from the function's code reaches the package: `Some(false)`
    /// when its imports were read and none leads to it, `None` when that is unknown (no code, a
    /// language or a tree without edges we cannot follow, a layer). A lexical hint, not proof.
    pub reachable: Option<bool>,
    pub status: Status,
}

/// The advisory side of a finding (from the matcher, grouped by aliases).
#[derive(Debug, Clone, PartialEq)]
pub struct AdvisoryInfo {
    pub id: AdvisoryId,
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
        is_malicious(self.id.as_str(), &self.aliases)
    }

    /// Whether `id` names this vulnerability (its id or any alias).
    pub fn is_named(&self, id: &str) -> bool {
        self.id.is(id) || self.aliases.iter().any(|a| a.eq_ignore_ascii_case(id))
    }
}

/// Whether an advisory is a malicious-package record (OpenSSF `MAL-` id, or one among its aliases).
pub fn is_malicious(id: &str, aliases: &[String]) -> bool {
    std::iter::once(id)
        .chain(aliases.iter().map(String::as_str))
        .any(|i| crate::vocab::id_kind(i) == crate::vocab::IdKind::Mal)
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
    /// An OpenVEX `not_affected` statement covers it: the justification and impact statement.
    Vex { justification: String, statement: String, source: PathBuf },
    /// Already in the baseline report: old debt, not introduced by this change.
    Baseline,
    /// Informational (hygiene notes by default): reported, never gates.
    Info,
    /// No import of the function reaches the package and the policy says `unreachable =
    /// "report"`: reported, does not gate.
    Unreachable,
}

impl Status {
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Gating => "gating",
            Status::BelowThreshold => "below-threshold",
            Status::DevOnly => "dev-only",
            Status::Ignored { .. } => "ignored",
            Status::Vex { .. } => "vex",
            Status::Baseline => "baseline",
            Status::Info => "info",
            Status::Unreachable => "unreachable",
        }
    }
}

impl ScanResult {
    /// Every finding with its bundle, in report order.
    pub fn findings(&self) -> impl Iterator<Item = (&BundleReport, &Finding)> {
        self.bundles.iter().flat_map(|b| b.findings.iter().map(move |f| (b, f)))
    }

    /// Every risk finding with its bundle, in report order.
    pub fn risks(&self) -> impl Iterator<Item = (&BundleReport, &RiskFinding)> {
        self.bundles.iter().flat_map(|b| b.risks.iter().map(move |f| (b, f)))
    }
}

/// The fix plan of one unit: the smallest set of package moves that clears every gating finding,
/// as the user would type them, and the packages no named fixed version clears.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FixPlan {
    pub changes: Vec<FixChange>,
    /// Packages with gating findings that no fixed version named by the advisories clears.
    pub unfixable: Vec<Unfixable>,
}

/// Move one package to one version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixChange {
    pub ecosystem: crate::package::Ecosystem,
    pub package: String,
    pub from: String,
    pub to: String,
    /// A direct dependency of the unit (else the change is an override).
    pub direct: bool,
    /// The advisory ids of the gating findings it clears, sorted.
    pub clears: Vec<String>,
    /// What to type or write, in the syntax of the tool that owns the tree.
    pub instruction: String,
}

/// A package whose gating findings no fixed version named by the advisories clears, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unfixable {
    pub package: String,
    pub version: String,
    /// The gating advisory ids, sorted.
    pub ids: Vec<String>,
    /// `no fixed version is named for X`, or `no fixed version clears all advisories: 2.0.1
    /// fixes A but is hit by B`.
    pub reason: String,
}

impl FixPlan {
    /// Nothing to change and nothing unfixable (nothing gates).
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty() && self.unfixable.is_empty()
    }

    /// The plan as lines of text (`axios 0.21.0 -> 0.21.2 clears 3 findings (...): npm install ...`).
    pub fn lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = self.changes.iter().map(FixChange::line).collect();
        lines.extend(self.unfixable.iter().map(|u| format!("{} {}: {}", u.package, u.version, u.reason)));
        lines
    }
}

impl FixChange {
    /// `axios 0.21.0 -> 0.21.2 clears 3 findings (A, B, C): npm install axios@0.21.2`.
    pub fn line(&self) -> String {
        let n = self.clears.len();
        format!(
            "{} {} -> {} clears {n} finding{} ({}): {}",
            self.package,
            self.from,
            self.to,
            if n == 1 { "" } else { "s" },
            self.clears.join(", "),
            self.instruction
        )
    }
}

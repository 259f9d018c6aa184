//! The fix plan: per function, the smallest set of package changes that clears every gating
//! finding, as the user would type them. Direct dependencies are upgraded; a transitive package
//! is pinned with the ecosystem's own override (npm `overrides`, pnpm `pnpm.overrides`, yarn
//! `resolutions`, a pip constraints line, `go get module@version`, `cargo update -p crate
//! --precise version`). Only fixed versions the advisories name are proposed; a package none of
//! whose advisories names one is listed as such. Pure function over a [`ScanResult`].

use std::collections::BTreeMap;

use crate::finding::{BundleReport, Finding, LockfileFormat, ScanResult, Status, TreeSource};
use crate::graph::NodeId;
use crate::package::{Ecosystem, Package};
use crate::version::Version;

/// The plans of every unit with gating findings, in report order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixPlan {
    pub bundles: Vec<BundlePlan>,
}

/// What to change in one unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundlePlan {
    /// Index of the unit in [`ScanResult::bundles`].
    pub index: usize,
    pub name: String,
    pub path: String,
    pub changes: Vec<Change>,
    /// Packages with gating findings that no named fixed version clears.
    pub unfixable: Vec<Unfixable>,
}

/// Move one package to one version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub ecosystem: Ecosystem,
    pub package: String,
    pub from: String,
    pub to: String,
    /// A direct dependency of the unit (else the change is an override).
    pub direct: bool,
    /// The advisory ids it clears, sorted.
    pub clears: Vec<String>,
    /// What to type or write, in the ecosystem's syntax.
    pub instruction: String,
}

/// A package whose gating findings no fixed version named by the advisories clears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unfixable {
    pub package: String,
    pub version: String,
    pub ids: Vec<String>,
}

impl BundlePlan {
    /// The plan as lines of text (`axios 0.21.0 -> 0.21.2 clears 3 findings: npm install ...`).
    pub fn lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .changes
            .iter()
            .map(|c| {
                let n = c.clears.len();
                format!(
                    "{} {} -> {} clears {n} finding{} ({}): {}",
                    c.package,
                    c.from,
                    c.to,
                    if n == 1 { "" } else { "s" },
                    c.clears.join(", "),
                    c.instruction
                )
            })
            .collect();
        lines.extend(
            self.unfixable
                .iter()
                .map(|u| format!("{} {}: no fixed version exists for {}", u.package, u.version, u.ids.join(", "))),
        );
        lines
    }
}

/// The plan for every unit with gating findings.
pub fn plan(result: &ScanResult) -> FixPlan {
    let bundles = result
        .bundles
        .iter()
        .enumerate()
        .filter_map(|(index, b)| {
            let p = bundle_plan(index, b);
            (!p.changes.is_empty() || !p.unfixable.is_empty()).then_some(p)
        })
        .collect();
    FixPlan { bundles }
}

fn bundle_plan(index: usize, b: &BundleReport) -> BundlePlan {
    let mut by_node: BTreeMap<NodeId, Vec<&Finding>> = BTreeMap::new();
    for f in b.findings.iter().filter(|f| f.status == Status::Gating) {
        by_node.entry(f.node).or_default().push(f);
    }
    let mut plan =
        BundlePlan { index, name: b.name.clone(), path: b.path.clone(), changes: Vec::new(), unfixable: Vec::new() };
    for (node, findings) in by_node {
        let package = b.graph.node(node);
        let mut ids: Vec<String> = findings.iter().map(|f| f.advisory.id.to_string()).collect();
        ids.sort();
        ids.dedup();
        match target_version(package, &findings) {
            Some(to) => {
                let direct = b.graph.is_root(node);
                plan.changes.push(Change {
                    ecosystem: package.ecosystem,
                    package: package.name.as_str().to_owned(),
                    from: package.version.clone(),
                    instruction: instruction(b.format, package, &to, direct),
                    to,
                    direct,
                    clears: ids,
                });
            }
            None => plan.unfixable.push(Unfixable {
                package: package.name.as_str().to_owned(),
                version: package.version.clone(),
                ids,
            }),
        }
    }
    plan
}

/// The release line of a version: its major number, or `0.minor` below 1.0 (semver's
/// compatibility rule; PEP 440 and Go versions are read the same way).
fn line_of(raw: &str) -> (String, Option<String>) {
    let mut parts = raw.trim_start_matches(['v', 'V', '=']).split(['.', '-', '+']);
    let major = parts.next().unwrap_or_default().to_owned();
    let minor = (major == "0").then(|| parts.next().unwrap_or_default().to_owned());
    (major, minor)
}

/// Whether moving to `candidate` fixes an advisory with these fixed versions: a fixed version
/// in the candidate's line at or below it, or, when the advisory names none in that line, any
/// fixed version at or below it.
fn clears(candidate: &Version, candidate_raw: &str, fixed: &[(Version, String)]) -> bool {
    let line = line_of(candidate_raw);
    let same_line: Vec<&Version> = fixed.iter().filter(|(_, raw)| line_of(raw) == line).map(|(v, _)| v).collect();
    if same_line.is_empty() {
        fixed.iter().any(|(v, _)| v <= candidate)
    } else {
        same_line.into_iter().any(|v| v <= candidate)
    }
}

/// The lowest version named as fixed by one of the findings, above the current one, that
/// clears all of them.
fn target_version(package: &Package, findings: &[&Finding]) -> Option<String> {
    let eco = package.ecosystem;
    let current = Version::parse(eco, &package.version).ok()?;
    let parsed: Vec<Vec<(Version, String)>> = findings
        .iter()
        .map(|f| {
            f.advisory.fixed.iter().filter_map(|raw| Version::parse(eco, raw).ok().map(|v| (v, raw.clone()))).collect()
        })
        .collect();
    if parsed.iter().any(Vec::is_empty) {
        return None;
    }
    let mut candidates: Vec<&(Version, String)> = parsed.iter().flatten().filter(|(v, _)| *v > current).collect();
    candidates.sort_by(|a, b| a.0.cmp(&b.0));
    candidates.into_iter().find(|(v, raw)| parsed.iter().all(|fixed| clears(v, raw, fixed))).map(|(_, raw)| raw.clone())
}

/// The change in the syntax of the tool that owns the tree.
fn instruction(source: TreeSource, package: &Package, to: &str, direct: bool) -> String {
    let name = package.name.as_str();
    let format = match source {
        TreeSource::Lockfile(f) => Some(f),
        TreeSource::Artifact | TreeSource::NotRead => None,
    };
    match (package.ecosystem, format, direct) {
        (Ecosystem::Npm, Some(LockfileFormat::PnpmLock), true) => format!("pnpm add {name}@{to}"),
        (Ecosystem::Npm, Some(LockfileFormat::PnpmLock), false) => {
            format!("package.json: \"pnpm\": {{ \"overrides\": {{ \"{name}\": \"{to}\" }} }}")
        }
        (Ecosystem::Npm, Some(LockfileFormat::YarnLock), true) => format!("yarn add {name}@{to}"),
        (Ecosystem::Npm, Some(LockfileFormat::YarnLock), false) => {
            format!("package.json: \"resolutions\": {{ \"{name}\": \"{to}\" }}")
        }
        (Ecosystem::Npm, _, true) => format!("npm install {name}@{to}"),
        (Ecosystem::Npm, _, false) => format!("package.json: \"overrides\": {{ \"{name}\": \"{to}\" }}"),
        (Ecosystem::PyPI, Some(LockfileFormat::PoetryLock), true) => format!("poetry add {name}@{to}"),
        (Ecosystem::PyPI, Some(LockfileFormat::UvLock), true) => format!("uv add {name}=={to}"),
        (Ecosystem::PyPI, Some(LockfileFormat::PdmLock), true) => format!("pdm add {name}=={to}"),
        (Ecosystem::PyPI, _, true) => format!("requirements: {name}=={to}"),
        (Ecosystem::PyPI, _, false) => format!("constraints.txt: {name}>={to} (pip install -c constraints.txt)"),
        (Ecosystem::Go, ..) => format!("go get {name}@{}", go_version(to)),
        (Ecosystem::CratesIo, ..) => format!("cargo update -p {name} --precise {to}"),
    }
}

fn go_version(v: &str) -> String {
    if v.starts_with('v') { v.to_owned() } else { format!("v{v}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(eco: Ecosystem, raws: &[&str]) -> Vec<(Version, String)> {
        raws.iter().map(|r| (Version::parse(eco, r).expect("test version"), (*r).to_owned())).collect()
    }

    #[test]
    fn a_fix_in_another_line_does_not_clear_an_affected_version_of_this_line() {
        let f = fixed(Ecosystem::Npm, &["1.2.3", "2.0.1"]);
        let v = |s: &str| Version::parse(Ecosystem::Npm, s).expect("test version");
        assert!(!clears(&v("2.0.0"), "2.0.0", &f));
        assert!(clears(&v("2.0.1"), "2.0.1", &f));
        assert!(clears(&v("1.5.0"), "1.5.0", &f));
        assert!(!clears(&v("1.2.0"), "1.2.0", &f));
        // One fixed version only: everything above it is fixed.
        assert!(clears(&v("3.0.0"), "3.0.0", &fixed(Ecosystem::Npm, &["1.2.3"])));
    }

    #[test]
    fn zero_major_lines_split_on_the_minor() {
        assert_eq!(line_of("0.21.2"), ("0".to_owned(), Some("21".to_owned())));
        assert_eq!(line_of("v1.4.0"), ("1".to_owned(), None));
    }
}

//! The plan stage: per unit, the smallest set of package moves that clears every gating finding,
//! decided after judging and stored in each `BundleReport` so every report only renders it.
//! Direct dependencies are upgraded; a transitive package is pinned with the ecosystem's own
//! override (npm `overrides`, pnpm `pnpm.overrides`, yarn `resolutions`, a pip constraints line,
//! `go get module@version`, `cargo update -p crate --precise version`).
//!
//! Only fixed versions the advisories name are proposed, and each candidate is matched against the
//! whole advisory database (every advisory of the package, not only those found), so a plan never
//! moves a package onto a version another advisory hits. An advisory that already hits the current
//! version and does not gate (ignored, VEX, below the threshold, baseline) may stay.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::advisory::store::{Store, StoreError};
use crate::finding::{BundleReport, FixChange, FixPlan, LockfileFormat, ScanResult, Status, TreeSource, Unfixable};
use crate::graph::NodeId;
use crate::matcher::{self, Candidates, PackageQuery, Vulnerability};
use crate::package::{Ecosystem, Package, PackageName};
use crate::version::Version;

/// Rounds of "this candidate is hit by another advisory: add the versions that one names";
/// real packages settle in two or three.
const MAX_ROUNDS: usize = 8;

/// Sets the fix plan of every unit of the result.
pub fn plan(store: &Store, result: &mut ScanResult) -> Result<(), StoreError> {
    let mut targets: BTreeMap<TargetKey, Target> = BTreeMap::new();
    let mut matches = Matches::new(store);
    for b in &mut result.bundles {
        b.fix_plan = bundle_plan(&mut matches, b, &mut targets)?;
    }
    Ok(())
}

/// The candidate versions matched so far, for the whole plan: each package's advisories are read
/// from the store once, however many of its versions are tried, and each version is matched once,
/// whichever units and findings ask. What [`matcher::match_packages`] would say of each: the same
/// steps over the same store.
struct Matches<'s> {
    store: &'s Store,
    candidates: HashMap<(Ecosystem, PackageName), Candidates>,
    vulnerabilities: HashMap<PackageQuery, Vec<Vulnerability>>,
}

impl<'s> Matches<'s> {
    fn new(store: &'s Store) -> Matches<'s> {
        Matches { store, candidates: HashMap::new(), vulnerabilities: HashMap::new() }
    }

    /// Matches the versions of one package not matched yet.
    fn match_versions(&mut self, queries: &[PackageQuery]) -> Result<(), StoreError> {
        let new: Vec<PackageQuery> =
            queries.iter().filter(|q| !self.vulnerabilities.contains_key(*q)).cloned().collect();
        let Some(first) = new.first() else { return Ok(()) };
        let key = (first.ecosystem, first.name.clone());
        debug_assert!(new.iter().all(|q| q.ecosystem == key.0 && q.name == key.1), "one package at a time");
        let candidates = match self.candidates.entry(key) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(matcher::load_candidates(self.store, std::slice::from_ref(first))?)
            }
        };
        let evaluated = matcher::evaluate(&new, candidates);
        let found = matcher::group(self.store, &new, evaluated)?;
        for (q, m) in new.into_iter().zip(found) {
            self.vulnerabilities.insert(q, m.vulnerabilities);
        }
        Ok(())
    }

    /// The vulnerabilities of a version matched before.
    fn of(&self, query: &PackageQuery) -> &[Vulnerability] {
        self.vulnerabilities.get(query).map_or(&[], Vec::as_slice)
    }
}

/// The same package, version and advisories in two units get the same target (computed once).
type TargetKey = (Ecosystem, String, String, Vec<String>, Vec<String>);

/// Where a package can go: a version, or why there is none.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Version(String),
    None(String),
}

fn bundle_plan(
    matches: &mut Matches,
    b: &BundleReport,
    targets: &mut BTreeMap<TargetKey, Target>,
) -> Result<FixPlan, StoreError> {
    let mut gating: BTreeMap<NodeId, BTreeSet<String>> = BTreeMap::new();
    for f in b.findings.iter().filter(|f| f.status == Status::Gating) {
        gating.entry(f.node).or_default().insert(f.advisory.id.to_string());
    }
    let mut plan = FixPlan::default();
    for (node, ids) in gating {
        let package = b.graph.node(node);
        let tolerated = tolerated_ids(b, node);
        let ids: Vec<String> = ids.into_iter().collect();
        let key = (
            package.ecosystem,
            package.name.as_str().to_owned(),
            package.version.clone(),
            ids.clone(),
            tolerated.iter().cloned().collect(),
        );
        let target = if let Some(t) = targets.get(&key) {
            t.clone()
        } else {
            let t = target(matches, b, node, &ids, &tolerated)?;
            targets.insert(key, t.clone());
            t
        };
        match target {
            Target::Version(to) => {
                let direct = b.graph.is_root(node);
                plan.changes.push(FixChange {
                    ecosystem: package.ecosystem,
                    package: package.name.as_str().to_owned(),
                    from: package.version.clone(),
                    instruction: instruction(b.format, package, &to, direct),
                    to,
                    direct,
                    clears: ids,
                });
            }
            Target::None(reason) => plan.unfixable.push(Unfixable {
                package: package.name.as_str().to_owned(),
                version: package.version.clone(),
                ids,
                reason,
            }),
        }
    }
    Ok(plan)
}

/// Every id (and alias) of the findings on `node` that hit the current version without gating:
/// a target version they also hit is no worse than today.
fn tolerated_ids(b: &BundleReport, node: NodeId) -> BTreeSet<String> {
    b.findings
        .iter()
        .filter(|f| f.node == node && f.status != Status::Gating)
        .flat_map(|f| std::iter::once(f.advisory.id.to_string()).chain(f.advisory.aliases.iter().cloned()))
        .map(|id| id.to_ascii_uppercase())
        .collect()
}

fn is_tolerated(v: &Vulnerability, tolerated: &BTreeSet<String>) -> bool {
    std::iter::once(&v.id).chain(&v.aliases).any(|id| tolerated.contains(&id.to_ascii_uppercase()))
}

/// The lowest version named as fixed by an advisory of the package, above the current one, that
/// no advisory hits (but the tolerated ones). Candidates start with the fixed versions of the
/// gating findings; a candidate hit by another advisory adds the versions that one names.
fn target(
    matches: &mut Matches,
    b: &BundleReport,
    node: NodeId,
    ids: &[String],
    tolerated: &BTreeSet<String>,
) -> Result<Target, StoreError> {
    let package = b.graph.node(node);
    let eco = package.ecosystem;
    let Ok(current) = Version::parse(eco, &package.version) else {
        return Ok(Target::None(format!("version {:?} is not an exact {eco} version", package.version)));
    };
    let unnamed: Vec<&str> = b
        .findings
        .iter()
        .filter(|f| f.node == node && f.status == Status::Gating && f.advisory.fixed.is_empty())
        .map(|f| f.advisory.id.as_str())
        .collect();
    if !unnamed.is_empty() {
        return Ok(Target::None(format!("no fixed version exists for {}", join_unique(unnamed))));
    }
    let mut candidates: BTreeMap<Version, String> = BTreeMap::new();
    let add = |candidates: &mut BTreeMap<Version, String>, raws: &[String]| {
        for raw in raws {
            if let Ok(v) = Version::parse(eco, raw)
                && v > current
            {
                candidates.entry(v).or_insert_with(|| raw.clone());
            }
        }
    };
    for f in b.findings.iter().filter(|f| f.node == node && f.status == Status::Gating) {
        add(&mut candidates, &f.advisory.fixed);
    }
    let mut hits: BTreeMap<String, Vec<Vulnerability>> = BTreeMap::new();
    for _ in 0..MAX_ROUNDS {
        let unchecked: Vec<PackageQuery> = candidates
            .values()
            .filter(|raw| !hits.contains_key(*raw))
            .map(|raw| PackageQuery { ecosystem: eco, name: package.name.clone(), version: raw.clone() })
            .collect();
        if unchecked.is_empty() {
            break;
        }
        matches.match_versions(&unchecked)?;
        for q in unchecked {
            let vulnerabilities = matches.of(&q).to_vec();
            for v in &vulnerabilities {
                add(&mut candidates, &v.fixed);
            }
            hits.insert(q.version, vulnerabilities);
        }
    }
    let clear = candidates
        .values()
        .find(|raw| hits.get(*raw).is_some_and(|vulns| vulns.iter().all(|v| is_tolerated(v, tolerated))));
    Ok(match clear {
        Some(raw) => Target::Version(raw.clone()),
        None => Target::None(no_clear_reason(ids, &candidates, &hits, tolerated)),
    })
}

/// Why no candidate clears: the candidate hit by the fewest other advisories (the highest on a
/// tie), with what it fixes and what hits it.
fn no_clear_reason(
    ids: &[String],
    candidates: &BTreeMap<Version, String>,
    hits: &BTreeMap<String, Vec<Vulnerability>>,
    tolerated: &BTreeSet<String>,
) -> String {
    let best = candidates
        .values()
        .rev()
        .filter_map(|raw| {
            let blocking: Vec<&Vulnerability> = hits.get(raw)?.iter().filter(|v| !is_tolerated(v, tolerated)).collect();
            Some((raw, blocking))
        })
        .min_by_key(|(_, blocking)| blocking.len());
    let Some((raw, blocking)) = best else {
        return format!("no fixed version above the current one is named for {}", ids.join(", "));
    };
    let named = |v: &Vulnerability, id: &str| {
        v.id.eq_ignore_ascii_case(id) || v.aliases.iter().any(|a| a.eq_ignore_ascii_case(id))
    };
    let fixes: Vec<&str> = ids.iter().filter(|id| !blocking.iter().any(|v| named(v, id))).map(String::as_str).collect();
    let fixes = if fixes.is_empty() { "none of them".to_owned() } else { fixes.join(", ") };
    let by = join_unique(blocking.iter().map(|v| v.id.as_str()).collect());
    format!("no fixed version clears all advisories: {raw} fixes {fixes} but is hit by {by}")
}

fn join_unique(mut ids: Vec<&str>) -> String {
    ids.sort_unstable();
    ids.dedup();
    ids.join(", ")
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
    use crate::package::{PackageName, Scope, Source};

    fn package(ecosystem: Ecosystem, name: &str) -> Package {
        Package {
            ecosystem,
            name: PackageName::new(ecosystem, name),
            version: "1.0.0".into(),
            scope: Scope::Prod,
            source: Source::Registry,
        }
    }

    #[test]
    fn instructions_in_each_tools_own_syntax() {
        let lock = |f| TreeSource::Lockfile(f);
        let npm = package(Ecosystem::Npm, "qs");
        let cases = [
            (lock(LockfileFormat::PnpmLock), &npm, true, "pnpm add qs@6.7.3"),
            (
                lock(LockfileFormat::PnpmLock),
                &npm,
                false,
                "package.json: \"pnpm\": { \"overrides\": { \"qs\": \"6.7.3\" } }",
            ),
            (lock(LockfileFormat::YarnLock), &npm, false, "package.json: \"resolutions\": { \"qs\": \"6.7.3\" }"),
            (TreeSource::Artifact, &npm, false, "package.json: \"overrides\": { \"qs\": \"6.7.3\" }"),
        ];
        for (source, p, direct, want) in cases {
            assert_eq!(instruction(source, p, "6.7.3", direct), want);
        }
        let py = package(Ecosystem::PyPI, "Jinja2");
        assert_eq!(instruction(lock(LockfileFormat::PoetryLock), &py, "2.10.1", true), "poetry add jinja2@2.10.1");
        assert_eq!(
            instruction(lock(LockfileFormat::Requirements), &py, "2.10.1", false),
            "constraints.txt: jinja2>=2.10.1 (pip install -c constraints.txt)"
        );
        let go = package(Ecosystem::Go, "golang.org/x/net");
        assert_eq!(instruction(lock(LockfileFormat::GoMod), &go, "0.23.0", false), "go get golang.org/x/net@v0.23.0");
        let rust = package(Ecosystem::CratesIo, "tokio");
        assert_eq!(
            instruction(lock(LockfileFormat::CargoLock), &rust, "1.18.4", true),
            "cargo update -p tokio --precise 1.18.4"
        );
    }
}

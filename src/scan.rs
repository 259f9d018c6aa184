//! The orchestration of a scan: discover the lockfiles under each path, parse them in parallel,
//! match the unique packages of all of them once, and attach each vulnerability to every tree
//! that contains the package, with its dependency paths. The policy (`policy::judge`) decides
//! afterwards; this module only finds.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use jiff::civil::Date;

use crate::advisory::store::{InventoryFinding, Store, StoreError};
use crate::bundle::{self, Artifact, Bundle, BundleKind};
use crate::finding::{AdvisoryInfo, BundleReport, Finding, Hygiene, Level, Problem, ScanResult, Status, Verdict};
use crate::graph::{DepGraph, NodeId, Reversed};
use crate::lockfile::{self, Lockfile};
use crate::matcher::{self, PackageMatches, PackageQuery, Vulnerability};
use crate::package::{Ecosystem, PackageName, Source};

/// Most dependency paths reported per finding.
pub const MAX_PATHS: usize = 5;

/// One tree to match: a function's (or layer's) lockfile or artifact, with what is known of
/// the function.
#[derive(Debug)]
pub struct Unit {
    pub name: String,
    pub kind: String,
    pub runtime: Option<String>,
    pub handler: Option<String>,
    pub template: Option<String>,
    /// Display path of the lockfile or artifact.
    pub path: String,
    /// The file on disk.
    pub file: PathBuf,
    /// Lockfile format, or `artifact`.
    pub format: String,
    pub graph: DepGraph,
    pub hygiene: Vec<Hygiene>,
}

/// The trees read from the scanned paths, before matching.
#[derive(Debug, Default)]
pub struct Collected {
    /// Sorted by display path, then name.
    pub units: Vec<Unit>,
    pub errors: Vec<Problem>,
    pub warnings: Vec<String>,
}

impl Collected {
    /// The ecosystems the scanned packages belong to (what a sync needs to cover).
    pub fn ecosystems(&self) -> Vec<Ecosystem> {
        let set: BTreeSet<Ecosystem> =
            self.units.iter().flat_map(|u| u.graph.nodes().iter().map(|p| p.ecosystem)).collect();
        set.into_iter().collect()
    }
}

/// Finds the Lambda functions and layers under `paths` (templates, else one bundle per folder
/// with a lockfile; a path may also be a lockfile, a zip or a binary), parses every lockfile once
/// and reads every artifact, in parallel, and compares each artifact with its function's
/// lockfile. `artifacts` are files to read as deployment artifacts whatever their name.
pub fn collect(paths: &[PathBuf], artifacts: &[PathBuf], today: Date) -> Collected {
    let mut out = Collected::default();
    let mut bundles: Vec<Bundle> = Vec::new();
    for root in paths {
        if !root.exists() {
            out.errors.push(Problem { path: display(root), message: "no such file or folder".into() });
            continue;
        }
        let discovery = bundle::discover(root);
        out.errors.extend(discovery.errors.into_iter().map(|e| Problem { path: display(&e.path), message: e.message }));
        bundles.extend(discovery.bundles);
    }
    for file in artifacts {
        if !file.is_file() {
            out.errors.push(Problem { path: display(file), message: "no such file".into() });
            continue;
        }
        let name = file.file_name().map_or_else(|| display(file), |n| n.to_string_lossy().into_owned());
        bundles.push(Bundle {
            name,
            kind: BundleKind::Function,
            runtime: None,
            handler: None,
            source: None,
            code_dir: None,
            lockfiles: Vec::new(),
            artifacts: vec![file.clone()],
            layers: Vec::new(),
            notes: Vec::new(),
        });
    }
    for b in &mut bundles {
        // A template may name a build output that is not there yet (CI before `sam build`).
        b.artifacts.retain(|a| {
            let exists = a.is_file();
            if !exists {
                out.warnings.push(format!("{}: artifact of {} not found (not built yet?)", display(a), b.name));
            }
            exists
        });
    }
    let lockfiles: BTreeSet<&PathBuf> = bundles.iter().flat_map(|b| &b.lockfiles).collect();
    let parsed: HashMap<&PathBuf, Result<Lockfile, lockfile::LockfileError>> =
        lockfiles.into_par_iter().map(|p| (p, lockfile::load(p))).collect();
    let zips: BTreeSet<&PathBuf> = bundles.iter().flat_map(|b| &b.artifacts).collect();
    let limits = bundle::Limits::default();
    let read: HashMap<&PathBuf, Result<Artifact, bundle::ArtifactError>> =
        zips.into_par_iter().map(|p| (p, bundle::read_artifact(p, &limits))).collect();
    report_file_problems(&parsed, &read, &mut out);
    for b in &bundles {
        units_of(b, &parsed, &read, today, &mut out);
    }
    out.units.sort_by(|a, b| (&a.path, &a.name).cmp(&(&b.path, &b.name)));
    out
}

fn report_file_problems(
    parsed: &HashMap<&PathBuf, Result<Lockfile, lockfile::LockfileError>>,
    read: &HashMap<&PathBuf, Result<Artifact, bundle::ArtifactError>>,
    out: &mut Collected,
) {
    let mut problems: Vec<Problem> = Vec::new();
    for (path, result) in parsed {
        match result {
            Ok(lock) => out.warnings.extend(lock.warnings.iter().map(|w| format!("{}: {w}", display(path)))),
            Err(e) => problems.push(Problem {
                path: display(path),
                message: e.location.as_ref().map_or_else(|| e.message.clone(), |loc| format!("{loc}: {}", e.message)),
            }),
        }
    }
    for (path, result) in read {
        match result {
            Ok(artifact) => out.warnings.extend(artifact.notes.iter().map(|n| format!("{}: {n}", display(path)))),
            Err(e) => problems.push(Problem { path: display(path), message: e.to_string() }),
        }
    }
    problems.sort_by(|a, b| a.path.cmp(&b.path));
    out.errors.extend(problems);
    out.warnings.sort();
}

/// The units of one bundle: one per lockfile, one per artifact (compared with the lockfile).
fn units_of(
    b: &Bundle,
    parsed: &HashMap<&PathBuf, Result<Lockfile, lockfile::LockfileError>>,
    read: &HashMap<&PathBuf, Result<Artifact, bundle::ArtifactError>>,
    today: Date,
    out: &mut Collected,
) {
    let mut runtime_notes: Vec<Hygiene> = Vec::new();
    if let Some(f) = b.runtime.as_deref().and_then(|r| bundle::deprecated_runtime(r, today)) {
        runtime_notes.push(hygiene(f));
    }
    let unit = |path: &PathBuf, format: String, graph: DepGraph, extra: Vec<Hygiene>| Unit {
        name: b.name.clone(),
        kind: if b.source.is_none() && b.lockfiles.is_empty() { "artifact".into() } else { b.kind.as_str().into() },
        runtime: b.runtime.clone(),
        handler: b.handler.clone(),
        template: b.source.as_deref().map(display),
        path: display(path),
        file: fs_err::canonicalize(path).unwrap_or_else(|_| path.clone()),
        format,
        graph,
        hygiene: runtime_notes.iter().cloned().chain(extra).collect(),
    };
    let mut locks: Vec<&Lockfile> = Vec::new();
    for path in &b.lockfiles {
        if let Some(Ok(lock)) = parsed.get(path) {
            locks.push(lock);
            out.units.push(unit(path, lock.format.as_str().to_owned(), lock.graph.clone(), Vec::new()));
        }
    }
    for path in &b.artifacts {
        let Some(Ok(artifact)) = read.get(path) else { continue };
        let mut found: Vec<bundle::HygieneFinding> = artifact.findings.clone();
        if let Some(lock) = locks
            .iter()
            .find(|l| l.graph.nodes().iter().any(|p| artifact.graph.nodes().iter().any(|q| q.ecosystem == p.ecosystem)))
        {
            found.extend(bundle::compare(artifact, &lock.graph));
        }
        found.extend(bundle::provided_by_runtime(artifact, b.runtime.as_deref()));
        found.sort();
        found.dedup();
        out.units.push(unit(path, "artifact".into(), artifact.graph.clone(), found.into_iter().map(hygiene).collect()));
    }
    let at = b.source.as_deref().or(b.code_dir.as_deref()).map(display).unwrap_or_default();
    out.warnings.extend(b.notes.iter().map(|n| format!("{at}: {} {}: {n}", b.kind.as_str(), b.name)));
    if b.lockfiles.is_empty() && b.artifacts.is_empty() {
        let at = b.source.as_deref().or(b.code_dir.as_deref()).map(display).unwrap_or_default();
        out.warnings.push(format!(
            "{at}: {} {}: no lockfile or artifact found: its dependency tree cannot be known",
            b.kind.as_str(),
            b.name
        ));
    }
}

fn hygiene(f: bundle::HygieneFinding) -> Hygiene {
    Hygiene {
        kind: f.kind.as_str().to_owned(),
        package: f.package.map(|p| format!("{}@{}", p.name, p.version)),
        location: f.location,
        message: f.message,
    }
}

/// A path as reports show it: `/`-separated, without a leading `./`.
fn display(path: &Path) -> String {
    let s = path.to_string_lossy().replace('\\', "/");
    s.strip_prefix("./").map(str::to_owned).unwrap_or(s)
}

/// Matches every registry package of every lockfile (each unique package once) and builds the
/// findings. Statuses are left at `Gating` for the policy to decide.
pub fn scan(collected: Collected, store: &Store) -> Result<ScanResult, StoreError> {
    let queries = collected
        .units
        .iter()
        .flat_map(|u| u.graph.nodes())
        .filter(|p| p.source == Source::Registry)
        .map(PackageQuery::of);
    let matches = matcher::match_unique(store, queries)?;
    let bundles = collected.units.into_par_iter().map(|unit| bundle_report(unit, &matches)).collect();
    Ok(ScanResult {
        bundles,
        errors: collected.errors,
        warnings: collected.warnings,
        verdict: Verdict::Pass,
        fail_on: Level::High,
        include_dev: false,
    })
}

fn bundle_report(unit: Unit, matches: &HashMap<PackageQuery, PackageMatches>) -> BundleReport {
    let text =
        if unit.format == "artifact" { String::new() } else { fs_err::read_to_string(&unit.file).unwrap_or_default() };
    let mut findings = Vec::new();
    let reversed = unit.graph.reversed();
    for (node, p) in unit.graph.nodes().iter().enumerate() {
        if p.source != Source::Registry {
            continue;
        }
        let Some(found) = matches.get(&PackageQuery::of(p)) else { continue };
        for v in &found.vulnerabilities {
            findings.push(finding(&unit.graph, &reversed, node, v, &text));
        }
    }
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.package.name.cmp(&b.package.name))
            .then_with(|| a.package.version.cmp(&b.package.version))
            .then_with(|| a.advisory.id.cmp(&b.advisory.id))
    });
    BundleReport {
        name: unit.name,
        kind: unit.kind,
        runtime: unit.runtime,
        handler: unit.handler,
        template: unit.template,
        hygiene: unit.hygiene,
        path: unit.path,
        format: unit.format,
        file: unit.file,
        graph: unit.graph,
        findings,
    }
}

fn finding(graph: &DepGraph, reversed: &Reversed, node: NodeId, v: &Vulnerability, lockfile_text: &str) -> Finding {
    let label = |id: NodeId| {
        let p = graph.node(id);
        format!("{}@{}", p.name, p.version)
    };
    let paths: Vec<Vec<String>> =
        reversed.paths_to(node, MAX_PATHS).into_iter().map(|path| path.into_iter().map(label).collect()).collect();
    let mut upgrade: Vec<String> = paths.iter().filter_map(|p| p.first().cloned()).collect();
    upgrade.sort();
    upgrade.dedup();
    let package = graph.node(node).clone();
    let line = locate_line(lockfile_text, package.name.as_str(), &package.version);
    Finding {
        node,
        advisory: AdvisoryInfo {
            id: v.id.clone(),
            aliases: v.aliases.clone(),
            severity: v.severity.level,
            cvss_score: v.severity.score,
            fixed: v.fixed.clone(),
            summary: v.summary.clone(),
            notes: v.notes.clone(),
        },
        severity: v.severity.level.unwrap_or(Level::High),
        paths,
        upgrade,
        line,
        package,
        status: Status::Gating,
    }
}

/// The 1-based line of a package's entry: the first line naming the package (as a whole word)
/// whose next few lines (or itself) carry the version; else the first line naming it. One pass
/// of one substring search over the text.
fn locate_line(text: &str, name: &str, version: &str) -> Option<u32> {
    if name.is_empty() {
        return None;
    }
    let is_word = |c: char| c.is_alphanumeric() || c == '-' || c == '_' || c == '.';
    let (mut line, mut counted_to) = (1usize, 0usize);
    let mut first = None;
    for (at, _) in text.match_indices(name) {
        let before = text[..at].chars().next_back();
        let after = text[at + name.len()..].chars().next();
        if before.is_some_and(is_word) || after.is_some_and(is_word) {
            continue;
        }
        line += text[counted_to..at].bytes().filter(|&b| b == b'\n').count();
        counted_to = at;
        first.get_or_insert(line);
        let start = text[..at].rfind('\n').map_or(0, |n| n + 1);
        let window_end = text[at..].match_indices('\n').nth(3).map_or(text.len(), |(n, _)| at + n);
        if text[start..window_end].contains(version) {
            return u32::try_from(line).ok();
        }
    }
    first.and_then(|l| u32::try_from(l).ok())
}

/// Records every scanned bundle (packages and current vulnerabilities) in the database's
/// inventory, so a later sync can say which of them new advisories hit.
pub fn record_inventory(store: &mut Store, result: &ScanResult) -> Result<(), StoreError> {
    for b in &result.bundles {
        let packages: Vec<(Ecosystem, String, String)> = b
            .graph
            .nodes()
            .iter()
            .filter(|p| p.source == Source::Registry)
            .map(|p| (p.ecosystem, p.name.as_str().to_owned(), p.version.clone()))
            .collect();
        let findings: Vec<InventoryFinding> = b
            .findings
            .iter()
            .map(|f| InventoryFinding {
                ecosystem: f.package.ecosystem,
                name: f.package.name.as_str().to_owned(),
                version: f.package.version.clone(),
                advisory_id: f.advisory.id.clone(),
                aliases: f.advisory.aliases.clone(),
            })
            .collect();
        let key = format!("{}#{}", b.file.display(), b.name);
        store.record_bundle(&key, &b.name, &b.path, &packages, &findings)?;
    }
    Ok(())
}

/// What changed for one recorded bundle after a sync.
#[derive(Debug, Clone, PartialEq)]
pub struct InventoryChange {
    pub name: String,
    pub path: String,
    /// Vulnerabilities that newly affect one of its packages.
    pub new: Vec<NewFinding>,
    /// Recorded vulnerabilities that no longer match (withdrawn or removed advisories).
    pub gone: Vec<InventoryFinding>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewFinding {
    pub package: InventoryFinding,
    pub severity: Level,
    pub summary: String,
    pub fixed: Vec<String>,
}

/// Re-matches every recorded bundle against the database (each unique package once) and
/// returns, per bundle, the vulnerabilities that appeared or disappeared since it was last
/// checked; the inventory is updated to the new state.
pub fn recheck_inventory(store: &mut Store, unknown_severity: Level) -> Result<Vec<InventoryChange>, StoreError> {
    let bundles = store.inventory()?;
    let query = |eco: Ecosystem, name: &str, version: &str| PackageQuery {
        ecosystem: eco,
        name: PackageName::new(eco, name),
        version: version.to_owned(),
    };
    let per_bundle: Vec<Vec<(Ecosystem, String, String)>> =
        bundles.iter().map(|b| store.inventory_packages(&b.key)).collect::<Result<_, _>>()?;
    let matches = matcher::match_unique(store, per_bundle.iter().flatten().map(|(e, n, v)| query(*e, n, v)))?;
    let mut changes = Vec::new();
    for (b, packages) in bundles.iter().zip(per_bundle) {
        let recorded = store.inventory_findings(&b.key)?;
        let mut current = Vec::new();
        let mut new = Vec::new();
        for (ecosystem, name, version) in packages {
            let Some(found) = matches.get(&query(ecosystem, &name, &version)) else { continue };
            for v in &found.vulnerabilities {
                let f = InventoryFinding {
                    ecosystem,
                    name: name.clone(),
                    version: version.clone(),
                    advisory_id: v.id.clone(),
                    aliases: v.aliases.clone(),
                };
                if !recorded.iter().any(|r| same_finding(r, &f)) {
                    let malicious = crate::finding::is_malicious(&v.id, &v.aliases);
                    let severity = crate::policy::effective_severity(v.severity.level, malicious, unknown_severity);
                    new.push(NewFinding {
                        package: f.clone(),
                        severity,
                        summary: v.summary.clone(),
                        fixed: v.fixed.clone(),
                    });
                }
                current.push(f);
            }
        }
        let gone: Vec<InventoryFinding> =
            recorded.into_iter().filter(|r| !current.iter().any(|c| same_finding(r, c))).collect();
        if !new.is_empty() || !gone.is_empty() {
            store.set_bundle_findings(&b.key, &current)?;
            new.sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.package.cmp(&b.package)));
            changes.push(InventoryChange { name: b.name.clone(), path: b.path.clone(), new, gone });
        }
    }
    Ok(changes)
}

/// Same package and version, and the two vulnerabilities share an id or alias.
fn same_finding(a: &InventoryFinding, b: &InventoryFinding) -> bool {
    a.ecosystem == b.ecosystem
        && a.name == b.name
        && a.version == b.version
        && std::iter::once(&a.advisory_id).chain(&a.aliases).any(|id| *id == b.advisory_id || b.aliases.contains(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_of_package_entries() {
        let lock = "{\n  \"packages\": {\n    \"node_modules/qs-extra\": {\n      \"version\": \"1.0.0\"\n    },\n    \"node_modules/qs\": {\n      \"version\": \"6.7.0\"\n";
        assert_eq!(locate_line(lock, "qs", "6.7.0"), Some(6));
        let poetry = "[[package]]\nname = \"urllib3\"\nversion = \"1.24.1\"\n";
        assert_eq!(locate_line(poetry, "urllib3", "1.24.1"), Some(2));
        assert_eq!(locate_line("requests==2.19.1\n", "requests", "2.19.1"), Some(1));
        assert_eq!(locate_line("nothing here", "qs", "1"), None);
    }
}

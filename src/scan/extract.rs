//! The discover and extract stages: the functions and layers under each path, every lockfile
//! parsed once and every artifact read once (in parallel), and one [`Unit`] per tree.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use super::phases::{Phase, PhaseTimes, timed};
use crate::bundle::{self, Artifact, Bundle, BundleCoverage, BundleKind, TreeSource, Unit, UnitKind};
use crate::lockfile::{self, Lockfile};
use crate::package::Ecosystem;
use crate::vocab::Diagnostic;

/// The trees read from the scanned paths, before matching.
#[derive(Debug, Default)]
pub struct Extracted {
    /// Sorted by display path, then name.
    pub units: Vec<Unit>,
    pub errors: Vec<Diagnostic>,
    pub warnings: Vec<Diagnostic>,
    /// The deploy stages the scanned templates declare (see [`Bundle::stage`]), each with the
    /// templates that declare it: what a record's environment is when none is given.
    pub stages: BTreeMap<String, BTreeSet<String>>,
    /// The folders discovery listed, with their entries (for reading function code).
    pub listing: bundle::code::Listing,
}

impl Extracted {
    /// The ecosystems the scanned packages belong to (what the database needs to cover).
    pub fn ecosystems(&self) -> Vec<Ecosystem> {
        let set: BTreeSet<Ecosystem> =
            self.units.iter().flat_map(|u| u.graph.nodes().iter().map(|p| p.ecosystem)).collect();
        set.into_iter().collect()
    }
}

/// Finds the Lambda functions and layers under `paths` (templates, else one bundle per folder
/// with a lockfile; a path may also be a lockfile, a zip or a binary), parses every lockfile once
/// and reads every artifact, in parallel, and compares each artifact with its function's
/// lockfile. `artifacts` are files to read as deployment artifacts whatever their name;
/// `excludes` are the policy's `exclude` patterns (relative to each path).
pub fn collect(paths: &[PathBuf], artifacts: &[PathBuf], excludes: &bundle::Excludes) -> Extracted {
    collect_timed(paths, artifacts, excludes, false, None)
}

/// [`collect`], timing discovery as [`Phase::Walk`] and the reads as [`Phase::Parse`]; the walk
/// keeps its [`Extracted::listing`] only with `keep_listing` (the unused check will run).
pub(crate) fn collect_timed(
    paths: &[PathBuf],
    artifacts: &[PathBuf],
    excludes: &bundle::Excludes,
    keep_listing: bool,
    times: Option<&PhaseTimes>,
) -> Extracted {
    let mut out = Extracted::default();
    let bundles = timed(times, Phase::Walk, || discover(paths, artifacts, excludes, keep_listing, &mut out));
    timed(times, Phase::Parse, || extract(&bundles, &mut out));
    out
}

/// The bundles under `paths` and the named artifacts; problems go to `out`.
fn discover(
    paths: &[PathBuf],
    artifacts: &[PathBuf],
    excludes: &bundle::Excludes,
    keep_listing: bool,
    out: &mut Extracted,
) -> Vec<Bundle> {
    let mut bundles: Vec<Bundle> = Vec::new();
    for root in paths {
        if !root.exists() {
            out.errors.push(Diagnostic::at("input/missing", display(root), "no such file or folder"));
            continue;
        }
        let discovery = bundle::discover_listing(root, excludes, keep_listing);
        if let Some(message) = discovery.nothing_to_scan_message() {
            out.warnings.push(Diagnostic::at("discover/nothing-to-scan", display(root), message));
        }
        if let Some(message) = discovery.excluded_message(&display) {
            out.warnings.push(Diagnostic::at("discover/excluded", display(root), message));
        }
        out.warnings.extend(
            discovery.warnings.iter().map(|w| Diagnostic::at("discover/not-followed", display(&w.path), &w.message)),
        );
        out.errors
            .extend(discovery.errors.into_iter().map(|e| Diagnostic::at("discover/read", display(&e.path), e.message)));
        bundles.extend(discovery.bundles);
        out.listing.extend(discovery.listing);
    }
    for file in artifacts {
        if !file.is_file() {
            out.errors.push(Diagnostic::at("input/missing", display(file), "no such file"));
            continue;
        }
        let name = file.file_name().map_or_else(|| display(file), |n| n.to_string_lossy().into_owned());
        bundles.push(Bundle { artifacts: vec![file.clone()], coverage: BundleCoverage::Read, ..Bundle::named(name) });
    }
    for b in &bundles {
        if let (Some(stage), Some(source)) = (&b.stage, &b.source) {
            out.stages.entry(stage.clone()).or_default().insert(display(source));
        }
    }
    for b in &mut bundles {
        // A template may name a build output that is not there yet (CI before `sam build`).
        b.artifacts.retain(|a| {
            let exists = a.is_file();
            if !exists {
                out.warnings.push(Diagnostic::at(
                    "artifact/not-built",
                    display(a),
                    format!("artifact of {} not found (not built yet?)", b.name),
                ));
            }
            exists
        });
    }
    bundles
}

/// Every lockfile of a scan, parsed (or why not), by path.
type Parsed<'p> = HashMap<&'p PathBuf, Result<Lockfile, lockfile::LockfileError>>;

/// Parses every lockfile and reads every artifact of `bundles` once, in parallel, into units.
fn extract(bundles: &[Bundle], out: &mut Extracted) {
    let lockfiles: BTreeSet<&PathBuf> = bundles.iter().flat_map(|b| &b.lockfiles).collect();
    let mut parsed: Parsed<'_> = lockfiles.into_par_iter().map(|p| (p, lockfile::load(p))).collect();
    let zips: BTreeSet<&PathBuf> = bundles.iter().flat_map(|b| &b.artifacts).collect();
    let limits = bundle::Limits::default();
    let read: HashMap<&PathBuf, Result<Arc<Artifact>, bundle::ArtifactError>> =
        zips.into_par_iter().map(|p| (p, bundle::read_artifact(p, &limits).map(Arc::new))).collect();
    report_file_problems(&parsed, &read, out);
    let mut twins = HashMap::new();
    // The last unit of a lockfile takes its graph; the others (functions sharing it) copy it.
    let mut uses: HashMap<&PathBuf, usize> = HashMap::new();
    for path in bundles.iter().flat_map(|b| &b.lockfiles) {
        *uses.entry(path).or_default() += 1;
    }
    for b in bundles {
        units_of(b, (&mut parsed, &mut uses), &read, out, &mut twins);
    }
    out.units.sort_by(|a, b| (&a.path, &a.name).cmp(&(&b.path, &b.name)));
    link_twins(&mut out.units, &twins);
}

/// Points each artifact unit at the lockfile unit of its function it is compared with.
fn link_twins(units: &mut [Unit], twins: &HashMap<(String, PathBuf), PathBuf>) {
    let index: HashMap<(&str, &Path), usize> = units
        .iter()
        .enumerate()
        .filter(|(_, u)| u.source != TreeSource::Artifact)
        .map(|(i, u)| ((u.name.as_str(), u.file.as_path()), i))
        .collect();
    let resolved: Vec<Option<usize>> = units
        .iter()
        .map(|u| {
            let lock = twins.get(&(u.name.clone(), u.file.clone()))?;
            index.get(&(u.name.as_str(), lock.as_path())).copied()
        })
        .collect();
    for (u, twin) in units.iter_mut().zip(resolved) {
        u.lockfile_twin = twin;
    }
}

fn report_file_problems(
    parsed: &HashMap<&PathBuf, Result<Lockfile, lockfile::LockfileError>>,
    read: &HashMap<&PathBuf, Result<Arc<Artifact>, bundle::ArtifactError>>,
    out: &mut Extracted,
) {
    let mut problems: Vec<Diagnostic> = Vec::new();
    for (path, result) in parsed {
        match result {
            Ok(lock) => {
                out.warnings.extend(lock.warnings.iter().map(|w| Diagnostic::at("lockfile/warning", display(path), w)));
            }
            Err(e) => problems.push(Diagnostic::at(
                "lockfile/parse",
                display(path),
                e.location.as_ref().map_or_else(|| e.message.clone(), |loc| format!("{loc}: {}", e.message)),
            )),
        }
    }
    for (path, result) in read {
        match result {
            Ok(artifact) => {
                out.warnings.extend(artifact.notes.iter().map(|n| Diagnostic::at("artifact/note", display(path), n)));
            }
            Err(e) => problems.push(Diagnostic::at("artifact/read", display(path), e.to_string())),
        }
    }
    problems.sort_by(|a, b| a.path.cmp(&b.path));
    out.errors.extend(problems);
    out.warnings.sort_by_cached_key(ToString::to_string);
}

/// The units of one bundle: one per lockfile, one per artifact (compared, in the assess stage,
/// with the first of the function's lockfiles that shares an ecosystem with it).
fn units_of<'p>(
    b: &'p Bundle,
    (parsed, uses): (&mut Parsed<'_>, &mut HashMap<&'p PathBuf, usize>),
    read: &HashMap<&PathBuf, Result<Arc<Artifact>, bundle::ArtifactError>>,
    out: &mut Extracted,
    twins: &mut HashMap<(String, PathBuf), PathBuf>,
) {
    let kind = match b.kind {
        _ if b.source.is_none() && b.lockfiles.is_empty() => UnitKind::Artifact,
        BundleKind::Function => UnitKind::Function,
        BundleKind::Layer => UnitKind::Layer,
    };
    let unit =
        |path: &PathBuf, source: TreeSource, graph: crate::graph::DepGraph, artifact: Option<Arc<Artifact>>| Unit {
            name: b.name.clone(),
            kind,
            runtime: b.runtime.clone(),
            handler: b.handler.clone(),
            template: b.source.as_deref().map(display),
            code_dir: b.code_dir.clone(),
            path: display(path),
            file: canonical(path),
            source,
            graph,
            artifact,
            lockfile_twin: None,
            coverage: None,
            esbuild: b.esbuild.clone(),
        };
    // Each lockfile unit of the bundle: its index in `out.units` and its lockfile's path.
    let mut locks: Vec<(usize, &PathBuf)> = Vec::new();
    for path in &b.lockfiles {
        let last = uses.get_mut(path).is_some_and(|n| {
            *n -= 1;
            *n == 0
        });
        if let Some(Ok(lock)) = parsed.get_mut(path) {
            let graph = if last { std::mem::take(&mut lock.graph) } else { lock.graph.clone() };
            locks.push((out.units.len(), path));
            out.units.push(unit(path, TreeSource::Lockfile(lock.format), graph, None));
        }
    }
    for path in &b.artifacts {
        let Some(Ok(artifact)) = read.get(path) else { continue };
        let shares = |&&(i, _): &&(usize, &PathBuf)| {
            let graph = &out.units[i].graph;
            graph.nodes().iter().any(|p| artifact.graph.nodes().iter().any(|q| q.ecosystem == p.ecosystem))
        };
        if let Some((_, lock_path)) = locks.iter().find(shares) {
            twins.insert((b.name.clone(), canonical(path)), canonical(lock_path));
        }
        out.units.push(unit(path, TreeSource::Artifact, artifact.graph.clone(), Some(Arc::clone(artifact))));
    }
    let at = b.source.as_deref().or(b.code_dir.as_deref()).map(display).unwrap_or_default();
    let what = format!("{} {}", b.kind.as_str(), b.name);
    out.warnings.extend(b.notes.iter().map(|n| Diagnostic::at("bundle/note", at.clone(), format!("{what}: {n}"))));
    if let Some(reason) = b.coverage.reason() {
        out.warnings.push(Diagnostic::at("bundle/no-tree", at.clone(), format!("{what}: {reason}")));
        // Every declared function is a bundle of the report, read or not.
        let place =
            b.source.as_deref().or(b.code_dir.as_deref()).map_or_else(|| PathBuf::from(&b.name), Path::to_owned);
        let mut unread = unit(&place, TreeSource::NotRead, crate::graph::DepGraph::new(), None);
        unread.kind = if b.kind == BundleKind::Layer { UnitKind::Layer } else { UnitKind::Function };
        unread.coverage = Some(reason.to_string());
        out.units.push(unread);
    }
}

fn canonical(path: &Path) -> PathBuf {
    fs_err::canonicalize(path).unwrap_or_else(|_| path.to_owned())
}

/// A path as reports show it: `/`-separated, without a leading `./`.
fn display(path: &Path) -> String {
    let s = path.to_string_lossy().replace('\\', "/");
    s.strip_prefix("./").map(str::to_owned).unwrap_or(s)
}

//! Finds the functions and layers under a folder: Serverless Framework service files, SAM /
//! CloudFormation templates, CDK output (`cdk.out/*.template.json`); without any of them, one
//! bundle per folder with a lockfile or a manifest. Each bundle then gets its lockfiles (in its
//! code folder or below, else the nearest ancestor folder that has one, of the runtime's
//! family) and its artifacts (zips it names, zips found in the tree), then its [`BundleCoverage`].
//! The folder is walked once ([`walk`](super::walk)), with one skip list and the policy's
//! excludes, for `scan`, `bundles` and `deps` alike.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::exclude::Excludes;
use super::walk::{self, Walk};
use super::yaml::{self, MAX_TEMPLATE_BYTES};
use super::{Bundle, BundleCoverage, sam, serverless};
use crate::lockfile::{self, LockfileFormat};

/// What discovery found, sorted by source then name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Discovery {
    /// Every declared function and layer (whatever its [`BundleCoverage`]), and the folder bundles.
    pub bundles: Vec<Bundle>,
    /// Templates that could not be read or parsed, unreadable folders, links out of the scanned
    /// folder, folders named like lockfiles: per-file errors (a scan with any is incomplete).
    pub errors: Vec<DiscoverError>,
    /// Links to folders (not followed).
    pub warnings: Vec<DiscoverError>,
    /// Manifests that declare dependencies with no lockfile for them: their tree cannot be known.
    pub unlocked_manifests: Vec<PathBuf>,
    /// Folders and files the policy's `exclude` patterns left out (the outermost of each), so
    /// that a report can say what the gate did not look at.
    pub excluded: Vec<PathBuf>,
    /// Every folder walked, with its entries, when asked for ([`discover_listing`]): the unused
    /// check reads function code from it without listing those folders again.
    pub listing: super::code::Listing,
}

impl Discovery {
    /// Every lockfile named by any bundle, once: a lockfile shared by several functions (a
    /// `package.json` at the repository root) is to be parsed once.
    pub fn unique_lockfiles(&self) -> Vec<PathBuf> {
        let set: BTreeSet<&PathBuf> = self.bundles.iter().flat_map(|b| &b.lockfiles).collect();
        set.into_iter().cloned().collect()
    }

    /// Whether there is nothing to scan: no bundle has a lockfile or an artifact (an empty
    /// folder, or templates whose functions are all of unsupported runtimes). A gate that
    /// checked nothing must say so: see [`Discovery::nothing_to_scan_message`].
    pub fn nothing_to_scan(&self) -> bool {
        self.bundles.iter().all(|b| b.lockfiles.is_empty() && b.artifacts.is_empty())
    }

    /// "N paths left out by the policy's exclude patterns: a, b, ..." (at most five named), when
    /// any was.
    pub fn excluded_message(&self, shown: &dyn Fn(&Path) -> String) -> Option<String> {
        const NAMED: usize = 5;
        if self.excluded.is_empty() {
            return None;
        }
        let names: Vec<String> = self.excluded.iter().take(NAMED).map(|p| shown(p)).collect();
        let more = if self.excluded.len() > NAMED { ", ..." } else { "" };
        Some(format!(
            "{} paths left out by the policy's exclude patterns: {}{more}",
            self.excluded.len(),
            names.join(", ")
        ))
    }

    /// "nothing to scan: ..." (what was found instead), when [`Discovery::nothing_to_scan`].
    pub fn nothing_to_scan_message(&self) -> Option<String> {
        if !self.nothing_to_scan() {
            return None;
        }
        let (_, not_read) = self.coverage_counts();
        Some(if not_read == 0 {
            "nothing to scan: no template, lockfile or artifact found".to_owned()
        } else {
            format!("nothing to scan: no lockfile or artifact found for the {not_read} bundles found")
        })
    }

    /// How many bundles have their tree read, and how many do not.
    pub fn coverage_counts(&self) -> (usize, usize) {
        let read = self.bundles.iter().filter(|b| b.coverage.is_read()).count();
        (read, self.bundles.len() - read)
    }
}

/// A file discovery could not use (or, in [`Discovery::warnings`], one it did not follow); the
/// others are still used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct DiscoverError {
    pub path: PathBuf,
    pub message: String,
}

impl fmt::Display for DiscoverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

/// Discovers the bundles under `root` (or of `root` itself when it is a file).
pub fn discover(root: &Path) -> Discovery {
    discover_with(root, &Excludes::default())
}

/// [`discover`] with the policy's `exclude` patterns (relative to `root`).
pub fn discover_with(root: &Path, excludes: &Excludes) -> Discovery {
    discover_listing(root, excludes, false)
}

/// [`discover_with`], keeping every walked folder's entries in [`Discovery::listing`] when
/// `keep_listing` (the scan's unused check reads function code from it).
pub fn discover_listing(root: &Path, excludes: &Excludes, keep_listing: bool) -> Discovery {
    let mut discovery = Discovery::default();
    if root.is_file() && template_kind(root).is_some() {
        discover_template_file(root, excludes, keep_listing, &mut discovery);
    } else if root.is_file() {
        discover_file(root, &mut discovery);
    } else {
        let mut tree = walk::walk(root, excludes, keep_listing);
        discovery.bundles = bundles_of(root, &mut tree, excludes, &mut discovery.errors);
        for bundle in &mut discovery.bundles {
            bundle.coverage = coverage_of(bundle, root, &tree.folders);
        }
        discovery.errors.extend(tree.errors);
        discovery.warnings = tree.warnings;
        discovery.unlocked_manifests = tree.unlocked_manifests;
        discovery.excluded = tree.excluded;
        discovery.listing = tree.listing;
    }
    discovery.bundles.sort_by(|a, b| (&a.source, &a.name).cmp(&(&b.source, &b.name)));
    discovery
}

/// The bundles of a walked folder: the templates' functions and layers with their lockfiles and
/// zips, and folder bundles for the lockfiles no template claims (or for all, without templates).
fn bundles_of(root: &Path, tree: &mut Walk, excludes: &Excludes, errors: &mut Vec<DiscoverError>) -> Vec<Bundle> {
    let mut bundles = Vec::new();
    // Parsing is most of discovery's time on a repository of many templates: in parallel, the
    // results kept in the templates' order.
    let read: Vec<Result<Vec<Bundle>, DiscoverError>> = tree.templates.par_iter().map(|t| read_template(t)).collect();
    for found in read {
        match found {
            Ok(found) => bundles.extend(found),
            Err(err) => errors.push(err),
        }
    }
    if bundles.is_empty() {
        bundles = folder_bundles(root, &tree.lockfiles, &tree.unlocked_manifests);
    } else {
        walk_skipped_code_dirs(root, &bundles, excludes, tree);
        let template_dirs: Vec<PathBuf> =
            tree.templates.iter().filter_map(|t| t.parent().map(Path::to_path_buf)).collect();
        let locks = PathIndex::new(&tree.lockfiles);
        let services = PathIndex::new(&template_dirs);
        for bundle in &mut bundles {
            bundle.lockfiles = lockfiles_for(bundle, root, &locks, &services);
        }
        // Lockfiles no template function claims are still scanned, as folder bundles: a gate
        // never skips a tree silently.
        let claimed: BTreeSet<&PathBuf> = bundles.iter().flat_map(|b| &b.lockfiles).collect();
        let rest: Vec<PathBuf> = tree.lockfiles.iter().filter(|l| !claimed.contains(l)).cloned().collect();
        for mut bundle in folder_bundles(root, &rest, &[]) {
            bundle.notes.push("not the code of any function or layer in the templates found".into());
            bundles.push(bundle);
        }
    }
    attach_zips(&mut bundles, &tree.zips);
    bundles
}

/// Code folders that templates point into but the walk skipped (CDK's `cdk.out/asset.*` copies)
/// are walked for those functions: skipped as folder bundles, read as template code.
fn walk_skipped_code_dirs(root: &Path, bundles: &[Bundle], excludes: &Excludes, tree: &mut Walk) {
    let dirs: BTreeSet<&Path> = bundles
        .iter()
        .filter_map(|b| b.code_dir.as_deref())
        .filter(|d| !tree.folders.contains_key(*d) && d.is_dir() && walk::is_under_skipped(root, d))
        .collect();
    for dir in dirs {
        if tree.folders.contains_key(dir) {
            continue; // inside a code folder walked just before
        }
        tree.merge(walk::walk_code_dir(root, dir, excludes));
    }
}

/// A template given as the path: its functions and layers only, with the lockfiles and zips
/// they name or that their code folders hold (the template's folder is walked as a scanned
/// folder would be, so `scan template.yaml` and `scan .` agree on them).
fn discover_template_file(path: &Path, excludes: &Excludes, keep_listing: bool, discovery: &mut Discovery) {
    // `template.yaml` alone is spelled `./template.yaml`: code paths then start like walked paths.
    let path = match path.parent() {
        Some(dir) if dir.as_os_str().is_empty() => Path::new(".").join(path),
        _ => path.to_owned(),
    };
    let root = path.parent().unwrap_or(Path::new("."));
    match read_template(&path) {
        Ok(found) => discovery.bundles = found,
        Err(err) => {
            discovery.errors.push(err);
            return;
        }
    }
    let mut tree = walk::walk(root, excludes, keep_listing);
    walk_skipped_code_dirs(root, &discovery.bundles, excludes, &mut tree);
    let template_dirs: Vec<PathBuf> = tree.templates.iter().filter_map(|t| t.parent().map(Path::to_path_buf)).collect();
    let locks = PathIndex::new(&tree.lockfiles);
    let services = PathIndex::new(&template_dirs);
    for bundle in &mut discovery.bundles {
        bundle.lockfiles = lockfiles_for(bundle, root, &locks, &services);
        bundle.coverage = coverage_of(bundle, root, &tree.folders);
    }
    discovery.errors.extend(tree.errors);
    discovery.warnings = tree.warnings;
    discovery.excluded = tree.excluded;
    discovery.listing = tree.listing;
}

fn discover_file(path: &Path, discovery: &mut Discovery) {
    let name = path.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let mut bundle = folder_bundle(name, path.parent());
    if lockfile::detect(path).is_some() {
        bundle.lockfiles.push(path.to_owned());
    } else {
        bundle.artifacts.push(path.to_owned());
    }
    bundle.coverage = BundleCoverage::Read;
    discovery.bundles.push(bundle);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TemplateKind {
    Serverless,
    Sam,
}

/// Whether a file is in `cdk.out` or in one of its `assembly-*` folders (CDK stages).
fn in_cdk_out(path: &Path) -> bool {
    let parent = path.parent();
    let named = |dir: Option<&Path>, test: &dyn Fn(&str) -> bool| {
        dir.and_then(Path::file_name).and_then(|n| n.to_str()).is_some_and(test)
    };
    named(parent, &|n| n == "cdk.out")
        || (named(parent, &|n| n.starts_with(walk::CDK_ASSEMBLY_PREFIX))
            && named(parent.and_then(Path::parent), &|n| n == "cdk.out"))
}

pub(super) fn template_kind(path: &Path) -> Option<TemplateKind> {
    let name = path.file_name()?.to_str()?;
    match name {
        "serverless.yml" | "serverless.yaml" | "serverless.json" => Some(TemplateKind::Serverless),
        "template.yaml" | "template.yml" | "template.json" => Some(TemplateKind::Sam),
        _ if name.ends_with(".template.json") && in_cdk_out(path) => Some(TemplateKind::Sam),
        _ => None,
    }
}

fn read_template(path: &Path) -> Result<Vec<Bundle>, DiscoverError> {
    let err = |message: String| DiscoverError { path: path.to_owned(), message };
    let len = fs_err::metadata(path).map_err(|e| err(e.to_string()))?.len();
    if len > MAX_TEMPLATE_BYTES {
        return Err(err(format!("{len} bytes is more than the {MAX_TEMPLATE_BYTES}-byte template limit")));
    }
    let text = fs_err::read_to_string(path).map_err(|e| err(e.to_string()))?;
    let json = path.extension().is_some_and(|e| e == "json");
    let doc = yaml::parse(&text, json).map_err(err)?;
    let dir = path.parent().unwrap_or(Path::new(""));
    match template_kind(path) {
        Some(TemplateKind::Serverless) => serverless::bundles(path, dir, &doc).map_err(err),
        Some(TemplateKind::Sam) => sam::bundles(path, dir, &doc).map_err(err),
        None => Ok(Vec::new()),
    }
}

fn folder_bundle(name: String, dir: Option<&Path>) -> Bundle {
    Bundle { code_dir: dir.map(Path::to_path_buf), ..Bundle::named(name) }
}

/// One bundle per folder with lockfiles or unlocked manifests.
fn folder_bundles(root: &Path, lockfiles: &[PathBuf], unlocked_manifests: &[PathBuf]) -> Vec<Bundle> {
    let locks = PathIndex::new(lockfiles);
    let manifests = PathIndex::new(unlocked_manifests);
    let mut folders: BTreeSet<&Path> = BTreeSet::new();
    for path in lockfiles.iter().chain(unlocked_manifests) {
        if let Some(dir) = path.parent() {
            folders.insert(dir);
        }
    }
    let mut out = Vec::new();
    for dir in folders {
        let name = folder_name(root, dir);
        let mut bundle = folder_bundle(name, Some(dir));
        bundle.lockfiles = locks.in_folder(dir).cloned().collect();
        for manifest in manifests.in_folder(dir) {
            bundle.notes.push(format!("{}: no lockfile: the tree cannot be known", manifest.display()));
        }
        out.push(bundle);
    }
    out
}

/// A list of paths indexed for the two questions discovery asks of it per bundle: which are in a
/// folder, and which are at or below a folder. Both answer in the list's own order, as a filter
/// over the list would, without walking the whole list for every bundle (a repository of a
/// thousand functions and as many lockfiles).
struct PathIndex<'a> {
    paths: &'a [PathBuf],
    /// Positions in `paths`, sorted by path. Paths compare component by component, so the paths
    /// at or below a folder are one run of this order, starting at the folder itself.
    sorted: Vec<usize>,
    /// Positions in `paths` by parent folder, in the list's order.
    by_folder: HashMap<&'a Path, Vec<usize>>,
}

impl<'a> PathIndex<'a> {
    fn new(paths: &'a [PathBuf]) -> PathIndex<'a> {
        let mut sorted: Vec<usize> = (0..paths.len()).collect();
        sorted.sort_by(|&a, &b| paths[a].cmp(&paths[b]));
        let mut by_folder: HashMap<&Path, Vec<usize>> = HashMap::new();
        for (i, path) in paths.iter().enumerate() {
            if let Some(dir) = path.parent() {
                by_folder.entry(dir).or_default().push(i);
            }
        }
        PathIndex { paths, sorted, by_folder }
    }

    /// The paths whose parent is `dir`.
    fn in_folder(&self, dir: &Path) -> impl Iterator<Item = &'a PathBuf> + use<'a, '_> {
        self.by_folder.get(dir).into_iter().flatten().map(|&i| &self.paths[i])
    }

    /// The paths that start with `dir` (`Path::starts_with`: whole components).
    fn under(&self, dir: &Path) -> impl Iterator<Item = &'a PathBuf> + use<'a> {
        let start = self.sorted.partition_point(|&i| self.paths[i].as_path() < dir);
        let mut found: Vec<usize> =
            self.sorted[start..].iter().copied().take_while(|&i| self.paths[i].starts_with(dir)).collect();
        found.sort_unstable();
        let paths = self.paths;
        found.into_iter().map(move |i| &paths[i])
    }
}

fn folder_name(root: &Path, dir: &Path) -> String {
    match dir.strip_prefix(root) {
        Ok(rel) if !rel.as_os_str().is_empty() => rel.to_string_lossy().replace('\\', "/"),
        _ => root
            .canonicalize()
            .ok()
            .as_deref()
            .and_then(Path::file_name)
            .map_or_else(|| ".".to_owned(), |n| n.to_string_lossy().into_owned()),
    }
}

/// Which lockfile formats serve a runtime; `None` = any (runtime unknown).
fn runtime_accepts(runtime: Option<&str>, format: LockfileFormat) -> bool {
    use LockfileFormat as F;
    let Some(runtime) = runtime else { return true };
    let npm = matches!(format, F::NpmPackageLock | F::NpmShrinkwrap | F::YarnLock | F::PnpmLock);
    let python = matches!(format, F::Requirements | F::PoetryLock | F::PipfileLock | F::UvLock | F::PdmLock);
    if runtime.starts_with("nodejs") {
        npm
    } else if runtime.starts_with("python") {
        python
    } else if runtime.starts_with("go") {
        format == F::GoMod
    } else if runtime.starts_with("provided") {
        matches!(format, F::GoMod | F::CargoLock)
    } else {
        false
    }
}

/// The lockfiles of a bundle: those in its code folder or below (not inside another template's
/// folder), else those of the nearest ancestor folder (within `root`) that has one.
/// `template_dirs` are the folders of the templates found.
fn lockfiles_for(bundle: &Bundle, root: &Path, all: &PathIndex, template_dirs: &PathIndex) -> Vec<PathBuf> {
    let Some(code_dir) = bundle.code_dir.as_deref() else { return Vec::new() };
    let own_dir = bundle.source.as_deref().and_then(Path::parent);
    let fits = |lock: &PathBuf| {
        lockfile::detect(lock).is_some_and(|f| runtime_accepts(bundle.runtime.as_deref(), f))
            && !is_build_dependency(lock)
    };
    // The folders of other services inside this code folder: their lockfiles are theirs.
    let other_services: Vec<&PathBuf> =
        template_dirs.under(code_dir).filter(|t| Some(t.as_path()) != own_dir).collect();
    let other_service = |lock: &Path| other_services.iter().any(|t| lock.starts_with(t));
    let below: Vec<PathBuf> = all.under(code_dir).filter(|l| fits(l) && !other_service(l)).cloned().collect();
    if !below.is_empty() {
        return below;
    }
    let mut at = code_dir.parent();
    while let Some(dir) = at {
        let here: Vec<PathBuf> = all.in_folder(dir).filter(|l| fits(l)).cloned().collect();
        if !here.is_empty() || dir == root || !dir.starts_with(root) {
            return here;
        }
        at = dir.parent();
    }
    Vec::new()
}

/// `requirements-dev.txt` and the like do not ship.
fn is_build_dependency(lock: &Path) -> bool {
    let name = lock.file_name().map(|n| n.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    name.starts_with("requirements") && (name.contains("dev") || name.contains("test"))
}

/// Zips named by a bundle stay with it; other zips found in the tree become bundles of their own.
fn attach_zips(bundles: &mut Vec<Bundle>, zips: &[PathBuf]) {
    let named: BTreeSet<PathBuf> = bundles.iter().flat_map(|b| &b.artifacts).cloned().collect();
    for zip in zips.iter().filter(|z| !named.contains(*z)) {
        let name = zip.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let mut bundle = folder_bundle(name, zip.parent());
        bundle.artifacts.push(zip.clone());
        bundles.push(bundle);
    }
}

/// Runtime families whose dependency trees bundleguard does not read.
const UNSUPPORTED_RUNTIMES: [&str; 3] = ["java", "dotnet", "ruby"];

/// Whether a bundle's tree is read, and if not, why. Checked after its lockfiles and artifacts
/// are attached; `folders` are the walked folders with their file names.
fn coverage_of(bundle: &Bundle, root: &Path, folders: &BTreeMap<PathBuf, BTreeSet<String>>) -> BundleCoverage {
    let unsupported = |reason: String| BundleCoverage::Unsupported { reason };
    let runtime = bundle.runtime.as_deref();
    if let Some(r) = runtime.filter(|r| UNSUPPORTED_RUNTIMES.iter().any(|u| r.starts_with(u))) {
        return unsupported(format!("unsupported runtime {r}: dependency tree not read"));
    }
    if !bundle.lockfiles.is_empty() || bundle.artifacts.iter().any(|a| a.is_file()) {
        return BundleCoverage::Read;
    }
    if let BundleCoverage::Unsupported { .. } = bundle.coverage {
        // Set by the template reader (a container image with no lockfile in its build folder).
        return bundle.coverage.clone();
    }
    let Some(r) = runtime else { return BundleCoverage::NoDependencyFiles };
    let go_like = r.starts_with("go") || r.starts_with("provided");
    if go_like && has_nearby(bundle, root, folders, "Gopkg.lock") {
        return unsupported(
            "only a legacy Gopkg.lock (dep), which bundleguard does not read: dependency tree not read".into(),
        );
    }
    if r.starts_with("provided") {
        return unsupported(format!(
            "runtime {r} with no go.mod, Cargo.lock or built binary found: dependency tree not read"
        ));
    }
    if !["nodejs", "python", "go"].iter().any(|k| r.starts_with(k)) {
        return unsupported(format!("unsupported runtime {r}: dependency tree not read"));
    }
    BundleCoverage::NoDependencyFiles
}

/// Whether a file of this name is in the bundle's code folder or an ancestor within `root`.
fn has_nearby(bundle: &Bundle, root: &Path, folders: &BTreeMap<PathBuf, BTreeSet<String>>, name: &str) -> bool {
    let mut at = bundle.code_dir.as_deref();
    while let Some(dir) = at {
        if folders.get(dir).is_some_and(|names| names.contains(name)) {
            return true;
        }
        if dir == root || !dir.starts_with(root) {
            return false;
        }
        at = dir.parent();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The index answers as a filter over the list would: same paths, same order, whatever the
    /// neighbours' names (`a/b` against `a/b-c`, `a/bc`, `a/b c`) and the list's order.
    #[test]
    fn path_index_answers_as_a_filter() {
        let paths: Vec<PathBuf> = [
            "r/a/bc/yarn.lock",
            "r/a/b/package-lock.json",
            "r/a/b-c/poetry.lock",
            "r/a/b c/go.mod",
            "r/a/b/x/y/Cargo.lock",
            "r/a/package-lock.json",
            "r/ab/uv.lock",
            "r/a/b/package-lock.json",
            "./r/a/b/pdm.lock",
            "r/a/b/../c/go.mod",
            "/abs/r/a/b/go.mod",
        ]
        .iter()
        .map(PathBuf::from)
        .collect();
        let index = PathIndex::new(&paths);
        let dirs = [
            "r",
            "r/a",
            "r/a/b",
            "r/a/b/x",
            "r/a/bc",
            "r/ab",
            "./r/a",
            "r/a/b/..",
            "/abs",
            "/",
            "",
            "zz",
            "r/a/b/x/y/Cargo.lock",
        ];
        for dir in dirs.map(Path::new) {
            let under: Vec<&PathBuf> = index.under(dir).collect();
            let filtered: Vec<&PathBuf> = paths.iter().filter(|p| p.starts_with(dir)).collect();
            assert_eq!(under, filtered, "under {dir:?}");
            let here: Vec<&PathBuf> = index.in_folder(dir).collect();
            let filtered: Vec<&PathBuf> = paths.iter().filter(|p| p.parent() == Some(dir)).collect();
            assert_eq!(here, filtered, "in {dir:?}");
        }
    }
}

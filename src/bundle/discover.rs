//! Finds the functions and layers under a folder: Serverless Framework service files, SAM /
//! CloudFormation templates, CDK output (`cdk.out/*.template.json`); without any of them, one
//! bundle per folder with a lockfile or a manifest. Each bundle then gets its lockfiles (in its
//! code folder or below, else the nearest ancestor folder that has one, of the runtime's
//! family) and its artifacts (zips it names, zips found in the tree). Symlinks are not followed.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use super::yaml::{self, MAX_TEMPLATE_BYTES};
use super::{Bundle, BundleKind, sam, serverless};
use crate::lockfile::{self, LockfileFormat};

/// Folders never descended into (dependencies, build output, VCS).
const SKIPPED_DIRS: [&str; 8] =
    ["node_modules", ".venv", "venv", "vendor", "target", ".git", ".aws-sam", ".serverless"];

/// What discovery found, sorted by source then name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Discovery {
    pub bundles: Vec<Bundle>,
    /// Templates that could not be read or parsed, unreadable folders.
    pub errors: Vec<DiscoverError>,
}

impl Discovery {
    /// Every lockfile named by any bundle, once: a lockfile shared by several functions (a
    /// `package.json` at the repository root) is to be parsed once.
    pub fn unique_lockfiles(&self) -> Vec<PathBuf> {
        let set: BTreeSet<&PathBuf> = self.bundles.iter().flat_map(|b| &b.lockfiles).collect();
        set.into_iter().cloned().collect()
    }
}

/// A file discovery could not use; the others are still used.
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

/// What the walk saw: templates, zips.
#[derive(Default)]
struct Tree {
    templates: Vec<PathBuf>,
    zips: Vec<PathBuf>,
}

/// Discovers the bundles under `root` (or of `root` itself when it is a file).
pub fn discover(root: &Path) -> Discovery {
    let mut discovery = Discovery::default();
    if root.is_file() {
        discover_file(root, &mut discovery);
        return discovery;
    }
    let mut tree = Tree::default();
    walk(root, &mut tree, &mut discovery.errors);
    let locks = lockfile::discover(root);
    for template in &tree.templates {
        match read_template(template) {
            Ok(found) => discovery.bundles.extend(found),
            Err(err) => discovery.errors.push(err),
        }
    }
    if discovery.bundles.is_empty() {
        discovery.bundles = folder_bundles(root, &locks);
    } else {
        let template_dirs: Vec<PathBuf> =
            tree.templates.iter().filter_map(|t| t.parent().map(Path::to_path_buf)).collect();
        for bundle in &mut discovery.bundles {
            bundle.lockfiles = lockfiles_for(bundle, root, &locks.lockfiles, &template_dirs);
        }
        // Lockfiles no template function claims are still scanned, as folder bundles: a gate
        // never skips a tree silently.
        let claimed: BTreeSet<PathBuf> = discovery.bundles.iter().flat_map(|b| b.lockfiles.iter().cloned()).collect();
        let rest = lockfile::Discovery {
            lockfiles: locks.lockfiles.iter().filter(|l| !claimed.contains(*l)).cloned().collect(),
            ..lockfile::Discovery::default()
        };
        for mut bundle in folder_bundles(root, &rest) {
            bundle.notes.push("not the code of any function or layer in the templates found".into());
            discovery.bundles.push(bundle);
        }
    }
    attach_zips(&mut discovery.bundles, &tree.zips);
    discovery.bundles.sort_by(|a, b| (&a.source, &a.name).cmp(&(&b.source, &b.name)));
    discovery
}

fn discover_file(path: &Path, discovery: &mut Discovery) {
    if template_kind(path).is_some() {
        match read_template(path) {
            Ok(found) => discovery.bundles.extend(found),
            Err(err) => discovery.errors.push(err),
        }
        return;
    }
    let name = path.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let mut bundle = folder_bundle(name, path.parent());
    if lockfile::detect(path).is_some() {
        bundle.lockfiles.push(path.to_owned());
    } else {
        bundle.artifacts.push(path.to_owned());
    }
    discovery.bundles.push(bundle);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TemplateKind {
    Serverless,
    Sam,
}

fn template_kind(path: &Path) -> Option<TemplateKind> {
    let name = path.file_name()?.to_str()?;
    match name {
        "serverless.yml" | "serverless.yaml" | "serverless.json" => Some(TemplateKind::Serverless),
        "template.yaml" | "template.yml" | "template.json" => Some(TemplateKind::Sam),
        _ if name.ends_with(".template.json")
            && path.parent().and_then(Path::file_name).is_some_and(|d| d == "cdk.out") =>
        {
            Some(TemplateKind::Sam)
        }
        _ => None,
    }
}

fn walk(root: &Path, tree: &mut Tree, errors: &mut Vec<DiscoverError>) {
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = match fs_err::read_dir(&dir) {
            Ok(entries) => entries,
            Err(err) => {
                errors.push(DiscoverError { path: dir.clone(), message: err.to_string() });
                continue;
            }
        };
        for entry in entries.flatten() {
            let Ok(kind) = entry.file_type() else { continue };
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if kind.is_dir() && !SKIPPED_DIRS.contains(&name.as_str()) {
                stack.push(path);
            } else if kind.is_file() && template_kind(&path).is_some() {
                tree.templates.push(path);
            } else if kind.is_file() && name.to_ascii_lowercase().ends_with(".zip") {
                tree.zips.push(path);
            }
        }
    }
    tree.templates.sort();
    tree.zips.sort();
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
    Bundle {
        name,
        kind: BundleKind::Function,
        runtime: None,
        handler: None,
        source: None,
        code_dir: dir.map(Path::to_path_buf),
        lockfiles: Vec::new(),
        artifacts: Vec::new(),
        layers: Vec::new(),
        notes: Vec::new(),
    }
}

/// Without templates: one bundle per folder with lockfiles or unlocked manifests.
fn folder_bundles(root: &Path, locks: &lockfile::Discovery) -> Vec<Bundle> {
    let mut folders: BTreeSet<&Path> = BTreeSet::new();
    for path in locks.lockfiles.iter().chain(&locks.unlocked_manifests) {
        if let Some(dir) = path.parent() {
            folders.insert(dir);
        }
    }
    let mut out = Vec::new();
    for dir in folders {
        let name = folder_name(root, dir);
        let mut bundle = folder_bundle(name, Some(dir));
        bundle.lockfiles = locks.lockfiles.iter().filter(|l| l.parent() == Some(dir)).cloned().collect();
        for manifest in locks.unlocked_manifests.iter().filter(|m| m.parent() == Some(dir)) {
            bundle.notes.push(format!("{}: no lockfile: the tree cannot be known", manifest.display()));
        }
        out.push(bundle);
    }
    out
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
fn lockfiles_for(bundle: &Bundle, root: &Path, all: &[PathBuf], template_dirs: &[PathBuf]) -> Vec<PathBuf> {
    let Some(code_dir) = bundle.code_dir.as_deref() else { return Vec::new() };
    let own_dir = bundle.source.as_deref().and_then(Path::parent);
    let fits = |lock: &PathBuf| {
        lockfile::detect(lock).is_some_and(|f| runtime_accepts(bundle.runtime.as_deref(), f))
            && !is_build_dependency(lock)
    };
    let other_service = |lock: &Path| {
        template_dirs.iter().any(|t| Some(t.as_path()) != own_dir && t.starts_with(code_dir) && lock.starts_with(t))
    };
    let below: Vec<PathBuf> =
        all.iter().filter(|l| l.starts_with(code_dir) && fits(l) && !other_service(l)).cloned().collect();
    if !below.is_empty() {
        return below;
    }
    let mut at = code_dir.parent();
    while let Some(dir) = at {
        let here: Vec<PathBuf> = all.iter().filter(|l| l.parent() == Some(dir) && fits(l)).cloned().collect();
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

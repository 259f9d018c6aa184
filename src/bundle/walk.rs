//! The one walk of a scanned folder, used by `scan`, `bundles` and `deps` alike (through
//! [`discover`](super::discover)): which folders there are, with the files in each, and from
//! them the templates, lockfiles, manifests without a lockfile, and zips.
//!
//! One skip list ([`SKIPPED_DIRS`]; any folder holding a `pyvenv.cfg`, i.e. a virtualenv; and
//! the subfolders of `cdk.out` but its `assembly-*` stage folders: asset copies of code that CDK
//! templates point at), plus
//! the policy's `exclude` patterns. A template that points its code into a skipped folder (a CDK
//! asset) gets that folder walked for it alone: see [`walk_code_dir`].
//!
//! Symbolic links: a link to a file inside the scanned folder is read as the file; a link that
//! leads outside it (or nowhere), when named like a file we would read, is an error naming it; a
//! link to a folder is not followed, with a warning. A folder named like a lockfile or template,
//! and a FIFO or device named like one, are errors naming them: nothing is skipped silently.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::code::{EntryKind, Listing};
use super::discover::{DiscoverError, template_kind};
use super::exclude::Excludes;
use super::manifest;
use crate::lockfile::{self, LockfileFormat};

/// Folders never walked: installed dependencies, virtualenvs, VCS data, build and deploy output
/// (`sam build`, `serverless package`, bundler plugins, Rust and Go build folders, caches).
pub const SKIPPED_DIRS: [&str; 26] = [
    "node_modules",
    "bower_components",
    "jspm_packages",
    ".venv",
    "venv",
    "site-packages",
    "__pypackages__",
    "__pycache__",
    ".tox",
    ".nox",
    ".mypy_cache",
    ".pytest_cache",
    "vendor",
    "target",
    ".git",
    ".hg",
    ".svn",
    ".aws-sam",
    ".serverless",
    ".webpack",
    ".esbuild",
    ".build",
    ".next",
    ".open-next",
    ".sst",
    ".terraform",
];

/// The folder CDK synthesizes into: its templates are read, its subfolders are asset copies.
const CDK_OUT: &str = "cdk.out";
/// Nested cloud assemblies (one per CDK stage) inside `cdk.out`.
pub(super) const CDK_ASSEMBLY_PREFIX: &str = "assembly-";

/// What one walk saw. All lists are sorted.
#[derive(Debug, Default)]
pub(super) struct Walk {
    /// Every folder walked, with the names of the regular files in it (and of the symbolic links
    /// to files inside the scanned folder).
    pub folders: BTreeMap<PathBuf, BTreeSet<String>>,
    pub templates: Vec<PathBuf>,
    pub lockfiles: Vec<PathBuf>,
    /// Manifests that declare dependencies with no lockfile for them.
    pub unlocked_manifests: Vec<PathBuf>,
    pub zips: Vec<PathBuf>,
    /// Unreadable folders, links out of the scanned folder, folders named like lockfiles.
    pub errors: Vec<DiscoverError>,
    /// Links to folders (not followed).
    pub warnings: Vec<DiscoverError>,
    /// Folders and files we would read that the policy's `exclude` patterns left out.
    pub excluded: Vec<PathBuf>,
    /// Every folder walked with all its entries (also those skipped or excluded here), when asked
    /// for: reading a function's code lists from it rather than from disk again.
    pub listing: Listing,
}

/// Walks the folder `root`, with the skip list and `excludes` (relative to `root`); with
/// `keep_listing`, every folder's entries are kept in [`Walk::listing`] (for reading function code).
pub(super) fn walk(root: &Path, excludes: &Excludes, keep_listing: bool) -> Walk {
    walk_code(root, root, excludes, keep_listing)
}

/// Walks a template's code folder that the main walk skipped (a CDK asset copy) for that
/// template's functions alone. `root` is the scanned folder: links must stay inside it, and
/// the excludes are relative to it.
pub(super) fn walk_code_dir(root: &Path, code_dir: &Path, excludes: &Excludes) -> Walk {
    walk_code(root, code_dir, excludes, false)
}

fn walk_code(root: &Path, code_dir: &Path, excludes: &Excludes, keep_listing: bool) -> Walk {
    let boundary = fs_err::canonicalize(root).ok();
    let mut walker = Walker { root, boundary, excludes, walk: Walk::default(), keep_listing };
    if code_dir != root && excludes.is_excluded(&relative(root, code_dir), true) {
        return walker.walk;
    }
    walker.run(code_dir);
    walker.walk.finish(code_dir);
    walker.walk
}

struct Walker<'a> {
    root: &'a Path,
    /// The canonical scanned folder: links must resolve inside it.
    boundary: Option<PathBuf>,
    excludes: &'a Excludes,
    walk: Walk,
    keep_listing: bool,
}

impl Walker<'_> {
    fn run(&mut self, start: &Path) {
        if looks_like_a_file_we_read(start) {
            self.error(start, "is a folder, not a file: not read as one".to_owned());
        }
        let mut stack = vec![start.to_path_buf()];
        while let Some(dir) = stack.pop() {
            let entries = match fs_err::read_dir(&dir) {
                Ok(entries) => entries,
                Err(err) => {
                    self.error(&dir, format!("folder cannot be read: {}", io_reason(&err)));
                    continue;
                }
            };
            let mut names = BTreeSet::new();
            let mut listed = Vec::new();
            for entry in entries {
                let entry = match entry {
                    Ok(entry) => entry,
                    Err(err) => {
                        self.error(&dir, format!("folder cannot be listed: {}", io_reason(&err)));
                        continue;
                    }
                };
                let path = entry.path();
                let raw = entry.file_name();
                let name = raw.to_string_lossy().into_owned();
                let kind = match entry.file_type() {
                    Ok(kind) => kind,
                    Err(err) => {
                        self.error(&path, format!("cannot be read: {}", io_reason(&err)));
                        continue;
                    }
                };
                if self.keep_listing {
                    listed.push((raw, EntryKind::of(kind)));
                }
                if self.excludes.is_excluded(&relative(self.root, &path), kind.is_dir()) {
                    let worth_naming =
                        if kind.is_dir() { !is_skipped(&dir, &name, &path) } else { looks_like_a_file_we_read(&path) };
                    if worth_naming {
                        self.walk.excluded.push(path);
                    }
                    continue;
                }
                if kind.is_dir() {
                    if looks_like_a_file_we_read(&path) {
                        self.error(&path, "is a folder, not a file: not read as one".to_owned());
                    }
                    if !is_skipped(&dir, &name, &path) {
                        stack.push(path);
                    }
                } else if kind.is_file() {
                    names.insert(name);
                } else if kind.is_symlink() {
                    if self.symlink_to_file(&dir, &name, &path) {
                        names.insert(name);
                    }
                } else if looks_like_a_file_we_read(&path) {
                    self.error(&path, "not a regular file (a FIFO, socket or device): not read".to_owned());
                }
            }
            if self.keep_listing {
                self.walk.listing.insert(dir.clone(), listed);
            }
            self.walk.folders.insert(dir, names);
        }
    }

    /// Whether a symbolic link is to be read as the file it leads to (it stays inside the scanned
    /// folder). Reports links that cannot be read.
    fn symlink_to_file(&mut self, dir: &Path, name: &str, path: &Path) -> bool {
        let target = fs_err::canonicalize(path);
        let meta = fs_err::metadata(path);
        match (target, meta) {
            (Ok(_), Ok(meta)) if meta.is_dir() => {
                if !is_skipped(dir, name, path) {
                    self.walk.warnings.push(DiscoverError {
                        path: path.to_owned(),
                        message: "symbolic link to a folder: not followed".to_owned(),
                    });
                }
                false
            }
            _ if !looks_like_a_file_we_read(path) => false,
            (Ok(target), Ok(meta)) if meta.is_file() => {
                let inside = self.boundary.as_ref().is_some_and(|b| target.starts_with(b));
                if !inside {
                    let message =
                        format!("symbolic link to {}, outside the scanned folder: not read", target.display());
                    self.error(path, message);
                }
                inside
            }
            (Ok(_), Ok(_)) => {
                self.error(path, "symbolic link to something that is not a regular file: not read".to_owned());
                false
            }
            (Err(err), _) | (_, Err(err)) => {
                self.error(path, format!("broken symbolic link: not read ({})", io_reason(&err)));
                false
            }
        }
    }

    fn error(&mut self, path: &Path, message: String) {
        self.walk.errors.push(DiscoverError { path: path.to_owned(), message });
    }
}

impl Walk {
    /// Sorts out the files seen: templates, lockfiles (`npm-shrinkwrap.json` wins over a
    /// `package-lock.json` beside it, as in npm), manifests without a lockfile, zips.
    fn finish(&mut self, root: &Path) {
        for (dir, names) in &self.folders {
            let shrinkwrap = names.contains("npm-shrinkwrap.json");
            for name in names {
                let path = dir.join(name);
                if template_kind(&path).is_some() {
                    self.templates.push(path);
                } else if let Some(format) = lockfile::detect(&path) {
                    if !(format == LockfileFormat::NpmPackageLock && shrinkwrap) {
                        self.lockfiles.push(path);
                    }
                } else if name.to_ascii_lowercase().ends_with(".zip") {
                    self.zips.push(path);
                } else if manifest::is_unlocked(dir, name, root, &self.folders) {
                    self.unlocked_manifests.push(path);
                }
            }
        }
        self.templates.sort();
        self.lockfiles.sort();
        self.unlocked_manifests.sort();
        self.zips.sort();
        self.excluded.sort();
        self.errors.sort_by(|a, b| a.path.cmp(&b.path));
        self.warnings.sort_by(|a, b| a.path.cmp(&b.path));
    }

    /// Adds what another walk found (a code folder walked on its own; templates in it are not
    /// read: they are build copies).
    pub fn merge(&mut self, other: Walk) {
        self.folders.extend(other.folders);
        for (mine, theirs) in [
            (&mut self.lockfiles, other.lockfiles),
            (&mut self.unlocked_manifests, other.unlocked_manifests),
            (&mut self.zips, other.zips),
        ] {
            mine.extend(theirs);
            mine.sort();
            mine.dedup();
        }
        self.errors.extend(other.errors);
        self.warnings.extend(other.warnings);
        self.excluded.extend(other.excluded);
        self.listing.extend(other.listing);
    }
}

/// Whether a folder is skipped: the skip list, a virtualenv, or an asset copy in `cdk.out`
/// (its `assembly-*` folders, the nested cloud assemblies of CDK stages, hold templates).
fn is_skipped(parent: &Path, name: &str, path: &Path) -> bool {
    SKIPPED_DIRS.contains(&name)
        || (parent.file_name().is_some_and(|p| p == CDK_OUT) && !name.starts_with(CDK_ASSEMBLY_PREFIX))
        || path.join("pyvenv.cfg").is_file()
}

/// Whether a folder walk skips `path` (or one of its ancestors below `root`): templates may
/// point their code there, and then it is walked on its own.
pub(super) fn is_under_skipped(root: &Path, path: &Path) -> bool {
    let Ok(rel) = path.strip_prefix(root) else { return false };
    let mut parent = root.to_path_buf();
    for part in rel.components() {
        let here = parent.join(part);
        if is_skipped(&parent, &part.as_os_str().to_string_lossy(), &here) {
            return true;
        }
        parent = here;
    }
    false
}

/// Lockfiles, templates, manifests and zips: the names the walk reads.
fn looks_like_a_file_we_read(path: &Path) -> bool {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    lockfile::detect(path).is_some()
        || template_kind(path).is_some()
        || manifest::is_manifest_name(&name)
        || name.to_ascii_lowercase().ends_with(".zip")
}

/// `path` relative to `root`, `/`-separated, for the exclude patterns.
fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.to_string_lossy().replace('\\', "/")
}

/// The operating system's reason of an I/O error, without the path `fs-err` adds (the
/// [`DiscoverError`] names it already).
fn io_reason(err: &std::io::Error) -> String {
    match err.get_ref().and_then(std::error::Error::source) {
        Some(original) => original.to_string(),
        // `fs-err` keeps the original error to itself: its kind says enough (`permission denied`).
        None if err.get_ref().is_some() => err.kind().to_string(),
        None => err.to_string(),
    }
}

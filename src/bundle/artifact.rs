//! Deployment artifacts, read in memory and never extracted: a Lambda zip (function or layer) or
//! a bare binary. Inside a zip: `node_modules/**/package.json` (also `nodejs/node_modules`,
//! `nodejs/node18/node_modules`), Python `*.dist-info/METADATA` and `*.egg-info/PKG-INFO`
//! (also `python/`, `python/lib/python3.x/site-packages`), Go binaries' build info, cargo-auditable
//! `.dep-v0` data, and zips nested one level deep. An npm lockfile in the zip (`package-lock.json`
//! or `node_modules/.package-lock.json`) tells which packages are dev-only.
//!
//! Dependency edges between the packages of a zip: each `node_modules/**/package.json`'s
//! `dependencies`, `optionalDependencies` and `peerDependencies` resolved by Node's lookup rules
//! (the nearest `node_modules/<name>` up the tree), and Python `Requires-Dist` (without an
//! `extra ==` marker) by normalized name. Each package also knows the bytes its files take
//! (uncompressed): its folder without nested `node_modules`, or the files its `RECORD` lists.
//! The function's own code in the zip (`.js`/`.mjs`/`.cjs`/`.py` and esbuild metafiles outside
//! packages, plus root manifests) is kept in memory for the unused-package check.
//!
//! Safety: entry count, total uncompressed size and per-entry compression ratio are capped
//! before anything is decompressed ([`Limits`]); reads are bounded; names with `..` or absolute
//! paths are reported and skipped; symlinks are never followed; local and central headers must
//! agree. Zip format: PKWARE APPNOTE.TXT.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Cursor, Read, Seek};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::auditable::{self, RustBinary};
use super::gobuildinfo::{self, GoModule};
use crate::graph::{DepGraph, NodeId};
use crate::lockfile::{self, LockfileFormat, ParseInput};
use crate::package::{Ecosystem, Package, PackageName, Scope, Source};

use crate::zip_limits::Budget;
pub use crate::zip_limits::Limits;

/// An artifact that could not be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArtifactError {
    #[error("{message}")]
    Io { path: PathBuf, message: String },
    #[error("{}: not a readable zip archive (truncated or corrupt): {message}", path.display())]
    Corrupt { path: PathBuf, message: String },
    #[error("{}: refused as a possible zip bomb: {detail}", path.display())]
    Bomb { path: PathBuf, detail: String },
    #[error("{}: {size} bytes is more than the {limit}-byte limit", path.display())]
    TooLarge { path: PathBuf, size: u64, limit: u64 },
}

/// A package found in an artifact and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactPackage {
    pub node: NodeId,
    /// Path inside the zip (`node_modules/qs/package.json`, `inner.zip!/bootstrap`), or the
    /// binary's file name.
    pub location: String,
    /// The lockfile in the zip marks it dev-only.
    pub dev: bool,
    /// Uncompressed bytes of the package's files in the zip, when they can be told apart.
    pub bytes: Option<u64>,
}

/// What the reader could not read safely in an artifact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ArtifactIssueKind {
    /// A binary whose dependencies cannot be known (Rust without cargo-auditable data...).
    OpaqueBinary,
    /// A zip entry with `..` or an absolute path, or a symlink: reported, never followed.
    UnsafeEntry,
}

/// One issue, where in the artifact, and why.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ArtifactIssue {
    pub kind: ArtifactIssueKind,
    pub location: String,
    pub message: String,
}

/// What an artifact ships.
#[derive(Debug, Clone, Default)]
pub struct Artifact {
    pub path: PathBuf,
    pub graph: DepGraph,
    pub entries: Vec<ArtifactPackage>,
    /// What could not be read safely: opaque binaries, unsafe zip entries.
    pub issues: Vec<ArtifactIssue>,
    pub notes: Vec<String>,
    /// The lockfile found inside the zip, by its path in the zip, and its tree.
    pub lockfile: Option<(String, DepGraph)>,
    /// The function's own source files and root manifests in the zip: (path, text).
    pub code: Vec<(String, Arc<str>)>,
    /// Python distributions in the zip: normalized name -> top-level modules (from `RECORD`).
    pub python_modules: BTreeMap<String, Vec<String>>,
}

impl Artifact {
    /// The package of an entry.
    pub fn package(&self, entry: &ArtifactPackage) -> &Package {
        self.graph.node(entry.node)
    }
}

/// Reads a zip or a binary from disk (the file is read, never extracted).
pub fn read_artifact(path: &Path, limits: &Limits) -> Result<Artifact, ArtifactError> {
    let io = |e: std::io::Error| ArtifactError::Io { path: path.to_owned(), message: e.to_string() };
    let file = fs_err::File::open(path).map_err(io)?;
    let size = file.metadata().map_err(io)?.len();
    let mut head = [0u8; 4];
    let head_len = file.file().take(4).read(&mut head).map_err(io)?;
    let is_zip = head.get(..head_len).is_some_and(|h| h.starts_with(b"PK"));
    if is_zip || path.extension().is_some_and(|e| e.eq_ignore_ascii_case("zip")) {
        let reader = std::io::BufReader::new(fs_err::File::open(path).map_err(io)?);
        let mut acc = Collector::new(limits);
        read_zip(path, reader, "", 0, &mut acc)?;
        return Ok(acc.finish(path));
    }
    if size > limits.max_binary_bytes {
        return Err(ArtifactError::TooLarge { path: path.to_owned(), size, limit: limits.max_binary_bytes });
    }
    let bytes = fs_err::read(path).map_err(io)?;
    read_artifact_bytes(path, &bytes, limits)
}

/// Reads an artifact from memory: a zip (by its `PK` signature) or a binary. Pure.
pub fn read_artifact_bytes(path: &Path, bytes: &[u8], limits: &Limits) -> Result<Artifact, ArtifactError> {
    let mut acc = Collector::new(limits);
    if bytes.starts_with(b"PK") || path.extension().is_some_and(|e| e.eq_ignore_ascii_case("zip")) {
        read_zip(path, Cursor::new(bytes), "", 0, &mut acc)?;
    } else {
        let name = path.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        acc.binary(&name, bytes);
    }
    Ok(acc.finish(path))
}

/// Which entries matter, from their name alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EntryRole {
    NpmManifest,
    ProjectManifest,
    NpmLock(LockfileFormat),
    PythonMetadata,
    PythonRecord,
    /// The function's own source or a root manifest (`index.js`, `app.py`, `requirements.txt`).
    Code,
    Binary,
    NestedZip,
}

#[expect(
    clippy::case_sensitive_file_extension_comparisons,
    reason = "file names are matched exactly as the tools that write them spell them"
)]
fn role_of(name: &str) -> Option<EntryRole> {
    let segments: Vec<&str> = name.split('/').collect();
    let file = *segments.last()?;
    let parent = segments.len().checked_sub(2).and_then(|i| segments.get(i)).copied();
    let in_node_modules = segments.contains(&"node_modules");
    match file {
        "package.json" if is_npm_package_dir(&segments) => Some(EntryRole::NpmManifest),
        "package.json" if !in_node_modules => Some(EntryRole::ProjectManifest),
        "package-lock.json" | "npm-shrinkwrap.json" if !in_node_modules => {
            Some(EntryRole::NpmLock(LockfileFormat::NpmPackageLock))
        }
        ".package-lock.json" if parent == Some("node_modules") => {
            Some(EntryRole::NpmLock(LockfileFormat::NpmPackageLock))
        }
        "METADATA" if parent.is_some_and(|p| p.ends_with(".dist-info")) => Some(EntryRole::PythonMetadata),
        "PKG-INFO" if parent.is_some_and(|p| p.ends_with(".egg-info")) => Some(EntryRole::PythonMetadata),
        "RECORD" if parent.is_some_and(|p| p.ends_with(".dist-info")) => Some(EntryRole::PythonRecord),
        _ if file.to_ascii_lowercase().ends_with(".zip") => Some(EntryRole::NestedZip),
        _ if in_node_modules || segments.iter().any(|s| s.ends_with("-packages") || s.ends_with("-info")) => None,
        _ if is_code_file(file) && !segments.contains(&"__pycache__") => Some(EntryRole::Code),
        _ if segments.len() == 1
            && (file.starts_with("requirements") && file.ends_with(".txt") || file == "pyproject.toml") =>
        {
            Some(EntryRole::Code)
        }
        "bootstrap" => Some(EntryRole::Binary),
        _ if parent.is_some_and(|p| p == "bin" || p == "extensions") && segments.len() == 2 => Some(EntryRole::Binary),
        _ if segments.len() == 1 && !file.contains('.') => Some(EntryRole::Binary),
        _ => None,
    }
}

fn is_code_file(file: &str) -> bool {
    let ext = file.rsplit_once('.').map(|(_, e)| e).unwrap_or_default();
    matches!(ext, "js" | "mjs" | "cjs" | "py") && !file.ends_with(".min.js") || super::metafile::is_metafile_name(file)
}

/// `.../node_modules/<name>/package.json` or `.../node_modules/@scope/<name>/package.json`.
fn is_npm_package_dir(segments: &[&str]) -> bool {
    let n = segments.len();
    let at = |i: usize| n.checked_sub(i).and_then(|j| segments.get(j)).copied();
    let name = at(2).unwrap_or_default();
    if name.is_empty() || name.starts_with('.') {
        return false;
    }
    at(3) == Some("node_modules") || (at(3).is_some_and(|s| s.starts_with('@')) && at(4) == Some("node_modules"))
}

/// Why an entry name is unsafe to follow, if it is.
fn unsafe_name(name: &str) -> Option<&'static str> {
    let bytes = name.as_bytes();
    if name.starts_with('/') || name.starts_with('\\') || (bytes.len() > 1 && bytes.get(1) == Some(&b':')) {
        return Some("absolute path");
    }
    if name.split(['/', '\\']).any(|s| s == "..") {
        return Some("path with `..`");
    }
    None
}

fn read_zip<R: Read + Seek>(
    path: &Path,
    reader: R,
    prefix: &str,
    depth: u8,
    acc: &mut Collector<'_>,
) -> Result<(), ArtifactError> {
    let corrupt = |e: &dyn std::fmt::Display| ArtifactError::Corrupt { path: path.to_owned(), message: e.to_string() };
    let mut archive = zip::ZipArchive::new(reader).map_err(|e| corrupt(&e))?;
    let bomb = |detail: String| ArtifactError::Bomb { path: path.to_owned(), detail };
    let mut budget = Budget::new(acc.limits, archive.len()).map_err(bomb)?;
    let mut wanted = Vec::new();
    let mut symlinks = 0usize;
    for index in 0..archive.len() {
        let entry = archive.by_index_data(index).map_err(|e| corrupt(&e))?;
        let name = String::from_utf8_lossy(entry.name_raw()).into_owned();
        budget.admit(&name, entry.size(), entry.compressed_size()).map_err(bomb)?;
        if !entry.is_dir() {
            acc.sizes.insert(format!("{prefix}{name}"), entry.size());
        }
        if let Some(why) = unsafe_name(&name) {
            acc.unsafe_entry(&format!("{prefix}{name}"), why);
        } else if entry.is_symlink() {
            symlinks += 1;
        } else if !entry.is_dir()
            && let Some(role) = role_of(&name)
        {
            wanted.push((index, name, role, entry.size()));
        }
    }
    if symlinks > 0 {
        acc.notes.push(format!("{}{symlinks} symlink(s) not followed", nested_zip_label(prefix)));
    }
    for (index, name, role, size) in wanted {
        read_entry(path, &mut archive, index, &name, role, size, prefix, depth, acc)?;
    }
    Ok(())
}

/// `inner.zip: ` for a zip inside the artifact; nothing for the artifact itself, whose path the
/// pipeline puts before every note.
fn nested_zip_label(prefix: &str) -> String {
    match prefix.strip_suffix("!/") {
        Some(inner) if !inner.is_empty() => format!("{inner}: "),
        _ => String::new(),
    }
}

#[expect(clippy::too_many_arguments, reason = "one call site; bundling them in a struct hides nothing")]
fn read_entry<R: Read + Seek>(
    path: &Path,
    archive: &mut zip::ZipArchive<R>,
    index: usize,
    name: &str,
    role: EntryRole,
    size: u64,
    prefix: &str,
    depth: u8,
    acc: &mut Collector<'_>,
) -> Result<(), ArtifactError> {
    let limits = acc.limits;
    let location = format!("{prefix}{name}");
    let cap = match role {
        EntryRole::Binary | EntryRole::NestedZip => limits.max_binary_bytes,
        EntryRole::Code => MAX_CODE_FILE_BYTES,
        _ => limits.max_metadata_bytes,
    };
    if size > cap {
        acc.notes.push(format!("{location}: {size} bytes, more than the {cap}-byte read limit: not read"));
        return Ok(());
    }
    if role == EntryRole::NestedZip && depth >= 1 {
        acc.notes.push(format!("{location}: nested zip not read (zips are read one level deep)"));
        return Ok(());
    }
    let options = zip::read::ZipReadOptions::new().enforce_header_consistency(true);
    let corrupt = |e: &dyn std::fmt::Display| ArtifactError::Corrupt {
        path: path.to_owned(),
        message: format!("{location}: {e}"),
    };
    let file = archive.by_index_with_options(index, options).map_err(|e| corrupt(&e))?;
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(cap + 1).read_to_end(&mut bytes).map_err(|e| corrupt(&e))?;
    if bytes.len() as u64 > size {
        return Err(corrupt(&"more data than the declared size"));
    }
    match role {
        EntryRole::NpmManifest => acc.npm_manifest(&location, &bytes),
        EntryRole::ProjectManifest => {
            acc.project_manifests.insert(location, bytes);
        }
        EntryRole::NpmLock(format) => acc.locks.push((location, format, bytes)),
        EntryRole::PythonMetadata => acc.python_metadata(&location, &bytes),
        EntryRole::PythonRecord => acc.records.push((location, String::from_utf8_lossy(&bytes).into_owned())),
        EntryRole::Code => acc.code_file(location, &bytes),
        EntryRole::Binary => acc.binary(&location, &bytes),
        EntryRole::NestedZip => {
            let inner_prefix = format!("{location}!/");
            read_zip(&PathBuf::from(&location), Cursor::new(bytes), &inner_prefix, depth + 1, acc)?;
        }
    }
    Ok(())
}

/// Accumulates what the entries of a zip (and its nested zips) say.
struct Collector<'a> {
    limits: &'a Limits,
    graph: DepGraph,
    entries: Vec<ArtifactPackage>,
    issues: Vec<ArtifactIssue>,
    notes: Vec<String>,
    /// `package.json` files outside `node_modules`, by location: siblings for lockfiles.
    project_manifests: BTreeMap<String, Vec<u8>>,
    locks: Vec<(String, LockfileFormat, Vec<u8>)>,
    /// Uncompressed size of every file entry, by location.
    sizes: BTreeMap<String, u64>,
    /// npm packages' declared dependency names, by node.
    npm_deps: Vec<(NodeId, Vec<String>)>,
    /// Python distributions' `Requires-Dist` names (normalized), by node.
    py_requires: Vec<(NodeId, Vec<String>)>,
    /// `*.dist-info/RECORD` texts by location.
    records: Vec<(String, String)>,
    code: Vec<(String, Arc<str>)>,
    code_bytes: u64,
}

/// Largest function source file kept, and the total kept, in bytes.
const MAX_CODE_FILE_BYTES: u64 = 4 * 1024 * 1024;
const MAX_CODE_TOTAL_BYTES: u64 = 64 * 1024 * 1024;

#[derive(serde::Deserialize)]
#[expect(clippy::zero_sized_map_values, reason = "only the keys of the dependency maps are read")]
struct PackageJsonWire<'a> {
    #[serde(borrow)]
    name: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    version: Option<std::borrow::Cow<'a, str>>,
    #[serde(default)]
    dependencies: Option<BTreeMap<String, serde::de::IgnoredAny>>,
    #[serde(default, rename = "optionalDependencies")]
    optional: Option<BTreeMap<String, serde::de::IgnoredAny>>,
    #[serde(default, rename = "peerDependencies")]
    peer: Option<BTreeMap<String, serde::de::IgnoredAny>>,
}

impl<'a> Collector<'a> {
    fn new(limits: &'a Limits) -> Collector<'a> {
        Collector {
            limits,
            graph: DepGraph::new(),
            entries: Vec::new(),
            issues: Vec::new(),
            notes: Vec::new(),
            project_manifests: BTreeMap::new(),
            locks: Vec::new(),
            sizes: BTreeMap::new(),
            npm_deps: Vec::new(),
            py_requires: Vec::new(),
            records: Vec::new(),
            code: Vec::new(),
            code_bytes: 0,
        }
    }

    fn add(&mut self, package: Package, location: &str, root: bool) -> NodeId {
        let node = self.graph.add_node(package);
        if root {
            self.graph.add_root(node);
        }
        self.entries.push(ArtifactPackage { node, location: location.to_owned(), dev: false, bytes: None });
        node
    }

    fn unsafe_entry(&mut self, location: &str, why: &str) {
        self.issues.push(ArtifactIssue {
            kind: ArtifactIssueKind::UnsafeEntry,
            location: location.to_owned(),
            message: format!("zip entry name is an {why}: reported, not followed"),
        });
    }

    #[expect(clippy::zero_sized_map_values, reason = "only the keys of the dependency maps are read")]
    fn npm_manifest(&mut self, location: &str, bytes: &[u8]) {
        let wire: PackageJsonWire<'_> = match serde_json::from_slice(bytes) {
            Ok(wire) => wire,
            Err(e) => return self.notes.push(format!("{location}: not valid package.json: {e}")),
        };
        let (Some(name), Some(version)) = (wire.name, wire.version) else {
            return self.notes.push(format!("{location}: no name or version"));
        };
        let top_level = location.matches("node_modules/").count() == 1;
        let node = self.add(npm_package(&name, &version), location, top_level);
        let deps = [wire.dependencies, wire.optional, wire.peer].into_iter().flatten().flat_map(BTreeMap::into_keys);
        self.npm_deps.push((node, deps.collect()));
    }

    fn python_metadata(&mut self, location: &str, bytes: &[u8]) {
        let text = String::from_utf8_lossy(bytes);
        let mut name = None;
        let mut version = None;
        let mut requires = Vec::new();
        for line in text.lines() {
            if line.trim().is_empty() {
                break;
            }
            if let Some(v) = line.strip_prefix("Name:") {
                name = name.or(Some(v.trim().to_owned()));
            } else if let Some(v) = line.strip_prefix("Version:") {
                version = version.or(Some(v.trim().to_owned()));
            } else if let Some(v) = line.strip_prefix("Requires-Dist:") {
                requires.extend(required_dist(v));
            }
        }
        let (Some(name), Some(version)) = (name, version) else {
            return self.notes.push(format!("{location}: no Name or Version header"));
        };
        let package = Package {
            ecosystem: Ecosystem::PyPI,
            name: PackageName::new(Ecosystem::PyPI, &name),
            version,
            scope: Scope::Prod,
            source: Source::Registry,
        };
        let node = self.add(package, location, true);
        self.py_requires.push((node, requires));
    }

    fn code_file(&mut self, location: String, bytes: &[u8]) {
        self.code_bytes += bytes.len() as u64;
        if self.code_bytes > MAX_CODE_TOTAL_BYTES {
            return self
                .notes
                .push(format!("{location}: over {MAX_CODE_TOTAL_BYTES} bytes of code in the zip: not kept"));
        }
        self.code.push((location, String::from_utf8_lossy(bytes).into()));
    }

    fn binary(&mut self, location: &str, bytes: &[u8]) {
        if !auditable::is_elf(bytes) {
            return;
        }
        match gobuildinfo::parse_go_buildinfo(bytes) {
            Ok(Some(info)) => return self.go_binary(location, &info),
            Ok(None) => {}
            Err(e) => return self.opaque(location, &format!("Go binary: {e}")),
        }
        match auditable::read(bytes) {
            Ok(RustBinary::Audited(wire)) => self.rust_binary(location, &wire),
            Ok(RustBinary::Unaudited) => self.opaque(
                location,
                "Rust binary without cargo-auditable data: its dependencies cannot be known (it is not clean). \
                 Build it with `cargo auditable build` (cargo-lambda: install cargo-auditable and build with \
                 `cargo auditable`, or scan the Cargo.lock it was built from)",
            ),
            Ok(RustBinary::NotRust) => {
                self.notes.push(format!("{location}: ELF binary of unknown origin: not scanned"));
            }
            Err(e) => self.opaque(location, &format!("Rust binary: {e}")),
        }
    }

    fn opaque(&mut self, location: &str, message: &str) {
        self.issues.push(ArtifactIssue {
            kind: ArtifactIssueKind::OpaqueBinary,
            location: location.to_owned(),
            message: message.to_owned(),
        });
    }

    fn go_binary(&mut self, location: &str, info: &gobuildinfo::GoBuildInfo) {
        let go = |name: &str, version: &str, source: Source| Package {
            ecosystem: Ecosystem::Go,
            name: PackageName::new(Ecosystem::Go, name),
            version: version.to_owned(),
            scope: Scope::Prod,
            source,
        };
        let stdlib_version = info.go_version.strip_prefix("go").unwrap_or(&info.go_version);
        let stdlib = self.add(go("stdlib", stdlib_version, Source::Registry), location, false);
        let main = info.main.as_ref().map(|m| self.add(go(&m.path, &m.version, Source::Workspace), location, true));
        if let Some(main) = main {
            self.graph.add_edge(main, stdlib);
        } else {
            self.graph.add_root(stdlib);
        }
        for dep in &info.deps {
            let (name, version, source) = effective_module(dep);
            let node = self.add(go(name, version, source), location, main.is_none());
            if let Some(main) = main {
                self.graph.add_edge(main, node);
            }
        }
    }

    fn rust_binary(&mut self, location: &str, wire: &auditable::AuditableWire) {
        let mut ids = Vec::with_capacity(wire.packages.len());
        for p in &wire.packages {
            let source = match p.source.as_str() {
                "crates.io" | "registry" => Source::Registry,
                "local" if p.root => Source::Workspace,
                "local" => Source::Path(p.name.clone()),
                "git" => Source::Git { url: String::new(), rev: None },
                other => Source::Other(other.to_owned()),
            };
            let scope = if p.kind.as_deref() == Some("build") { Scope::Dev } else { Scope::Prod };
            let package = Package {
                ecosystem: Ecosystem::CratesIo,
                name: PackageName::new(Ecosystem::CratesIo, &p.name),
                version: p.version.clone(),
                scope,
                source,
            };
            ids.push(self.add(package, location, p.root));
        }
        for (p, &parent) in wire.packages.iter().zip(&ids) {
            for &child in p.dependencies.iter().filter_map(|&d| ids.get(d)) {
                self.graph.add_edge(parent, child);
            }
        }
    }

    #[expect(
        clippy::case_sensitive_file_extension_comparisons,
        reason = "file names are matched exactly as the tools that write them spell them"
    )]
    fn finish(mut self, path: &Path) -> Artifact {
        let lockfile = self.parse_lock();
        if let Some((_, lock)) = &lockfile {
            mark_dev(&mut self.entries, &self.graph, lock);
        }
        self.npm_edges_and_bytes();
        let python_modules = self.python_edges_and_bytes();
        let package_files: BTreeSet<&str> = python_modules.values().flatten().map(String::as_str).collect();
        let root_manifests = self.project_manifests.iter().filter(|(loc, _)| !loc.contains('/'));
        self.code.extend(root_manifests.map(|(loc, bytes)| (loc.clone(), String::from_utf8_lossy(bytes).into())));
        let code = std::mem::take(&mut self.code)
            .into_iter()
            .filter(|(loc, _)| {
                !package_files.contains(loc.split(['/', '.']).next().unwrap_or_default())
                    || !loc.contains('/') && loc.ends_with(".txt")
            })
            .collect();
        let python_modules =
            python_modules.into_iter().map(|(dist, files)| (dist, files.into_iter().collect())).collect();
        self.graph.finish();
        self.issues.sort();
        Artifact {
            path: path.to_owned(),
            graph: self.graph,
            entries: self.entries,
            issues: self.issues,
            notes: self.notes,
            lockfile,
            code,
            python_modules,
        }
    }

    /// Node's lookup: `dir/node_modules/<dep>`, then the same in each folder up the tree.
    fn npm_edges_and_bytes(&mut self) {
        let by_location: BTreeMap<&str, NodeId> = self
            .entries
            .iter()
            .filter(|e| self.graph.node(e.node).ecosystem == Ecosystem::Npm)
            .map(|e| (e.location.as_str(), e.node))
            .collect();
        let mut edges = Vec::new();
        let mut bytes = BTreeMap::new();
        for (node, deps) in &self.npm_deps {
            let Some(entry) = self.entries.iter().find(|e| e.node == *node) else { continue };
            let dir = entry.location.strip_suffix("/package.json").unwrap_or(&entry.location);
            for dep in deps {
                let mut at = Some(dir);
                while let Some(base) = at {
                    let key = if base.is_empty() {
                        format!("node_modules/{dep}/package.json")
                    } else {
                        format!("{base}/node_modules/{dep}/package.json")
                    };
                    if let Some(&child) = by_location.get(key.as_str()) {
                        edges.push((*node, child));
                        break;
                    }
                    at = (!base.is_empty()).then(|| base.rsplit_once('/').map_or("", |(up, _)| up));
                }
            }
            let inside = format!("{dir}/");
            let nested = format!("{dir}/node_modules/");
            let size = self
                .sizes
                .range(inside.clone()..)
                .take_while(|(k, _)| k.starts_with(&inside))
                .filter(|(k, _)| !k.starts_with(&nested))
                .map(|(_, s)| s)
                .sum::<u64>();
            bytes.insert(*node, size);
        }
        for (parent, child) in edges {
            self.graph.add_edge(parent, child);
        }
        for entry in &mut self.entries {
            if let Some(&b) = bytes.get(&entry.node) {
                entry.bytes = Some(b);
            }
        }
    }

    /// `Requires-Dist` edges by normalized name; bytes and top-level modules from `RECORD`.
    #[expect(
        clippy::case_sensitive_file_extension_comparisons,
        reason = "file names are matched exactly as the tools that write them spell them"
    )]
    fn python_edges_and_bytes(&mut self) -> BTreeMap<String, BTreeSet<String>> {
        let by_name: BTreeMap<String, NodeId> = self
            .entries
            .iter()
            .filter(|e| self.graph.node(e.node).ecosystem == Ecosystem::PyPI)
            .map(|e| (self.graph.node(e.node).name.as_str().to_owned(), e.node))
            .collect();
        for (node, requires) in std::mem::take(&mut self.py_requires) {
            for child in requires.iter().filter_map(|r| by_name.get(r)) {
                self.graph.add_edge(node, *child);
            }
        }
        let mut modules: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (location, record) in &self.records {
            let info_dir = location.strip_suffix("/RECORD").unwrap_or(location);
            let base = info_dir.rsplit_once('/').map_or("", |(b, _)| b);
            let Some(entry) = self.entries.iter_mut().find(|e| e.location.starts_with(&format!("{info_dir}/"))) else {
                continue;
            };
            let name = self.graph.node(entry.node).name.as_str().to_owned();
            let mut size = 0u64;
            for path in
                record.lines().filter_map(|l| l.split(',').next()).filter(|p| !p.is_empty() && !p.contains(".."))
            {
                let at = if base.is_empty() { path.to_owned() } else { format!("{base}/{path}") };
                size += self.sizes.get(&at).copied().unwrap_or(0);
                let first = path.split('/').next().unwrap_or(path);
                let module = first.strip_suffix(".py").unwrap_or(first);
                if !first.ends_with("-info")
                    && !first.ends_with(".data")
                    && module != "__pycache__"
                    && (path.contains('/') || first.ends_with(".py"))
                {
                    modules.entry(name.clone()).or_default().insert(module.to_owned());
                }
            }
            entry.bytes = Some(size);
        }
        modules
    }

    /// The first npm lockfile in the zip (a real `package-lock.json` before npm's hidden one).
    fn parse_lock(&mut self) -> Option<(String, DepGraph)> {
        self.locks.sort_by_key(|(loc, _, _)| (loc.contains("node_modules/"), loc.matches('/').count(), loc.clone()));
        let (location, format, bytes) = self.locks.first()?;
        let base = location.rsplit_once('/').map_or("", |(dir, _)| dir);
        let project_dir = base.strip_suffix("node_modules").map_or(base, |d| d.trim_end_matches('/'));
        let manifests = &self.project_manifests;
        let read_sibling = |rel: &Path| -> Option<Vec<u8>> {
            let rel = rel.to_string_lossy();
            let key = if project_dir.is_empty() { rel.into_owned() } else { format!("{project_dir}/{rel}") };
            manifests.get(&key).cloned()
        };
        let input = ParseInput { path: Path::new(location), bytes, read_sibling: &read_sibling };
        match lockfile::parse(*format, &input) {
            Ok(parsed) => Some((location.clone(), parsed.graph)),
            Err(e) => {
                self.notes.push(format!("lockfile in the zip not usable: {e}"));
                None
            }
        }
    }
}

/// The normalized distribution a `Requires-Dist` value names, unless only an extra needs it.
fn required_dist(value: &str) -> Option<String> {
    let (spec, marker) = value.split_once(';').unwrap_or((value, ""));
    if marker.contains("extra") {
        return None;
    }
    let spec = spec.trim();
    let end = spec.find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))).unwrap_or(spec.len());
    let name = spec.get(..end).filter(|n| !n.is_empty())?;
    Some(PackageName::new(Ecosystem::PyPI, name).as_str().to_owned())
}

fn npm_package(name: &str, version: &str) -> Package {
    Package {
        ecosystem: Ecosystem::Npm,
        name: PackageName::new(Ecosystem::Npm, name),
        version: version.to_owned(),
        scope: Scope::Prod,
        source: Source::Registry,
    }
}

/// The module that is really built in: the replacement when it has a version, else the
/// required module marked as coming from a local path.
fn effective_module(dep: &GoModule) -> (&str, &str, Source) {
    match dep.replace.as_deref() {
        Some(r) if !r.version.is_empty() && r.version != "(devel)" => (&r.path, &r.version, Source::Registry),
        Some(r) => (&dep.path, &dep.version, Source::Path(r.path.clone())),
        None => (&dep.path, &dep.version, Source::Registry),
    }
}

/// Marks entries that the lockfile knows only as dev packages (same name and version).
fn mark_dev(entries: &mut [ArtifactPackage], graph: &DepGraph, lock: &DepGraph) {
    let mut shipping: BTreeSet<(&PackageName, &str)> = BTreeSet::new();
    let mut dev: BTreeSet<(&PackageName, &str)> = BTreeSet::new();
    for p in lock.nodes() {
        let set = if p.scope.ships() { &mut shipping } else { &mut dev };
        set.insert((&p.name, p.version.as_str()));
    }
    for entry in entries.iter_mut() {
        let p = graph.node(entry.node);
        if p.ecosystem == Ecosystem::Npm {
            let key = (&p.name, p.version.as_str());
            entry.dev = dev.contains(&key) && !shipping.contains(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles() {
        assert_eq!(role_of("node_modules/qs/package.json"), Some(EntryRole::NpmManifest));
        assert_eq!(role_of("nodejs/node18/node_modules/@aws-sdk/client-s3/package.json"), Some(EntryRole::NpmManifest));
        assert_eq!(role_of("node_modules/a/node_modules/b/package.json"), Some(EntryRole::NpmManifest));
        assert_eq!(role_of("node_modules/qs/lib/package.json"), None);
        assert_eq!(role_of("package.json"), Some(EntryRole::ProjectManifest));
        assert_eq!(
            role_of("node_modules/.package-lock.json"),
            Some(EntryRole::NpmLock(LockfileFormat::NpmPackageLock))
        );
        assert_eq!(
            role_of("python/lib/python3.12/site-packages/idna-2.7.dist-info/METADATA"),
            Some(EntryRole::PythonMetadata)
        );
        assert_eq!(role_of("foo.egg-info/PKG-INFO"), Some(EntryRole::PythonMetadata));
        assert_eq!(role_of("bootstrap"), Some(EntryRole::Binary));
        assert_eq!(role_of("bin/tool"), Some(EntryRole::Binary));
        assert_eq!(role_of("index.js"), Some(EntryRole::Code), "the function's own code, for the unused check");
        assert_eq!(role_of("yaml-6.0.dist-info/RECORD"), Some(EntryRole::PythonRecord));
        assert_eq!(role_of("node_modules/x/index.js"), None);
        assert_eq!(role_of("node_modules/x/bin/cli"), None);
        assert_eq!(role_of("layer.zip"), Some(EntryRole::NestedZip));
    }

    fn zip_with_symlink(nested: Option<&[u8]>) -> Vec<u8> {
        use std::io::Write as _;
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default();
        writer.add_symlink("node_modules/.bin/tool", "../tool/cli.js", options).expect("symlink");
        if let Some(inner) = nested {
            writer.start_file("layer.zip", options).expect("entry");
            writer.write_all(inner).expect("write");
        }
        writer.finish().expect("finish").into_inner()
    }

    #[test]
    fn symlink_notes_do_not_repeat_the_artifact_path() {
        let inner = zip_with_symlink(None);
        let outer = zip_with_symlink(Some(&inner));
        let artifact = read_artifact_bytes(Path::new("dist/fn.zip"), &outer, &Limits::default()).expect("read");
        assert_eq!(artifact.notes, ["1 symlink(s) not followed", "layer.zip: 1 symlink(s) not followed"]);
    }

    #[test]
    fn unsafe_names() {
        assert_eq!(unsafe_name("../etc/passwd"), Some("path with `..`"));
        assert_eq!(unsafe_name("a/../../b"), Some("path with `..`"));
        assert_eq!(unsafe_name("/etc/passwd"), Some("absolute path"));
        assert_eq!(unsafe_name("C:\\x"), Some("absolute path"));
        assert_eq!(unsafe_name("a/..b/c"), None);
    }
}

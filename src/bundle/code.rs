//! The function's own code, read into memory for the unused-package check: its source files
//! (JavaScript/TypeScript, Python, Go, Rust), the manifests and config files that declare or name
//! packages, and the `*.dist-info/top_level.txt` of Python distributions vendored in its folder.
//! Bounded (file count, file size, total bytes: a source file's size is checked when it is read,
//! against the reader's [`Budget`]); nothing is executed. The folders discovery's walk listed
//! are not listed again ([`Listing`]). The check itself (`risk::unused`) is pure over what this
//! returns.
//!
//! What counts as the function's code: every source file under its code folder, except
//! dependency and build folders (`node_modules`, `.venv`, `site-packages`, `target`, `dist`,
//! `.aws-sam`, `cdk.out`, ...) and tests (`test/`, `tests/`, `__tests__/`, `*.test.*`,
//! `*.spec.*`, `test_*.py`, `*_test.py`, `conftest.py`, `*_test.go`): tests live in the folder but
//! are not shipped code, and they import dev dependencies, which would hide unused production
//! ones.

use std::collections::{BTreeMap, HashMap};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use crate::vocab::Diagnostic;

/// Limits on what is read.
#[derive(Debug, Clone, Copy)]
pub struct CodeLimits {
    pub max_files: usize,
    pub max_file_bytes: u64,
    pub max_total_bytes: u64,
}

impl Default for CodeLimits {
    fn default() -> CodeLimits {
        CodeLimits { max_files: 20_000, max_file_bytes: 4 * 1024 * 1024, max_total_bytes: 256 * 1024 * 1024 }
    }
}

/// One file, by its `/`-separated path relative to the function's root. The text is shared
/// (a zip's code and the units reading one folder hold it once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    pub path: String,
    pub text: Arc<str>,
}

/// A source file of the function, scanned when first asked for ([`CodeFile::imports`]): only
/// the files reachable from the function's entry are read at all, and once per scan when units
/// share the folder ([`CodeCache`]). Its size is checked against the limits when it is read. What
/// is kept is what the scan found, not the text: a file's text is read into a buffer that the
/// next file read on the same thread reuses.
#[derive(Debug, Clone)]
pub struct CodeFile {
    /// `/`-separated, relative to the function's root.
    pub path: String,
    source: Source,
    scanned: OnceLock<Result<Scanned, Unread>>,
}

/// Where a code file's text comes from.
#[derive(Debug, Clone)]
enum Source {
    /// Read from disk when first scanned.
    Disk(PathBuf),
    /// Came with the file (a zip's code, bounded when the zip was read).
    Loaded(Arc<str>),
}

/// What the first scan of a file found: its size in bytes and the scanner's answer (`None`: the
/// scanner refused the file).
#[derive(Debug, Clone)]
struct Scanned {
    bytes: u64,
    imports: Option<Vec<Import>>,
}

/// One import found in a source file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Import {
    /// What is imported, as written: a module specifier (`./x`, `@scope/pkg/sub`), a Python
    /// dotted module with its leading dots, a Go import path, a Rust crate name.
    pub spec: String,
    pub line: u32,
    /// TypeScript `import type` / `export type`: erased at build time, never loaded.
    pub type_only: bool,
}

/// Why a code file's text is not there: `code` is `code/read` (it could not be read),
/// `code/too-large` (over the per-file limit) or `code/limit` (the reader's total is spent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unread {
    pub code: &'static str,
    pub message: String,
}

/// What one reader of a function's code may still read ([`CodeFile::imports`]): the per-file limit
/// and what is left of the total. Each reader (one unit's check) has its own, so which files it
/// gets does not depend on what other units sharing the folder read first.
#[derive(Debug, Clone)]
pub struct Budget {
    max_file_bytes: u64,
    max_total_bytes: u64,
    used: u64,
}

impl Budget {
    pub fn new(limits: &CodeLimits) -> Budget {
        Budget { max_file_bytes: limits.max_file_bytes, max_total_bytes: limits.max_total_bytes, used: 0 }
    }

    /// Whether one file of `size` bytes may be read at all.
    fn admits(&self, size: u64) -> Result<(), Unread> {
        if size > self.max_file_bytes {
            let message =
                format!("{size} bytes, more than the {}-byte limit: imports not scanned", self.max_file_bytes);
            return Err(Unread { code: "code/too-large", message });
        }
        Ok(())
    }

    /// Counts a file of `size` bytes, or says why it is not read.
    fn take(&mut self, size: u64) -> Result<(), Unread> {
        self.admits(size)?;
        if self.used + size > self.max_total_bytes {
            let message = format!("the function's code is over {} bytes: not scanned", self.max_total_bytes);
            return Err(Unread { code: "code/limit", message });
        }
        self.used += size;
        Ok(())
    }
}

impl CodeFile {
    /// A file whose text is already in memory.
    pub fn loaded(path: String, text: Arc<str>) -> CodeFile {
        CodeFile { path, source: Source::Loaded(text), scanned: OnceLock::new() }
    }

    /// A file on disk, read on first use.
    pub fn on_disk(path: String, disk: PathBuf) -> CodeFile {
        CodeFile { path, source: Source::Disk(disk), scanned: OnceLock::new() }
    }

    /// Whether the text is in memory (it came with the file) or was read.
    pub fn is_read(&self) -> bool {
        matches!(self.source, Source::Loaded(_)) || self.scanned.get().is_some()
    }

    /// The imports `scan` finds in the file's text (invalid UTF-8 replaced; `None`: `scan`
    /// refused it). The text is read and scanned on first use only (`scan` must answer the same
    /// for every reader: it is the file's language's scanner; it must not read another file, as
    /// the text is in this thread's read buffer) and counted into `budget` (also
    /// when another reader read it first; a zip's text, bounded when the zip was read, is not
    /// counted); the error says why it is not there. A file over the per-file limit is not read
    /// past its first read ([`read_checked`]).
    pub fn imports(
        &self,
        budget: &mut Budget,
        scan: impl FnOnce(&str) -> Option<Vec<Import>>,
    ) -> Result<Option<&[Import]>, Unread> {
        let scanned = self.scanned.get_or_init(|| match &self.source {
            Source::Loaded(text) => Ok(Scanned { bytes: text.len() as u64, imports: scan(text) }),
            Source::Disk(disk) => with_buffer(|buf| {
                read_checked(disk, buf, |size| budget.admits(size))?;
                // the validation first: `from_utf8_lossy` walks valid text several times slower
                let imports = match std::str::from_utf8(buf) {
                    Ok(text) => scan(text),
                    Err(_) => scan(&String::from_utf8_lossy(buf)),
                };
                Ok(Scanned { bytes: buf.len() as u64, imports })
            }),
        });
        let scanned = scanned.as_ref().map_err(Clone::clone)?;
        if matches!(self.source, Source::Disk(_)) {
            budget.take(scanned.bytes)?;
        }
        Ok(scanned.imports.as_deref())
    }
}

/// Runs `f` with this thread's read buffer, empty: source files are read into it one after the
/// other, so reading one allocates nothing (a buffer grown past 1 MiB by a large file is not
/// kept).
fn with_buffer<T>(f: impl FnOnce(&mut Vec<u8>) -> T) -> T {
    thread_local! {
        static BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    BUFFER.with_borrow_mut(|buf| {
        buf.clear();
        buf.reserve(FIRST_READ);
        let out = f(buf);
        if buf.capacity() > 1024 * 1024 {
            *buf = Vec::new();
        }
        out
    })
}

/// The text of the file at `path` (invalid UTF-8 replaced), admitted (or not) by `check` on its
/// size before it is used ([`read_checked`]).
fn read_text(path: &Path, check: impl FnOnce(u64) -> Result<(), Unread>) -> Result<String, Unread> {
    let mut bytes = Vec::with_capacity(FIRST_READ);
    read_checked(path, &mut bytes, check)?;
    bytes.shrink_to_fit();
    Ok(match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

/// How much the first read of a file asks for at least: a file this small (most source files
/// and manifests) is read whole by that one read, with no stat.
const FIRST_READ: usize = 16 * 1024;

/// The bytes of the file at `path`, appended to the empty `bytes` (which has room for at least
/// [`FIRST_READ`]), checked by `check` on the file's size. One read of as much as `bytes` has
/// room for: a read of a regular file returns fewer bytes than asked only at its end (POSIX; no
/// signal handler here interrupts it), so a short read is the whole file and its size, and needs
/// neither a stat nor a second read to find the end (on this VM each system call costs more than
/// reading a small file). A file that fills the first read is stat'ed: `check` sees its size
/// before the rest is read, so a file over the limits is not read further.
fn read_checked(path: &Path, bytes: &mut Vec<u8>, check: impl FnOnce(u64) -> Result<(), Unread>) -> Result<(), Unread> {
    use std::io::Read;
    let file = fs_err::File::open(path).map_err(|e| Unread { code: "code/read", message: e.to_string() })?;
    let (file, path) = file.into_parts();
    let failed = |e: std::io::Error| Unread {
        code: "code/read",
        message: format!("failed to read from file `{}`: {e}", path.display()),
    };
    let asked = bytes.capacity() - bytes.len();
    let first = read_first(&file, bytes).map_err(failed)?;
    if first < asked {
        return check(first as u64);
    }
    let size = file.metadata().map_err(failed)?.len();
    check(size)?;
    bytes.reserve(usize::try_from(size).unwrap_or(0).saturating_sub(first));
    // `take` stops at the size the stat gave (no read to find the end); a file that does not tell
    // its size (0) is read to its end
    let rest = if size == 0 { u64::MAX } else { size.saturating_sub(first as u64) };
    (&file).take(rest).read_to_end(bytes).map_err(failed)?;
    Ok(())
}

/// One read into `bytes`' spare capacity (not zeroed first), as much as it has room for.
#[cfg(unix)]
fn read_first(file: &std::fs::File, bytes: &mut Vec<u8>) -> std::io::Result<usize> {
    loop {
        match rustix::io::read(file, rustix::buffer::spare_capacity(bytes)) {
            Err(rustix::io::Errno::INTR) => {}
            other => return other.map_err(std::io::Error::from),
        }
    }
}

/// As many bytes as `bytes` has spare room for (elsewhere than on Unix, by as many reads as it
/// takes).
#[cfg(not(unix))]
fn read_first(file: &std::fs::File, bytes: &mut Vec<u8>) -> std::io::Result<usize> {
    use std::io::Read;
    let room = (bytes.capacity() - bytes.len()) as u64;
    file.take(room).read_to_end(bytes)
}

/// What the unused check reads of one function.
#[derive(Debug, Clone, Default)]
pub struct FunctionCode {
    /// The folder paths are relative to (display form).
    pub root: String,
    /// Source files by extension (`.js .mjs .cjs .jsx .ts .tsx .mts .cts .py .go .rs`), listed;
    /// each is read when the check first asks for its text.
    pub files: Vec<CodeFile>,
    /// Manifests and config files: `package.json`, `requirements*.txt`, `pyproject.toml`,
    /// `Pipfile`, `go.mod`, `Cargo.toml`, `serverless.yml`, `template.yaml`, babel / eslint /
    /// esbuild / webpack / jest / tsconfig configs.
    pub manifests: Vec<SourceFile>,
    /// Python distributions vendored in the folder: normalized name -> top-level import names.
    pub python_dists: BTreeMap<String, Vec<String>>,
    /// What esbuild metafiles in the folder (or the zip) say was bundled, merged; `None` when
    /// there is none. When present it is the truth of what the function imports.
    pub bundled: Option<super::metafile::Bundled>,
    /// Files skipped (too large, not UTF-8, over the limits) and folders not readable.
    pub diagnostics: Vec<Diagnostic>,
    /// The limits its source files are read under (each reader's [`Budget`]).
    pub limits: CodeLimits,
}

const SKIP_DIRS: &[&str] = &[
    "node_modules",
    ".git",
    ".venv",
    "venv",
    ".tox",
    "__pycache__",
    "site-packages",
    "target",
    "dist",
    "build",
    ".aws-sam",
    "cdk.out",
    ".serverless",
    ".esbuild",
    ".next",
    "coverage",
    "vendor",
    "test",
    "tests",
    "__tests__",
    "__mocks__",
    ".idea",
    ".vscode",
];

const SOURCE_EXTENSIONS: &[&str] = &["js", "mjs", "cjs", "jsx", "ts", "tsx", "mts", "cts", "py", "go", "rs"];

/// Whether a file name is a manifest or a config file that may name packages.
#[expect(
    clippy::case_sensitive_file_extension_comparisons,
    reason = "file names are matched exactly as the tools that write them spell them"
)]
pub fn is_manifest(name: &str) -> bool {
    matches!(
        name,
        "package.json"
            | "pyproject.toml"
            | "Pipfile"
            | "setup.cfg"
            | "go.mod"
            | "Cargo.toml"
            | "serverless.yml"
            | "serverless.yaml"
            | "template.yaml"
            | "template.yml"
            | ".babelrc"
            | ".eslintrc"
            | "tsconfig.json"
    ) || (name.starts_with("requirements") && name.ends_with(".txt"))
        || ["babel.config.", ".babelrc.", ".eslintrc.", "eslint.config.", "esbuild.", "webpack.config.", "jest.config."]
            .iter()
            .any(|p| name.starts_with(p))
}

/// Whether a file is a test (not shipped code).
#[expect(
    clippy::case_sensitive_file_extension_comparisons,
    reason = "file names are matched exactly as the tools that write them spell them"
)]
pub fn is_test_file(name: &str) -> bool {
    let stem = name.rsplit_once('.').map_or(name, |(s, _)| s);
    stem.ends_with(".test")
        || stem.ends_with(".spec")
        || stem.ends_with("_test")
        || (name.ends_with(".py") && (name.starts_with("test_") || name == "conftest.py"))
}

/// What kind of entry a folder holds, as its listing says (symbolic links not followed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EntryKind {
    Dir,
    File,
    Symlink,
    /// A FIFO, socket or device.
    Other,
}

impl EntryKind {
    pub(super) fn of(kind: std::fs::FileType) -> EntryKind {
        if kind.is_dir() {
            EntryKind::Dir
        } else if kind.is_file() {
            EntryKind::File
        } else if kind.is_symlink() {
            EntryKind::Symlink
        } else {
            EntryKind::Other
        }
    }
}

/// Folders already listed (by discovery's walk of the scanned folder), with their entries, so
/// that reading a function's code does not list them again. A folder not in it is listed from
/// disk when its code is read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    folders: HashMap<PathBuf, Vec<(OsString, EntryKind)>>,
}

impl Listing {
    /// Records the entries of the folder `dir`.
    pub fn insert(&mut self, dir: PathBuf, entries: Vec<(OsString, EntryKind)>) {
        self.folders.insert(dir, entries);
    }

    /// Adds the folders another listing holds.
    pub fn extend(&mut self, other: Listing) {
        self.folders.extend(other.folders);
    }

    /// The entries of `dir`: from the listing when it holds the folder, else from disk
    /// (entries whose kind cannot be read are left out).
    fn entries(&self, dir: &Path) -> std::io::Result<std::borrow::Cow<'_, [(OsString, EntryKind)]>> {
        if let Some(entries) = self.folders.get(dir) {
            return Ok(std::borrow::Cow::Borrowed(entries));
        }
        let listed: Vec<(OsString, EntryKind)> = fs_err::read_dir(dir)?
            .filter_map(Result::ok)
            .filter_map(|e| Some((e.file_name(), EntryKind::of(e.file_type().ok()?))))
            .collect();
        Ok(std::borrow::Cow::Owned(listed))
    }
}

/// Reads the code of the function whose code folder is `root`, plus the manifests of `extra_dirs`
/// (the lockfile's folder when it is not inside `root`), listing its folders from disk.
pub fn read_function_code(root: &Path, extra_dirs: &[PathBuf], limits: &CodeLimits) -> FunctionCode {
    read_function_code_in(root, extra_dirs, limits, &Listing::default())
}

/// [`read_function_code`], with the folders `listing` holds not listed again. Source files are
/// listed, not read (see [`CodeFile::imports`]); manifests and metafiles are read.
pub fn read_function_code_in(
    root: &Path,
    extra_dirs: &[PathBuf],
    limits: &CodeLimits,
    listing: &Listing,
) -> FunctionCode {
    let mut code =
        FunctionCode { root: root.to_string_lossy().replace('\\', "/"), limits: *limits, ..FunctionCode::default() };
    let mut budget = Budget::new(limits);
    let mut stack = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, rel)) = stack.pop() {
        let entries = match listing.entries(&dir) {
            Ok(e) => e,
            // a code folder that is not there holds no code (the check says no source file was
            // found); one that cannot be read is a problem
            Err(e) if rel.is_empty() && e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                code.diagnostics.push(Diagnostic::at("code/read", code_path(&code.root, &rel), e.to_string()));
                continue;
            }
        };
        // one folder's entries share its path: by name (then kind) is by path; an entry's path
        // and relative name are built only for what is kept. Symbolic links, FIFOs, sockets and
        // devices are not read.
        let mut names: Vec<(std::borrow::Cow<'_, str>, EntryKind, &std::ffi::OsStr)> = entries
            .iter()
            .filter(|(_, kind)| matches!(kind, EntryKind::Dir | EntryKind::File))
            // the name as it is (a lossy copy only when it is not UTF-8)
            .map(|(raw, kind)| (raw.to_string_lossy(), *kind, raw.as_os_str()))
            .collect();
        names.sort_by(|a, b| {
            // names the lossy conversion made equal: by the names as they are
            let raw = || if a.0 == b.0 { a.2.cmp(b.2) } else { std::cmp::Ordering::Equal };
            a.0.cmp(&b.0).then_with(raw).then(a.1.cmp(&b.1))
        });
        for (name, kind, raw) in names {
            let name = name.as_ref();
            let child = || if rel.is_empty() { name.to_owned() } else { format!("{rel}/{name}") };
            if kind == EntryKind::Dir {
                if name.ends_with(".dist-info") {
                    vendored_dist(&mut code, &dir.join(raw), name);
                } else if !SKIP_DIRS.contains(&name) && !name.starts_with('.') {
                    stack.push((dir.join(raw), child()));
                }
                continue;
            }
            if super::metafile::is_metafile_name(name) {
                let child = child();
                if let Some(text) = read_bounded(&mut code, &dir.join(raw), &child, &mut budget) {
                    add_metafile(&mut code, &child, &text);
                }
                continue;
            }
            let ext = name.rsplit_once('.').map(|(_, e)| e).unwrap_or_default();
            let wanted_source = SOURCE_EXTENSIONS.contains(&ext) && !is_test_file(name) && !name.ends_with(".d.ts");
            let wanted_manifest = is_manifest(name);
            if !wanted_source && !wanted_manifest {
                continue;
            }
            let (child, path) = (child(), dir.join(raw));
            if code.files.len() + code.manifests.len() >= limits.max_files {
                let message = format!("more than {} files: the rest of the folder is not read", limits.max_files);
                code.diagnostics.push(Diagnostic::at("code/limit", code.root.clone(), message));
                return finish(code);
            }
            if wanted_source {
                // its size is checked when it is read (only reachable files are)
                code.files.push(CodeFile::on_disk(child, path));
                continue;
            }
            let Some(text) = read_bounded(&mut code, &path, &child, &mut budget) else { continue };
            code.manifests.push(SourceFile { path: child, text: text.into() });
        }
    }
    for dir in extra_dirs {
        extra_manifests(&mut code, dir, &mut budget, listing);
    }
    finish(code)
}

/// Merges one esbuild metafile into `code.bundled`; a file that is not one is a diagnostic.
fn add_metafile(code: &mut FunctionCode, rel: &str, text: &str) {
    match super::metafile::parse(text) {
        Ok(b) => {
            let all = code.bundled.get_or_insert_with(Default::default);
            all.sources.extend(b.sources);
            all.packages.extend(b.packages);
            all.imports.extend(b.imports);
        }
        Err(message) => code.diagnostics.push(Diagnostic::at("code/metafile", code_path(&code.root, rel), message)),
    }
}

fn finish(mut code: FunctionCode) -> FunctionCode {
    code.files.sort_by(|a, b| a.path.cmp(&b.path));
    code.manifests.sort_by(|a, b| a.path.cmp(&b.path));
    code
}

fn code_path(root: &str, rel: &str) -> String {
    if rel.is_empty() { root.to_owned() } else { format!("{root}/{rel}") }
}

/// A manifest or metafile of the function, read under `budget` (the limits of its source files,
/// with a total of their own); a diagnostic naming it when it is not read.
fn read_bounded(code: &mut FunctionCode, path: &Path, rel: &str, budget: &mut Budget) -> Option<String> {
    match read_text(path, |size| budget.take(size)) {
        Ok(text) => Some(text),
        Err(e) => {
            code.diagnostics.push(Diagnostic::at(e.code, code_path(&code.root, rel), e.message));
            None
        }
    }
}

/// `<name>-<version>.dist-info/top_level.txt` (or the first path segments of its `RECORD`).
fn vendored_dist(code: &mut FunctionCode, dir: &Path, name: &str) {
    let dist = name.trim_end_matches(".dist-info");
    let dist = dist.split_once('-').map_or(dist, |(n, _)| n);
    let dist = crate::package::PackageName::new(crate::package::Ecosystem::PyPI, dist).as_str().to_owned();
    let mut modules: Vec<String> = match fs_err::read_to_string(dir.join("top_level.txt")) {
        Ok(text) => text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect(),
        Err(_) => fs_err::read_to_string(dir.join("RECORD")).map(|text| record_top_levels(&text)).unwrap_or_default(),
    };
    modules.sort();
    modules.dedup();
    if !modules.is_empty() {
        code.python_dists.insert(dist, modules);
    }
}

/// The top-level modules a wheel's `RECORD` installs (`yaml/__init__.py,...` -> `yaml`).
#[expect(
    clippy::case_sensitive_file_extension_comparisons,
    reason = "file names are matched exactly as the tools that write them spell them"
)]
pub fn record_top_levels(record: &str) -> Vec<String> {
    let mut out: Vec<String> = record
        .lines()
        .filter_map(|l| l.split(',').next())
        .filter_map(|p| {
            let first = p.split('/').next()?;
            let is_module = !first.ends_with(".dist-info") && !first.ends_with(".data") && !first.contains("..");
            let name = first.strip_suffix(".py").unwrap_or(first);
            (is_module && (p.contains('/') || first.ends_with(".py")) && !name.starts_with("__"))
                .then(|| name.to_owned())
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

fn extra_manifests(code: &mut FunctionCode, dir: &Path, budget: &mut Budget, listing: &Listing) {
    let Ok(entries) = listing.entries(dir) else { return };
    let mut names: Vec<(String, PathBuf)> = entries
        .iter()
        .filter(|(_, kind)| *kind == EntryKind::File)
        .map(|(name, _)| (name.to_string_lossy().into_owned(), dir.join(name)))
        .filter(|(n, _)| is_manifest(n))
        .collect();
    names.sort();
    for (name, path) in names {
        let shown = path.to_string_lossy().replace('\\', "/");
        if code.manifests.iter().any(|m| m.path == name) {
            continue;
        }
        if let Some(text) = read_bounded(code, &path, &shown, budget) {
            code.manifests.push(SourceFile { path: name, text: text.into() });
        }
    }
}

/// The function's code as a deployment zip holds it: its source files and root manifests, and
/// the top-level modules of the Python distributions it ships.
pub fn from_artifact(artifact: &super::Artifact) -> FunctionCode {
    let mut code = FunctionCode { root: artifact.path.to_string_lossy().replace('\\', "/"), ..FunctionCode::default() };
    for (path, text) in &artifact.code {
        let name = path.rsplit('/').next().unwrap_or(path);
        if super::metafile::is_metafile_name(name) {
            add_metafile(&mut code, path, text);
        } else if is_manifest(name) {
            code.manifests.push(SourceFile { path: path.clone(), text: Arc::clone(text) });
        } else if !is_test_file(name) {
            code.files.push(CodeFile::loaded(path.clone(), Arc::clone(text)));
        }
    }
    code.python_dists = artifact.python_modules.clone();
    finish(code)
}

/// Where a unit's code is read from: its code folder and the extra folders whose manifests count.
pub type CodeKey = (PathBuf, Vec<PathBuf>);

/// Function code read once per scan: the units of one function folder (the functions of one
/// serverless service, a lockfile unit and its twin) share one read, also when checked in
/// parallel. Each unit announces its key up front; an entry is dropped from the cache when the
/// last unit that announced it has taken it, so the code of the whole repository is never held
/// at once.
#[derive(Debug)]
pub struct CodeCache<'l> {
    limits: CodeLimits,
    /// Folders discovery listed already.
    listing: &'l Listing,
    entries: Mutex<HashMap<CodeKey, CacheEntry>>,
}

#[derive(Debug)]
struct CacheEntry {
    users: usize,
    code: Arc<OnceLock<Arc<FunctionCode>>>,
}

impl<'l> CodeCache<'l> {
    /// A cache for one read per announced key (a key announced twice is read once, taken twice),
    /// listing from disk only the folders `listing` does not hold.
    pub fn new(keys: impl IntoIterator<Item = CodeKey>, limits: CodeLimits, listing: &'l Listing) -> CodeCache<'l> {
        let mut entries: HashMap<CodeKey, CacheEntry> = HashMap::new();
        for key in keys {
            entries.entry(key).or_insert_with(|| CacheEntry { users: 0, code: Arc::default() }).users += 1;
        }
        CodeCache { limits, listing, entries: Mutex::new(entries) }
    }

    /// The code of `key`, read by the first unit that asks ([`read_function_code_in`]). A key that was
    /// not announced (or is taken more often than announced) is read again, never cached.
    pub fn read(&self, key: &CodeKey) -> Arc<FunctionCode> {
        let cell = {
            let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
            match entries.get_mut(key) {
                Some(entry) => {
                    entry.users -= 1;
                    let cell = Arc::clone(&entry.code);
                    if entry.users == 0 {
                        entries.remove(key);
                    }
                    Some(cell)
                }
                None => None,
            }
        };
        let read = || Arc::new(read_function_code_in(&key.0, &key.1, &self.limits, self.listing));
        match cell {
            Some(cell) => Arc::clone(cell.get_or_init(read)),
            None => read(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sizes around the first read's: whole files come back byte for byte, and `check` sees
    /// each file's exact size (from the short read or from the stat).
    #[test]
    fn a_file_is_read_whole_whatever_its_size_around_the_first_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        for size in [0, 1, FIRST_READ - 1, FIRST_READ, FIRST_READ + 1, 3 * FIRST_READ + 7] {
            let path = dir.path().join(format!("f{size}.js"));
            let bytes: Vec<u8> = (0..size).map(|i| b'a' + u8::try_from(i % 26).expect("small")).collect();
            std::fs::write(&path, &bytes).expect("write");
            let mut seen = None;
            let text = read_text(&path, |n| {
                seen = Some(n);
                Ok(())
            })
            .expect("read");
            assert_eq!(text.as_bytes(), bytes.as_slice(), "size {size}");
            assert_eq!(seen, Some(size as u64), "size {size}");
        }
    }

    /// A file `check` refuses is not returned, small or large; past the first read it is not
    /// read further.
    #[test]
    fn a_refused_file_is_not_returned() {
        let dir = tempfile::tempdir().expect("tempdir");
        for size in [10, 5 * FIRST_READ] {
            let path = dir.path().join(format!("f{size}.js"));
            std::fs::write(&path, vec![b'x'; size]).expect("write");
            let refused = read_text(&path, |n| Err(Unread { code: "code/too-large", message: format!("{n}") }));
            assert_eq!(refused, Err(Unread { code: "code/too-large", message: size.to_string() }));
        }
    }

    /// Files read one after the other on one thread share its buffer: each is scanned with its
    /// own text (a large file first does not leave bytes for a small one after it), once for all
    /// its readers, and counted into each reader's budget.
    #[test]
    fn each_file_is_scanned_with_its_own_text_once_for_all_readers() {
        let dir = tempfile::tempdir().expect("tempdir");
        let texts =
            ["x".repeat(5 * FIRST_READ + 3), "import a from 'a'".to_owned(), String::new(), "é\u{1F600}".to_owned()];
        let files: Vec<CodeFile> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let path = dir.path().join(format!("f{i}.js"));
                std::fs::write(&path, t).expect("write");
                CodeFile::on_disk(format!("f{i}.js"), path)
            })
            .collect();
        let mut scans = 0;
        for reader in 0..2 {
            let mut budget = Budget::new(&CodeLimits::default());
            for (f, text) in files.iter().zip(&texts) {
                let found = f
                    .imports(&mut budget, |seen| {
                        scans += 1;
                        assert_eq!(seen, text.as_str());
                        Some(vec![Import { spec: seen.len().to_string(), line: 1, type_only: false }])
                    })
                    .expect("read");
                assert_eq!(found.map(|i| i[0].spec.clone()), Some(text.len().to_string()), "reader {reader}");
            }
            assert_eq!(budget.used, texts.iter().map(|t| t.len() as u64).sum::<u64>(), "reader {reader}");
        }
        assert_eq!(scans, texts.len(), "each file scanned once");
        // invalid UTF-8 is replaced
        let path = dir.path().join("bad.js");
        std::fs::write(&path, b"f\xffg").expect("write");
        let bad = CodeFile::on_disk("bad.js".to_owned(), path);
        let mut budget = Budget::new(&CodeLimits::default());
        let seen =
            bad.imports(&mut budget, |text| Some(vec![Import { spec: text.to_owned(), line: 1, type_only: false }]));
        assert_eq!(seen.expect("read").map(|i| i[0].spec.clone()), Some("f\u{FFFD}g".to_owned()));
    }
}

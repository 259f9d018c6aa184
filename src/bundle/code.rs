//! The function's own code, read into memory for the unused-package check: its source files
//! (JavaScript/TypeScript, Python, Go, Rust), the manifests and config files that declare or name
//! packages, and the `*.dist-info/top_level.txt` of Python distributions vendored in its folder.
//! Bounded (file count, file size, total bytes); nothing is executed. The check itself
//! (`risk::unused`) is pure over what this returns.
//!
//! What counts as the function's code: every source file under its code folder, except
//! dependency and build folders (`node_modules`, `.venv`, `site-packages`, `target`, `dist`,
//! `.aws-sam`, `cdk.out`, ...) and tests (`test/`, `tests/`, `__tests__/`, `*.test.*`,
//! `*.spec.*`, `test_*.py`, `*_test.py`, `conftest.py`, `*_test.go`): tests live in the folder but
//! are not shipped code, and they import dev dependencies, which would hide unused production
//! ones.

use std::collections::{BTreeMap, HashMap};
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

/// A source file of the function, read when first asked for ([`CodeFile::text`]): only the
/// files reachable from the function's entry are read at all, and once per scan when units
/// share the folder ([`CodeCache`]). Its size was checked against the limits when listed.
#[derive(Debug, Clone)]
pub struct CodeFile {
    /// `/`-separated, relative to the function's root.
    pub path: String,
    /// Where it is read from and its size when listed; `None` when its text came with it (a
    /// zip's code).
    disk: Option<(PathBuf, u64)>,
    text: OnceLock<Result<Text, String>>,
}

/// A code file's text: shared with the zip it came from, or read from disk (kept as read: making
/// it an `Arc<str>` would copy every file once more).
#[derive(Debug, Clone)]
enum Text {
    Shared(Arc<str>),
    Read(String),
}

impl Text {
    fn as_str(&self) -> &str {
        match self {
            Text::Shared(text) => text,
            Text::Read(text) => text,
        }
    }
}

impl CodeFile {
    /// A file whose text is already in memory.
    pub fn loaded(path: String, text: Arc<str>) -> CodeFile {
        CodeFile { path, disk: None, text: OnceLock::from(Ok(Text::Shared(text))) }
    }

    /// A file on disk of `size` bytes when listed, read on first use.
    pub fn on_disk(path: String, disk: PathBuf, size: u64) -> CodeFile {
        CodeFile { path, disk: Some((disk, size)), text: OnceLock::new() }
    }

    /// Whether the text was asked for (or came with the file).
    pub fn is_read(&self) -> bool {
        self.text.get().is_some()
    }

    /// The file's text (invalid UTF-8 replaced), read on first use; the error says why it could
    /// not be read.
    pub fn text(&self) -> Result<&str, &str> {
        let text = self.text.get_or_init(|| {
            let Some((disk, size)) = &self.disk else { return Err("no text".to_owned()) };
            match read_sized(disk, *size) {
                Ok(bytes) => Ok(Text::Read(match String::from_utf8(bytes) {
                    Ok(text) => text,
                    Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
                })),
                Err(e) => Err(e.to_string()),
            }
        });
        text.as_ref().map(Text::as_str).map_err(String::as_str)
    }
}

/// The whole file at `path`, whose size was `size` when its folder was listed: one open and
/// the reads, no `stat` (`fs::read` stats the file twice to size its buffer). A file that
/// changed size since is still read whole.
fn read_sized(path: &Path, size: u64) -> std::io::Result<Vec<u8>> {
    read_open(fs_err::File::open(path)?, size)
}

/// The rest of an open file expected to hold `size` bytes, read into one buffer of that size.
/// Read through the plain file (the error names the path all the same): `fs_err`'s reader
/// zero-fills the buffer before each read, which costs more than the read.
fn read_open(file: fs_err::File, size: u64) -> std::io::Result<Vec<u8>> {
    let (file, path) = file.into_parts();
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0).saturating_add(1));
    // through `Take` so that `read_to_end` does not stat the file for its size hint
    match std::io::Read::read_to_end(&mut std::io::Read::take(&file, u64::MAX), &mut bytes) {
        Ok(_) => Ok(bytes),
        Err(e) => Err(std::io::Error::new(e.kind(), format!("failed to read from file `{}`: {e}", path.display()))),
    }
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

/// Reads the code of the function whose code folder is `root`, plus the manifests of `extra_dirs`
/// (the lockfile's folder when it is not inside `root`).
pub fn read_function_code(root: &Path, extra_dirs: &[PathBuf], limits: &CodeLimits) -> FunctionCode {
    let mut code = FunctionCode { root: root.to_string_lossy().replace('\\', "/"), ..FunctionCode::default() };
    let mut total = 0u64;
    let mut stack = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, rel)) = stack.pop() {
        let entries = match fs_err::read_dir(&dir) {
            Ok(e) => e,
            Err(e) => {
                code.diagnostics.push(Diagnostic::at("code/read", code_path(&code.root, &rel), e.to_string()));
                continue;
            }
        };
        // one folder's entries share its path: by name (then kind) is by path; an entry's path
        // and relative name are built only for what is kept
        let mut names: Vec<(String, bool, fs_err::DirEntry)> = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let kind = e.file_type().ok()?;
                if kind.is_symlink() {
                    return None;
                }
                // one copy of the name (a lossy one only when it is not UTF-8)
                let name = e.file_name().into_string().unwrap_or_else(|raw| raw.to_string_lossy().into_owned());
                Some((name, kind.is_dir(), e))
            })
            .collect();
        names.sort_by(|a, b| {
            // names the lossy conversion made equal: by the names as they are
            let raw = || if a.0 == b.0 { a.2.file_name().cmp(&b.2.file_name()) } else { std::cmp::Ordering::Equal };
            a.0.cmp(&b.0).then_with(raw).then(a.1.cmp(&b.1))
        });
        for (name, is_dir, entry) in names {
            let child = || if rel.is_empty() { name.clone() } else { format!("{rel}/{name}") };
            if is_dir {
                if name.ends_with(".dist-info") {
                    vendored_dist(&mut code, &entry.path(), &name);
                } else if !SKIP_DIRS.contains(&name.as_str()) && !name.starts_with('.') {
                    stack.push((entry.path(), child()));
                }
                continue;
            }
            if super::metafile::is_metafile_name(&name) {
                let child = child();
                if let Some(text) = read_bounded(&mut code, &entry.path(), &child, limits, &mut total) {
                    add_metafile(&mut code, &child, &text);
                }
                continue;
            }
            let ext = name.rsplit_once('.').map(|(_, e)| e).unwrap_or_default();
            let wanted_source = SOURCE_EXTENSIONS.contains(&ext) && !is_test_file(&name) && !name.ends_with(".d.ts");
            let wanted_manifest = is_manifest(&name);
            if !wanted_source && !wanted_manifest {
                continue;
            }
            let (child, path) = (child(), entry.path());
            if code.files.len() + code.manifests.len() >= limits.max_files {
                let message = format!("more than {} files: the rest of the folder is not read", limits.max_files);
                code.diagnostics.push(Diagnostic::at("code/limit", code.root.clone(), message));
                return finish(code);
            }
            if wanted_source {
                // the size from the folder's entry (a stat relative to the open folder)
                let size = entry.metadata().map_or(0, |m| m.len());
                if admit(&mut code, size, &child, limits, &mut total) {
                    code.files.push(CodeFile::on_disk(child, path, size));
                }
                continue;
            }
            let Some(text) = read_bounded(&mut code, &path, &child, limits, &mut total) else { continue };
            code.manifests.push(SourceFile { path: child, text: text.into() });
        }
    }
    for dir in extra_dirs {
        extra_manifests(&mut code, dir, limits, &mut total);
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

/// Whether a file of `size` bytes fits the limits (its size counted into `total`); a
/// diagnostic when not.
fn admit(code: &mut FunctionCode, size: u64, rel: &str, limits: &CodeLimits, total: &mut u64) -> bool {
    if size > limits.max_file_bytes {
        let message = format!("{size} bytes, more than the {}-byte limit: imports not scanned", limits.max_file_bytes);
        code.diagnostics.push(Diagnostic::at("code/too-large", code_path(&code.root, rel), message));
        return false;
    }
    if *total + size > limits.max_total_bytes {
        let message = format!("the function's code is over {} bytes: not scanned", limits.max_total_bytes);
        code.diagnostics.push(Diagnostic::at("code/limit", code_path(&code.root, rel), message));
        return false;
    }
    *total += size;
    true
}

fn read_bounded(
    code: &mut FunctionCode,
    path: &Path,
    rel: &str,
    limits: &CodeLimits,
    total: &mut u64,
) -> Option<String> {
    // one open and one stat of the open file for both the limits and the read
    let file = fs_err::File::open(path);
    let size = file.as_ref().ok().and_then(|f| f.metadata().ok()).map_or(0, |m| m.len());
    if !admit(code, size, rel, limits, total) {
        return None;
    }
    let shown = code_path(&code.root, rel);
    let read = file.and_then(|f| read_open(f, size));
    match read {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => Some(text),
            Err(e) => Some(String::from_utf8_lossy(e.as_bytes()).into_owned()),
        },
        Err(e) => {
            code.diagnostics.push(Diagnostic::at("code/read", shown, e.to_string()));
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

fn extra_manifests(code: &mut FunctionCode, dir: &Path, limits: &CodeLimits, total: &mut u64) {
    let Ok(entries) = fs_err::read_dir(dir) else { return };
    let mut names: Vec<(String, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .filter(|(n, _)| is_manifest(n))
        .collect();
    names.sort();
    for (name, path) in names {
        let shown = path.to_string_lossy().replace('\\', "/");
        if code.manifests.iter().any(|m| m.path == name) {
            continue;
        }
        if let Some(text) = read_bounded(code, &path, &shown, limits, total) {
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
#[derive(Debug, Default)]
pub struct CodeCache {
    limits: CodeLimits,
    entries: Mutex<HashMap<CodeKey, CacheEntry>>,
}

#[derive(Debug)]
struct CacheEntry {
    users: usize,
    code: Arc<OnceLock<Arc<FunctionCode>>>,
}

impl CodeCache {
    /// A cache for one read per announced key (a key announced twice is read once, taken twice).
    pub fn new(keys: impl IntoIterator<Item = CodeKey>, limits: CodeLimits) -> CodeCache {
        let mut entries: HashMap<CodeKey, CacheEntry> = HashMap::new();
        for key in keys {
            entries.entry(key).or_insert_with(|| CacheEntry { users: 0, code: Arc::default() }).users += 1;
        }
        CodeCache { limits, entries: Mutex::new(entries) }
    }

    /// The code of `key`, read by the first unit that asks ([`read_function_code`]). A key that was
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
        let read = || Arc::new(read_function_code(&key.0, &key.1, &self.limits));
        match cell {
            Some(cell) => Arc::clone(cell.get_or_init(read)),
            None => read(),
        }
    }
}

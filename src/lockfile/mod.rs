//! Lockfile parsing: `detect` tells a lockfile's format from its name, `parse` turns its bytes
//! into a [`DepGraph`] (pure, no I/O), and `load` reads a file and its sidecars from disk.
//! One submodule per format family.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::graph::DepGraph;

pub use crate::vocab::LockfileFormat;

/// A lockfile that could not be read or parsed. `location` is `line:col` or a JSON/TOML/YAML
/// key path when the parser knows it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct LockfileError {
    pub path: PathBuf,
    pub location: Option<String>,
    pub message: String,
}

impl fmt::Display for LockfileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Some(loc) => write!(f, "{}:{}: {}", self.path.display(), loc, self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

impl LockfileError {
    pub fn new(path: &Path, location: Option<String>, message: impl Into<String>) -> LockfileError {
        LockfileError { path: path.to_owned(), location, message: message.into() }
    }
}

/// What a parser gets: the file's path (for messages and to resolve relative includes), its
/// bytes, and a way to read files next to it (`package.json`, `go.sum`, `-r other.txt`) that
/// tests can serve from memory. The reader takes a path relative to the lockfile's folder.
pub struct ParseInput<'a> {
    pub path: &'a Path,
    pub bytes: &'a [u8],
    pub read_sibling: &'a dyn Fn(&Path) -> Option<Vec<u8>>,
}

/// A parsed lockfile: its tree plus per-package problems that did not stop the parse
/// (an odd version, an unpinned requirement).
#[derive(Debug, Clone)]
pub struct Parsed {
    pub graph: DepGraph,
    pub warnings: Vec<String>,
}

mod cargo;
mod cargo_lines;
mod golang;
mod npm;
mod npm_scan;
mod pnpm;
mod pnpm_yaml;
mod python;
mod yarn;

/// Paths the parsers' tests read: the repository's fixtures and the shared corpus.
#[cfg(test)]
pub(crate) mod test_paths {
    use std::path::{Path, PathBuf};

    fn repo_root() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
    }

    pub(crate) fn fixture(rel: &str) -> PathBuf {
        repo_root().join("fixtures").join(rel)
    }

    /// `../shared` (or `$BUNDLEGUARD_SHARED`); the tests that need it are ignored unless asked.
    pub(crate) fn shared() -> PathBuf {
        let dir =
            std::env::var_os("BUNDLEGUARD_SHARED").map_or_else(|| repo_root().join("..").join("shared"), PathBuf::from);
        assert!(dir.join("corpus").is_dir(), "needs ../shared (the lockfile corpus) at {}", dir.display());
        dir
    }

    /// Every file called `name` under `dir`, in path order.
    pub(crate) fn files_named(dir: &Path, name: &str, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        let mut entries: Vec<PathBuf> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                files_named(&p, name, out);
            } else if p.file_name().is_some_and(|n| n == name) {
                out.push(p);
            }
        }
    }

    /// A differential test over `files`: `compare` gives `None` when the fast path declined the
    /// text, else whether it agrees with the reference parser. Returns `(failures, declined)`.
    pub(crate) fn differential(
        files: &[PathBuf],
        compare: impl Fn(&Path, &str) -> Option<Result<(), String>>,
    ) -> (Vec<String>, Vec<String>) {
        let mut failures = Vec::new();
        let mut declined = Vec::new();
        for path in files {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            match compare(path, &text) {
                None => declined.push(path.display().to_string()),
                Some(Ok(())) => {}
                Some(Err(e)) => failures.push(format!("{}: {e}", path.display())),
            }
        }
        (failures, declined)
    }
}

/// Lockfiles larger than this are refused (the largest real ones are tens of MB).
pub const MAX_LOCKFILE_BYTES: u64 = 256 * 1024 * 1024;

/// A lockfile read from disk and parsed.
#[derive(Debug, Clone)]
pub struct Lockfile {
    pub path: PathBuf,
    pub format: LockfileFormat,
    pub graph: DepGraph,
    pub warnings: Vec<String>,
}

/// The format a file's name says it has. `requirements*.txt`, `*requirements.txt` and any
/// `*.txt` inside a folder named `requirements` are requirements files.
pub fn detect(path: &Path) -> Option<LockfileFormat> {
    let name = path.file_name()?.to_str()?;
    let format = match name {
        "package-lock.json" => LockfileFormat::NpmPackageLock,
        "npm-shrinkwrap.json" => LockfileFormat::NpmShrinkwrap,
        "yarn.lock" => LockfileFormat::YarnLock,
        "pnpm-lock.yaml" => LockfileFormat::PnpmLock,
        "poetry.lock" => LockfileFormat::PoetryLock,
        "Pipfile.lock" => LockfileFormat::PipfileLock,
        "uv.lock" => LockfileFormat::UvLock,
        "pdm.lock" => LockfileFormat::PdmLock,
        "go.mod" => LockfileFormat::GoMod,
        "Cargo.lock" => LockfileFormat::CargoLock,
        _ if is_requirements_file(path, name) => LockfileFormat::Requirements,
        _ => return None,
    };
    Some(format)
}

fn is_requirements_file(path: &Path, name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let Some(stem) = lower.strip_suffix(".txt") else {
        return false;
    };
    let in_requirements_folder =
        path.parent().and_then(Path::file_name).is_some_and(|dir| dir.eq_ignore_ascii_case("requirements"));
    stem.starts_with("requirements") || stem.ends_with("requirements") || in_requirements_folder
}

/// Reads a lockfile (its format told by [`detect`]) and the sidecar files its parser asks for,
/// and parses it.
pub fn load(path: &Path) -> Result<Lockfile, LockfileError> {
    let format = detect(path).ok_or_else(|| LockfileError::new(path, None, "not a lockfile name bundleguard knows"))?;
    load_as(path, format)
}

/// [`load`] with the format given.
pub fn load_as(path: &Path, format: LockfileFormat) -> Result<Lockfile, LockfileError> {
    let bytes = read_capped(path).map_err(|msg| LockfileError::new(path, None, msg))?;
    let folder = path.parent().unwrap_or(Path::new("")).to_path_buf();
    let read_sibling = move |relative: &Path| -> Option<Vec<u8>> {
        if relative.is_absolute() {
            return None;
        }
        read_capped(&folder.join(relative)).ok()
    };
    let parsed = parse(format, &ParseInput { path, bytes: &bytes, read_sibling: &read_sibling })?;
    Ok(Lockfile { path: path.to_owned(), format, graph: parsed.graph, warnings: parsed.warnings })
}

/// Reads a whole file, refusing one larger than [`MAX_LOCKFILE_BYTES`].
fn read_capped(path: &Path) -> Result<Vec<u8>, String> {
    use std::io::Read as _;
    let file = fs_err::File::open(path).map_err(|e| e.to_string())?;
    let len = file.metadata().map_err(|e| e.to_string())?.len();
    if len > MAX_LOCKFILE_BYTES {
        return Err(format!("{len} bytes is more than the {MAX_LOCKFILE_BYTES}-byte limit for a lockfile"));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.take(MAX_LOCKFILE_BYTES + 1).read_to_end(&mut bytes).map_err(|e| e.to_string())?;
    if bytes.len() as u64 > MAX_LOCKFILE_BYTES {
        return Err("file grew past the lockfile size limit while read".to_owned());
    }
    Ok(bytes)
}

/// Block nesting deeper than this many columns of indentation and `- ` items at the start of a
/// line is refused before a YAML document is deserialized: serde-saphyr bounds flow nesting and
/// its depth budget, but a line of compact block sequences (`- - - - x`) tens of thousands deep
/// overflows the stack of a recursive deserializer (found by the hostile-input test).
pub(crate) const MAX_YAML_BLOCK_COLUMNS: usize = 256;

/// The 1-based line whose leading run of spaces and `- ` / `? ` items is longer than `max`
/// columns, if any. Conservative: it only looks at line starts, never inside scalars.
pub(crate) fn yaml_block_too_deep(text: &str, max: usize) -> Option<usize> {
    for (index, line) in text.lines().enumerate() {
        if line.len() <= max {
            continue;
        }
        let bytes = line.as_bytes();
        let mut structural = 0;
        while structural <= max {
            match (bytes.get(structural), bytes.get(structural + 1)) {
                (Some(b' '), _) => structural += 1,
                (Some(b'-' | b'?'), Some(b' ' | b'\t')) => structural += 2,
                _ => break,
            }
        }
        if structural > max {
            return Some(index + 1);
        }
    }
    None
}

/// Parses one lockfile's bytes. Pure: sibling files come through `input.read_sibling`.
///
/// Rules every format shares:
/// - a UTF-8 byte-order mark is skipped (npm, pip and the TOML tools accept it); UTF-16 text is
///   an error, except for requirements files, which pip decodes from a BOM;
/// - an empty (or whitespace-only) file is an error: every lockfile format writes something,
///   even for a project without dependencies. Requirements files are the exception (an empty
///   one is valid for pip) and get the warning below;
/// - a file that parses but lists no packages at all gets a warning `no packages in this
///   lockfile`, so it never passes silently.
pub fn parse(format: LockfileFormat, input: &ParseInput<'_>) -> Result<Parsed, LockfileError> {
    let bytes = input.bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input.bytes);
    if format != LockfileFormat::Requirements {
        if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
            return Err(LockfileError::new(input.path, None, format!("UTF-16 text: a {format} is UTF-8")));
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(LockfileError::new(input.path, None, format!("empty file: not a {format}")));
        }
    }
    let input = ParseInput { path: input.path, bytes, read_sibling: input.read_sibling };
    let mut parsed = parse_format(format, &input)?;
    if parsed.graph.is_empty() {
        parsed.warnings.push("no packages in this lockfile".to_owned());
    }
    Ok(parsed)
}

fn parse_format(format: LockfileFormat, input: &ParseInput<'_>) -> Result<Parsed, LockfileError> {
    match format {
        LockfileFormat::NpmPackageLock | LockfileFormat::NpmShrinkwrap => npm::parse_package_lock(input),
        LockfileFormat::YarnLock => yarn::parse(input),
        LockfileFormat::PnpmLock => pnpm::parse(input),
        LockfileFormat::Requirements => python::parse_requirements(input),
        LockfileFormat::PoetryLock => python::parse_poetry(input),
        LockfileFormat::PipfileLock => python::parse_pipfile(input),
        LockfileFormat::UvLock => python::parse_uv(input),
        LockfileFormat::PdmLock => python::parse_pdm(input),
        LockfileFormat::GoMod => golang::parse_go_mod(input),
        LockfileFormat::CargoLock => cargo::parse_cargo_lock(input),
    }
}

//! Lockfile parsing: `detect` tells a lockfile's format from its name, `parse` turns its bytes
//! into a [`DepGraph`] (pure, no I/O), and `load` reads a file and its sidecars from disk.
//! One submodule per format family.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::graph::DepGraph;

/// Every lockfile format bundleguard reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LockfileFormat {
    NpmPackageLock,
    NpmShrinkwrap,
    YarnLock,
    PnpmLock,
    Requirements,
    PoetryLock,
    PipfileLock,
    UvLock,
    PdmLock,
    GoMod,
    CargoLock,
}

impl LockfileFormat {
    /// Stable name used in reports and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            LockfileFormat::NpmPackageLock => "package-lock.json",
            LockfileFormat::NpmShrinkwrap => "npm-shrinkwrap.json",
            LockfileFormat::YarnLock => "yarn.lock",
            LockfileFormat::PnpmLock => "pnpm-lock.yaml",
            LockfileFormat::Requirements => "requirements.txt",
            LockfileFormat::PoetryLock => "poetry.lock",
            LockfileFormat::PipfileLock => "Pipfile.lock",
            LockfileFormat::UvLock => "uv.lock",
            LockfileFormat::PdmLock => "pdm.lock",
            LockfileFormat::GoMod => "go.mod",
            LockfileFormat::CargoLock => "Cargo.lock",
        }
    }
}

impl fmt::Display for LockfileFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

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
mod golang;
mod npm;
mod pnpm;
mod python;
mod yarn;

/// Parses one lockfile's bytes. Pure: sibling files come through `input.read_sibling`.
pub fn parse(format: LockfileFormat, input: &ParseInput<'_>) -> Result<Parsed, LockfileError> {
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

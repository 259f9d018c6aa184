//! The walker: finds the lockfiles under a folder (skipping `node_modules`, `.venv`, `vendor`,
//! `target`, `.git`; symlinks are not followed) and the manifests that declare dependencies but
//! have no lockfile, whose tree therefore cannot be known.
//!
//! A manifest is covered by a lockfile of its family in its own folder or an ancestor folder
//! (within the walked root), since workspaces keep one lockfile at their top:
//! `package.json` by package-lock / shrinkwrap / yarn / pnpm lockfiles; `pyproject.toml` by
//! `poetry.lock`, `uv.lock`, `pdm.lock` or a requirements file; `Pipfile` by `Pipfile.lock`
//! (same folder only); `Cargo.toml` by `Cargo.lock`. A manifest that declares no dependency
//! needs no lockfile and is not reported. When `npm-shrinkwrap.json` and `package-lock.json`
//! are both present, npm uses the shrinkwrap: only it is returned.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::{LockfileFormat, detect};

/// Folders never descended into.
const SKIPPED_DIRS: [&str; 5] = ["node_modules", ".venv", "vendor", "target", ".git"];

/// Manifests larger than this are taken as declaring dependencies without being read.
const MAX_MANIFEST_BYTES: u64 = 4 * 1024 * 1024;

/// What a walk found. All lists are sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Discovery {
    pub lockfiles: Vec<PathBuf>,
    /// Manifests that declare dependencies with no lockfile for them.
    pub unlocked_manifests: Vec<PathBuf>,
    /// Folders that could not be read.
    pub errors: Vec<String>,
}

/// The lockfiles under `root` (or `root` itself when it is a file).
pub fn find(root: &Path) -> Vec<PathBuf> {
    discover(root).lockfiles
}

/// Walks `root`: its lockfiles and its manifests without a lockfile.
pub fn discover(root: &Path) -> Discovery {
    if root.is_file() {
        return Discovery { lockfiles: vec![root.to_path_buf()], ..Discovery::default() };
    }
    let mut discovery = Discovery::default();
    let folders = list_folders(root, &mut discovery.errors);
    for (dir, names) in &folders {
        let shrinkwrap = names.contains("npm-shrinkwrap.json");
        for name in names {
            let path = dir.join(name);
            let Some(format) = detect(&path) else {
                continue;
            };
            if format == LockfileFormat::NpmPackageLock && shrinkwrap {
                continue;
            }
            discovery.lockfiles.push(path);
        }
        for name in names {
            if let Some(family) = Family::of_manifest(name)
                && !family.is_covered(dir, root, &folders)
                && declares_dependencies(&dir.join(name), family)
            {
                discovery.unlocked_manifests.push(dir.join(name));
            }
        }
    }
    discovery.lockfiles.sort();
    discovery.unlocked_manifests.sort();
    discovery
}

/// Every folder under `root` with the names of the regular files in it.
fn list_folders(root: &Path, errors: &mut Vec<String>) -> BTreeMap<PathBuf, BTreeSet<String>> {
    let mut folders = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = match fs_err::read_dir(&dir) {
            Ok(entries) => entries,
            Err(err) => {
                errors.push(err.to_string());
                continue;
            }
        };
        let mut names = BTreeSet::new();
        for entry in entries.flatten() {
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let name = entry.file_name().to_string_lossy().into_owned();
            if kind.is_dir() && !SKIPPED_DIRS.contains(&name.as_str()) {
                stack.push(entry.path());
            } else if kind.is_file() {
                names.insert(name);
            }
        }
        folders.insert(dir, names);
    }
    folders
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Npm,
    PyProject,
    Pipfile,
    Cargo,
}

impl Family {
    fn of_manifest(name: &str) -> Option<Family> {
        match name {
            "package.json" => Some(Family::Npm),
            "pyproject.toml" => Some(Family::PyProject),
            "Pipfile" => Some(Family::Pipfile),
            "Cargo.toml" => Some(Family::Cargo),
            _ => None,
        }
    }

    fn locks(self, format: LockfileFormat) -> bool {
        use LockfileFormat as F;
        match self {
            Family::Npm => matches!(format, F::NpmPackageLock | F::NpmShrinkwrap | F::YarnLock | F::PnpmLock),
            Family::PyProject => {
                matches!(format, F::PoetryLock | F::UvLock | F::PdmLock | F::Requirements | F::PipfileLock)
            }
            Family::Pipfile => format == F::PipfileLock,
            Family::Cargo => format == F::CargoLock,
        }
    }

    /// Whether a lockfile of this family sits in `dir` or (but for `Pipfile`) an ancestor
    /// within `root`.
    fn is_covered(self, dir: &Path, root: &Path, folders: &BTreeMap<PathBuf, BTreeSet<String>>) -> bool {
        let mut at = Some(dir);
        while let Some(folder) = at {
            let has_lock = folders
                .get(folder)
                .is_some_and(|names| names.iter().any(|n| detect(&folder.join(n)).is_some_and(|f| self.locks(f))));
            if has_lock {
                return true;
            }
            if self == Family::Pipfile || folder == root {
                return false;
            }
            at = folder.parent();
        }
        false
    }
}

/// Whether a manifest declares any dependency. Unreadable or odd manifests count as declaring.
fn declares_dependencies(path: &Path, family: Family) -> bool {
    let too_big = fs_err::metadata(path).map_or(true, |m| m.len() > MAX_MANIFEST_BYTES);
    if too_big {
        return true;
    }
    let Ok(text) = fs_err::read_to_string(path) else {
        return true;
    };
    match family {
        Family::Npm => serde_json::from_str::<serde_json::Value>(&text).map_or(true, |json| {
            ["dependencies", "devDependencies", "optionalDependencies", "peerDependencies"]
                .iter()
                .any(|key| json.get(key).is_some_and(non_empty_json))
        }),
        Family::PyProject | Family::Pipfile | Family::Cargo => {
            toml::from_str::<toml::Table>(&text).map_or(true, |table| toml_declares(&toml::Value::Table(table), family))
        }
    }
}

fn non_empty_json(value: &serde_json::Value) -> bool {
    value.as_object().is_some_and(|o| !o.is_empty())
}

fn toml_declares(doc: &toml::Value, family: Family) -> bool {
    let non_empty = |keys: &[&str]| {
        let mut at = Some(doc);
        for key in keys {
            at = at.and_then(|v| v.get(key));
        }
        match at {
            Some(toml::Value::Table(t)) => t.keys().any(|k| k != "python"),
            Some(toml::Value::Array(a)) => !a.is_empty(),
            _ => false,
        }
    };
    match family {
        Family::PyProject => {
            non_empty(&["project", "dependencies"])
                || non_empty(&["project", "optional-dependencies"])
                || non_empty(&["dependency-groups"])
                || non_empty(&["tool", "poetry", "dependencies"])
                || non_empty(&["tool", "poetry", "group"])
        }
        Family::Pipfile => non_empty(&["packages"]) || non_empty(&["dev-packages"]),
        Family::Cargo => {
            ["dependencies", "dev-dependencies", "build-dependencies", "target"].iter().any(|k| non_empty(&[k]))
                || non_empty(&["workspace", "dependencies"])
                || non_empty(&["workspace", "members"])
        }
        Family::Npm => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection_by_name() {
        for (path, want) in [
            ("a/requirements.txt", Some(LockfileFormat::Requirements)),
            ("a/requirements-dev.txt", Some(LockfileFormat::Requirements)),
            ("a/dev-requirements.txt", Some(LockfileFormat::Requirements)),
            ("a/requirements/base.txt", Some(LockfileFormat::Requirements)),
            ("a/notes.txt", None),
            ("a/requirements.in", None),
            ("go.mod", Some(LockfileFormat::GoMod)),
            ("go.sum", None),
            ("x/Cargo.lock", Some(LockfileFormat::CargoLock)),
        ] {
            assert_eq!(detect(Path::new(path)), want, "{path}");
        }
    }
}

//! Manifests that declare dependencies (`package.json`, `pyproject.toml`, `Pipfile`,
//! `Cargo.toml`) and whether a lockfile covers them: one of its family in the manifest's folder or
//! an ancestor folder (within the walked root), since workspaces keep one lockfile at their top:
//! `package.json` by package-lock / shrinkwrap / yarn / pnpm lockfiles; `pyproject.toml` by
//! `poetry.lock`, `uv.lock`, `pdm.lock` or a requirements file; `Pipfile` by `Pipfile.lock`
//! (same folder only); `Cargo.toml` by `Cargo.lock`. A manifest that declares no dependency
//! needs no lockfile and is not reported.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::lockfile::{LockfileFormat, detect};

/// Manifests larger than this are taken as declaring dependencies without being read.
const MAX_MANIFEST_BYTES: u64 = 4 * 1024 * 1024;

/// Whether a file of this name is a manifest this module knows.
pub(super) fn is_manifest_name(name: &str) -> bool {
    Family::of_manifest(name).is_some()
}

/// Whether `name` in `dir` is a manifest that declares dependencies with no lockfile for them.
/// `folders` maps each walked folder to the names of the files in it.
pub(super) fn is_unlocked(dir: &Path, name: &str, root: &Path, folders: &BTreeMap<PathBuf, BTreeSet<String>>) -> bool {
    Family::of_manifest(name)
        .is_some_and(|family| !family.is_covered(dir, root, folders) && declares_dependencies(&dir.join(name), family))
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

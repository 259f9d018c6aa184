//! The per-version facts the registry clients extract, in one shape for all four ecosystems.
//! `None` always means *unknown* (the registry never gives it, or a mirror stripped it), never
//! "no": checks count such packages as not evaluated.

use std::sync::{Arc, OnceLock};

use jiff::Timestamp;

use crate::package::{Ecosystem, PackageName};

/// What a registry says of one package, all versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageFacts {
    pub ecosystem: Ecosystem,
    pub name: PackageName,
    /// When these facts were fetched (for the cache TTL and for reports).
    pub fetched_at: Timestamp,
    /// Every published version the registry lists, in no particular order.
    pub versions: Vec<VersionFacts>,
    /// Current maintainers/owners of the package, when the registry says.
    pub maintainers: Option<Vec<String>>,
    /// PEP 792 status, npm package-level deprecation, Go module `// Deprecated:`.
    pub status: Option<ProjectStatus>,
    /// The registry's own "latest" (npm dist-tag, PyPI info.version, Go @latest), when given.
    pub latest: Option<String>,
}

/// A project-level status (PEP 792 and equivalents).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProjectStatus {
    Active,
    Archived,
    Deprecated { message: Option<String> },
    Quarantined,
}

/// What a registry says of one version.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VersionFacts {
    pub version: String,
    pub published: Option<Timestamp>,
    /// The account that published it (npm `_npmUser.name`, crates.io `published_by.login`).
    pub publisher: Option<String>,
    /// Published by a trusted publisher (OIDC) or with provenance / attestations.
    pub provenance: Option<bool>,
    /// npm lifecycle scripts that run at install: `preinstall`, `install`, `postinstall`
    /// (name, command), sorted by name; `Some(vec![])` means known to have none.
    pub install_scripts: Option<List<(String, String)>>,
    /// The deprecation message, when deprecated (`Some(None)`: deprecated without message is
    /// not representable in npm; use `Some(text)`); `None`: unknown or not deprecated, see
    /// `deprecation_known`.
    pub deprecated: Option<String>,
    /// Whether the registry gives deprecation data at all for this version.
    pub deprecation_known: bool,
    /// Yanked (PyPI, crates.io) or retracted (Go): `Some(reason or "")`; `None` with
    /// `yank_known` false: unknown.
    pub yanked: Option<String>,
    pub yank_known: bool,
    /// Names of the version's runtime dependencies, sorted.
    pub dependencies: Option<List<String>>,
    /// Maintainers listed on this version (npm `maintainers`), sorted.
    pub maintainers: Option<List<String>>,
}

/// A per-version list (install scripts, dependencies, maintainers), read as a slice. A list from
/// the cache is decoded from its package's blob when first read: a scan reads the lists of the
/// locked versions and their predecessors only, not of every version a registry lists (issue
/// 10: decoding them all was most of a warm-cache scan's allocations). The blob was validated
/// whole before any list of it is handed out ([`super::packed::decode`]).
pub struct List<T> {
    items: OnceLock<Vec<T>>,
    packed: Option<Packed<T>>,
}

/// Where a list not yet decoded is: its package's blob, the offset of its count, and the reader.
struct Packed<T> {
    blob: Arc<[u8]>,
    at: usize,
    read: fn(&[u8], usize) -> Vec<T>,
}

impl<T> List<T> {
    /// The list at byte `at` of a validated `blob`, decoded by `read` when first read.
    pub(super) fn packed(blob: Arc<[u8]>, at: usize, read: fn(&[u8], usize) -> Vec<T>) -> List<T> {
        List { items: OnceLock::new(), packed: Some(Packed { blob, at, read }) }
    }

    fn force(&self) -> &Vec<T> {
        self.items.get_or_init(|| self.packed.as_ref().map_or_else(Vec::new, |p| (p.read)(&p.blob, p.at)))
    }
}

impl<T> Default for List<T> {
    fn default() -> List<T> {
        List::from(Vec::new())
    }
}

impl<T> From<Vec<T>> for List<T> {
    fn from(items: Vec<T>) -> List<T> {
        List { items: OnceLock::from(items), packed: None }
    }
}

impl<T> FromIterator<T> for List<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> List<T> {
        List::from(iter.into_iter().collect::<Vec<T>>())
    }
}

impl<T> std::ops::Deref for List<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        self.force()
    }
}

impl<'a, T> IntoIterator for &'a List<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;

    fn into_iter(self) -> std::slice::Iter<'a, T> {
        self.iter()
    }
}

impl<T: Clone> Clone for List<T> {
    /// A packed list stays packed (the blob is shared); a decoded one is copied.
    fn clone(&self) -> List<T> {
        match (self.items.get(), &self.packed) {
            (None, Some(p)) => List::packed(Arc::clone(&p.blob), p.at, p.read),
            _ => List::from(self.force().clone()),
        }
    }
}

impl<T: PartialEq> PartialEq for List<T> {
    fn eq(&self, other: &List<T>) -> bool {
        **self == **other
    }
}

impl<T: Eq> Eq for List<T> {}

impl<T: std::fmt::Debug> std::fmt::Debug for List<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        (**self).fmt(f)
    }
}

impl<T: serde::Serialize> serde::Serialize for List<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        (**self).serialize(serializer)
    }
}

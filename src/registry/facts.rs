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
    /// Why every publish time was dropped where the facts entered the scan
    /// ([`crate::registry::times::vet`]: the policy distrusts the registry, or the times look
    /// rewritten by a mirror); `None`: the times are as the registry gave them. Not cached: the
    /// facts are vetted each time they are read.
    pub dropped_times: Option<String>,
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
///
/// Kept small, as every cached version holds three (issue 10: a warm-cache scan holds some
/// 25,000 versions): the items as a boxed slice, the blob behind one thin pointer and the
/// offset as a `u32` ([`super::packed::decode_shared`] refuses larger blobs): 40 bytes, not 56.
pub struct List<T> {
    items: OnceLock<Box<[T]>>,
    /// Where a list not yet decoded is: its package's blob and the offset of its count.
    packed: Option<(Blob, u32)>,
}

/// One package's cache blob, shared by its versions' lists (a thin pointer: 8 bytes a list).
pub type Blob = Arc<Vec<u8>>;

/// What a list holds, and how the cache encodes it ([`super::packed`]).
pub trait Item: Sized {
    /// The list at byte `at` of a validated blob.
    fn read(blob: &[u8], at: usize) -> Vec<Self>;
    /// The end of the list at byte `at` of a validated blob (`None`: it does not read).
    fn end(blob: &[u8], at: usize) -> Option<usize>;
}

impl<T> List<T> {
    /// The list at byte `at` of a validated `blob`, decoded when first read.
    pub(super) fn packed(blob: Blob, at: u32) -> List<T> {
        List { items: OnceLock::new(), packed: Some((blob, at)) }
    }
}

impl<T: Item> List<T> {
    fn force(&self) -> &[T] {
        self.items.get_or_init(|| {
            self.packed.as_ref().map_or_else(Box::default, |(blob, at)| T::read(blob, *at as usize).into_boxed_slice())
        })
    }

    /// Whether the list was decoded (or built decoded).
    #[cfg(test)]
    pub(super) fn is_decoded(&self) -> bool {
        self.items.get().is_some()
    }

    /// The bytes the list was encoded as, while it is not decoded.
    fn encoded(&self) -> Option<&[u8]> {
        let (blob, at) = self.packed.as_ref().filter(|_| self.items.get().is_none())?;
        let at = *at as usize;
        blob.get(at..T::end(blob, at)?)
    }
}

impl<T> Default for List<T> {
    fn default() -> List<T> {
        List::from(Vec::new())
    }
}

impl<T> From<Vec<T>> for List<T> {
    fn from(items: Vec<T>) -> List<T> {
        List { items: OnceLock::from(items.into_boxed_slice()), packed: None }
    }
}

impl<T> FromIterator<T> for List<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> List<T> {
        List::from(iter.into_iter().collect::<Vec<T>>())
    }
}

impl<T: Item> std::ops::Deref for List<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        self.force()
    }
}

impl<'a, T: Item> IntoIterator for &'a List<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;

    fn into_iter(self) -> std::slice::Iter<'a, T> {
        self.iter()
    }
}

impl<T: Item + Clone> Clone for List<T> {
    /// A packed list stays packed (the blob is shared); a decoded one is copied.
    fn clone(&self) -> List<T> {
        match (self.items.get(), &self.packed) {
            (None, Some((blob, at))) => List::packed(Arc::clone(blob), *at),
            _ => List::from(self.force().to_vec()),
        }
    }
}

/// Two lists are equal when they hold the same items. Two lists still in their blobs are equal
/// when their bytes are (one encoding decodes to one list), without decoding either: most
/// versions keep the lists of the one before (issue 10).
impl<T: Item + PartialEq> PartialEq for List<T> {
    fn eq(&self, other: &List<T>) -> bool {
        if let (Some(a), Some(b)) = (self.encoded(), other.encoded())
            && a == b
        {
            return true;
        }
        **self == **other
    }
}

impl<T: Item + Eq> Eq for List<T> {}

impl<T: Item + std::fmt::Debug> std::fmt::Debug for List<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        (**self).fmt(f)
    }
}

impl<T: Item + serde::Serialize> serde::Serialize for List<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        (**self).serialize(serializer)
    }
}

//! The per-version facts the registry clients extract, in one shape for all four ecosystems.
//! `None` always means *unknown* (the registry never gives it, or a mirror stripped it), never
//! "no": checks count such packages as not evaluated.

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
    pub install_scripts: Option<Vec<(String, String)>>,
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
    pub dependencies: Option<Vec<String>>,
    /// Maintainers listed on this version (npm `maintainers`), sorted.
    pub maintainers: Option<Vec<String>>,
}

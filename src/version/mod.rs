//! Per-ecosystem version parsing and ordering: npm (node-semver), `PyPI` (PEP 440), Go (semver
//! with a `v` prefix, pseudo-versions, `+incompatible`, toolchain versions) and crates.io
//! (Semantic Versioning 2.0).
//! Versions are parsed where they are compared; a package keeps its raw version string.
//!
//! Specs: <https://semver.org/spec/v2.0.0.html>, <https://github.com/npm/node-semver>,
//! <https://peps.python.org/pep-0440/>, <https://go.dev/ref/mod#versions>.

mod go;
mod pep440;
mod semver;
#[cfg(test)]
mod tests;

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

use crate::package::{Ecosystem, Package};

/// Inputs longer than this are rejected for every ecosystem (node-semver's own limit; no real
/// version comes close, and it bounds the work and the size of error messages).
pub const MAX_VERSION_LEN: usize = 256;

/// How much of a bad input an error message quotes.
const QUOTED_PREFIX_LEN: usize = 80;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {ecosystem} version {raw:?}: {reason}")]
pub struct VersionError {
    pub ecosystem: Ecosystem,
    /// The input as given (cut to its first 80 characters, with `…`, when longer).
    pub raw: String,
    pub reason: String,
}

impl VersionError {
    fn new(ecosystem: Ecosystem, raw: &str, reason: impl Into<String>) -> VersionError {
        let raw = match raw.char_indices().nth(QUOTED_PREFIX_LEN) {
            Some((cut, _)) => format!("{}…", &raw[..cut]),
            None => raw.to_owned(),
        };
        VersionError { ecosystem, raw, reason: reason.into() }
    }
}

/// Whether `raw` names one exact version of `ecosystem`: it parses by that ecosystem's rules.
/// `""`, `"latest"`, ranges (`>=1.0`, `^1.2`, `1.x`, `==1.*`), lists and tags are not exact; a
/// package with such a version cannot be matched against advisories and must be counted as
/// "not evaluated", never as clean.
pub fn is_exact(ecosystem: Ecosystem, raw: &str) -> bool {
    Version::parse(ecosystem, raw).is_ok()
}

/// Whether a package's version can be used for advisory matching ([`is_exact`] in its
/// ecosystem). Parsers keep packages whose version is unusable, with the raw text, so the scan
/// can name and count them.
pub fn version_usable(package: &Package) -> bool {
    is_exact(package.ecosystem, &package.version)
}

/// A parsed version of one ecosystem. Ordering is total within an ecosystem; versions of
/// different ecosystems are never compared by the program (they order by ecosystem first).
/// Equality is `cmp == Equal`, so `1.0 == 1.0.0` in `PyPI` and build metadata never matters.
#[derive(Debug, Clone)]
pub struct Version {
    ecosystem: Ecosystem,
    repr: Repr,
}

#[derive(Debug, Clone)]
enum Repr {
    Npm(nodejs_semver::Version),
    PyPI(pep440_rs::Version),
    /// Go module and toolchain versions, both mapped to semver (`go1.22rc1` -> `1.22.0-rc.1`).
    Go(::semver::Version),
    CratesIo(::semver::Version),
}

impl Version {
    /// Parses `raw` by the rules of `ecosystem`. Surrounding whitespace is ignored everywhere.
    pub fn parse(ecosystem: Ecosystem, raw: &str) -> Result<Version, VersionError> {
        if raw.len() > MAX_VERSION_LEN {
            return Err(VersionError::new(ecosystem, raw, format!("longer than {MAX_VERSION_LEN} bytes")));
        }
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(VersionError::new(ecosystem, raw, "empty version"));
        }
        let repr = match ecosystem {
            Ecosystem::Npm => semver::parse_npm(trimmed).map(Repr::Npm),
            Ecosystem::PyPI => pep440::parse(trimmed).map(Repr::PyPI),
            Ecosystem::Go => go::parse(trimmed).map(Repr::Go),
            Ecosystem::CratesIo => semver::parse_crates_io(trimmed).map(Repr::CratesIo),
        };
        repr.map(|repr| Version { ecosystem, repr }).map_err(|reason| VersionError::new(ecosystem, raw, reason))
    }

    pub fn ecosystem(&self) -> Ecosystem {
        self.ecosystem
    }

    /// Whether this is a pre-release: a semver pre-release part (Go pseudo-versions included), or
    /// a PEP 440 `a`/`b`/`rc`/`.dev` release.
    pub fn is_prerelease(&self) -> bool {
        match &self.repr {
            Repr::Npm(v) => v.is_prerelease(),
            Repr::PyPI(v) => v.any_prerelease(),
            Repr::Go(v) | Repr::CratesIo(v) => !v.pre.is_empty(),
        }
    }

    /// The position of the representation, to order the (never constructed) mixed pairs.
    fn repr_rank(&self) -> u8 {
        match self.repr {
            Repr::Npm(_) => 0,
            Repr::PyPI(_) => 1,
            Repr::Go(_) => 2,
            Repr::CratesIo(_) => 3,
        }
    }
}

/// The normalized form: `1.2.3-alpha.1+build` (npm, crates.io), `v1.2.3-pre+incompatible` (Go),
/// PEP 440 normal form (`PyPI`, `1!1.0rc1.post2.dev3+local`). Parsing it gives an equal version.
impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Npm(v) => write!(f, "{v}"),
            Repr::PyPI(v) => write!(f, "{v}"),
            Repr::Go(v) => write!(f, "v{v}"),
            Repr::CratesIo(v) => write!(f, "{v}"),
        }
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.ecosystem.cmp(&other.ecosystem).then_with(|| match (&self.repr, &other.repr) {
            (Repr::Npm(a), Repr::Npm(b)) => a.cmp(b),
            (Repr::PyPI(a), Repr::PyPI(b)) => a.cmp(b),
            (Repr::Go(a), Repr::Go(b)) | (Repr::CratesIo(a), Repr::CratesIo(b)) => a.cmp_precedence(b),
            _ => self.repr_rank().cmp(&other.repr_rank()),
        })
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Version {}

/// Consistent with `Eq`: build metadata is not hashed, PEP 440 trailing zeros are not hashed.
impl Hash for Version {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.ecosystem.hash(state);
        match &self.repr {
            Repr::Npm(v) => v.hash(state),
            Repr::PyPI(v) => v.hash(state),
            Repr::Go(v) | Repr::CratesIo(v) => {
                (v.major, v.minor, v.patch).hash(state);
                v.pre.hash(state);
            }
        }
    }
}

//! Per-ecosystem version parsing and ordering: npm (node-semver), PyPI (PEP 440), Go (semver with
//! a `v` prefix, pseudo-versions, `+incompatible`) and crates.io (SemVer 2.0).
//! Versions are parsed where they are compared; a package keeps its raw version string.

use std::cmp::Ordering;

use crate::package::Ecosystem;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {ecosystem} version {raw:?}: {reason}")]
pub struct VersionError {
    pub ecosystem: Ecosystem,
    pub raw: String,
    pub reason: String,
}

/// A parsed version of one ecosystem. Ordering is total within an ecosystem; versions of
/// different ecosystems are never compared by the program (they order by ecosystem first).
#[derive(Debug, Clone)]
pub struct Version {
    ecosystem: Ecosystem,
    repr: Repr,
}

#[derive(Debug, Clone)]
enum Repr {
    Placeholder(String),
}

impl Version {
    pub fn parse(ecosystem: Ecosystem, raw: &str) -> Result<Version, VersionError> {
        Ok(Version {
            ecosystem,
            repr: Repr::Placeholder(raw.trim().to_owned()),
        })
    }

    pub fn ecosystem(&self) -> Ecosystem {
        self.ecosystem
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        let (Repr::Placeholder(a), Repr::Placeholder(b)) = (&self.repr, &other.repr);
        self.ecosystem.cmp(&other.ecosystem).then_with(|| a.cmp(b))
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

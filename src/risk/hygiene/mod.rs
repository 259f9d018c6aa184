//! Lambda hygiene: what a function's packaging gets wrong, from its artifact and its runtime.
//! Dev packages shipped and drift between the artifact and the lockfile ([`drift`]), packages the
//! runtime already provides and a runtime past its deprecation date ([`runtime`]), and what the
//! artifact reader could not read safely (opaque binaries, unsafe zip entries). Informational by
//! default: the policy may give any code a level.

use jiff::civil::Date;

use super::Signal;
use crate::bundle::{ArtifactIssueKind, Unit};
use crate::graph::DepGraph;
use crate::vocab::{Code, Level};

mod drift;
mod runtime;

pub use drift::compare;
pub use runtime::{deprecated_runtime, provided_by_runtime};

pub const DEPRECATED_RUNTIME: Code = Code::new("hygiene/deprecated-runtime");
pub const DEV_SHIPPED: Code = Code::new("hygiene/dev-shipped");
pub const DRIFT: Code = Code::new("hygiene/drift");
pub const PROVIDED_BY_RUNTIME: Code = Code::new("hygiene/provided-by-runtime");
pub const OPAQUE_BINARY: Code = Code::new("hygiene/opaque-binary");
pub const UNSAFE_ENTRY: Code = Code::new("hygiene/unsafe-entry");

/// Every hygiene code with its default level and what it means, in report order.
pub const CODES: &[(Code, Level, &str)] = &[
    (DEV_SHIPPED, Level::Low, "a package the lockfile marks dev-only ships in the artifact"),
    (DRIFT, Level::Low, "the artifact and the lockfile disagree (version, or a package missing from one)"),
    (PROVIDED_BY_RUNTIME, Level::Low, "a package the Lambda runtime already provides is bundled"),
    (DEPRECATED_RUNTIME, Level::Low, "the function's runtime is past AWS's deprecation date"),
    (OPAQUE_BINARY, Level::Low, "a binary whose dependencies cannot be known"),
    (UNSAFE_ENTRY, Level::Low, "a zip entry with `..`, an absolute path, or a symlink: reported, never followed"),
];

/// The hygiene signals of one unit: the runtime's first, then the artifact's (compared with
/// `lockfile`, the tree its function's lockfile claims, when there is one), in [`CODES`] order.
pub fn check(unit: &Unit, lockfile: Option<&DepGraph>, today: Date) -> Vec<Signal> {
    let mut out: Vec<Signal> = unit.runtime.as_deref().and_then(|r| deprecated_runtime(r, today)).into_iter().collect();
    let Some(artifact) = unit.artifact.as_deref() else { return out };
    let mut found = read_issues(artifact);
    if let Some(lock) = lockfile {
        found.extend(compare(artifact, lock));
    }
    found.extend(provided_by_runtime(artifact, unit.runtime.as_deref()));
    found.sort_by(|a, b| (rank(a.code), a).cmp(&(rank(b.code), b)));
    found.dedup();
    out.extend(found);
    out
}

/// What the artifact reader flagged (opaque binaries, unsafe entries) and the dev packages the
/// zip's own lockfile marks, in [`CODES`] order.
pub fn read_issues(artifact: &crate::bundle::Artifact) -> Vec<Signal> {
    let mut found: Vec<Signal> = artifact
        .issues
        .iter()
        .map(|i| {
            let code = match i.kind {
                ArtifactIssueKind::OpaqueBinary => OPAQUE_BINARY,
                ArtifactIssueKind::UnsafeEntry => UNSAFE_ENTRY,
            };
            signal(code, None, Some(i.location.clone()), i.message.clone())
        })
        .collect();
    found.extend(drift::dev_from_own_lockfile(artifact));
    found.sort_by(|a, b| (rank(a.code), a).cmp(&(rank(b.code), b)));
    found
}

/// A code's place in [`CODES`], the order reports list hygiene in.
fn rank(code: Code) -> usize {
    CODES.iter().position(|(c, _, _)| *c == code).unwrap_or(CODES.len())
}

fn level(code: Code) -> Level {
    CODES.iter().find(|(c, _, _)| *c == code).map_or(Level::Low, |(_, l, _)| *l)
}

/// A hygiene signal with its default level.
fn signal(code: Code, package: Option<&crate::package::Package>, location: Option<String>, message: String) -> Signal {
    Signal { code, package: package.cloned(), node: None, location, message, evidence: Vec::new(), level: level(code) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_hygiene_codes() {
        for (code, _, doc) in CODES {
            assert_eq!(code.kind(), crate::vocab::FindingKind::Hygiene, "{code}");
            assert!(!doc.is_empty());
        }
    }
}
